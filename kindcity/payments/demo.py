"""The demo card provider: a local checkout page, clearly marked as a demonstration, where no money moves.

It is the embedded default when no Stripe keys are configured, so the whole card flow (pledge, checkout,
payment, refund) can be tried on a laptop. It is refused in production (see ``card_provider_name``).
Its sessions live in the pledge row only; the page's buttons decide the outcome.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from ..domain.time import utcnow
from . import (ChargeState, CheckoutRequest, CheckoutSession, CheckoutState, DisputeState, EventNotice, NotSupported,
               RefundState, register)

DEMO_CHECKOUT_PATH = "/demo-checkout/"
SESSION_PREFIX = "demo_cs_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class DemoCardProvider:
    hold_minutes: int
    name: str = "demo"
    method: str = "card"
    source: str = "demo"
    demo: bool = True

    def hold_for(self) -> timedelta:
        return timedelta(minutes=self.hold_minutes)

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        # The same idempotency key gives the same session, as with Stripe.
        session_id = SESSION_PREFIX + _digest(request.idempotency_key)
        return CheckoutSession(id=session_id, url=DEMO_CHECKOUT_PATH + session_id)

    def paid_state(self, session_id: str, *, pledge_id: int, reference: str, amount: int,
                   now: datetime | None = None) -> CheckoutState:
        """The state a demo session reaches when the donor presses 'pay' on the demo page."""
        return CheckoutState(session_id=session_id, status="complete", payment_status="paid", pledge_id=pledge_id,
                             amount_total=amount, currency="krw", payment_id="demo_pi_" + session_id[len(SESSION_PREFIX):],
                             payment_state="succeeded", amount_received=amount, paid_at=now or utcnow(),
                             reference=reference)

    def create_refund(self, *, payment_id: str, amount: int, idempotency_key: str,
                      metadata: Mapping[str, str]) -> RefundState:
        refund_id = metadata.get("kindcity_refund_id")
        return RefundState(id="demo_re_" + _digest(idempotency_key), payment_id=payment_id, amount=amount,
                           status="succeeded", created=utcnow(), refund_id=int(refund_id) if refund_id else None)

    # The demo keeps no records of its own: there is nothing to read back, list or reconcile.
    def get_checkout(self, session_id: str) -> CheckoutState:
        raise NotSupported("the demo provider keeps no sessions")

    def expire_checkout(self, session_id: str) -> CheckoutState | None:
        return None  # the demo page itself refuses to take money for a pledge that no longer holds

    def find_checkout(self, payment_id: str) -> CheckoutState | None:
        return None

    def get_charge(self, charge_id: str) -> ChargeState:
        raise NotSupported("the demo provider has no charges")

    def get_refund(self, refund_id: str) -> RefundState:
        raise NotSupported("the demo provider keeps no refunds")

    def get_dispute(self, dispute_id: str) -> DisputeState:
        raise NotSupported("the demo provider has no disputes")

    def refunds_for(self, payment_id: str) -> list[RefundState]:
        return []

    def parse_webhook(self, payload: bytes, signature: str | None) -> EventNotice:
        raise NotSupported("the demo provider sends no webhooks")

    def events_since(self, since: datetime, types: Iterable[str]) -> list[EventNotice]:
        return []

    def checkouts_since(self, since: datetime) -> list[CheckoutState]:
        return []

    def charges_since(self, since: datetime) -> list:
        return []

    def refunds_since(self, since: datetime) -> list[RefundState]:
        return []


@register("demo")
def _from_config(config: Mapping[str, Any]) -> DemoCardProvider:
    return DemoCardProvider(hold_minutes=int(config.get("KINDCITY_CARD_HOLD_MINUTES", 30)))
