"""Recurring pooled pledges (정기 나눔 기금): which instalment is due, and when.

A series starts on a Korea-time day and recurs every month or every quarter, optionally until a last
day. Each period the site makes one instalment: a pooled pledge of its own, numbered 1, 2, 3, ...

Instalment ``n`` is due ``n - 1`` steps after the start. Every due date is counted **from the start
date**, never from the previous due date, and a day that does not exist in a shorter month becomes
that month's last day. So a monthly series that starts on 31 January is due on 31 January, 28 (or 29)
February, 31 March, 30 April, ...: February's shorter month does not pull every later date to the 28th.

The upkeep command makes the instalment of the **current** period: the latest one whose due date has
come, if it was not made yet. A period that passed entirely while the command did not run is not made
afterwards, so a donor is never asked for two periods at once. No instalment is due after the last day.

Pure: no framework, no I/O; every function takes the day it reasons about.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .pledges import PledgeRuleError


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


MONTHS_PER_STEP = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3}


class RecurrenceError(PledgeRuleError):
    """A series that cannot be (codes: repeat_invalid, series_ends_before_second)."""

    code = "recurrence"


def frequency_of(value: str | Frequency) -> Frequency:
    try:
        return Frequency(value)
    except ValueError:
        raise RecurrenceError("repeat_invalid") from None


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clamped to the end of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_date(starts_on: date, frequency: Frequency | str, period: int) -> date:
    """The day instalment ``period`` (1 for the first) is due."""
    if period < 1:
        raise ValueError("periods are numbered from 1")
    return add_months(starts_on, (period - 1) * MONTHS_PER_STEP[Frequency(frequency)])


def current_period(starts_on: date, frequency: Frequency | str, today: date, ends_on: date | None = None) -> int | None:
    """The latest period due on or before ``today`` (and not after the last day), or None if none is."""
    limit = today if ends_on is None else min(today, ends_on)
    if limit < starts_on:
        return None
    step = MONTHS_PER_STEP[Frequency(frequency)]
    months = (limit.year - starts_on.year) * 12 + (limit.month - starts_on.month)
    steps = months // step
    # Due dates of later steps fall in later months than ``limit``; only this step can still be after it
    # (the start's day of the month has not come yet in limit's month).
    if add_months(starts_on, steps * step) > limit:
        steps -= 1
    return steps + 1


def next_due(starts_on: date, frequency: Frequency | str, after_period: int, ends_on: date | None = None) -> date | None:
    """When the instalment after ``after_period`` is due; None if the series ends before it."""
    day = due_date(starts_on, frequency, after_period + 1)
    return None if ends_on is not None and day > ends_on else day


def check_series(frequency: Frequency | str, starts_on: date, ends_on: date | None) -> Frequency:
    """A series must recur at least once: its last day may not come before the second instalment."""
    chosen = frequency_of(frequency)
    if ends_on is not None and next_due(starts_on, chosen, 1, ends_on) is None:
        raise RecurrenceError("series_ends_before_second", second=due_date(starts_on, chosen, 2))
    return chosen


class SeriesState(StrEnum):
    ACTIVE = "active"        # more instalments will be made
    STOPPED = "stopped"      # the donor stopped it: no more instalments
    FINISHED = "finished"    # its last day has come: no more instalments


@dataclass(frozen=True)
class SeriesView:
    state: SeriesState
    next_due: date | None    # the next instalment's day, while active


def series_view(starts_on: date, frequency: Frequency | str, ends_on: date | None, *, stopped: bool,
                last_period: int, today: date) -> SeriesView:
    """Where a series stands, for the donor's page: ``last_period`` is the latest instalment made."""
    if stopped:
        return SeriesView(SeriesState.STOPPED, None)
    # A period that has come but is not made yet is the next one (the upkeep makes it); else the one after the last.
    period = max(last_period + 1, current_period(starts_on, frequency, today, ends_on) or 0)
    upcoming = due_date(starts_on, frequency, period)
    if ends_on is not None and upcoming > ends_on:
        return SeriesView(SeriesState.FINISHED, None)
    return SeriesView(SeriesState.ACTIVE, upcoming)
