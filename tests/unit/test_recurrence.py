"""Recurring pooled pledges: period arithmetic (pure, no app, no database)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kindcity.domain.recurrence import (
    Frequency,
    RecurrenceError,
    SeriesState,
    add_months,
    check_series,
    current_period,
    due_date,
    frequency_of,
    next_due,
    series_view,
)

M, Q = Frequency.MONTHLY, Frequency.QUARTERLY


@pytest.mark.parametrize(("start", "months", "expected"), [
    (date(2027, 1, 31), 1, date(2027, 2, 28)),     # clamped to February's last day
    (date(2028, 1, 31), 1, date(2028, 2, 29)),     # a leap year
    (date(2027, 1, 31), 2, date(2027, 3, 31)),     # counted from the start: back to the 31st
    (date(2027, 1, 31), 3, date(2027, 4, 30)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),    # across the year end
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
    (date(2027, 5, 1), 0, date(2027, 5, 1)),
    (date(2027, 3, 31), -1, date(2027, 2, 28)),
])
def test_add_months_clamps_to_the_end_of_a_shorter_month(start, months, expected):
    assert add_months(start, months) == expected


def test_due_dates_count_from_the_start_never_from_the_previous_due_date():
    start = date(2027, 1, 31)
    assert [due_date(start, M, n) for n in range(1, 6)] == [
        date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30), date(2027, 5, 31)]
    assert [due_date(start, Q, n) for n in range(1, 6)] == [
        date(2027, 1, 31), date(2027, 4, 30), date(2027, 7, 31), date(2027, 10, 31), date(2028, 1, 31)]
    assert [due_date(date(2027, 11, 30), Q, n) for n in (1, 2, 3)] == [
        date(2027, 11, 30), date(2028, 2, 29), date(2028, 5, 30)]
    with pytest.raises(ValueError):
        due_date(start, M, 0)


def test_the_current_period_is_the_latest_one_due():
    start = date(2027, 1, 31)
    assert current_period(start, M, date(2027, 1, 30)) is None          # before the start
    assert current_period(start, M, date(2027, 1, 31)) == 1
    assert current_period(start, M, date(2027, 2, 27)) == 1
    assert current_period(start, M, date(2027, 2, 28)) == 2             # the clamped day counts
    assert current_period(start, M, date(2027, 3, 30)) == 2
    assert current_period(start, M, date(2027, 3, 31)) == 3
    assert current_period(start, Q, date(2027, 4, 29)) == 1
    assert current_period(start, Q, date(2027, 4, 30)) == 2
    assert current_period(start, Q, date(2028, 1, 31)) == 5
    # nothing is due after the last day
    assert current_period(start, M, date(2027, 12, 31), ends_on=date(2027, 3, 30)) == 2
    assert current_period(start, M, date(2027, 1, 31), ends_on=date(2027, 1, 31)) == 1


def test_next_due_stops_at_the_last_day():
    start = date(2027, 1, 15)
    assert next_due(start, Q, 1) == date(2027, 4, 15)
    assert next_due(start, Q, 1, ends_on=date(2027, 4, 15)) == date(2027, 4, 15)
    assert next_due(start, Q, 1, ends_on=date(2027, 4, 14)) is None


def test_a_series_must_recur_at_least_once():
    assert check_series("quarterly", date(2027, 1, 15), None) == Q
    assert check_series("monthly", date(2027, 1, 31), date(2027, 2, 28)) == M
    with pytest.raises(RecurrenceError) as error:
        check_series("monthly", date(2027, 1, 31), date(2027, 2, 27))
    assert error.value.code == "series_ends_before_second" and error.value.details["second"] == date(2027, 2, 28)
    with pytest.raises(RecurrenceError) as error:
        frequency_of("weekly")
    assert error.value.code == "repeat_invalid"


def test_where_a_series_stands():
    start = date(2027, 1, 15)
    view = series_view(start, Q, None, stopped=False, last_period=1, today=date(2027, 2, 1))
    assert (view.state, view.next_due) == (SeriesState.ACTIVE, date(2027, 4, 15))
    # period 2 has come but the upkeep has not made it yet: it is the next one
    view = series_view(start, Q, None, stopped=False, last_period=1, today=date(2027, 4, 20))
    assert (view.state, view.next_due) == (SeriesState.ACTIVE, date(2027, 4, 15))
    view = series_view(start, Q, date(2027, 6, 30), stopped=False, last_period=2, today=date(2027, 5, 1))
    assert (view.state, view.next_due) == (SeriesState.FINISHED, None)
    view = series_view(start, Q, None, stopped=True, last_period=1, today=date(2027, 2, 1))
    assert (view.state, view.next_due) == (SeriesState.STOPPED, None)


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
frequencies = st.sampled_from([M, Q])


@given(start=days, frequency=frequencies, period=st.integers(min_value=1, max_value=200))
def test_due_dates_keep_the_start_day_where_the_month_has_it(start, frequency, period):
    due = due_date(start, frequency, period)
    step = {M: 1, Q: 3}[frequency]
    assert (due.year * 12 + due.month) - (start.year * 12 + start.month) == (period - 1) * step
    assert due.day == start.day or (due.day < start.day and (due + timedelta(days=1)).day == 1)
    assert due < due_date(start, frequency, period + 1)  # strictly increasing


@given(start=days, frequency=frequencies, offset=st.integers(min_value=-40, max_value=4000),
       last=st.one_of(st.none(), st.integers(min_value=0, max_value=4000)))
def test_the_current_period_agrees_with_the_due_dates(start, frequency, offset, last):
    today = start + timedelta(days=offset)
    ends_on = None if last is None else start + timedelta(days=last)
    period = current_period(start, frequency, today, ends_on)
    limit = today if ends_on is None else min(today, ends_on)
    if period is None:
        assert limit < start
        return
    assert due_date(start, frequency, period) <= limit < due_date(start, frequency, period + 1)
