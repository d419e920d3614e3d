"""The access record of personal data: staff reads are recorded (who, when, from where, whose record,
what), admins filter it and read the monthly report of unusual access, and nothing can change or
delete a row (a database trigger on SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from kindcity.domain.access_review import BULK_SUBJECTS
from kindcity.domain.time import SEOUL
from kindcity.models import AccessRecord, Centre
from kindcity.services import Actor
from kindcity.services import referrals as referral_service
from kindcity.services.access_log import record_access
from tests import factories as f


def _referral(dong="hwajeong1"):
    return referral_service.submit("198.51.100.7", referral_service.ReferralRequest(
        dong=dong, urgency="urgent", situation="어르신 댁 난방이 며칠째 꺼져 있는 것 같습니다.", contact="", consent=True))


def test_opening_a_referral_and_a_donors_pledge_are_recorded(app, client, session):
    staff = f.user("staff", name="화정 담당")
    referral = _referral()
    need = f.need(author=staff)
    donor = f.user("donor")
    session.commit()
    from kindcity.services import pledges as pledge_service
    pledge = pledge_service.create_direct_pledge(
        Actor(donor, "test"), pledge_service.PledgeRequest(need_id=need.id, amount=10_000, units=None,
                                                           display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    session.commit()
    f.login(client, staff)
    assert client.get(f"/staff/referrals/{referral.id}").status_code == 200
    assert client.get(f"/staff/pledges/{pledge.id}").status_code == 200
    rows = session.scalars(select(AccessRecord).order_by(AccessRecord.id)).all()
    assert [(r.actor_id, r.actor_centre_id, r.subject_kind, r.subject_id, r.action) for r in rows] == [
        (staff.id, staff.centre_id, "referral", referral.id, "view"),
        (staff.id, staff.centre_id, "donor", donor.id, "view")]
    assert rows[0].subject_centre_id == referral.centre_id and rows[0].address and rows[0].at is not None


def test_the_record_is_append_only(session):
    staff = f.user("staff")
    record_access(Actor(staff, "203.0.113.9"), "sms_case", 5, "view")
    session.commit()
    with pytest.raises(DBAPIError):
        with session.begin_nested():
            session.execute(update(AccessRecord).values(action="export"))
    with pytest.raises(DBAPIError):
        with session.begin_nested():
            session.execute(delete(AccessRecord))
    assert session.scalar(select(AccessRecord.action)) == "view"


@pytest.fixture
def month_of_reads(session):
    """One dong staff member reads 25 donors in eight minutes at noon, one referral at 23:30 and one
    of another centre's; the district office reads another centre's referral (its work)."""
    staff = f.user("staff", name="화정 담당")
    office = f.user("staff", centre_code="district-welfare", name="구청 담당")
    other_centre = session.scalar(select(Centre.id).where(Centre.code == "centre-nongseong1"))
    noon = datetime(2026, 11, 3, 12, 0, tzinfo=SEOUL)
    rows = [AccessRecord(at=noon + timedelta(seconds=20 * n), actor_id=staff.id, actor_centre_id=staff.centre_id,
                         address="203.0.113.1", subject_kind="donor", subject_id=1000 + n, action="view")
            for n in range(BULK_SUBJECTS + 5)]
    rows.append(AccessRecord(at=datetime(2026, 11, 4, 23, 30, tzinfo=SEOUL), actor_id=staff.id,
                             actor_centre_id=staff.centre_id, address="203.0.113.1", subject_kind="referral",
                             subject_id=1, subject_centre_id=staff.centre_id, action="view"))
    rows.append(AccessRecord(at=datetime(2026, 11, 5, 10, 0, tzinfo=SEOUL), actor_id=staff.id,
                             actor_centre_id=staff.centre_id, address="203.0.113.1", subject_kind="referral",
                             subject_id=2, subject_centre_id=other_centre, action="view"))
    rows.append(AccessRecord(at=datetime(2026, 11, 5, 11, 0, tzinfo=SEOUL), actor_id=office.id,
                             actor_centre_id=office.centre_id, address="203.0.113.2", subject_kind="referral",
                             subject_id=2, subject_centre_id=other_centre, action="view"))
    rows.append(AccessRecord(at=datetime(2026, 10, 31, 23, 0, tzinfo=SEOUL), actor_id=office.id,
                             actor_centre_id=office.centre_id, address="203.0.113.2", subject_kind="donor",
                             subject_id=9, action="rrn_export"))   # night, but in October
    session.add_all(rows)
    admin = f.user("admin")
    session.commit()
    return staff, office, admin


@pytest.mark.parametrize("lang, words", [
    ("ko", ("짧은 시간에 많은 기록", "야간 (22:00~06:00)", "소속 센터 밖")),
    ("en", ("Many records in a short time", "At night (22:00-06:00)", "Outside their centre"))])
def test_the_monthly_report_names_each_kind_of_unusual_access(client, month_of_reads, lang, words):
    staff, office, admin = month_of_reads
    f.login(client, admin)
    page = client.get(f"/admin/access-log/report?month=2026-11&lang={lang}").get_data(as_text=True)
    for word in words:
        assert page.count(f"<td>{word}</td>") == 1, word
    assert "화정 담당" in page and "구청 담당" not in page
    october = client.get(f"/admin/access-log/report?month=2026-10&lang={lang}").get_data(as_text=True)
    assert f"<td>{words[1]}</td>" in october and f"<td>{words[0]}</td>" not in october


def test_admins_filter_the_record(app, client, session, month_of_reads):
    staff, office, admin = month_of_reads
    f.login(client, admin)
    by_office = client.get(f"/admin/access-log?actor={office.id}").get_data(as_text=True)
    assert by_office.count("203.0.113.2") == 2 and "203.0.113.1" not in by_office
    exports = client.get("/admin/access-log?action=rrn_export&lang=en").get_data(as_text=True)
    assert "Exported with the resident registration number" in exports and exports.count("203.0.113.") == 1
    one_day = client.get("/admin/access-log?since=2026-11-05&until=2026-11-05&kind=referral").get_data(as_text=True)
    assert one_day.count("203.0.113.") == 2
    assert client.get("/admin/access-log?subject=1001").get_data(as_text=True).count("203.0.113.1") == 1
    staff_client = app.test_client()
    f.login(staff_client, staff)
    assert staff_client.get("/admin/access-log").status_code == 403
