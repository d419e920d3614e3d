"""How donors hear from the site: by mail, by text (알림톡 where the provider can), or both.

A donor's number gets texts only once they proved it is theirs: they ask for a code, a job makes the
code and sends it by text (so the code never sits in the job queue), and they type it in. Only a keyed
hash of the code is stored; a code lives 10 minutes and allows 5 tries, and 3 codes an hour may be
asked for. The number is the donor's personal data: not in the audit log, masked on their page.

:func:`notify` is what the donor notices (pledge instructions, a need closed, an impact report) go
through: mail, text or both, as the donor chose; mail whenever no verified number is on file.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from ..domain import texts as text_rules
from ..domain.time import utcnow
from ..extensions import db
from ..jobs import defer
from ..models import DonorContact, User
from . import Actor, NotFound, ServiceError
from .audit import record

HOUR = text_rules.SENDER_WINDOW


class ContactError(ServiceError):
    code = "contact"


def _donor(actor: Actor) -> User:
    user = actor.user
    if user is None or user.role != "donor":
        raise NotFound()
    return user


def contact_of(user_id: int) -> DonorContact | None:
    return db.session.get(DonorContact, user_id)


def _contact(user: User) -> DonorContact:
    contact = contact_of(user.id)
    if contact is None:
        contact = DonorContact(user_id=user.id, channel=text_rules.Channel.EMAIL, code_attempts=0, codes_in_window=0)
        db.session.add(contact)
    return contact


def code_hash(user_id: int, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"phone-code:{user_id}:{code.strip()}".encode(), hashlib.sha256).hexdigest()


def ask_code(actor: Actor, phone: str, *, now: datetime | None = None) -> DonorContact:
    """Ask for a code by text to ``phone`` (a mobile number); the number is taken only once the code is
    typed in. At most CODES_PER_HOUR codes an hour."""
    user = _donor(actor)
    number = text_rules.normalise_phone(phone)
    if not text_rules.is_mobile(number):
        raise text_rules.TextRuleError("contact_phone_not_mobile")
    now = now or utcnow()
    contact = _contact(user)
    if contact.codes_window_start is None or now - contact.codes_window_start >= HOUR:
        contact.codes_window_start, contact.codes_in_window = now, 0
    if contact.codes_in_window >= text_rules.CODES_PER_HOUR:
        raise ContactError("contact_codes_rate_limited")
    contact.codes_in_window += 1
    contact.pending_phone = number
    contact.code_request = secrets.token_hex(8)
    contact.code_hash, contact.code_expires_at, contact.code_attempts = None, None, 0
    db.session.flush()
    defer("sms.phone_code", lock=f"sms:phone-code:{user.id}", user_id=user.id, request=contact.code_request)
    record(actor, "contact.code_asked", "user", user.id)   # never the number
    return contact


@dataclass(frozen=True)
class Verified:
    ok: bool
    code: str = ""      # why not, a stable code for the message


def verify(actor: Actor, entered: str, *, now: datetime | None = None) -> Verified:
    """Check a typed code. A wrong try counts even though it changes nothing else, so the caller commits
    either way (a refusal must not roll back the count of tries)."""
    user = _donor(actor)
    now = now or utcnow()
    contact = _contact(user)
    matches = bool(contact.code_hash) and hmac.compare_digest(code_hash(user.id, entered or ""), contact.code_hash)
    try:
        text_rules.check_code_attempt(entered=entered, matches=matches, expires_at=contact.code_expires_at,
                                 attempts=contact.code_attempts, now=now)
    except text_rules.TextRuleError as error:
        if error.code == "contact_code_wrong":
            contact.code_attempts += 1
        return Verified(False, error.code)
    contact.phone, contact.verified_at = contact.pending_phone, now
    contact.pending_phone = contact.code_request = contact.code_hash = contact.code_expires_at = None
    contact.code_attempts = 0
    record(actor, "contact.phone_verified", "user", user.id)
    return Verified(True)


def set_channel(actor: Actor, channel: str) -> DonorContact:
    user = _donor(actor)
    contact = _contact(user)
    chosen = text_rules.check_channel(channel, phone_verified=contact.verified_at is not None and bool(contact.phone))
    before = contact.channel
    contact.channel = chosen.value
    record(actor, "contact.channel", "user", user.id, before={"channel": before}, after={"channel": chosen.value})
    return contact


def forget_phone(actor: Actor) -> DonorContact:
    """The donor removes their number: back to mail only."""
    user = _donor(actor)
    contact = _contact(user)
    contact.phone = contact.verified_at = contact.pending_phone = contact.code_request = None
    contact.code_hash = contact.code_expires_at = None
    contact.channel = text_rules.Channel.EMAIL.value
    record(actor, "contact.phone_removed", "user", user.id)
    return contact


def notify(user_id: int, email: str, *, key: str, subject: str, body: str, text: str, notice: str = "",
           variables: dict | None = None) -> tuple[bool, bool]:
    """Send a donor notice the way the donor chose: ``body`` by mail, ``text`` (short, plain Korean) by text.
    Called inside a job; what it asks for is itself a job keyed by ``key``. ``notice`` and ``variables`` name
    the 알림톡 template where the provider has one (the text is then its SMS fallback). Returns (mailed, texted)."""
    from ..mail import send
    from ..sms.jobs import ask_donor_text

    contact = contact_of(user_id)
    by_mail, by_text = text_rules.routes(contact.channel if contact else None,
                                    phone_verified=bool(contact and contact.phone and contact.verified_at))
    if by_mail:
        send(email, subject, body, key=key)
    if by_text:
        ask_donor_text(user_id, key=key, body=text, notice=notice, variables=variables)
    return by_mail, by_text
