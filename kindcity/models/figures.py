"""District figures counted ahead of time: the numbers behind /impact (every period), the donor wall
and the home page's totals, one row each, refreshed by a job whenever money moves
(kindcity/services/figures.py). A page reads its row by primary key: one indexed query."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class DistrictFigures(db.Model):
    __tablename__ = "district_figures"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)  # impact:<period>, wall, totals
    day: Mapped[date] = mapped_column(Date)                          # the Korea day they were counted for
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[Any] = mapped_column(JSON)
