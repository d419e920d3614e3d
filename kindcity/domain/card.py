"""Card payment rules: what the provider's current state of a checkout means for a pledge.

Events arrive late, twice or out of order, so kindcity never acts on what an event says happened. It
reads the checkout back from the provider and decides from that state alone: the same state always
gives the same action, and every action is idempotent, so any order of deliveries converges.
"""
from __future__ import annotations

from enum import StrEnum


class CheckoutAction(StrEnum):
    RECORD_PAYMENT = "record_payment"  # money arrived: record it once (late money follows the donor's choice)
    AWAIT_ASYNC = "await_async"        # the donor finished with a method that settles later: keep the hold
    RELEASE_HOLD = "release_hold"      # the session expired, or the delayed payment failed
    WAIT = "wait"                      # the donor is still on the checkout page


PAID_INTENT = "succeeded"
PENDING_INTENT = frozenset({"processing", "requires_capture", "requires_action", "requires_confirmation"})
FAILED_INTENT = frozenset({"requires_payment_method", "canceled"})


def checkout_action(session_status: str, payment_status: str, intent_status: str | None) -> CheckoutAction:
    """The action for a checkout in this state (Stripe's session.status, session.payment_status, and
    the PaymentIntent's status when there is one)."""
    if intent_status == PAID_INTENT or (session_status == "complete" and payment_status == "paid"):
        return CheckoutAction.RECORD_PAYMENT
    if session_status == "expired":
        return CheckoutAction.RELEASE_HOLD
    if session_status == "complete":
        if intent_status in FAILED_INTENT:
            return CheckoutAction.RELEASE_HOLD
        return CheckoutAction.AWAIT_ASYNC
    return CheckoutAction.WAIT


class RefundOutcome(StrEnum):
    DONE = "done"          # the provider confirmed it: the journal records it now
    PENDING = "pending"    # sent, not yet confirmed
    FAILED = "failed"      # it did not go through: staff pay it back another way


def refund_outcome(provider_status: str) -> RefundOutcome:
    if provider_status == "succeeded":
        return RefundOutcome.DONE
    if provider_status in ("failed", "canceled"):
        return RefundOutcome.FAILED
    return RefundOutcome.PENDING  # pending, requires_action
