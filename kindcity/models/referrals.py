"""Referrals (사각지대 제보): private, staff only, their words erased after the retention period."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.time import utcnow
from ..extensions import db
from .accounts import User
from .places import Centre, Dong
from .types import UTCDateTime


class Referral(db.Model):
    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint("status IN ('new','in_review','closed')", name="status"),
        CheckConstraint("urgency IN ('urgent','normal')", name="urgency"),
        CheckConstraint("(status = 'closed') = (outcome IS NOT NULL AND closed_at IS NOT NULL)",
                        name="closed_has_outcome"),
        Index("ix_referrals_centre_status", "centre_id", "status"),
        Index("ix_referrals_address_created", "address", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    dong_id: Mapped[int] = mapped_column(ForeignKey("dongs.id"))
    dong: Mapped[Dong] = relationship()
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    centre: Mapped[Centre] = relationship()
    urgency: Mapped[str] = mapped_column(String(10))
    # Personal data: erased (None) when purged.
    situation: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="new")
    outcome: Mapped[str | None] = mapped_column(String(30))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assignee: Mapped[User | None] = relationship()
    address: Mapped[str] = mapped_column(String(64))  # the sender's network address, for the rate limit
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes: Mapped[list["ReferralNote"]] = relationship(order_by="ReferralNote.id", back_populates="referral")


class ReferralNote(db.Model):
    """What staff did and found, in order: a note, or a status change with its note."""

    __tablename__ = "referral_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    referral: Mapped[Referral] = relationship(back_populates="notes")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author: Mapped[User | None] = relationship()
    action: Mapped[str | None] = mapped_column(String(20))  # the transition it came with, if any
    text: Mapped[str | None] = mapped_column(Text)           # erased (None) when purged
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
