"""Outgoing mail: SMTP when KINDCITY_SMTP_URL is set, otherwise one .eml file per message in the
outbox folder (so `make run` users can read what the site would send). Sent after the commit.

Over SMTP a message is handed to a small pool of sender threads, so no request waits on the mail
server: a donor's page does not hang when SMTP is slow, and a password-reset answer takes the same
time whether or not a message went out (nothing tells who has an account). A message that cannot be
delivered is logged; the change it reports is already committed and stands. Pending messages are
delivered before the process exits (the pool's threads are joined at exit); ``wait_for_mail`` lets a
command or a test wait for them.
"""
from __future__ import annotations

import logging
import smtplib
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit
from uuid import uuid4

from flask import current_app

_sender = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kindcity-mail")
_pending: set[Future] = set()
_lock = threading.Lock()


def send(to: str, subject: str, body: str) -> Path | None:
    """Send one plain-text message; returns the outbox file when there is no SMTP, else None."""
    cfg = current_app.config
    message = EmailMessage()
    message["From"] = cfg["KINDCITY_MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if cfg.get("KINDCITY_SMTP_URL"):
        future = _sender.submit(_deliver, cfg["KINDCITY_SMTP_URL"], message, current_app.logger)
        with _lock:
            _pending.add(future)
        future.add_done_callback(_forget)
        return None
    outbox = Path(cfg["KINDCITY_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{datetime.now():%Y%m%d-%H%M%S}-{uuid4().hex[:8]}.eml"
    path.write_bytes(bytes(message))
    return path


def wait_for_mail(timeout: float = 30) -> bool:
    """Wait until every message handed over so far has been delivered or given up; True if all are done."""
    with _lock:
        pending = set(_pending)
    return not wait(pending, timeout=timeout).not_done


def _forget(future: Future) -> None:
    with _lock:
        _pending.discard(future)


def _deliver(smtp_url: str, message: EmailMessage, logger: logging.Logger) -> bool:
    try:
        _send_smtp(smtp_url, message)
    except (OSError, smtplib.SMTPException):
        # The change the message reports is already committed; a mail failure must not undo or hide it.
        logger.exception("could not send mail to %s", message["To"])
        return False
    return True


def _send_smtp(smtp_url: str, message: EmailMessage) -> None:
    url = urlsplit(smtp_url)
    smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with smtp_class(url.hostname, url.port or (465 if url.scheme == "smtps" else 587), timeout=10) as smtp:
        if url.scheme == "smtp+starttls":
            smtp.starttls()
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(message)
