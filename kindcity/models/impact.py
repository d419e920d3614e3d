"""Delivery and impact: the report of a need, its photos, spending, and leftovers returned.

Money is never stored here as the only truth: each disbursement and each returned leftover points
at the journal transaction that moved the money.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.impact import LEFTOVER_DESTINATIONS, ReportStatus
from ..domain.time import utcnow
from ..extensions import db
from .accounts import User
from .money import LedgerTransaction, Pledge
from .needs import Need
from .types import UTCDateTime

_REPORT_STATUSES = ",".join(f"'{s.value}'" for s in ReportStatus)
_DESTINATIONS = ",".join(f"'{d}'" for d in LEFTOVER_DESTINATIONS)


class ImpactReport(db.Model):
    """One per need, opened when delivery starts: planned vs delivered units, dates, the story."""

    __tablename__ = "impact_reports"
    __table_args__ = (
        CheckConstraint(f"status IN ({_REPORT_STATUSES})", name="status"),
        CheckConstraint("units_planned > 0", name="units_planned_positive"),
        CheckConstraint("units_delivered IS NULL OR units_delivered >= 0", name="units_delivered_not_negative"),
        CheckConstraint("beneficiaries_reached IS NULL OR beneficiaries_reached >= 0",
                        name="beneficiaries_not_negative"),
        CheckConstraint("delivered_from IS NULL OR delivered_to IS NULL OR delivered_from <= delivered_to",
                        name="delivery_dates_in_order"),
        CheckConstraint("status != 'published' OR (published_at IS NOT NULL AND approved_by_id IS NOT NULL)",
                        name="published_is_approved"),
        Index("ix_impact_reports_status_due", "status", "report_due"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"), unique=True)
    need: Mapped[Need] = relationship()
    status: Mapped[str] = mapped_column(String(20), default=ReportStatus.DRAFT)
    report_due: Mapped[date] = mapped_column(Date)
    unit_name: Mapped[str | None] = mapped_column(String(40))
    units_planned: Mapped[int] = mapped_column()
    units_delivered: Mapped[int | None] = mapped_column()
    beneficiaries_reached: Mapped[int | None] = mapped_column()
    delivered_from: Mapped[date | None] = mapped_column(Date)
    delivered_to: Mapped[date | None] = mapped_column(Date)
    story: Mapped[str] = mapped_column(Text, default="")
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_by: Mapped[User] = relationship(foreign_keys=[started_by_id])
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    photos: Mapped[list["ReportPhoto"]] = relationship(back_populates="report", order_by="ReportPhoto.id")

    @property
    def is_published(self) -> bool:
        return self.status == ReportStatus.PUBLISHED


class ReportPhoto(db.Model):
    """A re-encoded photo (no metadata) stored outside static/ under a random name, with consent."""

    __tablename__ = "report_photos"
    __table_args__ = (
        CheckConstraint("consent = true", name="consent_confirmed"),
        CheckConstraint("content_type IN ('image/jpeg','image/png','image/webp')", name="content_type"),
        CheckConstraint("width > 0 AND height > 0 AND size_bytes > 0", name="dimensions_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("impact_reports.id"), index=True)
    report: Mapped[ImpactReport] = relationship(back_populates="photos")
    filename: Mapped[str] = mapped_column(String(40), unique=True)
    content_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    size_bytes: Mapped[int] = mapped_column()
    caption: Mapped[str] = mapped_column(String(200))
    consent: Mapped[bool] = mapped_column()
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Disbursement(db.Model):
    """Money spent for a need: what it paid for and when, with its journal transaction."""

    __tablename__ = "disbursements"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    spent_on: Mapped[date] = mapped_column(Date, index=True)
    description: Mapped[str] = mapped_column(String(200))
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), unique=True)
    transaction: Mapped[LedgerTransaction] = relationship()
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_by: Mapped[User] = relationship()
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LeftoverReturn(db.Model):
    """A pledge's share of what a need did not spend, and where it went (the donor's choice)."""

    __tablename__ = "leftover_returns"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(f"destination IN ({_DESTINATIONS})", name="destination"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"), index=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), index=True)
    pledge: Mapped[Pledge] = relationship()
    amount: Mapped[int] = mapped_column(BigInteger)
    destination: Mapped[str] = mapped_column(String(10))
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), unique=True)
    transaction: Mapped[LedgerTransaction] = relationship()
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
