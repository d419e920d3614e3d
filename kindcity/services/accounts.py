"""Accounts: registration, login with limits that hold across workers, passwords, roles."""
from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from ..domain.organisations import ORGANISATION_KINDS, normalise_business_number
from ..domain.time import utcnow
from ..extensions import db
from ..models import Centre, LoginAttempt, Organisation, Role, User
from . import Actor, ServiceError
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
    check_password_rules(new, user.email)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    record(Actor(user, address), "user.password_change", "user", user.id)


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
