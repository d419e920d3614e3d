"""SOLAPI (솔라피), the district's SMS provider: the only module that imports the ``solapi`` SDK.

Sending goes through the SDK (``SolapiMessageService.send``), which signs each API call the way SOLAPI
documents it: ``Authorization: HMAC-SHA256 ApiKey=<key>, Date=<ISO 8601>, salt=<unique>,
signature=<hex HMAC-SHA256(secret, date + salt)>``. Its base address is an attribute of the service;
KINDCITY_SOLAPI_API_BASE points it at a fake server in tests and is refused in production.

Incoming texts (수신) come to /webhooks/sms. The SDK has no code for verifying a webhook, so kindcity
verifies it itself, with the same scheme and the same API secret: the request carries an
``Authorization`` header of the form above; the date must be within KINDCITY_SMS_WEBHOOK_TOLERANCE
seconds of now, and the salt must not have been seen before (the caller remembers it), so a captured
request replayed later is refused. docs/sms.md says what is documented by SOLAPI and what is checked
against a live account before production.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

import httpx
from solapi import SolapiMessageService
from solapi.error.MessageNotReceiveError import MessageNotReceivedError
from solapi.model import KakaoOption
from solapi.model.request.message import Message

from ..domain.texts import TextRuleError, message_kind, normalise_phone
from . import IncomingBatch, IncomingText, InvalidWebhook, OutgoingText, SentText, SmsRefused, SmsUnavailable

SOLAPI_API = "https://api.solapi.com"
_AUTH = re.compile(r"^HMAC-SHA256\s+(?P<params>.+)$", re.IGNORECASE)


def _parse_authorization(header: str | None) -> dict[str, str]:
    match = _AUTH.match((header or "").strip())
    if not match:
        raise InvalidWebhook("no HMAC-SHA256 authorization")
    params: dict[str, str] = {}
    for part in match.group("params").split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            params[name.strip().lower()] = value.strip()
    if not {"apikey", "date", "salt", "signature"} <= params.keys():
        raise InvalidWebhook("authorization incomplete")
    return params


def signature(secret: str, date: str, salt: str) -> str:
    return hmac.new(secret.encode(), (date + salt).encode(), hashlib.sha256).hexdigest()


def verify_authorization(header: str | None, *, api_key: str, secret: str, now: datetime,
                         tolerance: timedelta) -> str:
    """Check a SOLAPI-style HMAC authorization; returns its salt (for the caller's replay memory)."""
    params = _parse_authorization(header)
    if not hmac.compare_digest(params["apikey"], api_key):
        raise InvalidWebhook("another API key")
    expected = signature(secret, params["date"], params["salt"])
    if not hmac.compare_digest(params["signature"].lower(), expected):
        raise InvalidWebhook("signature does not match")
    try:
        signed_at = datetime.fromisoformat(params["date"].replace("Z", "+00:00"))
    except ValueError:
        raise InvalidWebhook("date unreadable") from None
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=timezone.utc)
    if abs(now - signed_at) > tolerance:
        raise InvalidWebhook("signed too long ago (or in the future)")
    if not 8 <= len(params["salt"]) <= 64:
        raise InvalidWebhook("salt of a wrong length")
    return params["salt"]


@dataclass
class SolapiProvider:
    api_key: str
    api_secret: str
    sender: str
    api_base: str
    tolerance: timedelta
    pf_id: str = ""             # 카카오 채널 (알림톡), when the district has one
    templates: Mapping[str, str] | None = None   # notice kind -> approved 알림톡 template id
    name: str = "solapi"
    demo: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "SolapiProvider":
        return cls(api_key=config["KINDCITY_SOLAPI_API_KEY"], api_secret=config["KINDCITY_SOLAPI_API_SECRET"],
                   sender=normalise_phone(config["KINDCITY_SMS_SENDER"]),
                   api_base=(config.get("KINDCITY_SOLAPI_API_BASE") or SOLAPI_API).rstrip("/"),
                   tolerance=timedelta(seconds=int(config.get("KINDCITY_SMS_WEBHOOK_TOLERANCE", 300))),
                   pf_id=config.get("KINDCITY_SOLAPI_KAKAO_PFID", ""),
                   templates=parse_templates(config.get("KINDCITY_SOLAPI_KAKAO_TEMPLATES", "")))

    def _service(self) -> SolapiMessageService:
        service = SolapiMessageService(api_key=self.api_key, api_secret=self.api_secret)
        service.base_url = self.api_base
        return service

    def send(self, text: OutgoingText) -> SentText:
        template = (self.templates or {}).get(text.notice) if self.pf_id and text.notice else None
        message = Message(from_=self.sender, to=text.to, text=text.body, custom_fields={"kindcity": text.key[:100]},
                          kakao_options=self.kakao_option(template, dict(text.variables)) if template else None)
        try:
            response = self._service().send(message)
        except MessageNotReceivedError as error:
            reasons = ", ".join(f"{m.status_code} {m.status_message}" for m in error.failed_messages)
            raise SmsRefused(f"SOLAPI refused the text: {reasons}") from None
        except httpx.HTTPError as error:
            raise SmsUnavailable(f"SOLAPI unreachable: {type(error).__name__}") from None
        except Exception as error:  # the SDK raises bare Exception(code, message) for 4xx and 5xx
            code = str(error.args[0]) if error.args else ""
            if code == "UnknownError":
                raise SmsUnavailable("SOLAPI answered with a server error") from None
            raise SmsRefused(f"SOLAPI refused the text: {code}") from None
        sent = (response.message_list or [None])[0]
        return SentText(provider_id=sent.message_id if sent else response.group_info.group_id,
                        kind="ATA" if template else message_kind(text.body))

    def kakao_option(self, template_id: str, variables: Mapping[str, str]) -> KakaoOption:
        """알림톡 with the SMS fallback (disable_sms False): a donor without KakaoTalk gets the text."""
        return KakaoOption(pf_id=self.pf_id, template_id=template_id, variables=dict(variables), disable_sms=False)

    def parse_incoming(self, payload: bytes, headers: Mapping[str, str], *, now: datetime) -> IncomingBatch:
        salt = verify_authorization(headers.get("Authorization"), api_key=self.api_key, secret=self.api_secret,
                                    now=now, tolerance=self.tolerance)
        return IncomingBatch(nonce=salt, texts=read_incoming(payload, now=now))


def parse_templates(setting: str) -> dict[str, str]:
    """KINDCITY_SOLAPI_KAKAO_TEMPLATES: ``kind=templateId`` pairs separated by commas, for the 알림톡 templates
    Kakao approved (pledge-instructions, need-closed, need-impact)."""
    pairs = (item.partition("=") for item in (setting or "").split(",") if "=" in item)
    return {kind.strip(): template.strip() for kind, _, template in pairs if kind.strip() and template.strip()}


def read_incoming(payload: bytes, *, now: datetime) -> list[IncomingText]:
    """SOLAPI delivers incoming texts as a JSON list of messages (messageId, from, to, text,
    dateReceived); one object alone is read as a list of one."""
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidWebhook("body is not JSON") from None
    items = data if isinstance(data, list) else [data]
    texts = []
    for item in items:
        if not isinstance(item, dict) or not item.get("messageId") or not item.get("from"):
            raise InvalidWebhook("an item is not an incoming text")
        try:
            sender = normalise_phone(str(item["from"]))
        except TextRuleError:
            raise InvalidWebhook("sender is not a Korean number") from None
        received = now
        if item.get("dateReceived"):
            try:
                received = datetime.fromisoformat(str(item["dateReceived"]).replace("Z", "+00:00"))
            except ValueError:
                received = now
            if received.tzinfo is None:
                received = received.replace(tzinfo=timezone.utc)
        texts.append(IncomingText(provider_id=str(item["messageId"])[:64], sender=sender,
                                  body=str(item.get("text") or "")[:2000], received_at=received))
    return texts
