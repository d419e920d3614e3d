"""Sending a text, as a job: asked for in the transaction that writes the outgoing text (a staff reply, the
automatic first answer), done afterwards by the worker, with retries when the provider is unavailable.

The job carries only the outgoing message's id: it reads the number and the words afresh when it runs, so
a case erased meanwhile sends nothing, and the job queue's table never holds a phone number. Its dedupe
key (``text:<message id>``) is recorded in ``sent_texts`` in the transaction that finishes the job, and is
the job's lock: a job run again (a worker killed after the send, a retry) sends nothing.
"""
from __future__ import annotations

from flask import current_app

from ..extensions import db
from ..jobs import defer, job
from . import OutgoingText, SmsRefused, sms_provider
from ..services.reference import district_brand


def text_key(message_id: int) -> str:
    return f"text:{message_id}"


def ask_send(message_id: int) -> None:
    """In the caller's transaction: send outgoing text ``message_id`` once that commits."""
    defer("sms.deliver", lock=f"sms:{text_key(message_id)}", message_id=message_id)


@job("sms.deliver")
def deliver(message_id: int) -> str | None:
    """Hand the text to the provider, unless it went already or its case was erased. Returns the
    provider's message id."""
    from ..models import SentText, TextMessage

    key = text_key(message_id)
    if db.session.get(SentText, key) is not None:
        return None
    message = db.session.get(TextMessage, message_id)
    if message is None or message.direction != "out" or not message.body or not message.case.phone:
        return None
    return _send_once(key, message.case.phone, message.body)


def ask_donor_text(user_id: int, *, key: str, body: str, notice: str = "", variables: dict | None = None) -> None:
    """A notice to a donor by text (알림톡 with SMS fallback when the provider has a template for ``notice``),
    keyed like its mail (``pledge-instructions:<id>`` …)."""
    defer("sms.donor_text", lock=f"sms:donor:{key}", user_id=user_id, key=key, body=body, notice=notice,
          variables=variables or {})


def _send_once(key: str, to: str, body: str, *, notice: str = "", variables: dict | None = None) -> str | None:
    """Send once per key. A provider that is unavailable (SmsUnavailable) fails the job, and the queue
    retries it with backoff; a text the provider refuses (an unregistered sending number, a number that
    cannot receive) is logged, recorded as refused and not retried."""
    from ..models import SentText

    if db.session.get(SentText, key) is not None:
        return None
    provider = sms_provider(current_app.config)
    try:
        sent = provider.send(OutgoingText(to=to, body=body, key=key, notice=notice,
                                          variables=tuple(sorted((variables or {}).items()))))
    except SmsRefused as error:
        current_app.logger.error("text %s refused by %s: %s", key, provider.name, error)
        db.session.add(SentText(key=key, provider_id="refused"))
        return None
    db.session.add(SentText(key=key, provider_id=sent.provider_id[:64]))
    return sent.provider_id


@job("sms.donor_text")
def donor_text(user_id: int, key: str, body: str, notice: str = "", variables: dict | None = None) -> str | None:
    """Send a donor notice by text to the donor's verified number, read now (a number removed meanwhile
    gets nothing)."""
    from ..models import DonorContact

    contact = db.session.get(DonorContact, user_id)
    if contact is None or not contact.phone or contact.verified_at is None:
        return None
    return _send_once(f"donor:{key}", contact.phone, body, notice=notice, variables=variables)


@job("sms.phone_code")
def phone_code(user_id: int, request: str) -> str | None:
    """Make the verification code the donor asked for and text it. The code is made here, not where it was
    asked for, so that it never sits in the job queue; only its keyed hash is stored."""
    import secrets

    from flask_babel import force_locale
    from flask_babel import gettext as _

    from ..domain.texts import CODE_LIFETIME, new_code
    from ..domain.time import utcnow
    from ..models import DonorContact, SentText
    from ..services.contact import code_hash

    key = f"phone-code:{request}"
    contact = db.session.get(DonorContact, user_id)
    if contact is None or contact.code_request != request or not contact.pending_phone:
        return None   # a newer code was asked for, or the number was removed
    if db.session.get(SentText, key) is not None:
        return None
    code = new_code(secrets.randbelow)
    contact.code_hash = code_hash(user_id, code)
    contact.code_expires_at = utcnow() + CODE_LIFETIME
    with force_locale("ko"):
        body = _("[%(brand)s] Your code is %(code)s. Type it on the site within 10 minutes. Do not share it.",
                 brand=district_brand(), code=code)
    return _send_once(key, contact.pending_phone, body)
