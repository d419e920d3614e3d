"""The days the site accepts: one rule for every date a person types or a file brings.

A date in year 1 or 9999 is a valid ``date`` but not a day of this site: converting it to a
timestamp, adding a day to it or storing it overflowed, and the page answered 500 (a payment
"received" in year 1, a statement line dated 0001-01-01 that then blocked its whole import).
Every date that says when something happened (money received, refunded or spent, a bank
statement line) lies between the start of the thing it belongs to (the pledge, the need; never
before :data:`EARLIEST_DAY`) and today, Korea time. A range asked for in an address is brought
within the days there can be anything to show.
"""
from __future__ import annotations

from datetime import date, timedelta

from .errors import DomainError

EARLIEST_DAY = date(2000, 1, 1)  # nothing this site records happened earlier


class DateRefused(DomainError, ValueError):
    """A day outside what the site accepts. ``code`` is ``date_in_future`` or ``date_too_early``;
    ``earliest`` and ``latest`` are the bounds (as days; ``details`` has them as ISO text, for the
    message)."""

    def __init__(self, code: str, day: date, *, earliest: date, latest: date):
        super().__init__(code, earliest=earliest.isoformat(), latest=latest.isoformat())
        self.day, self.earliest, self.latest = day, earliest, latest

    def __str__(self) -> str:
        return (f"{self.code}: {self.day.isoformat()} (accepted {self.earliest.isoformat()} to "
                f"{self.latest.isoformat()})")


def earliest_for(since: date | None) -> date:
    """The first day that may be given for something that began on ``since`` (None: no known start)."""
    return max(EARLIEST_DAY, since) if since is not None else EARLIEST_DAY


def check_day_happened(day: date, today: date, *, since: date | None = None) -> date:
    """A day on which something happened: not after ``today`` and not before ``since`` (the day the
    pledge or need it belongs to was made) or :data:`EARLIEST_DAY`. Returns ``day``."""
    earliest = earliest_for(since)
    if day > today:
        raise DateRefused("date_in_future", day, earliest=earliest, latest=today)
    if day < earliest:
        raise DateRefused("date_too_early", day, earliest=earliest, latest=today)
    return day


def clamp_range(start: date | None, end: date | None, today: date) -> tuple[date | None, date | None]:
    """A range of days asked for in an address, each end brought within a day of the days there can
    be anything to show (:data:`EARLIEST_DAY` to ``today``): the answer is the same (a range from
    9999 still finds nothing), and no arithmetic on it overflows."""
    low, high = EARLIEST_DAY - timedelta(days=1), today + timedelta(days=1)

    def clamp(day: date | None) -> date | None:
        return None if day is None else min(max(day, low), high)

    return clamp(start), clamp(end)
