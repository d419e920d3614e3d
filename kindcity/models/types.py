"""Column types shared by the models."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timestamps are stored in UTC and always come back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class seoul_month(FunctionElement):
    """SQL for the Korea-time calendar month ('2026-11') of a UTC timestamp column, so sums per month
    are grouped by the database instead of shipping every row to Python. Korea keeps UTC+9 all year
    (no daylight saving since 1988): SQLite, which has no time-zone data, adds nine hours."""

    type = String()
    name = "seoul_month"
    inherit_cache = True


@compiles(seoul_month)
def _seoul_month_sqlite(element, compiler, **kw):
    return "strftime('%%Y-%%m', %s, '+9 hours')" % compiler.process(element.clauses, **kw)


@compiles(seoul_month, "postgresql")
def _seoul_month_postgresql(element, compiler, **kw):
    return "to_char(timezone('Asia/Seoul', %s), 'YYYY-MM')" % compiler.process(element.clauses, **kw)
