"""How texts leave and reach kindcity: SMS providers behind one interface, chosen from a small registry.

    solapi   SOLAPI (솔라피): SMS/LMS and 카카오 알림톡 with SMS fallback, incoming texts by webhook
             (the only module that imports the ``solapi`` SDK is solapi_provider; docs/sms.md says why)
    demo     the embedded default: each text written as a file to the outbox folder beside the mail, and
             `kindcity sms receive --from 010… "text"` for an incoming one; refused in production

Providers know nothing of the database: they send one text, verify and read an incoming webhook, and
turn the provider's objects into the plain values below. kindcity.services.texts decides what a text
means for a case; kindcity/sms/jobs.py sends through the job queue.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping, Protocol, runtime_checkable


class SmsError(Exception):
    """Something went wrong talking to an SMS provider."""


class SmsUnavailable(SmsError):
    """A failure that a retry could fix (network, timeout, the provider's 5xx)."""


class SmsRefused(SmsError):
    """The provider refused the text (a sending number not registered, a bad recipient, no balance):
    sending it again unchanged will not help."""


class InvalidWebhook(SmsError):
    """An incoming webhook whose signature is missing, wrong, stale or replayed, or whose body is not a text."""


class SmsUnavailableHere(SmsError):
    """No SMS provider may run with this configuration (the demo provider in production)."""


@dataclass(frozen=True)
class OutgoingText:
    to: str                 # normalised domestic number (010…)
    body: str               # the text; also what a 알림톡 falls back to as SMS/LMS
    key: str                # the dedupe key, also sent to the provider as a custom field
    notice: str = ""        # a donor notice's kind, for a 알림톡 template when the provider has one
    variables: tuple[tuple[str, str], ...] = ()   # the template's variables


@dataclass(frozen=True)
class SentText:
    provider_id: str        # the provider's message id
    kind: str               # SMS | LMS | ATA (알림톡)


@dataclass(frozen=True)
class IncomingText:
    provider_id: str        # unique per text at the provider: a webhook delivered twice is stored once
    sender: str             # normalised domestic number
    body: str
    received_at: datetime


@dataclass(frozen=True)
class IncomingBatch:
    nonce: str                      # unique per signed request: remembered by the caller, a replay is refused
    texts: list[IncomingText]


@runtime_checkable
class SmsProvider(Protocol):
    name: str
    demo: bool

    def send(self, text: OutgoingText) -> SentText: ...
    def parse_incoming(self, payload: bytes, headers: Mapping[str, str], *, now: datetime) -> IncomingBatch:
        """Verify the webhook's signature and read the texts it carries (raises InvalidWebhook)."""


Factory = Callable[[Mapping[str, Any]], SmsProvider]
_REGISTRY: dict[str, Factory] = {}


def register(name: str) -> Callable[[Factory], Factory]:
    def decorator(factory: Factory) -> Factory:
        _REGISTRY[name] = factory
        return factory
    return decorator


def _solapi_factory(config: Mapping[str, Any]) -> SmsProvider:
    from .solapi_provider import SolapiProvider  # the SDK is imported only when SOLAPI is configured

    return SolapiProvider.from_config(config)


_REGISTRY["solapi"] = _solapi_factory
from . import demo  # noqa: E402,F401  (registers itself)


def sms_provider_name(config: Mapping[str, Any]) -> str:
    """'solapi' when its API key is set, else 'demo'; the demo is refused in production."""
    if config.get("KINDCITY_SOLAPI_API_KEY"):
        return "solapi"
    if config.get("KINDCITY_ENV") == "production":
        raise SmsUnavailableHere("the demo SMS provider is refused in production; set KINDCITY_SOLAPI_API_KEY")
    return "demo"


def sms_webhook_open(config: Mapping[str, Any]) -> bool:
    """Whether /webhooks/sms takes requests: only with a real provider (the demo takes incoming texts from
    `kindcity sms receive`; production without SOLAPI has no text line)."""
    return bool(config.get("KINDCITY_SOLAPI_API_KEY"))


def sms_provider(config: Mapping[str, Any]) -> SmsProvider:
    return _REGISTRY[sms_provider_name(config)](config)


__all__ = ["IncomingBatch", "IncomingText", "InvalidWebhook", "OutgoingText", "SentText", "SmsError", "SmsProvider", "SmsRefused",
           "SmsUnavailable", "SmsUnavailableHere", "register", "sms_provider", "sms_provider_name", "sms_webhook_open"]
