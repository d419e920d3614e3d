"""Which Korean provider runs, the settings production refuses, and the rule that one module imports the SDK."""
from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest

import kindcity
from kindcity.config import ConfigError, check_config
from kindcity.payments import CardPaymentsUnavailable, hold_for
from kindcity.payments.korean import (DemoKrProvider, kr_methods_offered, kr_provider, payment_id_for,
                                      reference_of)

from .fake_portone import API_SECRET, STORE_ID

LIVE = {"KINDCITY_PORTONE_API_SECRET": API_SECRET, "KINDCITY_PORTONE_STORE_ID": STORE_ID,
        "KINDCITY_PORTONE_WEBHOOK_SECRET": "whsec_a2luZGNpdHk=", "KINDCITY_PORTONE_CHANNEL_CARD": "channel-key-1"}


def _config(**extra):
    base = {"KINDCITY_ENV": "development", "KINDCITY_STRIPE_SECRET_KEY": "", "KINDCITY_BANK_HOLD_DAYS": 7,
            "KINDCITY_CARD_HOLD_MINUTES": 30, "SECRET_KEY": "x" * 40,
            "KINDCITY_BASE_URL": "https://kindcity.seogu.go.kr"}
    base.update(extra)
    return base


def test_portone_runs_only_with_its_secret_and_the_demo_never_in_production():
    demo = kr_provider(_config())
    assert isinstance(demo, DemoKrProvider) and demo.demo and demo.source == "demo_kr"
    assert kr_methods_offered(_config()) == ("card", "easy_pay", "virtual_account")
    live = kr_provider(_config(**LIVE, KINDCITY_PORTONE_API_BASE="http://127.0.0.1:9"))
    try:
        assert (live.name, live.source, live.demo) == ("portone", "portone", False)
    finally:
        live.close()
    # Only the methods that have a channel key are offered.
    assert kr_methods_offered(_config(**LIVE)) == ("card",)
    with pytest.raises(CardPaymentsUnavailable):
        kr_provider(_config(KINDCITY_ENV="production"))
    assert kr_methods_offered(_config(KINDCITY_ENV="production")) == ()


def test_a_portone_pledge_holds_the_need_for_the_card_hold():
    assert hold_for("portone", _config()) == timedelta(minutes=30)


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
        check_config(_config(KINDCITY_ENV="production", **settings))


def test_production_starts_with_portone_whole_or_absent():
    check_config(_config(KINDCITY_ENV="production", **LIVE))
    check_config(_config(KINDCITY_ENV="production"))
    check_config(_config(KINDCITY_PORTONE_API_SECRET="secret"))  # development: half is allowed, for trying


def test_exactly_one_module_imports_the_portone_sdk():
    root = Path(kindcity.__file__).parent
    importers = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            if any(name.split(".")[0] == "portone_server_sdk" for name in names):
                importers.add(path.relative_to(root).as_posix())
    assert importers == {"payments/portone_provider.py"}
