"""The demo SMS provider: texts written as files to the outbox folder, beside the mail.

It is the embedded default when no SOLAPI key is configured, so the whole text line (a resident's text,
the automatic answer, a staff reply) can be tried on a laptop: `kindcity sms receive --from 010… "…"`
stands in for the webhook, and every text the site sends appears as ``<time>-<id>.sms.txt``. Refused in
production (see ``sms_provider_name``).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from ..domain.texts import message_kind
from . import IncomingBatch, InvalidWebhook, OutgoingText, SentText, register


@dataclass(frozen=True)
class DemoSmsProvider:
    outbox: str
    sender: str
    name: str = "demo"
    demo: bool = True

    def send(self, text: OutgoingText) -> SentText:
        provider_id = "demo_" + hashlib.sha256(text.key.encode()).hexdigest()[:20]
        folder = Path(self.outbox)
        folder.mkdir(parents=True, exist_ok=True)
        kind = message_kind(text.body)
        path = folder / f"{datetime.now():%Y%m%d-%H%M%S-%f}-{provider_id[5:13]}.sms.txt"
        path.write_text(f"From: {self.sender}\nTo: {text.to}\nType: {kind}\nKey: {text.key}\n\n{text.body}\n",
                        encoding="utf-8")
        return SentText(provider_id=provider_id, kind=kind)

    def parse_incoming(self, payload: bytes, headers: Mapping[str, str], *, now: datetime) -> IncomingBatch:
        # The demo has no webhook: incoming texts come through `kindcity sms receive`.
        raise InvalidWebhook("the demo SMS provider takes no webhooks")


@register("demo")
def _demo(config: Mapping[str, Any]) -> DemoSmsProvider:
    return DemoSmsProvider(outbox=config["KINDCITY_OUTBOX"], sender=config.get("KINDCITY_SMS_SENDER") or "0620000000")
