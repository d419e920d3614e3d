"""Dates far in the past or the future, in addresses, forms and bank statements: a clear answer,
never a 500 (issue 12, item 4; the rule is kindcity/domain/dates.py)."""
from __future__ import annotations

import html
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from kindcity.domain.time import seoul_today
from kindcity.models import AuditEntry, Payment, Refund, StatementImport
from tests import factories as f
from tests.web.test_impact_web import _client, _spend, _start
from tests.web.test_impact_web import scene as impact_scene  # noqa: F401  (a fixture)
from tests.web.test_impact_web import uploads  # noqa: F401  (a fixture)
from tests.web.test_pledge_web import _donor_pledge, _pay, _staff_client, scene  # noqa: F401  (scene: a fixture)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("query", [{"end": "9999-12-31"}, {"start": "0001-01-01"},
                                   {"start": "0001-01-01", "end": "9999-12-31"}, {"start": "9999-12-31"},
                                   {"end": "0001-01-01"}])
def test_the_history_download_takes_any_range_of_real_dates(client, session, scene, query):
    _staff, need, donor = scene
    pledge = _donor_pledge(session, donor, need, 100_000)
    f.login(client, donor)
    response = client.get("/me/history.csv", query_string=query)
    assert response.status_code == 200
    listed = pledge.reference in response.get_data(as_text=True)
    assert listed == (query.get("start") != "9999-12-31" and query.get("end") != "0001-01-01")


@pytest.mark.parametrize("query, message", [
    ("from=9999-12-31", "A statement can end on 31 December of this year at the latest."),
    ("to=9999-12-31", "A statement can end on 31 December of this year at the latest."),
    ("to=0001-01-01", "A statement can start on 1 January 2000 at the earliest."),
    ("from=0001-01-01&to=0001-12-31", "A statement can start on 1 January 2000 at the earliest."),
])
def test_a_receipt_statement_for_days_beyond_the_site_is_refused_with_a_message(client, session, scene, query,
                                                                                 message):
    _staff, _need, donor = scene
    f.login(client, donor)
    response = client.get(f"/me/receipts/statement.pdf?{query}&lang=en")
    assert response.status_code == 400
    assert message in _text(response)


@pytest.mark.parametrize("day, message", [
    (date(2030, 1, 1), "The date cannot be later than today"),
    (seoul_today() + timedelta(days=1), "The date cannot be later than today"),
    (date(1, 1, 1), "The date cannot be earlier than"),
    (seoul_today() - timedelta(days=1), "The date cannot be earlier than"),  # before the pledge was made
])
def test_a_payment_received_on_a_day_that_cannot_be_is_refused(app, session, scene, day, message):
    staff, need, donor = scene
    pledge = _donor_pledge(session, donor, need, 100_000)
    desk = _staff_client(app, staff)
    page = _text(_pay(desk, pledge, "100,000", "t-1", received_on=day))
    assert message in page
    assert _count(session, Payment) == 0
    assert "Payment of 100,000 won recorded." in _text(_pay(desk, pledge, "100,000", "t-2"))
    assert _count(session, Payment) == 1


def test_a_refund_sent_in_year_one_is_refused(app, session, scene):
    from kindcity.services import Actor
    from kindcity.services import needs as need_service
    from tests.web.test_pledge_web import _record

    staff, need, donor = scene
    pledge = _donor_pledge(session, donor, need, 100_000)  # on_cancel: refund
    _record(session, staff, pledge, 100_000, "paid")
    need_service.cancel(Actor(staff, "test"), need, "행사가 취소되었습니다")
    session.commit()
    refund = session.scalars(select(Refund).where(Refund.pledge_id == pledge.id)).one()
    desk = _staff_client(app, staff)
    for day in ("0001-01-01", "9999-12-31"):
        page = _text(desk.post(f"/staff/refunds/{refund.id}?lang=en", follow_redirects=True,
                               data={"refunded_on": day, "bank_reference": "KB-1"}))
        assert "The date cannot be" in page
        session.refresh(refund)
        assert refund.status == "due"
    page = _text(desk.post(f"/staff/refunds/{refund.id}?lang=en", follow_redirects=True,
                           data={"refunded_on": seoul_today().isoformat(), "bank_reference": "KB-1"}))
    assert "The refund is recorded." in page
    session.refresh(refund)
    assert refund.status == "done"


def test_spending_dated_before_the_need_was_posted_is_refused(app, session, impact_scene):  # noqa: F811
    need = impact_scene["need"]
    staff = _client(app, impact_scene["author"])
    _start(staff, need)
    for day in (date(1, 1, 1), seoul_today() - timedelta(days=1)):
        page = _text(_spend(staff, need, amount="10,000", spent_on=day))
        assert "The date of spending cannot be before the need was posted" in page
    spent = staff.post(f"/staff/needs/{need.id}/impact/disbursements?lang=en", follow_redirects=True, data={
        "amount": "10,000", "spent_on": seoul_today().isoformat(), "description": "KTX 왕복"})
    assert "Spending of 10,000 won recorded." in _text(spent)


# --- bank statements --------------------------------------------------------------------------------------

def _upload(client, content: bytes):
    # Encoded in memory: the test client would otherwise spool a large body to a file it never closes.
    boundary, body = encode_multipart({"statement": FileStorage(io.BytesIO(content), filename="s.csv")})
    return client.post("/staff/statements?lang=en", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("day, message", [("0001-01-01", "is before 1 January 2000"),
                                          ("9999-12-31", "is after today")])
def test_a_statement_line_on_a_day_that_cannot_be_is_named_at_the_preview(client, session, day, message):
    f.login(client, f.user("staff", money_staff=True))
    session.commit()
    content = f"거래일시,입금액,입금자명\n{seoul_today()} 09:00,10000,홍길동\n{day} 09:00,20000,김철수\n"
    page = _text(_upload(client, content.encode()))
    assert f'Row 3, column "transaction date": {day} {message}' in page
    assert _count(session, StatementImport) == 0


def test_a_memo_beyond_the_csv_limit_is_named_at_the_preview(client, session):
    f.login(client, f.user("staff", money_staff=True))
    session.commit()
    content = f"거래일시,입금액,입금자명\n{seoul_today()} 09:00,10000,홍길동\n{seoul_today()} 09:05,20000,{'가' * 200_000}\n"
    page = _text(_upload(client, content.encode()))
    assert "Row 3 has a cell far longer than any bank statement" in page
    assert _count(session, StatementImport) == 0


def test_a_stuck_import_says_which_row_and_staff_can_discard_it(app, client, session, scene):
    staff, need, donor = scene
    staff.money_staff = True  # statements are for the staff who handle the bank account
    session.commit()
    pledge = _donor_pledge(session, donor, need, 100_000)
    # An import previewed before the date rule: its line from year 1 made every commit a 500.
    stuck = StatementImport(filename="old.csv", encoding="utf-8", uploaded_by_id=staff.id, rows=[
        {"line": 2, "booked_at": "0001-01-01T00:00:00", "amount": 100_000, "memo": f"홍길동 {pledge.reference}",
         "reference": pledge.reference, "fingerprint": "f" * 64, "pledge_id": pledge.id, "owed": 100_000,
         "outcome": "matched"}])
    session.add(stuck)
    session.commit()
    f.login(client, staff)
    page = _text(client.post(f"/staff/statements/{stuck.id}/commit?lang=en", follow_redirects=True))
    assert 'Row 2, column "transaction date": 0001-01-01 is before 1 January 2000' in page
    assert "Discard this import" in page
    assert _count(session, Payment) == 0
    page = _text(client.post(f"/staff/statements/{stuck.id}/discard?lang=en", follow_redirects=True))
    assert "The statement import was discarded." in page
    assert session.get(StatementImport, stuck.id) is None
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "statement.discard")).one()
    assert (entry.entity_id, entry.actor_id, entry.before["filename"], entry.before["rows"]) == (stuck.id, staff.id,
                                                                                                "old.csv", 1)
    assert client.post(f"/staff/statements/{stuck.id}/discard").status_code == 404


def test_an_applied_statement_cannot_be_discarded(client, session, scene):
    staff, _need, _donor = scene
    staff.money_staff = True  # statements are for the staff who handle the bank account
    session.commit()
    f.login(client, staff)
    response = _upload(client, f"거래일시,입금액,입금자명\n{seoul_today()} 09:00,10000,홍길동\n".encode())
    import_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    client.post(f"/staff/statements/{import_id}/commit")
    page = _text(client.post(f"/staff/statements/{import_id}/discard?lang=en", follow_redirects=True))
    assert "This statement has already been applied, so it cannot be discarded." in page
    assert session.get(StatementImport, import_id) is not None
    assert "Discard this import" not in page
