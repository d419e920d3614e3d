"""Accounts: registration, login with limits that hold across workers, passwords, sessions, roles."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from ..domain.organisations import ORGANISATION_KINDS, normalise_business_number
from ..domain.time import utcnow
from ..extensions import db
from ..models import Centre, LoginAttempt, Organisation, PasswordResetRequest, Role, User
from . import Actor, Forbidden, ServiceError, limits
from .audit import record

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


class AccountError(ServiceError):
    code = "account"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise AccountError("email_invalid") from None


def check_password_rules(password: str, email: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password_too_short", minimum=MIN_PASSWORD_LENGTH)
    if email and password.lower() == email.lower():
        raise AccountError("password_is_email")


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


# --- registering ------------------------------------------------------------------------------
#
# Registration never tells whether an address has an account. A new address gets an account whose
# address must be confirmed by a link in a mail before it can log in; an address that already has an
# account gets nothing new, and its owner is mailed instead (someone tried to register with it: log in,
# or set a new password with the link in the mail). The form answers both the same way.

CONFIRM_SALT = "kindcity.confirm-email"
CONFIRM_DAYS = 3


@dataclass(frozen=True)
class Registration:
    """What a registration form led to. The caller answers every case in the same words."""

    user: User            # whom to mail
    created: bool         # a new account, waiting for its address to be confirmed
    notify_owner: bool    # the address had an account, and its owner may be mailed now (within the reset limits)


def register_donor(*, email: str, password: str, display_name: str, address: str | None,
                   organisation_name: str | None = None, organisation_kind: str | None = None,
                   business_number: str | None = None, confirmed: bool = False,
                   max_mail_per_email: int = 3, max_mail_per_address: int = 10) -> Registration:
    """Register a donor, or find that the address already has an account (and leave it as it is).

    Everything typed is checked first, and the password is hashed either way, so neither the answer nor
    its time tells the two cases apart. The owner of an existing account is mailed a way back in, which
    counts as a password-reset request (the mail carries a reset link): at most ``max_mail_per_email``
    an hour, and beyond that no mail, without saying so. ``confirmed`` is for accounts made by the site
    itself (the demo); a visitor's address is confirmed by the link mailed to it."""
    email = normalise_email(email)
    check_password_rules(password, email)
    password_hash = hash_password(password)
    number = check_organisation(organisation_kind or "", business_number) if organisation_name else None
    def already_registered(existing: User) -> Registration:
        allowed = _count_reset_request(email, address or "", max_per_email=max_mail_per_email,
                                       max_per_address=max_mail_per_address, window_minutes=RESET_WINDOW_MINUTES)
        return Registration(existing, created=False, notify_owner=allowed and existing.active)

    existing = find_user_by_email(email)
    if existing is not None:
        return already_registered(existing)
    try:
        # A savepoint: two registrations of one new address at once (a double click) meet at the unique
        # e-mail; the second then answers as for an address that has an account, never with a 500.
        with db.session.begin_nested():
            organisation = None
            if organisation_name:
                organisation = Organisation(name=organisation_name.strip(), kind=organisation_kind,
                                            business_number=number)
                db.session.add(organisation)
            user = User(email=email, password_hash=password_hash, display_name=display_name.strip(),
                        role=Role.DONOR, organisation=organisation,
                        email_confirmed_at=utcnow() if confirmed else None)
            db.session.add(user)
            db.session.flush()
    except IntegrityError:
        existing = find_user_by_email(email)
        if existing is None:
            raise  # another unique value (a business number taken meanwhile): not this race
        return already_registered(existing)
    record(Actor(user, address), "user.register", "user", user.id, after={"role": user.role})
    return Registration(user, created=True, notify_owner=False)


def email_confirmation_token(user: User, secret: str) -> str:
    return URLSafeTimedSerializer(secret, salt=CONFIRM_SALT).dumps([user.id, user.email])


def confirm_email(token: str, secret: str, address: str | None) -> User:
    """Confirm a new account's address from the link mailed to it. The link works for CONFIRM_DAYS days
    and only while the address is unconfirmed; AccountError otherwise (confirm_link_expired,
    confirm_link_invalid, confirm_link_used)."""
    try:
        user_id, email = URLSafeTimedSerializer(secret, salt=CONFIRM_SALT).loads(
            token, max_age=CONFIRM_DAYS * 24 * 3600)
    except SignatureExpired:
        raise AccountError("confirm_link_expired") from None
    except (BadSignature, ValueError, TypeError):
        raise AccountError("confirm_link_invalid") from None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or user.email != email:
        raise AccountError("confirm_link_invalid")
    if user.email_confirmed_at is not None:
        raise AccountError("confirm_link_used")
    user.email_confirmed_at = utcnow()
    record(Actor(user, address), "user.confirm_email", "user", user.id)
    return user


def check_organisation(kind: str, business_number: str | None) -> str | None:
    """The organisation's kind and business number as typed: its normalised number, or AccountError."""
    if kind not in ORGANISATION_KINDS:
        raise AccountError("organisation_kind_invalid")
    number = None
    if business_number and business_number.strip():
        number = normalise_business_number(business_number)
        if number is None:
            raise AccountError("business_number_invalid")
        if db.session.scalar(select(Organisation).where(Organisation.business_number == number)):
            raise AccountError("business_number_taken")
    elif kind in ("business", "good_shop"):
        raise AccountError("business_number_required")
    return number


def create_organisation(name: str, kind: str, business_number: str | None) -> Organisation:
    number = check_organisation(kind, business_number)
    organisation = Organisation(name=name.strip(), kind=kind, business_number=number)
    db.session.add(organisation)
    db.session.flush()
    return organisation


# --- logging in -------------------------------------------------------------------------------
#
# A login is two steps, each committed by the view. start_login counts the attempt under the limits'
# locks (services/limits.py) and records it as a failure; once that is committed, every worker counts
# it, and the locks are released before the slow password check. finish_login checks the password and
# turns the record into a success. So twelve simultaneous guesses at one account record at most the
# limit and are refused beyond it, and guesses from one address never wait on each other's hashing.

def login_blocked(email: str, address: str, *, max_per_account: int, max_per_address: int,
                  window_minutes: int) -> bool:
    """Too many recent failures (or attempts still being checked) for this account or from this address."""
    since = utcnow() - timedelta(minutes=window_minutes)
    failures = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since)
    per_account = db.session.scalar(failures.where(LoginAttempt.email == email))
    per_address = db.session.scalar(failures.where(LoginAttempt.address == address))
    return per_account >= max_per_account or per_address >= max_per_address


def start_login(email: str, address: str, *, max_per_account: int = 5, max_per_address: int = 20,
                window_minutes: int = 15) -> LoginAttempt:
    """Count a login attempt before its password is checked, or refuse it (login_rate_limited)."""
    email = email.strip().lower()[:254]
    limits.hold(f"login-account:{email}", f"login-address:{address}")
    if login_blocked(email, address, max_per_account=max_per_account, max_per_address=max_per_address,
                     window_minutes=window_minutes):
        raise AccountError("login_rate_limited", minutes=window_minutes)
    attempt = LoginAttempt(email=email, address=address, succeeded=False)
    db.session.add(attempt)
    db.session.flush()
    return attempt


def finish_login(attempt_id: int, password: str) -> User:
    """Check the password of a counted attempt. AccountError login_failed (the attempt stays a failure),
    or email_unconfirmed for a right password whose account's address is not confirmed yet (also a
    failure, which bounds how often the confirmation mail can be sent again)."""
    attempt = db.session.get(LoginAttempt, attempt_id)
    user = find_user_by_email(attempt.email)
    ok = False
    if user is not None and user.active:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        # Spend the same time as a real check so response times do not reveal which emails exist.
        _hasher.hash(password)
    if not ok:
        raise AccountError("login_failed")
    if user.email_confirmed_at is None:
        raise AccountError("email_unconfirmed", email=user.email)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    attempt.succeeded = True
    return user


# --- passwords and sessions -------------------------------------------------------------------

def change_password(user: User, current: str, new: str, address: str | None) -> None:
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise AccountError("current_password_wrong") from None
    _set_password(user, new, address, "user.password_change")


def _set_password(user: User, new: str, address: str | None, action: str) -> None:
    """A new password: checked, hashed, a new password time (old reset links stop working), and every
    session of the account ends."""
    check_password_rules(new, user.email)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    end_sessions(user)
    record(Actor(user, address), action, "user", user.id)


def end_sessions(user: User) -> None:
    """End every session of the account, on every device: each session cookie and remember-me cookie
    carries the account's session version in its login id (User.get_id), and the user loader refuses
    any other. One UPDATE, so two requests ending sessions at once both count."""
    user.session_version = User.session_version + 1
    db.session.flush()


# --- forgotten passwords ---------------------------------------------------------------------
#
# A reset link carries a signed, timed token: the user's id and a fingerprint of their current
# password hash and password time. Setting a new password changes both, so a link works once, and
# a link sent before any later password change stops working. Nothing is stored for a token.

_RESET_SALT = "kindcity.password-reset"
RESET_WINDOW_MINUTES = 60  # the limits on reset links count this far back


def _reset_fingerprint(user: User) -> str:
    stamp = int(user.password_changed_at.timestamp() * 1_000_000)
    return hashlib.sha256(f"{user.password_hash}|{stamp}".encode()).hexdigest()[:24]


def _count_reset_request(email: str, address: str, *, max_per_email: int, max_per_address: int,
                         window_minutes: int) -> bool:
    """Record a request that mails an account a reset link, if the limits allow it (False if not)."""
    limits.hold(f"reset-email:{email}", f"reset-address:{address}")
    since = utcnow() - timedelta(minutes=window_minutes)
    recent = select(func.count()).select_from(PasswordResetRequest).where(PasswordResetRequest.at >= since)
    if (db.session.scalar(recent.where(PasswordResetRequest.email == email)) >= max_per_email
            or db.session.scalar(recent.where(PasswordResetRequest.address == address)) >= max_per_address):
        return False
    db.session.add(PasswordResetRequest(email=email, address=address))
    db.session.flush()
    return True


def request_password_reset(email: str, address: str, *, max_per_email: int = 3, max_per_address: int = 10,
                           window_minutes: int = RESET_WINDOW_MINUTES) -> User | None:
    """Count a request for a reset link; return the account to mail it to, or None when the address has
    no active account. The caller answers both cases in the same words, so nobody learns which e-mail
    addresses have accounts. Too many requests for one e-mail or from one address are refused."""
    try:
        email = normalise_email(email)
    except AccountError:
        email = email.strip().lower()[:254]
    if not _count_reset_request(email, address, max_per_email=max_per_email, max_per_address=max_per_address,
                                window_minutes=window_minutes):
        raise AccountError("reset_rate_limited", minutes=window_minutes)
    user = find_user_by_email(email)
    return user if user is not None and user.active else None


def password_reset_token(user: User, secret: str) -> str:
    return URLSafeTimedSerializer(secret, salt=_RESET_SALT).dumps([user.id, _reset_fingerprint(user)])


def user_for_reset_token(token: str, secret: str, max_age_minutes: int) -> User:
    """The account a reset link is for, or AccountError: reset_link_expired (too old) or
    reset_link_invalid (altered, already used, or the password changed since it was sent)."""
    try:
        user_id, fingerprint = URLSafeTimedSerializer(secret, salt=_RESET_SALT).loads(
            token, max_age=max_age_minutes * 60)
    except SignatureExpired:
        raise AccountError("reset_link_expired") from None
    except (BadSignature, ValueError, TypeError):
        raise AccountError("reset_link_invalid") from None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or fingerprint != _reset_fingerprint(user):
        raise AccountError("reset_link_invalid")
    return user


def reset_password(token: str, new: str, secret: str, max_age_minutes: int, address: str | None) -> User:
    """Set a new password from a reset link. Every session of the account (other devices) ends. The link
    reached the account's mailbox, so an address not yet confirmed is confirmed now."""
    user = user_for_reset_token(token, secret, max_age_minutes)
    _set_password(user, new, address, "user.password_reset")
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    return user


# --- retention --------------------------------------------------------------------------------

def purge_security_logs(login_window_minutes: int, reset_window_minutes: int = RESET_WINDOW_MINUTES,
                        now: datetime | None = None) -> tuple[int, int]:
    """Delete the login attempts and reset-link requests (e-mails and network addresses) older than the
    windows their limits count; they serve nothing else. Returns how many of each went. Idempotent."""
    now = now or utcnow()
    logins = db.session.execute(delete(LoginAttempt).where(
        LoginAttempt.at < now - timedelta(minutes=login_window_minutes))
        .execution_options(synchronize_session=False)).rowcount
    resets = db.session.execute(delete(PasswordResetRequest).where(
        PasswordResetRequest.at < now - timedelta(minutes=reset_window_minutes))
        .execution_options(synchronize_session=False)).rowcount
    return logins, resets


def create_user(actor: Actor, *, email: str, password: str, display_name: str, role: str,
                centre_code: str | None = None) -> User:
    """Staff and admins are made here, by an admin or the CLI, never by self-registration."""
    if role not in (Role.DONOR, Role.STAFF, Role.ADMIN):
        raise AccountError("role_invalid")
    email = normalise_email(email)
    check_password_rules(password, email)
    if find_user_by_email(email) is not None:
        raise AccountError("email_taken")
    centre = None
    if centre_code:
        centre = db.session.scalar(select(Centre).where(Centre.code == centre_code))
        if centre is None:
            raise AccountError("centre_unknown")
    if role == Role.STAFF and centre is None:
        raise AccountError("centre_required")
    if role == Role.ADMIN and centre is None:
        centre = db.session.scalar(select(Centre).where(Centre.is_district_office.is_(True)))
    user = User(email=email, password_hash=hash_password(password), display_name=display_name,
                role=role, centre=centre, email_confirmed_at=utcnow())
    db.session.add(user)
    db.session.flush()
    record(actor, "user.create", "user", user.id, after={"role": role, "centre": centre_code})
    return user


def set_role(actor: Actor, user: User, role: str, centre: Centre | None, active: bool) -> None:
    if role not in (Role.DONOR, Role.STAFF, Role.ADMIN):
        raise AccountError("role_invalid")
    if role == Role.STAFF and centre is None:
        raise AccountError("centre_required")
    if actor.user_id == user.id and (role != Role.ADMIN or not active):
        raise AccountError("cannot_demote_self")
    before = {"role": user.role, "centre_id": user.centre_id, "active": user.active}
    user.role, user.centre, user.active = role, centre, active
    record(actor, "user.role", "user", user.id, before=before,
           after={"role": role, "centre_id": centre.id if centre else None, "active": active})
    if role == Role.DONOR and user.money_staff:
        set_money_staff(actor, user, False)  # a donor handles no bank account


def set_money_staff(actor: Actor, user: User, granted: bool) -> None:
    """Give or take the money permission (the district's bank account: statements, unassigned deposits).
    Administrators only; staff and administrators only may hold it. Every change is in the audit log."""
    if actor.user is None or not actor.user.is_admin:
        raise Forbidden()
    if granted and user.role not in (Role.STAFF, Role.ADMIN):
        raise AccountError("money_staff_needs_staff")
    if user.money_staff == granted:
        return
    record(actor, "user.money_staff", "user", user.id, before={"money_staff": user.money_staff},
           after={"money_staff": granted})
    user.money_staff = granted


def verify_organisation(actor: Actor, organisation: Organisation, verified: bool) -> None:
    before = {"verified": organisation.is_verified}
    if verified and organisation.verified_at is None:
        organisation.verified_at = utcnow()
        organisation.verified_by_id = actor.user_id
    elif not verified:
        organisation.verified_at = None
        organisation.verified_by_id = None
    record(actor, "organisation.verify", "organisation", organisation.id, before=before,
           after={"verified": verified})
