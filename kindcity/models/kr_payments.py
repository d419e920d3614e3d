"""Payments on the Korean rails (PortOne): one row per payment window a pledge opened.

The row remembers what kindcity asked for (method, amount) and the last state it read back from
PortOne; the money itself is recorded as a Payment and in the journal, like every other payment.
A virtual account's number and due time are shown to the donor from here.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..domain.time import utcnow
from ..extensions import db
from .types import UTCDateTime


class KrPayment(db.Model):
    __tablename__ = "kr_payments"
    __table_args__ = (
        CheckConstraint("pay_method IN ('card','easy_pay','virtual_account')", name="pay_method"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), index=True)
    payment_id: Mapped[str] = mapped_column(String(64), unique=True)     # ours, derived from the pledge reference
    provider: Mapped[str] = mapped_column(String(20))                      # portone | demo_kr
    pay_method: Mapped[str] = mapped_column(String(20))
    easy_pay_provider: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(30), default="READY")      # PortOne's status, as last read back
    va_bank: Mapped[str | None] = mapped_column(String(30))
    va_number: Mapped[str | None] = mapped_column(String(40))
    va_holder: Mapped[str | None] = mapped_column(String(100))
    va_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RefundBankAccount(db.Model):
    """The bank account a 가상계좌 refund goes to, given by the donor; deleted once the refund is done."""

    __tablename__ = "refund_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"), unique=True)
    bank: Mapped[str] = mapped_column(String(30))
    number: Mapped[str] = mapped_column(String(40))
    holder: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
