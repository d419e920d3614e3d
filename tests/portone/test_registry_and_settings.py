"""Which Korean provider runs, the settings production refuses."""
from __future__ import annotations

from datetime import timedelta

import pytest

from kindcity.config import ConfigError, check_config
from kindcity.payments import CardPaymentsUnavailable, hold_for
from kindcity.payments.korean import (DemoKrProvider, kr_methods_offered, kr_provider, payment_id_for,
                                      reference_of)
from tests.configs import development_config

from .fake_portone import API_SECRET, STORE_ID

LIVE = {"KINDCITY_PORTONE_API_SECRET": API_SECRET, "KINDCITY_PORTONE_STORE_ID": STORE_ID,
        "KINDCITY_PORTONE_WEBHOOK_SECRET": "whsec_a2luZGNpdHk=", "KINDCITY_PORTONE_CHANNEL_CARD": "channel-key-1"}


def test_portone_runs_only_with_its_secret_and_the_demo_never_in_production():
    demo = kr_provider(development_config())
    assert isinstance(demo, DemoKrProvider) and demo.demo and demo.source == "demo_kr"
    assert kr_methods_offered(development_config()) == ("card", "easy_pay", "virtual_account")
    live = kr_provider(development_config(**LIVE, KINDCITY_PORTONE_API_BASE="http://127.0.0.1:9"))
    try:
        assert (live.name, live.source, live.demo) == ("portone", "portone", False)
    finally:
        live.close()
    # Only the methods that have a channel key are offered.
    assert kr_methods_offered(development_config(**LIVE)) == ("card",)
    with pytest.raises(CardPaymentsUnavailable):
        kr_provider(development_config(KINDCITY_ENV="production"))
    assert kr_methods_offered(development_config(KINDCITY_ENV="production")) == ()


def test_a_portone_pledge_holds_the_need_for_the_card_hold():
    assert hold_for("portone", development_config()) == timedelta(minutes=30)


def test_the_payment_id_carries_the_pledge_reference():
    assert payment_id_for("KC7H2Q9") == "kc-KC7H2Q9" and reference_of("kc-KC7H2Q9") == "KC7H2Q9"
    assert reference_of(payment_id_for("KC7H2Q9", 2)) == "KC7H2Q9"
    assert reference_of("order-123") is None


@pytest.mark.parametrize("settings, message", [
    ({"KINDCITY_PORTONE_API_SECRET": "secret"}, "half configured"),
    ({"KINDCITY_PORTONE_CHANNEL_CARD": "channel-key"}, "half configured"),
    ({**{k: v for k, v in LIVE.items() if k != "KINDCITY_PORTONE_CHANNEL_CARD"}}, "channel key"),
    ({**LIVE, "KINDCITY_PORTONE_API_BASE": "http://127.0.0.1:1"}, "API_BASE"),
])
def test_production_refuses_half_a_portone_configuration(settings, message):
    with pytest.raises(ConfigError, match=message):
        check_config(development_config(KINDCITY_ENV="production", **settings))


def test_production_starts_with_portone_whole_or_absent():
    check_config(development_config(KINDCITY_ENV="production", **LIVE))
    check_config(development_config(KINDCITY_ENV="production"))
    check_config(development_config(KINDCITY_PORTONE_API_SECRET="secret"))  # development: half is allowed, for trying
