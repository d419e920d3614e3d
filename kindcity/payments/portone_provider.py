"""The PortOne (V2) door: the only module in kindcity that imports ``portone_server_sdk``.

PortOne is the gateway for Korean donors: domestic cards, easy pay (카카오페이, 네이버페이, 토스페이)
and virtual accounts (가상계좌). The browser opens PortOne's payment window with a payment id that
kindcity chose (derived from the pledge's reference code); everything the server believes it reads
back here, through ``portone_server_sdk.PortOneClient``:
- KINDCITY_PORTONE_API_SECRET is the V2 API secret; KINDCITY_PORTONE_STORE_ID the store;
- KINDCITY_PORTONE_API_BASE replaces https://api.portone.io (the tests point it at a local fake);
- webhooks are verified by the SDK's ``webhook.verify`` (Standard Webhooks: HMAC-SHA256 of
  ``<webhook-id>.<webhook-timestamp>.<raw body>`` with the webhook secret, 5 minutes' tolerance).

PortOne objects never leave this module: they become the plain values below. Amounts are whole won.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

import json

import httpx
import portone_server_sdk as portone
from portone_server_sdk import errors as portone_errors
from portone_server_sdk import webhook as portone_webhook

from . import InvalidWebhook, ProviderRefused, ProviderUnavailable
from .korean import (BILLING_CHANNEL_SETTING, BillingKeyState, KrCancellation, KrEventNotice, KrPaymentState,
                     RefundAccount, channels_from)

API_BASE = "https://api.portone.io"
PAGE_SIZE = 100


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(timezone.utc)


# The SDK gives each status its own class (ReadyPayment, PaidPayment, ...) and no status field.
_STATUSES = {"ReadyPayment": "READY", "PayPendingPayment": "PAY_PENDING",
             "VirtualAccountIssuedPayment": "VIRTUAL_ACCOUNT_ISSUED", "PaidPayment": "PAID",
             "FailedPayment": "FAILED", "PartialCancelledPayment": "PARTIAL_CANCELLED",
             "CancelledPayment": "CANCELLED"}
_CANCELLATION_STATUSES = {"SucceededPaymentCancellation": "SUCCEEDED", "RequestedPaymentCancellation": "REQUESTED",
                          "FailedPaymentCancellation": "FAILED"}
_METHODS = {"PaymentMethodCard": "card", "PaymentMethodEasyPay": "easy_pay",
            "PaymentMethodVirtualAccount": "virtual_account"}


class PortOneProvider:
    name = "portone"
    method = "portone"
    source = "portone"
    demo = False

    def __init__(self, *, api_secret: str, store_id: str, webhook_secret: str = "", api_base: str = "",
                 channels: Mapping[str, str] | None = None, hold_minutes: int = 30,
                 virtual_account_hours: int = 72, billing_channel: str = ""):
        self.store_id = store_id
        self.webhook_secret = webhook_secret
        self.channels = {k: v for k, v in (channels or {}).items() if v}
        self.hold_minutes = hold_minutes
        self.virtual_account_hours = virtual_account_hours
        self.billing_channel = billing_channel
        self._client = portone.PaymentClient(secret=api_secret, base_url=api_base or API_BASE, store_id=store_id)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "PortOneProvider":
        return cls(api_secret=config["KINDCITY_PORTONE_API_SECRET"], store_id=config["KINDCITY_PORTONE_STORE_ID"],
                   webhook_secret=config.get("KINDCITY_PORTONE_WEBHOOK_SECRET", ""),
                   api_base=config.get("KINDCITY_PORTONE_API_BASE", ""), channels=channels_from(config),
                   hold_minutes=int(config.get("KINDCITY_CARD_HOLD_MINUTES", 30)),
                   virtual_account_hours=int(config.get("KINDCITY_PORTONE_VIRTUAL_ACCOUNT_HOURS", 72)),
                   billing_channel=config.get(BILLING_CHANNEL_SETTING, "") or "")

    def close(self) -> None:
        self._client._sync_client.close()

    def hold_for(self) -> timedelta:
        return timedelta(minutes=self.hold_minutes)

    # --- calling PortOne ----------------------------------------------------------------------------

    def _call(self, function, **kwargs):
        try:
            return function(**kwargs)
        except httpx.HTTPError as error:
            raise ProviderUnavailable(f"PortOne unreachable: {error}") from error
        except portone_errors.UnknownError as error:
            # An answer the SDK does not know (PortOne's 5xx among them): a retry may help.
            raise ProviderUnavailable(f"PortOne answered unexpectedly: {error}") from error
        except portone_errors.PortOneError as error:
            raise ProviderRefused(f"PortOne refused: {type(error).__name__}: {getattr(error, 'message', '')}",
                                  code=type(error).__name__) from error
        except ValueError as error:  # the SDK could not read the answer
            raise ProviderUnavailable(f"PortOne answer unreadable: {error}") from error

    def get_payment(self, payment_id: str) -> KrPaymentState | None:
        """The payment now, or None when PortOne has no such payment (the window was never opened)."""
        try:
            payment = self._call(self._client.get_payment, payment_id=payment_id)
        except ProviderRefused as error:
            if error.code == "PaymentNotFoundError":
                return None
            raise
        return self._state(payment)

    def cancel_payment(self, *, payment_id: str, amount: int, reason: str, cancellable: int | None = None,
                       refund_account: RefundAccount | None = None) -> KrCancellation:
        """Cancel ``amount`` won of a payment (a partial cancellation when less than what is left).
        ``cancellable`` is what kindcity believes is left: PortOne refuses the request if it is not, so a
        repeated request never cancels twice."""
        account = None
        if refund_account is not None:
            account = portone.payment.CancelPaymentBodyRefundAccount(
                bank=refund_account.bank, number=refund_account.number, holder_name=refund_account.holder)
        answer = self._call(self._client.cancel_payment, payment_id=payment_id, amount=amount, reason=reason,
                            current_cancellable_amount=cancellable, refund_account=account)
        return self._cancellation(answer.cancellation)

    def close_virtual_account(self, payment_id: str) -> bool:
        """Close an issued, unpaid virtual account so nobody deposits into it. False if it is no longer open."""
        try:
            self._call(self._client.close_virtual_account, payment_id=payment_id)
        except ProviderRefused:
            return False
        return True

    # --- card billing keys (정기결제) ----------------------------------------------------------------

    def get_billing_key(self, billing_key: str) -> BillingKeyState | None:
        """A billing key as PortOne knows it, or None when PortOne has no such key for this store."""
        try:
            info = self._call(self._client.billing_key.get_billing_key_info, billing_key=billing_key)
        except ProviderRefused as error:
            if error.code in ("BillingKeyNotFoundError", "InvalidRequestError"):
                return None
            raise
        if isinstance(info, dict):
            raise ProviderUnavailable("PortOne billing key of a shape this SDK does not know")
        status = "DELETED" if type(info).__name__ == "DeletedBillingKeyInfo" else "ISSUED"
        card = None
        for method in getattr(info, "methods", None) or ():
            card = getattr(method, "card", None) or card
        customer = getattr(info, "customer", None)
        return BillingKeyState(billing_key=info.billing_key, status=status, store_id=info.store_id,
                               customer_id=getattr(customer, "id", None), issue_id=getattr(info, "issue_id", None),
                               card_name=getattr(card, "name", None), card_number=getattr(card, "number", None))

    def pay_with_billing_key(self, *, payment_id: str, billing_key: str, amount: int, order_name: str,
                             customer_id: str) -> str:
        """Charge ``amount`` won with a billing key, under a payment id kindcity chose (PortOne charges one
        payment id once: a repeat answers AlreadyPaidError). Returns 'charged', 'already_paid', or
        'declined: <reason>' (the card company refused; PortOne keeps a FAILED payment). Whatever it returns,
        the caller reads the payment back before believing it."""
        try:
            self._call(self._client.pay_with_billing_key, payment_id=payment_id, billing_key=billing_key,
                       channel_key=self.billing_channel or None, order_name=order_name,
                       customer=portone.common.CustomerInput(id=customer_id),
                       amount=portone.common.PaymentAmountInput(total=amount), currency="KRW")
        except ProviderRefused as error:
            if error.code == "AlreadyPaidError":
                return "already_paid"
            return f"declined: {error}"[:200]
        return "charged"

    def delete_billing_key(self, billing_key: str, reason: str) -> bool:
        """Delete a billing key at PortOne (the donor stopped giving). False if it was already gone."""
        try:
            self._call(self._client.billing_key.delete_billing_key, billing_key=billing_key, reason=reason)
        except ProviderRefused as error:
            if error.code in ("BillingKeyAlreadyDeletedError", "BillingKeyNotFoundError"):
                return False
            raise
        return True

    def payments_since(self, since: datetime, until: datetime | None = None) -> list[KrPaymentState]:
        """Every payment of the store requested since ``since``, page by page."""
        found, number = [], 0
        until = until or datetime.now(timezone.utc)
        while True:
            answer = self._call(self._client.get_payments,
                                page=portone.common.PageInput(number=number, size=PAGE_SIZE),
                                filter=portone.payment.PaymentFilterInput(
                                    store_id=self.store_id, timestamp_type="CREATED_AT",
                                    from_=since.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
                                    until=until.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")))
            found.extend(self._state(item) for item in answer.items)
            if len(answer.items) < PAGE_SIZE:
                return found
            number += 1

    # --- turning PortOne's objects into plain values -----------------------------------------------

    def _state(self, payment: Any) -> KrPaymentState:
        if isinstance(payment, dict):
            raise ProviderUnavailable(f"PortOne payment of a shape this SDK does not know: {payment.get('status')}")
        amount = payment.amount
        method = getattr(payment, "method", None)
        kind = _METHODS.get(type(method).__name__, "other" if method is not None else None)
        va = method if kind == "virtual_account" else None
        cancellations = tuple(self._cancellation(item) for item in (getattr(payment, "cancellations", None) or ()))
        return KrPaymentState(
            payment_id=payment.id, status=_STATUSES[type(payment).__name__], currency=str(payment.currency),
            total=int(amount.total), paid=int(amount.paid or 0), cancelled=int(amount.cancelled or 0),
            method=kind, easy_pay_provider=getattr(method, "provider", None) if kind == "easy_pay" else None,
            paid_at=_time(getattr(payment, "paid_at", None)), requested_at=_time(getattr(payment, "requested_at", None)),
            va_bank=getattr(va, "bank", None), va_number=getattr(va, "account_number", None),
            va_holder=getattr(va, "remittee_name", None), va_expires_at=_time(getattr(va, "expired_at", None)),
            cancellations=cancellations)

    @staticmethod
    def _cancellation(item: Any) -> KrCancellation:
        if isinstance(item, dict):
            return KrCancellation(id=item.get("id", ""), status=item.get("status", "FAILED"),
                                  amount=int(item.get("totalAmount", 0)), reason=item.get("reason", ""),
                                  cancelled_at=_time(item.get("cancelledAt")))
        return KrCancellation(id=item.id, status=_CANCELLATION_STATUSES.get(type(item).__name__, "FAILED"), amount=int(item.total_amount), reason=item.reason or "",
                              cancelled_at=_time(getattr(item, "cancelled_at", None) or getattr(item, "requested_at", None)))

    # --- webhooks ------------------------------------------------------------------------------------

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> KrEventNotice:
        """Verify a delivery on its raw body with the SDK (a missing, wrong, stale or future signature is refused)."""
        if not self.webhook_secret:
            raise InvalidWebhook("KINDCITY_PORTONE_WEBHOOK_SECRET is not set")
        wanted = {name: headers.get(name) for name in ("webhook-id", "webhook-timestamp", "webhook-signature")}
        try:
            text = payload.decode("utf-8")
            portone_webhook.verify(self.webhook_secret, text, {k: v for k, v in wanted.items() if v})
        except portone_webhook.WebhookVerificationError as error:
            raise InvalidWebhook(f"webhook signature: {error.reason}") from None
        except portone_webhook.InvalidInputError as error:
            raise InvalidWebhook(f"webhook secret unusable: {error.message}") from None
        except (UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
            raise InvalidWebhook(f"not a PortOne webhook: {error}") from None
        # Verified: the SDK's typed object has no type field (a class per type), so read the verified JSON.
        body = json.loads(text)
        kind = body.get("type") if isinstance(body, dict) else None
        payment_id = (body.get("data") or {}).get("paymentId") if kind else None
        if not kind:
            raise InvalidWebhook("the webhook has no type")
        return KrEventNotice(id=wanted["webhook-id"], type=kind, payment_id=payment_id or "",
                             created=_time(body.get("timestamp")) or datetime.now(timezone.utc))
