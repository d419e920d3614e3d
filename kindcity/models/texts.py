"""Text messages (문자): a case per resident's number in the district office's text inbox, its texts both
ways, and what the text line needs to send once and to refuse replays."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.time import utcnow
from ..extensions import db
from .accounts import User
from .places import Centre
from .referrals import Referral
from .types import UTCDateTime


class TextCase(db.Model):
    """One conversation with one number, until it is closed; a text after that opens a new case."""

    __tablename__ = "text_cases"
    __table_args__ = (
        CheckConstraint("status IN ('new','open','closed')", name="status"),
        CheckConstraint("(status = 'closed') = (outcome IS NOT NULL AND closed_at IS NOT NULL)",
                        name="closed_has_outcome"),
        Index("ix_text_cases_phone_status", "phone", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Personal data: the sender's number, erased ('') with the case's words after the retention period.
    phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="new")
    outcome: Mapped[str | None] = mapped_column(String(20))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"))   # the dong centre it was passed to
    centre: Mapped[Centre | None] = relationship()
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    referral: Mapped[Referral | None] = relationship()
    where_to_go: Mapped[str | None] = mapped_column(Text)          # 'not for this site': where it was sent
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assignee: Mapped[User | None] = relationship()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_in_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_answer_at: Mapped[datetime | None] = mapped_column(UTCDateTime())   # the first reply by a person
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    counted_only: Mapped[int] = mapped_column(Integer, default=0)  # texts over the hourly limit: counted, not kept
    messages: Mapped[list["TextMessage"]] = relationship(order_by="TextMessage.id", back_populates="case")


class TextMessage(db.Model):
    __tablename__ = "text_messages"
    __table_args__ = (
        CheckConstraint("direction IN ('in','out')", name="direction"),
        Index("ix_text_messages_case", "case_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("text_cases.id"))
    case: Mapped[TextCase] = relationship(back_populates="messages")
    direction: Mapped[str] = mapped_column(String(3))
    body: Mapped[str | None] = mapped_column(Text)                    # erased (None) when purged
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # an incoming text's id at the provider
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author: Mapped[User | None] = relationship()
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TextSender(db.Model):
    """Per number: the day of its last automatic answer (one a day). Erased with the number's cases."""

    __tablename__ = "text_senders"
    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_auto_answer_on: Mapped[date | None] = mapped_column(Date)


class SentText(db.Model):
    """The dedupe key of each text handed to the provider, written in the transaction that finishes the
    SMS job, so a job run again sends nothing (like ``sent_mail``)."""

    __tablename__ = "sent_texts"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookNonce(db.Model):
    """Salts of verified SMS webhooks, kept for twice the signature's tolerance: a replayed request
    (same salt) is refused."""

    __tablename__ = "sms_webhook_nonces"
    salt: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DonorContact(db.Model):
    """How a donor hears from the site (mail, text or both) and the number a text goes to, once the donor
    proved it is theirs with a code sent by text. The code itself is never stored, only its keyed hash."""

    __tablename__ = "donor_contacts"
    __table_args__ = (CheckConstraint("channel IN ('email','text','both')", name="channel"),)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), default="email")
    phone: Mapped[str | None] = mapped_column(String(20))              # verified number
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pending_phone: Mapped[str | None] = mapped_column(String(20))      # waiting for its code
    code_request: Mapped[str | None] = mapped_column(String(32))       # which request the code job answers
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    codes_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the hourly limit on codes
    codes_in_window: Mapped[int] = mapped_column(Integer, default=0)
