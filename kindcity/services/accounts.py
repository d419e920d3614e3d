"""Accounts: registration, login with limits that hold across workers, passwords, roles."""
from __future__ import annotations

import hashlib
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from ..domain.organisations import ORGANISATION_KINDS, normalise_business_number
from ..domain.time import utcnow
from ..extensions import db
from ..models import Centre, LoginAttempt, Organisation, PasswordResetRequest, Role, User
from . import Actor, Forbidden, ServiceError
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


def register_donor(*, email: str, password: str, display_name: str, address: str | None,
                   organisation_name: str | None = None, organisation_kind: str | None = None,
                   business_number: str | None = None) -> User:
    email = normalise_email(email)
    check_password_rules(password, email)
    if find_user_by_email(email) is not None:
        raise AccountError("email_taken")
    organisation = None
    if organisation_name:
        organisation = create_organisation(organisation_name, organisation_kind or "", business_number)
    user = User(email=email, password_hash=hash_password(password), display_name=display_name.strip(),
                role=Role.DONOR, organisation=organisation)
    db.session.add(user)
    db.session.flush()
    record(Actor(user, address), "user.register", "user", user.id, after={"role": user.role})
    return user


def create_organisation(name: str, kind: str, business_number: str | None) -> Organisation:
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
    organisation = Organisation(name=name.strip(), kind=kind, business_number=number)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def login_blocked(email: str, address: str, *, max_per_account: int, max_per_address: int,
                  window_minutes: int) -> bool:
    """Too many recent failures for this account or from this address.

    Counted from the login_attempts table, so every gunicorn worker sees the same numbers.
    """
    since = utcnow() - timedelta(minutes=window_minutes)
    failures = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since)
    per_account = db.session.scalar(failures.where(LoginAttempt.email == email))
    per_address = db.session.scalar(failures.where(LoginAttempt.address == address))
    return per_account >= max_per_account or per_address >= max_per_address


def authenticate(email: str, password: str, address: str, *, max_per_account: int = 5,
                 max_per_address: int = 20, window_minutes: int = 15) -> User:
    email = email.strip().lower()
    if login_blocked(email, address, max_per_account=max_per_account, max_per_address=max_per_address,
                     window_minutes=window_minutes):
        raise AccountError("login_rate_limited", minutes=window_minutes)
    user = find_user_by_email(email)
    ok = False
    if user is not None and user.active:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
        if ok and _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
    else:
        # Spend the same time as a real check so response times do not reveal which emails exist.
        _hasher.hash(password)
    db.session.add(LoginAttempt(email=email, address=address, succeeded=ok))
    if not ok:
        raise AccountError("login_failed")
    return user


def change_password(user: User, current: str, new: str, address: str | None) -> None:
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise AccountError("current_password_wrong") from None
    _set_password(user, new, address, "user.password_change")


def _set_password(user: User, new: str, address: str | None, action: str) -> None:
    """A new password: checked, hashed, and a new password time, which ends every other session."""
    check_password_rules(new, user.email)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    record(Actor(user, address), action, "user", user.id)


# --- forgotten passwords ---------------------------------------------------------------------
#
# A reset link carries a signed, timed token: the user's id and a fingerprint of their current
# password hash and password time. Setting a new password changes both, so a link works once, and
# a link sent before any later password change stops working. Nothing is stored for a token.

_RESET_SALT = "kindcity.password-reset"


def _reset_fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.password_hash}|{user.session_stamp}".encode()).hexdigest()[:24]


def request_password_reset(email: str, address: str, *, max_per_email: int = 3, max_per_address: int = 10,
                           window_minutes: int = 60) -> User | None:
    """Count a request for a reset link; return the account to mail it to, or None when the address has
    no active account. The caller answers both cases in the same words, so nobody learns which e-mail
    addresses have accounts. Too many requests for one e-mail or from one address are refused."""
    try:
        email = normalise_email(email)
    except AccountError:
        email = email.strip().lower()[:254]
    since = utcnow() - timedelta(minutes=window_minutes)
    recent = select(func.count()).select_from(PasswordResetRequest).where(PasswordResetRequest.at >= since)
    if (db.session.scalar(recent.where(PasswordResetRequest.email == email)) >= max_per_email
            or db.session.scalar(recent.where(PasswordResetRequest.address == address)) >= max_per_address):
        raise AccountError("reset_rate_limited", minutes=window_minutes)
    db.session.add(PasswordResetRequest(email=email, address=address))
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
    """Set a new password from a reset link. Every session of the account (other devices) ends."""
    user = user_for_reset_token(token, secret, max_age_minutes)
    _set_password(user, new, address, "user.password_reset")
    return user


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
                role=role, centre=centre)
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
