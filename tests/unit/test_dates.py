"""The one rule for the days the site accepts (kindcity/domain/dates.py)."""
from datetime import date, timedelta

import pytest

from kindcity.domain.dates import EARLIEST_DAY, DateRefused, check_day_happened, clamp_range

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize("day, since, code", [
    (date(2030, 1, 1), None, "date_in_future"), (date(2026, 12, 7), None, "date_in_future"),
    (date(1, 1, 1), None, "date_too_early"), (date(9999, 12, 31), None, "date_in_future"),
    (date(1999, 12, 31), None, "date_too_early"), (date(2026, 12, 1), date(2026, 12, 2), "date_too_early"),
])
def test_days_outside_are_refused_with_their_bounds(day, since, code):
    with pytest.raises(DateRefused) as refused:
        check_day_happened(day, TODAY, since=since)
    assert refused.value.code == code
    assert refused.value.latest == TODAY and refused.value.earliest == max(EARLIEST_DAY, since or EARLIEST_DAY)


@pytest.mark.parametrize("day, since", [(TODAY, None), (EARLIEST_DAY, None), (date(2026, 12, 2), date(2026, 12, 2)),
                                        (TODAY, TODAY), (date(2024, 5, 1), date(1990, 1, 1))])
def test_days_inside_are_accepted(day, since):
    assert check_day_happened(day, TODAY, since=since) == day


def test_a_range_is_brought_within_a_day_of_the_days_there_are():
    day = timedelta(days=1)
    assert clamp_range(date(1, 1, 1), date(9999, 12, 31), TODAY) == (EARLIEST_DAY - day, TODAY + day)
    assert clamp_range(None, date(2026, 1, 31), TODAY) == (None, date(2026, 1, 31))
    assert clamp_range(date(9999, 1, 1), date(1, 1, 1), TODAY) == (TODAY + day, EARLIEST_DAY - day)
