"""Receiving organisations (기부금 단체): the legal issuers of donation receipts, kept as records."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..domain.time import utcnow
from ..extensions import db
from .types import UTCDateTime


class ReceivingOrganisation(db.Model):
    """The body that legally receives a need's money and issues its receipts. ``gift_type`` is a key
    of ``kindcity/data/receipt_form.json`` (특례/일반 and the NTS code live there, not here)."""

    __tablename__ = "receiving_organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_ko: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    registration_number: Mapped[str] = mapped_column(String(12), default="")  # 고유번호 or 사업자등록번호
    address: Mapped[str] = mapped_column(String(300), default="")
    representative: Mapped[str] = mapped_column(String(100), default="")
    gift_type: Mapped[str] = mapped_column(String(32), default="general")
    contact: Mapped[str] = mapped_column(String(100), default="")
    seal_png: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # only receipts draw it
    is_default: Mapped[bool] = mapped_column(default=False)   # issues receipts for pooled money
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_ko


class DonorTaxDetails(db.Model):
    """What a donor gave for their receipts, private to them: a postal address (optional), and, only
    if they asked for year-end reporting with its own consent, their resident registration number,
    encrypted (kindcity/rrn_keys.py) with the id of its key. ``rrn_masked`` is what pages show."""

    __tablename__ = "donor_tax_details"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    postal_address: Mapped[str | None] = mapped_column(String(300))
    reporting_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reporting_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rrn_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    rrn_key_id: Mapped[str | None] = mapped_column(String(32))
    rrn_masked: Mapped[str | None] = mapped_column(String(14))
    rrn_erase_after: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def reports(self) -> bool:
        return self.reporting_consent_at is not None and self.rrn_ciphertext is not None
