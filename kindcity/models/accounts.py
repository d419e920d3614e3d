"""People and organisations."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.time import utcnow
from ..extensions import db
from .places import Centre
from .types import UTCDateTime


class Role(StrEnum):
    DONOR = "donor"
    STAFF = "staff"
    ADMIN = "admin"


class Organisation(db.Model):
    """A church, business, good shop or civic group a donor acts for."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint("kind IN ('church','business','good_shop','civic')", name="kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    business_number: Mapped[str | None] = mapped_column(String(12), unique=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True, name="fk_organisations_verified_by_id_users"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('donor','staff','admin')", name="role"),
        CheckConstraint("role != 'staff' OR centre_id IS NOT NULL", name="staff_has_centre"),
        # The staff by name (the audit log's filter) without reading every donor's account.
        Index("ix_users_staff_names", "display_name", "id", postgresql_where=text("role IN ('staff', 'admin')"),
              sqlite_where=text("role IN ('staff', 'admin')")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(10), default=Role.DONOR)
    active: Mapped[bool] = mapped_column(default=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    organisation: Mapped[Organisation | None] = relationship(foreign_keys=[organisation_id])
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"))
    centre: Mapped[Centre | None] = relationship()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Handles the district's bank account: given and taken by an administrator (audited).
    money_staff: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Part of the login id that every session and remember-me cookie carries: raising it (logout, a new
    # password) ends them all, wherever they were copied to.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # When the owner proved the address is theirs (the link mailed at registration, or a reset link); an
    # account cannot log in before. Accounts an administrator makes (services.accounts.create_user) are
    # confirmed at once.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

    def get_id(self) -> str:
        """The login id in the session and the remember-me cookie (flask-login): the account and its
        session version, which the user loader (web/__init__.py) checks."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def handles_bank_account(self) -> bool:
        """May import bank statements and see and match deposits without a known reference code: these
        name donors of every centre. Staff with the money permission only; centre staff see their own
        centre's pledges on the pledge pages."""
        return self.is_staff and self.money_staff

    @property
    def sees_all_centres(self) -> bool:
        """Administrators and the district welfare office's staff work across every dong centre."""
        return self.is_admin or (self.is_staff and self.centre is not None and self.centre.is_district_office)


class LoginAttempt(db.Model):
    """Failed and successful logins, kept in the database so limits hold across every worker."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PasswordResetRequest(db.Model):
    """Each request for a password-reset link, for the limits per address and per e-mail (kept in the
    database so they hold across every worker). Recorded whether or not the e-mail has an account."""

    __tablename__ = "password_reset_requests"
    __table_args__ = (
        Index("ix_password_reset_requests_email_at", "email", "at"),
        Index("ix_password_reset_requests_address_at", "address", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
