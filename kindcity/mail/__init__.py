"""Outgoing mail, as jobs. SMTP when KINDCITY_SMTP_URL is set, otherwise one .eml file per message in the
outbox folder (so `make run` users can read what the site would send).

Each message is a row of ``outgoing_mail`` and a ``mail.deliver`` job, both written in the transaction
of the change it reports (:func:`send`): a rolled-back change sends nothing, a committed one sends even
if the process dies the next instant (on PostgreSQL; kindcity/jobs/). The row's key names what the
message is about (``reset:<request>``, ``urgent-referral:<id>:<staff>``, …) and is all the job carries,
so neither the queue nor the worker's log holds the words of a message (a reset link, a name). The
delivery marks the row sent, and blanks its body, in the transaction that finishes the job: a job run
again sends nothing, and two jobs for one key never run at once (the key is their lock). The key also
makes the Message-ID, so a mail server that got the message just before a worker died can recognise
the copy.

SMTP that refuses or is down makes the job fail; the queue retries it with exponential backoff, and a
job that keeps failing is shown to admins (`kindcity jobs`, the admin page). No request waits on the
mail server: the worker talks to it.

The messages themselves are composed by jobs in this package (accounts, pledges, pooled, donors,
referrals), which read the data afresh when they run.
"""
from __future__ import annotations

import hashlib
import smtplib
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app

from ..domain.time import utcnow
from ..extensions import db
from ..jobs import defer, job


def send(to: str, subject: str, body: str, *, key: str) -> bool:
    """Ask for one plain-text message in the caller's transaction; ``key`` names it once and for all.
    False (and nothing asked) if a message with this key was asked for already."""
    from ..models import OutgoingMail

    if db.session.get(OutgoingMail, key) is not None:
        return False
    db.session.add(OutgoingMail(key=key, recipient=to, subject=subject[:300], body=body))
    db.session.flush()
    defer("mail.deliver", lock=f"mail:{key}", key=key)
    return True


@job("mail.deliver")
def deliver(key: str) -> None:
    """Hand the message to the mail server (or the outbox folder), unless it went already."""
    from ..models import OutgoingMail

    row = db.session.get(OutgoingMail, key, with_for_update=True)
    if row is None or row.sent_at is not None:
        return
    message = build_message(key, row.recipient, row.subject, row.body)
    smtp_url = current_app.config.get("KINDCITY_SMTP_URL")
    if smtp_url:
        _send_smtp(smtp_url, message)  # an error fails the job: the queue retries it with backoff
    else:
        _write_outbox(message)
    row.sent_at, row.body = utcnow(), ""


def build_message(key: str, to: str, subject: str, body: str) -> EmailMessage:
    cfg = current_app.config
    sender = cfg["KINDCITY_MAIL_FROM"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{sender.rpartition('@')[2]}>"
    message.set_content(body)
    return message


def _write_outbox(message: EmailMessage) -> Path:
    outbox = Path(current_app.config["KINDCITY_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{datetime.now():%Y%m%d-%H%M%S-%f}-{message['Message-ID'][1:9]}.eml"
    path.write_bytes(bytes(message))
    return path


def _send_smtp(smtp_url: str, message: EmailMessage) -> None:
    url = urlsplit(smtp_url)
    smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with smtp_class(url.hostname, url.port or (465 if url.scheme == "smtps" else 587), timeout=10) as smtp:
        if url.scheme == "smtp+starttls":
            smtp.starttls()
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(message)
