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


class KrBillingKey(db.Model):
    """The card billing key (빌링키) a donor issued for a recurring pooled pledge (정기결제), through the browser
    SDK's requestIssueBillingKey; read back from PortOne before it is kept. One per series. Each instalment
    is charged with it by the scheduled job; when the donor stops the series the key is deleted at PortOne
    and here it keeps only its status (the key itself is blanked)."""

    __tablename__ = "kr_billing_keys"
    __table_args__ = (CheckConstraint("status IN ('active','deleting','deleted')", name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("pooled_series.id"), unique=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    billing_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    card_name: Mapped[str | None] = mapped_column(String(60))
    card_number: Mapped[str | None] = mapped_column(String(30))     # masked by PortOne
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
