"""Reference data of a district: its dongs, need categories, beneficiary groups and welfare centres.

All of it is data loaded from ``kindcity/data/districts/<district>.json``, never code, so another
district is a setting away.
"""
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class _Named:
    """Korean first, English second, for reference data that staff and admins maintain."""

    name_ko: Mapped[str]
    name_en: Mapped[str]

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_ko


class District(_Named, db.Model):
    __tablename__ = "districts"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_ko: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    brand_ko: Mapped[str] = mapped_column(String(100), default="")
    brand_en: Mapped[str] = mapped_column(String(100), default="")
    receiving_org_ko: Mapped[str] = mapped_column(String(200))
    receiving_org_en: Mapped[str] = mapped_column(String(200))
    bank_name: Mapped[str] = mapped_column(String(100), default="")
    bank_account: Mapped[str] = mapped_column(String(100), default="")
    bank_holder: Mapped[str] = mapped_column(String(200), default="")


class Dong(_Named, db.Model):
    __tablename__ = "dongs"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_ko: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(80))
    sort: Mapped[int] = mapped_column(default=0)


class Category(_Named, db.Model):
    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_ko: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120))
    sort: Mapped[int] = mapped_column(default=0)


class BeneficiaryGroup(_Named, db.Model):
    __tablename__ = "beneficiary_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_ko: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120))
    sort: Mapped[int] = mapped_column(default=0)


class Centre(_Named, db.Model):
    """A dong welfare centre (행정복지센터) or the district welfare office (구청 복지과)."""

    __tablename__ = "centres"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_ko: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(150))
    is_district_office: Mapped[bool] = mapped_column(default=False)
    dong_id: Mapped[int | None] = mapped_column(ForeignKey("dongs.id"))
    dong: Mapped[Dong | None] = relationship()
