"""Korean payment rails: domestic cards, easy pay (카카오페이, 네이버페이, 토스페이) and 가상계좌.

The gateway is PortOne (V2): ``payments/portone_provider.py`` is the only module that imports its SDK.
This module holds what the rest of kindcity sees of it (plain values), which provider runs, and the
demo provider: the embedded default without PortOne settings, refused in production, where no money
moves and the donor's buttons on a local page decide what "PortOne" says.

A pledge paid this way has ``method='portone'``; its payment id at PortOne is derived from the pledge's
reference code (``payment_id_for``), so a payment the browser reports is tied to its pledge on the
server, never by what the browser says.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping

from ..domain.time import utcnow
from . import CardPaymentsUnavailable, NotSupported

KR_METHODS = ("card", "easy_pay", "virtual_account")
# PortOne's easy-pay provider codes (browser SDK EasyPayProvider), with the names donors know.
EASY_PAY_PROVIDERS = {"KAKAOPAY": "카카오페이", "NAVERPAY": "네이버페이", "TOSSPAY": "토스페이"}
PAYMENT_ID_PREFIX = "kc-"
CHANNEL_SETTINGS = {"card": "KINDCITY_PORTONE_CHANNEL_CARD", "easy_pay": "KINDCITY_PORTONE_CHANNEL_EASY_PAY",
                    "virtual_account": "KINDCITY_PORTONE_CHANNEL_VIRTUAL_ACCOUNT"}
# The channel PortOne contracted for card billing keys (정기결제): recurring giving is offered only with it.
BILLING_CHANNEL_SETTING = "KINDCITY_PORTONE_CHANNEL_BILLING"
REQUIRED_SETTINGS = ("KINDCITY_PORTONE_STORE_ID", "KINDCITY_PORTONE_API_SECRET", "KINDCITY_PORTONE_WEBHOOK_SECRET")
# PortOne's bank codes for a refund account (가상계좌 refunds), with the names donors know.
REFUND_BANKS = {"KOOKMIN": "KB국민은행", "SHINHAN": "신한은행", "WOORI": "우리은행", "HANA": "하나은행",
                "NONGHYUP": "NH농협은행", "LOCAL_NONGHYUP": "지역 농·축협", "IBK": "IBK기업은행",
                "KWANGJU": "광주은행", "KAKAO": "카카오뱅크", "TOSS": "토스뱅크", "K_BANK": "케이뱅크",
                "SUHYUP": "수협은행", "BUSAN": "부산은행", "DAEGU": "대구은행(iM뱅크)", "JEONBUK": "전북은행",
                "KFCC": "새마을금고", "SHINHYUP": "신협", "POST": "우체국", "STANDARD_CHARTERED": "SC제일은행",
                "CITI": "한국씨티은행"}


@dataclass(frozen=True)
class KrCancellation:
    id: str
    status: str                 # REQUESTED | SUCCEEDED | FAILED
    amount: int
    reason: str
    cancelled_at: datetime | None


@dataclass(frozen=True)
class KrPaymentState:
    """What PortOne says about one payment now (read back, never taken from the browser or a webhook)."""

    payment_id: str
    status: str                 # READY | PAY_PENDING | VIRTUAL_ACCOUNT_ISSUED | PAID | FAILED | PARTIAL_CANCELLED | CANCELLED
    currency: str               # "KRW"
    total: int                  # the amount the window was opened for
    paid: int                   # the amount received (for a virtual account: what was deposited)
    cancelled: int = 0
    method: str | None = None   # card | easy_pay | virtual_account | other
    easy_pay_provider: str | None = None
    paid_at: datetime | None = None
    requested_at: datetime | None = None
    va_bank: str | None = None
    va_number: str | None = None
    va_holder: str | None = None
    va_expires_at: datetime | None = None
    cancellations: tuple[KrCancellation, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class KrEventNotice:
    id: str                     # the webhook-id header: the same on every retry of one delivery
    type: str                   # Transaction.Paid, Transaction.VirtualAccountIssued, ...
    payment_id: str
    created: datetime


@dataclass(frozen=True)
class BillingKeyState:
    """What PortOne says about a card billing key (정기결제), read back, never taken from the browser."""

    billing_key: str
    status: str                 # ISSUED | DELETED
    store_id: str
    customer_id: str | None
    issue_id: str | None
    card_name: str | None = None
    card_number: str | None = None  # masked by PortOne


@dataclass(frozen=True)
class RefundAccount:
    bank: str                   # PortOne's bank code, e.g. KOOKMIN
    number: str
    holder: str


def payment_id_for(reference: str, attempt: int = 0) -> str:
    """The PortOne payment id of a pledge's payment: its reference code, and for a later attempt
    (a pooled pledge paid again after an earlier window ended unpaid) the attempt's number."""
    return f"{PAYMENT_ID_PREFIX}{reference}" + (f"-{attempt}" if attempt else "")


def reference_of(payment_id: str) -> str | None:
    if not payment_id.startswith(PAYMENT_ID_PREFIX):
        return None
    return payment_id[len(PAYMENT_ID_PREFIX):].split("-", 1)[0] or None


def channels_from(config: Mapping[str, Any]) -> dict[str, str]:
    return {method: config.get(setting, "") or "" for method, setting in CHANNEL_SETTINGS.items()}


def portone_configured(config: Mapping[str, Any]) -> bool:
    return bool(config.get("KINDCITY_PORTONE_API_SECRET"))


def billing_offered(config: Mapping[str, Any]) -> bool:
    """Recurring giving by card billing key (정기결제): PortOne itself (not the demo) with a billing channel."""
    return portone_configured(config) and bool(config.get(BILLING_CHANNEL_SETTING))


def kr_provider_name(config: Mapping[str, Any]) -> str:
    """'portone' when its API secret is set, else 'demo_kr' (refused in production)."""
    if portone_configured(config):
        return "portone"
    if config.get("KINDCITY_ENV") == "production":
        raise CardPaymentsUnavailable("the demo Korean payment provider is refused in production")
    return "demo_kr"


def kr_methods_offered(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The Korean methods a donor may choose: with PortOne, those with a channel key; with the demo, all."""
    try:
        name = kr_provider_name(config)
    except CardPaymentsUnavailable:
        return ()
    if name == "demo_kr":
        return KR_METHODS
    channels = channels_from(config)
    return tuple(method for method in KR_METHODS if channels.get(method))


@dataclass(frozen=True)
class DemoKrProvider:
    """PortOne's stand-in on a laptop: nothing is stored or called; the demo page's buttons say what happened."""

    hold_minutes: int
    virtual_account_hours: int
    name: str = "demo_kr"
    method: str = "portone"
    source: str = "demo_kr"
    demo: bool = True
    store_id: str = "store-demo"
    channels: Mapping[str, str] = field(default_factory=lambda: {m: f"channel-demo-{m}" for m in KR_METHODS})

    def hold_for(self) -> timedelta:
        return timedelta(minutes=self.hold_minutes)

    def state(self, payment_id: str, *, status: str, method: str, amount: int, paid: int = 0,
              easy_pay_provider: str | None = None, va_expires_at: datetime | None = None,
              now: datetime | None = None) -> KrPaymentState:
        now = now or utcnow()
        va = method == "virtual_account"
        return KrPaymentState(payment_id=payment_id, status=status, currency="KRW", total=amount, paid=paid,
                              method=method, easy_pay_provider=easy_pay_provider,
                              paid_at=now if status == "PAID" else None, requested_at=now,
                              va_bank="KWANGJU" if va else None, va_number="0000-DEMO-0000" if va else None,
                              va_holder="kindcity demo" if va else None, va_expires_at=va_expires_at if va else None)

    def get_payment(self, payment_id: str) -> KrPaymentState | None:
        return None  # the demo keeps nothing: there is nothing to read back

    def cancel_payment(self, *, payment_id: str, amount: int, reason: str, cancellable: int | None = None,
                       refund_account: RefundAccount | None = None) -> KrCancellation:
        return KrCancellation(id=f"demo-cancel-{reason[-24:]}", status="SUCCEEDED", amount=amount, reason=reason,
                              cancelled_at=utcnow())

    def close_virtual_account(self, payment_id: str) -> bool:
        return True

    def payments_since(self, since: datetime, until: datetime | None = None) -> list[KrPaymentState]:
        return []

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> KrEventNotice:
        raise NotSupported("the demo provider sends no webhooks")


def kr_provider(config: Mapping[str, Any]):
    if kr_provider_name(config) == "portone":
        from .portone_provider import PortOneProvider  # imported only when PortOne is configured
        return PortOneProvider.from_config(config)
    return DemoKrProvider(hold_minutes=int(config.get("KINDCITY_CARD_HOLD_MINUTES", 30)),
                          virtual_account_hours=int(config.get("KINDCITY_PORTONE_VIRTUAL_ACCOUNT_HOURS", 72)))


_SETTINGS = ("KINDCITY_ENV", "KINDCITY_PORTONE_API_SECRET", "KINDCITY_PORTONE_STORE_ID",
             "KINDCITY_PORTONE_WEBHOOK_SECRET", "KINDCITY_PORTONE_API_BASE", "KINDCITY_CARD_HOLD_MINUTES",
             "KINDCITY_PORTONE_VIRTUAL_ACCOUNT_HOURS", BILLING_CHANNEL_SETTING, *CHANNEL_SETTINGS.values())


def app_kr_provider(app):
    """The app's Korean provider, built once per configuration (the SDK client keeps its connections)."""
    cache = app.extensions.setdefault("kindcity_kr_providers", {})
    key = tuple(app.config.get(name) for name in _SETTINGS)
    if key not in cache:
        cache[key] = kr_provider(app.config)
    return cache[key]


def close_app_kr_providers(app) -> None:
    for item in app.extensions.pop("kindcity_kr_providers", {}).values():
        close = getattr(item, "close", None)
        if close is not None:
            close()
