"""Outgoing mail: SMTP when KINDCITY_SMTP_URL is set, otherwise one .eml file per message in the
outbox folder (so `make run` users can read what the site would send). Sent after the commit."""
from __future__ import annotations

import smtplib
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

from flask import current_app


def send(to: str, subject: str, body: str) -> Path | None:
    cfg = current_app.config
    message = EmailMessage()
    message["From"] = cfg["KINDCITY_MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if cfg.get("KINDCITY_SMTP_URL"):
        try:
            _send_smtp(cfg["KINDCITY_SMTP_URL"], message)
        except (OSError, smtplib.SMTPException):
            # The money change is already committed; a mail failure must not undo or hide it.
            current_app.logger.exception("could not send mail to %s", to)
        return None
    outbox = Path(cfg["KINDCITY_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{datetime.now():%Y%m%d-%H%M%S}-{uuid4().hex[:8]}.eml"
    path.write_bytes(bytes(message))
    return path


def _send_smtp(smtp_url: str, message: EmailMessage) -> None:
    url = urlsplit(smtp_url)
    smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with smtp_class(url.hostname, url.port or (465 if url.scheme == "smtps" else 587), timeout=10) as smtp:
        if url.scheme == "smtp+starttls":
            smtp.starttls()
        if url.username:
            smtp.login(url.username, url.password or "")
        smtp.send_message(message)
