from datetime import datetime, timedelta, timezone

from kindcity.domain.access_review import BULK_SUBJECTS, Access, unusual

NOON_SEOUL = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)   # 12:00 in Seoul


def access(n, at, *, actor=1, centre=1, sees_all=False, subject_centre=1, subject=None):
    return Access(id=n, at=at, actor_id=actor, actor_centre_id=centre, actor_sees_all=sees_all,
                  subject=("donor", subject if subject is not None else n), subject_centre_id=subject_centre)


def test_many_different_records_in_ten_minutes_is_one_finding():
    rows = [access(n, NOON_SEOUL + timedelta(seconds=20 * n)) for n in range(BULK_SUBJECTS + 5)]
    findings = unusual(rows)
    assert [f.reason for f in findings] == ["bulk"]
    assert len(findings[0].record_ids) == BULK_SUBJECTS


def test_the_same_record_again_and_again_or_slowly_is_not_bulk():
    same = [access(n, NOON_SEOUL + timedelta(seconds=n), subject=7) for n in range(50)]
    slow = [access(100 + n, NOON_SEOUL + timedelta(minutes=n), actor=2) for n in range(50)]
    assert unusual(same + slow) == []


def test_night_and_outside_the_centre_but_not_for_the_district_office():
    night = access(1, datetime(2026, 12, 1, 14, 30, tzinfo=timezone.utc))       # 23:30 in Seoul
    early = access(2, datetime(2026, 12, 1, 21, 59, tzinfo=timezone.utc))       # 06:59 in Seoul: not night
    outside = access(3, NOON_SEOUL, centre=1, subject_centre=2)
    office = access(4, NOON_SEOUL, centre=9, sees_all=True, subject_centre=2)
    found = sorted((f.reason, f.record_ids) for f in unusual([night, early, outside, office]))
    assert found == [("night", (1,)), ("outside_centre", (3,))]
