"""The pure card rules, the provider registry, the settings."""
from __future__ import annotations

from datetime import timedelta

import pytest

from kindcity.config import ConfigError, check_config
from kindcity.domain.card import CheckoutAction, RefundOutcome, checkout_action, refund_outcome
from kindcity.payments import (CardPaymentsUnavailable, CardProvider, PaymentProvider, card_available, card_provider,
                               hold_for, provider)
from kindcity.payments.demo import DemoCardProvider
from tests.configs import development_config

from .fake_stripe import API_KEY


@pytest.mark.parametrize("session, payment, intent, expected", [
    ("open", "unpaid", None, CheckoutAction.WAIT),
    ("complete", "paid", "succeeded", CheckoutAction.RECORD_PAYMENT),
    ("complete", "paid", None, CheckoutAction.RECORD_PAYMENT),            # the intent was not expanded
    ("complete", "unpaid", "processing", CheckoutAction.AWAIT_ASYNC),
    ("complete", "unpaid", None, CheckoutAction.AWAIT_ASYNC),
    ("complete", "unpaid", "requires_payment_method", CheckoutAction.RELEASE_HOLD),  # async payment failed
    ("complete", "unpaid", "canceled", CheckoutAction.RELEASE_HOLD),
    ("complete", "unpaid", "succeeded", CheckoutAction.RECORD_PAYMENT),  # async succeeded, session not yet updated
    ("expired", "unpaid", None, CheckoutAction.RELEASE_HOLD),
    ("expired", "unpaid", "succeeded", CheckoutAction.RECORD_PAYMENT),   # money is never refused
])
def test_checkout_state_decides_the_action(session, payment, intent, expected):
    assert checkout_action(session, payment, intent) == expected


@pytest.mark.parametrize("status, expected", [
    ("succeeded", RefundOutcome.DONE), ("pending", RefundOutcome.PENDING), ("requires_action", RefundOutcome.PENDING),
    ("failed", RefundOutcome.FAILED), ("canceled", RefundOutcome.FAILED),
])
def test_refund_status_decides_the_journal(status, expected):
    assert refund_outcome(status) == expected


def test_the_registry_chooses_stripe_only_with_a_key_and_never_the_demo_in_production():
    demo = card_provider(development_config())
    assert isinstance(demo, DemoCardProvider) and demo.demo and demo.source == "demo"
    stripe = card_provider(development_config(KINDCITY_STRIPE_SECRET_KEY=API_KEY,
                                              KINDCITY_STRIPE_API_BASE="http://127.0.0.1:9"))
    try:
        assert (stripe.name, stripe.source, stripe.demo) == ("stripe", "stripe", False)
        assert isinstance(stripe, CardProvider) and isinstance(demo, CardProvider)
    finally:
        stripe.close()
    with pytest.raises(CardPaymentsUnavailable):
        card_provider(development_config(KINDCITY_ENV="production"))
    assert not card_available(development_config(KINDCITY_ENV="production")) and card_available(development_config())
    bank = provider("bank", development_config())
    assert isinstance(bank, PaymentProvider) and bank.method == "bank"


def test_each_way_of_paying_holds_the_need_for_its_own_time():
    assert hold_for("bank", development_config()) == timedelta(days=7)
    assert hold_for("card", development_config()) == timedelta(minutes=30)
    with_stripe = development_config(KINDCITY_STRIPE_SECRET_KEY=API_KEY, KINDCITY_STRIPE_API_BASE="http://127.0.0.1:9")
    # Stripe counts its 30-minute minimum from its own clock: the session and the hold end together, 2 min later.
    assert hold_for("card", with_stripe) == timedelta(minutes=32)


@pytest.mark.parametrize("settings, message", [
    ({"KINDCITY_STRIPE_SECRET_KEY": "sk_live_x", "KINDCITY_ENV": "production"}, "WEBHOOK_SECRET"),
    ({"KINDCITY_STRIPE_SECRET_KEY": "sk_live_x", "KINDCITY_STRIPE_WEBHOOK_SECRET": "whsec_x",
      "KINDCITY_STRIPE_API_BASE": "http://127.0.0.1:1", "KINDCITY_ENV": "production"}, "API_BASE"),
    ({"KINDCITY_STRIPE_SECRET_KEY": "sk_test_x", "KINDCITY_CARD_HOLD_MINUTES": 20}, "HOLD_MINUTES"),
])
def test_unsafe_card_settings_refuse_to_start(settings, message):
    with pytest.raises(ConfigError, match=message):
        check_config(development_config(**settings))


def test_safe_card_settings_start():
    check_config(development_config(KINDCITY_ENV="production", KINDCITY_STRIPE_SECRET_KEY="sk_live_x",
                         KINDCITY_STRIPE_WEBHOOK_SECRET="whsec_x"))
    check_config(development_config(KINDCITY_ENV="production"))  # bank transfers only: card payments are simply not offered
