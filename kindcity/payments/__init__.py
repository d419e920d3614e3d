"""How money reaches kindcity: payment providers behind one interface, chosen from a small registry.

    bank     bank transfer (계좌이체): the donor transfers with a reference code, staff confirm it
    stripe   card through Stripe Checkout (the only module that imports ``stripe`` is stripe_provider)
    demo     a local card checkout where no money moves: the embedded default when no Stripe keys are
             configured, refused in production
    portone  Korean rails (domestic card, easy pay, 가상계좌) through PortOne V2 (the only module that
             imports ``portone_server_sdk`` is portone_provider); ``demo_kr`` stands in for it without
             its settings, refused in production (see korean.py)

Providers know nothing of the database: they turn the provider's objects into the plain values below,
and ``kindcity.services.card`` decides what those values mean for pledges and the journal.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Protocol, runtime_checkable


class ProviderError(Exception):
    """Something went wrong talking to a payment provider."""


class ProviderUnavailable(ProviderError):
    """A failure that a retry could fix (network, timeout, the provider's 5xx, rate limit)."""


class ProviderRefused(ProviderError):
    """The provider refused the request; repeating it unchanged will not help."""

    def __init__(self, message: str = "", code: str | None = None):
        super().__init__(message)
        self.code = code


class InvalidWebhook(ProviderError):
    """A webhook whose signature is missing, wrong or too old, or whose body is not an event."""


class NotSupported(ProviderError):
    """The provider cannot do this (the demo provider has no event list, for example)."""


class CardPaymentsUnavailable(ProviderError):
    """No card provider may run with this configuration (the demo provider in production)."""


# --- plain values that cross the provider boundary -----------------------------------------------

@dataclass(frozen=True)
class CheckoutRequest:
    pledge_id: int
    need_id: int | None         # None: a pooled pledge or a match offer (the matching engine places it)
    reference: str
    amount: int                 # whole won: KRW has no minor unit, so this is sent as it is
    product_name: str
    expires_at: datetime        # the end of the pledge's hold (no need: the end of this checkout's window)
    success_url: str
    cancel_url: str
    idempotency_key: str        # fixed per pledge: a retried request finds the same session


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


@dataclass(frozen=True)
class CheckoutState:
    """What the provider says about one checkout session now (read back, never taken from an event)."""

    session_id: str
    status: str                 # open | complete | expired
    payment_status: str         # paid | unpaid | no_payment_required
    pledge_id: int | None       # from client_reference_id
    amount_total: int
    currency: str
    payment_id: str | None = None       # the PaymentIntent
    payment_state: str | None = None    # the PaymentIntent's status (succeeded, processing, ...)
    amount_received: int = 0
    paid_at: datetime | None = None
    url: str | None = None
    created: datetime | None = None
    reference: str | None = None        # the pledge's reference code, from the session's metadata


@dataclass(frozen=True)
class RefundState:
    id: str
    payment_id: str | None
    amount: int
    status: str                 # pending | requires_action | succeeded | failed | canceled
    created: datetime
    refund_id: int | None = None        # our Refund row, from the refund's metadata
    failure: str | None = None
    currency: str = "krw"


@dataclass(frozen=True)
class ChargeState:
    id: str
    payment_id: str | None
    amount: int
    amount_refunded: int
    currency: str
    status: str
    paid: bool
    disputed: bool
    created: datetime
    pledge_id: int | None = None


@dataclass(frozen=True)
class DisputeState:
    id: str
    charge_id: str | None
    payment_id: str | None
    amount: int
    reason: str
    status: str


@dataclass(frozen=True)
class EventNotice:
    """A verified event: only a trigger. Its object is read back from the provider before acting."""

    id: str
    type: str
    object_id: str
    created: datetime
    extra: Mapping[str, Any] = field(default_factory=dict)


# --- the interface -------------------------------------------------------------------------------

@runtime_checkable
class PaymentProvider(Protocol):
    name: str                   # the registry key
    method: str                 # the pledge's method: 'bank' or 'card'

    def hold_for(self) -> timedelta:
        """How long a pledge paid this way reserves its share of the need."""


@runtime_checkable
class CardProvider(PaymentProvider, Protocol):
    source: str                 # Payment.source of the money it brings
    demo: bool                  # True: no money moves

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession: ...
    def get_checkout(self, session_id: str) -> CheckoutState: ...
    def expire_checkout(self, session_id: str) -> CheckoutState | None: ...
    def find_checkout(self, payment_id: str) -> CheckoutState | None: ...
    def get_charge(self, charge_id: str) -> ChargeState: ...
    def get_refund(self, refund_id: str) -> RefundState: ...
    def get_dispute(self, dispute_id: str) -> DisputeState: ...
    def refunds_for(self, payment_id: str) -> list[RefundState]: ...
    def create_refund(self, *, payment_id: str, amount: int, idempotency_key: str,
                      metadata: Mapping[str, str]) -> RefundState: ...
    def parse_webhook(self, payload: bytes, signature: str | None) -> EventNotice: ...
    def events_since(self, since: datetime, types: Iterable[str]) -> list[EventNotice]: ...
    def checkouts_since(self, since: datetime) -> list[CheckoutState]: ...
    def charges_since(self, since: datetime) -> list[ChargeState]: ...
    def refunds_since(self, since: datetime) -> list[RefundState]: ...


# --- the registry --------------------------------------------------------------------------------

Factory = Callable[[Mapping[str, Any]], PaymentProvider]
_REGISTRY: dict[str, Factory] = {}


def register(name: str) -> Callable[[Factory], Factory]:
    def decorator(factory: Factory) -> Factory:
        _REGISTRY[name] = factory
        return factory
    return decorator


def _stripe_factory(config: Mapping[str, Any]) -> PaymentProvider:
    from .stripe_provider import StripeProvider  # imported only when Stripe is configured

    return StripeProvider.from_config(config)


_REGISTRY["stripe"] = _stripe_factory
from . import bank, demo  # noqa: E402,F401  (each registers itself)


def provider(name: str, config: Mapping[str, Any]) -> PaymentProvider:
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise NotSupported(f"unknown payment provider {name!r}") from None
    return factory(config)


def stripe_configured(config: Mapping[str, Any]) -> bool:
    return bool(config.get("KINDCITY_STRIPE_SECRET_KEY"))


def card_provider_name(config: Mapping[str, Any]) -> str:
    """'stripe' when a Stripe secret key is set, else 'demo'; the demo is refused in production."""
    if stripe_configured(config):
        return "stripe"
    if config.get("KINDCITY_ENV") == "production":
        raise CardPaymentsUnavailable("the demo card provider is refused in production; set KINDCITY_STRIPE_SECRET_KEY")
    return "demo"


def card_provider(config: Mapping[str, Any]) -> CardProvider:
    return provider(card_provider_name(config), config)  # type: ignore[return-value]


def card_available(config: Mapping[str, Any]) -> bool:
    try:
        card_provider_name(config)
    except CardPaymentsUnavailable:
        return False
    return True


def provider_for_method(method: str, config: Mapping[str, Any]) -> PaymentProvider:
    if method == "portone":
        from .korean import kr_provider
        return kr_provider(config)
    return provider("bank", config) if method == "bank" else card_provider(config)


def hold_for(method: str, config: Mapping[str, Any]) -> timedelta:
    """How long a new pledge paid by ``method`` holds its share of the need."""
    return provider_for_method(method, config).hold_for()


def delayed_payment_hold(config: Mapping[str, Any]) -> timedelta:
    """How long a card pledge stays reserved once the donor has paid with a method that settles later
    (Checkout completed, money not yet arrived): as long as a bank transfer's hold."""
    return timedelta(days=int(config.get("KINDCITY_BANK_HOLD_DAYS", 7)))


_SETTINGS = ("KINDCITY_ENV", "KINDCITY_STRIPE_SECRET_KEY", "KINDCITY_STRIPE_WEBHOOK_SECRET", "KINDCITY_STRIPE_ACCOUNT",
             "KINDCITY_STRIPE_API_BASE", "KINDCITY_STRIPE_NETWORK_RETRIES", "KINDCITY_CARD_HOLD_MINUTES")


def app_card_provider(app) -> CardProvider:
    """The app's card provider, built once per configuration (a Stripe client keeps its connections)."""
    cache = app.extensions.setdefault("kindcity_card_providers", {})
    key = tuple(app.config.get(name) for name in _SETTINGS)
    if key not in cache:
        cache[key] = card_provider(app.config)
    return cache[key]


def close_app_providers(app) -> None:
    for item in app.extensions.pop("kindcity_card_providers", {}).values():
        close = getattr(item, "close", None)
        if close is not None:
            close()


__all__ = [
    "CardPaymentsUnavailable", "CardProvider", "ChargeState", "CheckoutRequest", "CheckoutSession", "CheckoutState",
    "DisputeState", "EventNotice", "InvalidWebhook", "NotSupported", "PaymentProvider", "ProviderError",
    "ProviderRefused", "ProviderUnavailable", "RefundState", "app_card_provider", "card_available",
    "card_provider", "card_provider_name", "close_app_providers", "delayed_payment_hold", "hold_for", "provider", "provider_for_method",
    "register", "stripe_configured",
]
