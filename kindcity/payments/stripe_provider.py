"""The Stripe door: the only module in kindcity that imports ``stripe``.

Everything goes through one ``stripe.StripeClient`` per configuration:
- its API key is KINDCITY_STRIPE_SECRET_KEY; KINDCITY_STRIPE_ACCOUNT (the receiving organisation's
  connected account, optional) becomes the Stripe-Account header of every request;
- KINDCITY_STRIPE_API_BASE replaces https://api.stripe.com (the tests point it at a local fake);
- the library retries network errors, 409 and 5xx itself, reusing each request's idempotency key.

Stripe objects never leave this module: they are turned into the plain values of ``kindcity.payments``.
Amounts are whole won in both directions (KRW is a zero-decimal currency for Stripe: 50,000원 is 50000).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

import stripe

from . import (ChargeState, CheckoutRequest, CheckoutSession, CheckoutState, DisputeState, EventNotice,
               InvalidWebhook, ProviderRefused, ProviderUnavailable, RefundState)

CURRENCY = "krw"
# Stripe wants a Checkout Session to live at least 30 minutes from its own clock at creation. The hold
# runs this much longer than KINDCITY_CARD_HOLD_MINUTES, and the session expires exactly when the hold
# does, so the request is never refused for a few seconds of latency or clock skew.
CLOCK_MARGIN = timedelta(minutes=2)
STRIPE_MINIMUM_MINUTES = 30
STRIPE_MAXIMUM_MINUTES = 24 * 60
TIMEOUT_SECONDS = 20


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=timezone.utc) if value else None


def _id(value: Any) -> str | None:
    """An expandable field: the id of an expanded object, or the id itself."""
    if value is None:
        return None
    return value if isinstance(value, str) else value.get("id")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class StripeProvider:
    name = "stripe"
    method = "card"
    source = "stripe"
    demo = False

    def __init__(self, *, secret_key: str, webhook_secret: str = "", account: str = "", api_base: str = "",
                 network_retries: int = 2, hold_minutes: int = 30):
        self.webhook_secret = webhook_secret
        self.hold_minutes = hold_minutes
        self._http = stripe.RequestsClient(timeout=TIMEOUT_SECONDS)
        self._client = stripe.StripeClient(
            secret_key, stripe_account=account or None, max_network_retries=network_retries,
            base_addresses={"api": api_base} if api_base else None, http_client=self._http)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "StripeProvider":
        return cls(secret_key=config["KINDCITY_STRIPE_SECRET_KEY"],
                   webhook_secret=config.get("KINDCITY_STRIPE_WEBHOOK_SECRET", ""),
                   account=config.get("KINDCITY_STRIPE_ACCOUNT", ""),
                   api_base=config.get("KINDCITY_STRIPE_API_BASE", ""),
                   network_retries=int(config.get("KINDCITY_STRIPE_NETWORK_RETRIES", 2)),
                   hold_minutes=int(config.get("KINDCITY_CARD_HOLD_MINUTES", 30)))

    def close(self) -> None:
        self._http.close()

    def hold_for(self) -> timedelta:
        return timedelta(minutes=self.hold_minutes) + CLOCK_MARGIN

    # --- calling Stripe ----------------------------------------------------------------------------

    def _call(self, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            raise ProviderUnavailable(f"Stripe unreachable: {error.user_message or error}") from error
        except stripe.StripeError as error:
            status = error.http_status or 500
            if status >= 500 or status == 409:
                raise ProviderUnavailable(f"Stripe answered {status}: {error.user_message or error}") from error
            raise ProviderRefused(f"Stripe refused ({status}): {error.user_message or error}",
                                  code=error.code) from error

    @property
    def _v1(self):
        return self._client.v1

    def _get(self, function, *args, **kwargs) -> dict[str, Any]:
        """One object, as a plain dict (a StripeObject is deliberately not a dict)."""
        return self._call(function, *args, **kwargs).to_dict()

    def _list(self, function, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every item of a list, following Stripe's pagination, as plain dicts."""
        def fetch():
            return [item.to_dict() for item in function(params).auto_paging_iter()]
        return self._call(fetch)

    # --- checkout ----------------------------------------------------------------------------------

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        reference = {"pledge_id": str(request.pledge_id), "need_id": str(request.need_id),
                     "reference": request.reference}
        if request.need_id is None:  # a pooled pledge or a match offer: no need of its own to name
            del reference["need_id"]
        params = {
            "mode": "payment",
            "submit_type": "donate",
            "currency": CURRENCY,
            "line_items": [{"quantity": 1, "price_data": {
                "currency": CURRENCY, "unit_amount": request.amount,  # whole won, never x100
                "product_data": {"name": request.product_name}}}],
            "client_reference_id": str(request.pledge_id),
            "metadata": reference,
            "payment_intent_data": {"metadata": reference},
            "expires_at": int(request.expires_at.timestamp()),
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        session = self._get(self._v1.checkout.sessions.create, params,
                            {"idempotency_key": request.idempotency_key})
        return CheckoutSession(id=session["id"], url=session["url"])

    def get_checkout(self, session_id: str) -> CheckoutState:
        session = self._get(self._v1.checkout.sessions.retrieve, session_id,
                            {"expand": ["payment_intent", "payment_intent.latest_charge"]})
        return self._checkout_state(session)

    def expire_checkout(self, session_id: str) -> CheckoutState | None:
        """Close an open Checkout page so nobody can pay there any more. A session that is no longer
        open (paid or expired meanwhile) is left as it is: None."""
        try:
            return self._checkout_state(self._get(self._v1.checkout.sessions.expire, session_id))
        except ProviderRefused:
            return None

    def find_checkout(self, payment_id: str) -> CheckoutState | None:
        found = self._get(self._v1.checkout.sessions.list,
                          {"payment_intent": payment_id, "limit": 1,
                           "expand": ["data.payment_intent", "data.payment_intent.latest_charge"]})
        return self._checkout_state(found["data"][0]) if found.get("data") else None

    def _checkout_state(self, session: dict[str, Any]) -> CheckoutState:
        intent = session.get("payment_intent")
        intent_id, intent_status, received, paid_at = _id(intent), None, 0, None
        if intent is not None and not isinstance(intent, str):
            intent_status = intent.get("status")
            received = int(intent.get("amount_received") or 0)
            charge = intent.get("latest_charge")
            paid_at = _time(charge.get("created")) if charge is not None and not isinstance(charge, str) else None
        elif intent_id:
            intent_status, received, paid_at = self._intent_facts(intent_id)
        return CheckoutState(
            session_id=session["id"], status=session.get("status") or "open",
            payment_status=session.get("payment_status") or "unpaid",
            pledge_id=_int(session.get("client_reference_id")), amount_total=int(session.get("amount_total") or 0),
            currency=(session.get("currency") or "").lower(), payment_id=intent_id, payment_state=intent_status,
            amount_received=received, paid_at=paid_at, url=session.get("url"), created=_time(session.get("created")),
            reference=(session.get("metadata") or {}).get("reference"))

    def _intent_facts(self, intent_id: str) -> tuple[str | None, int, datetime | None]:
        intent = self._get(self._v1.payment_intents.retrieve, intent_id, {"expand": ["latest_charge"]})
        charge = intent.get("latest_charge")
        paid_at = _time(charge.get("created")) if charge is not None and not isinstance(charge, str) else None
        return intent.get("status"), int(intent.get("amount_received") or 0), paid_at

    # --- charges, refunds, disputes ----------------------------------------------------------------

    def get_charge(self, charge_id: str) -> ChargeState:
        return self._charge_state(self._get(self._v1.charges.retrieve, charge_id, {"expand": ["payment_intent"]}))

    def _charge_state(self, charge: dict[str, Any]) -> ChargeState:
        intent = charge.get("payment_intent")
        metadata = intent.get("metadata") if intent is not None and not isinstance(intent, str) else None
        pledge_id = _int((metadata or {}).get("pledge_id")) or _int((charge.get("metadata") or {}).get("pledge_id"))
        return ChargeState(id=charge["id"], payment_id=_id(intent), amount=int(charge.get("amount") or 0),
                           amount_refunded=int(charge.get("amount_refunded") or 0),
                           currency=(charge.get("currency") or "").lower(), status=charge.get("status") or "",
                           paid=bool(charge.get("paid")), disputed=bool(charge.get("disputed")),
                           created=_time(charge.get("created")), pledge_id=pledge_id)

    def get_refund(self, refund_id: str) -> RefundState:
        return self._refund_state(self._get(self._v1.refunds.retrieve, refund_id))

    def refunds_for(self, payment_id: str) -> list[RefundState]:
        return [self._refund_state(item)
                for item in self._list(self._v1.refunds.list, {"payment_intent": payment_id, "limit": 100})]

    def create_refund(self, *, payment_id: str, amount: int, idempotency_key: str,
                      metadata: Mapping[str, str]) -> RefundState:
        refund = self._get(self._v1.refunds.create,
                            {"payment_intent": payment_id, "amount": amount, "reason": "requested_by_customer",
                             "metadata": dict(metadata)},
                            {"idempotency_key": idempotency_key})
        return self._refund_state(refund)

    def _refund_state(self, refund: dict[str, Any]) -> RefundState:
        return RefundState(id=refund["id"], payment_id=_id(refund.get("payment_intent")),
                           amount=int(refund.get("amount") or 0), status=refund.get("status") or "pending",
                           created=_time(refund.get("created")),
                           refund_id=_int((refund.get("metadata") or {}).get("kindcity_refund_id")),
                           failure=refund.get("failure_reason"), currency=(refund.get("currency") or "").lower())

    def get_dispute(self, dispute_id: str) -> DisputeState:
        dispute = self._get(self._v1.disputes.retrieve, dispute_id)
        return DisputeState(id=dispute["id"], charge_id=_id(dispute.get("charge")),
                            payment_id=_id(dispute.get("payment_intent")), amount=int(dispute.get("amount") or 0),
                            reason=dispute.get("reason") or "", status=dispute.get("status") or "")

    # --- webhooks and the Events API ---------------------------------------------------------------

    def parse_webhook(self, payload: bytes, signature: str | None) -> EventNotice:
        """Verify the signature on the raw body (HMAC-SHA256 with the webhook secret, Stripe's 300 s tolerance)."""
        if not self.webhook_secret:
            raise InvalidWebhook("KINDCITY_STRIPE_WEBHOOK_SECRET is not set")
        try:
            event = self._client.construct_event(payload, signature, self.webhook_secret).to_dict()
        except stripe.SignatureVerificationError as error:
            raise InvalidWebhook(str(error)) from None
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidWebhook(f"not a Stripe event: {error}") from None
        return self._notice(event)

    def _notice(self, event: dict[str, Any]) -> EventNotice:
        data = event.get("data")
        item = data.get("object") if isinstance(data, dict) else None
        # Stripe's ids and types are strings; a signed event that says otherwise (an object id of 12345)
        # is not one kindcity can act on, and must be a 400 rather than a failure further in.
        if not all(isinstance(value, str) and value for value in (
                event.get("id"), event.get("type"), item.get("id") if isinstance(item, dict) else None)):
            raise InvalidWebhook("the event has no id, type or object (each a non-empty string)")
        return EventNotice(id=event["id"], type=event["type"], object_id=item["id"],
                           created=_time(event.get("created")) or datetime.now(timezone.utc))

    def events_since(self, since: datetime, types: Iterable[str]) -> list[EventNotice]:
        """Events since ``since``, oldest first (the Events API keeps 30 days)."""
        events = self._list(self._v1.events.list,
                            {"created": {"gte": int(since.timestamp())}, "types": sorted(types), "limit": 100})
        return [self._notice(event) for event in sorted(events, key=lambda e: (e.get("created") or 0, e["id"]))]

    def checkouts_since(self, since: datetime) -> list[CheckoutState]:
        return [self._checkout_state(item) for item in self._list(
            self._v1.checkout.sessions.list,
            {"created": {"gte": int(since.timestamp())}, "limit": 100, "expand": ["data.payment_intent"]})]

    def charges_since(self, since: datetime) -> list[ChargeState]:
        return [self._charge_state(item) for item in self._list(
            self._v1.charges.list,
            {"created": {"gte": int(since.timestamp())}, "limit": 100, "expand": ["data.payment_intent"]})]

    def refunds_since(self, since: datetime) -> list[RefundState]:
        return [self._refund_state(item) for item in self._list(
            self._v1.refunds.list, {"created": {"gte": int(since.timestamp())}, "limit": 100})]
