"""Korea time. Deadlines, days and months are Asia/Seoul; timestamps are stored in UTC."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def seoul_today(now: datetime | None = None) -> date:
    """The calendar date in Seoul at ``now`` (UTC-aware; default: the current time)."""
    return (now or utcnow()).astimezone(SEOUL).date()


def days_left(deadline: date, today: date) -> int:
    """Days until the deadline, counting the deadline day itself as open (0 = closes today)."""
    return (deadline - today).days
