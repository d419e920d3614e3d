"""Bank statement import through the staff pages: upload, preview, commit once, match by hand.

Runs on SQLite and on PostgreSQL (KINDCITY_TEST_DATABASE_URL). Texts are checked in English (?lang=en).
"""
from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kindcity.domain.pledges import PledgeStatus
from kindcity.domain.time import seoul_today
from kindcity.models import AuditEntry, BankTransaction, Payment, Pledge, Refund, StatementImport
from kindcity.services import Actor, Forbidden, accounts
from kindcity.services import pledges as pledge_service
from kindcity.services import statements as statement_service
from kindcity.services.reconcile import reconcile
from tests import factories as f


# --- helpers ----------------------------------------------------------------------------------------

def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _upload(client, content: bytes, filename: str = "statement.csv"):
    return client.post("/staff/statements?lang=en", data={"statement": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def _preview(client, content: bytes, filename: str = "statement.csv") -> tuple[int, str]:
    response = _upload(client, content, filename)
    assert response.status_code == 303, _text(response)[:2000]
    match = re.search(r"/staff/statements/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1)), _text(client.get(response.headers["Location"] + "?lang=en"))


def _summary(page: str) -> dict[str, int]:
    block = page.split('<ul class="summary">', 1)[1].split("</ul>", 1)[0]
    block = re.sub(r"</?a\b[^>]*>", "", block)  # outcomes with rows link to those rows
    found = {label: int(n) for label, n in re.findall(r"<li>([^<:]+): <strong>(\d+)</strong></li>", block)}
    found.pop("Already recorded by hand", None)  # its own test covers that row
    return found


def _commit(client, import_id: int) -> str:
    response = client.post(f"/staff/statements/{import_id}/commit?lang=en")
    assert response.status_code == 303
    return _text(client.get(response.headers["Location"] + "?lang=en"))


def _pledge(session, donor, need, amount, *, on_cancel="refund") -> Pledge:
    pledge = pledge_service.create_direct_pledge(
        Actor(donor, "test"), pledge_service.PledgeRequest(need_id=need.id, amount=amount, units=None,
                                                           display="anonymous", message="", on_cancel=on_cancel),
        hold_for=timedelta(days=7))
    session.commit()
    return pledge


def _statement(exact: Pledge, partial: Pledge) -> str:
    """A 광주은행-style export: title lines, one exact deposit, one partial (reference typed loosely),
    one deposit without a reference, and one withdrawal."""
    loose = _typed_loosely(partial.reference)
    return (
        "거래내역조회\n"
        "계좌번호: DEMO-000-000000 (광주광역시 서구)\n"
        "\n"
        "거래일시,적요,출금액,입금액,입금자명,잔액\n"
        f'2025-03-02 09:15:00,타행이체,0,"100,000원",홍길동 {exact.reference},"1,100,000"\n'
        f'2025-03-02 10:20:00,타행이체,0,"50,000",{loose},"1,150,000"\n'
        '2025-03-02 11:00:00,타행이체,0,"30,000",김철수,"1,180,000"\n'
        '2025-03-02 12:00:00,카드대금,"20,000",0,,"1,160,000"\n'
    )


def _typed_loosely(reference: str) -> str:
    return f"{reference[:2].lower()} {reference[2:5].lower()}-{reference[5:]}"


@pytest.fixture
def scene(app, client, session):
    staff = f.user("staff", money_staff=True)
    need_a = f.need(author=staff, target=1_000_000)
    need_b = f.need(author=staff, target=500_000)
    donor = f.user("donor")
    session.commit()
    exact = _pledge(session, donor, need_a, 100_000)
    partial = _pledge(session, donor, need_b, 200_000)
    f.login(client, staff)
    return staff, need_a, need_b, exact, partial


# --- the whole flow -------------------------------------------------------------------------------------

def test_preview_commit_match_and_reimport(client, session, scene):
    _staff, need_a, need_b, exact, partial = scene
    content = _statement(exact, partial).encode("utf-8")

    import_id, page = _preview(client, content)
    assert _summary(page) == {"Matched": 1, "Partly paid": 1, "Over-paid": 0, "Unmatched": 1, "Already imported": 0}
    assert exact.reference in page and partial.reference in page and "김철수" in page
    assert "카드대금" not in page  # the withdrawal is not a gift
    assert "Record these payments" in page
    preview = session.get(StatementImport, import_id)
    assert preview.committed_at is None and preview.encoding == "utf-8-sig" and preview.filename == "statement.csv"
    assert [(r["line"], r["outcome"]) for r in preview.rows] == [(5, "matched"), (6, "partly_paid"), (7, "unmatched")]
    # nothing about money has changed yet
    assert _count(session, Payment) == 0 and _count(session, BankTransaction) == 0
    session.refresh(need_a)
    assert (need_a.confirmed, need_a.reserved) == (0, 100_000)
    assert reconcile() == []

    page = _commit(client, import_id)
    assert "Statement applied: 2 payments recorded, 0 confirming transfers already recorded by hand, 1 unmatched, 0 already imported." in page
    assert "Record these payments" not in page
    for item in (need_a, need_b, exact, partial):
        session.refresh(item)
    assert (exact.paid, exact.held, exact.status) == (100_000, 0, PledgeStatus.PAID)
    assert (partial.paid, partial.held, partial.status) == (50_000, 150_000, PledgeStatus.PARTLY_PAID)
    assert (need_a.confirmed, need_a.reserved) == (100_000, 0)
    assert (need_b.confirmed, need_b.reserved) == (50_000, 150_000)
    payments = session.scalars(select(Payment).order_by(Payment.id)).all()
    assert [(p.pledge_id, p.amount, p.source) for p in payments] == [(exact.id, 100_000, "statement"),
                                                                      (partial.id, 50_000, "statement")]
    assert all(p.received_at.tzinfo is not None for p in payments)
    assert _count(session, BankTransaction) == 3
    assert reconcile() == []

    # the deposit without a reference waits for staff on the pledges page
    queue = _text(client.get("/staff/pledges?lang=en"))
    unmatched = queue.split("Deposits without a known reference code", 1)[1]
    assert unmatched.startswith(" (1)") and "김철수" in unmatched and "30,000" in unmatched
    row = session.scalars(select(BankTransaction).where(BankTransaction.outcome == "unmatched")).one()

    page = _text(client.post(f"/staff/bank-rows/{row.id}/match?lang=en", data={"reference": "KCZZZZZZ"},
                             follow_redirects=True))
    assert 'No pledge has the reference code "KCZZZZZZ".' in page
    session.refresh(row)
    assert row.outcome == "unmatched" and _count(session, Payment) == 2

    page = _text(client.post(f"/staff/bank-rows/{row.id}/match?lang=en",
                             data={"reference": f" {partial.reference.lower()} "}, follow_redirects=True))
    assert "The deposit is matched to the pledge." in page
    assert "Deposits without a known reference code (0)" in page
    session.refresh(row)
    session.refresh(partial)
    session.refresh(need_b)
    assert (row.outcome, row.pledge_id) == ("applied", partial.id)
    assert (partial.paid, partial.held, partial.status) == (80_000, 120_000, PledgeStatus.PARTLY_PAID)
    assert (need_b.confirmed, need_b.reserved) == (80_000, 120_000)
    assert _count(session, Payment) == 3
    assert reconcile() == []

    # matching it again changes nothing
    client.post(f"/staff/bank-rows/{row.id}/match", data={"reference": exact.reference})
    session.refresh(partial)
    assert _count(session, Payment) == 3 and partial.paid == 80_000

    # the same file again: every row is a duplicate and committing changes nothing
    again_id, page = _preview(client, content)
    assert again_id != import_id
    assert _summary(page) == {"Matched": 0, "Partly paid": 0, "Over-paid": 0, "Unmatched": 0, "Already imported": 3}
    page = _commit(client, again_id)
    assert "Statement applied: 0 payments recorded, 0 confirming transfers already recorded by hand, 0 unmatched, 3 already imported." in page
    assert _count(session, Payment) == 3 and _count(session, BankTransaction) == 3
    for item in (need_a, need_b, exact, partial):
        session.refresh(item)
    assert (exact.paid, partial.paid, need_a.confirmed, need_b.confirmed) == (100_000, 80_000, 100_000, 80_000)
    assert reconcile() == []


def test_committing_the_same_preview_twice_changes_nothing(client, session, scene):
    _staff, need_a, need_b, exact, partial = scene
    import_id, _page = _preview(client, _statement(exact, partial).encode("utf-8"))
    _commit(client, import_id)
    payments, rows = _count(session, Payment), _count(session, BankTransaction)
    page = _commit(client, import_id)
    assert "0 payments recorded, 0 confirming transfers already recorded by hand, 0 unmatched, 3 already imported" in page
    assert (_count(session, Payment), _count(session, BankTransaction)) == (payments, rows) == (2, 3)
    session.refresh(need_a)
    assert need_a.confirmed == 100_000
    assert reconcile() == []


def test_two_previews_of_one_file_are_applied_once(client, session, scene):
    _staff, need_a, need_b, exact, partial = scene
    content = _statement(exact, partial).encode("utf-8")
    first, _ = _preview(client, content)
    second, page = _preview(client, content)
    assert _summary(page)["Already imported"] == 0  # nothing is committed yet
    _commit(client, first)
    page = _commit(client, second)
    assert "0 payments recorded, 0 confirming transfers already recorded by hand, 0 unmatched, 3 already imported" in page
    assert _count(session, Payment) == 2 and _count(session, BankTransaction) == 3
    session.refresh(need_b)
    assert need_b.confirmed == 50_000
    assert reconcile() == []


def test_a_later_statement_overlapping_the_first_adds_only_new_deposits(client, session, scene):
    _staff, need_a, need_b, exact, partial = scene
    first = _statement(exact, partial)
    _commit(client, _preview(client, first.encode("utf-8"))[0])
    later = first + f'2025-03-03 09:00:00,타행이체,0,"150,000",{partial.reference},"1,310,000"\n'
    import_id, page = _preview(client, later.encode("cp949"))
    assert _summary(page) == {"Matched": 1, "Partly paid": 0, "Over-paid": 0, "Unmatched": 0, "Already imported": 3}
    _commit(client, import_id)
    session.refresh(partial)
    session.refresh(need_b)
    assert (partial.paid, partial.status, need_b.confirmed, need_b.reserved) == (200_000, PledgeStatus.PAID,
                                                                                 200_000, 0)
    assert _count(session, Payment) == 3
    assert reconcile() == []


@pytest.mark.parametrize("encoding", ["cp949", "euc-kr", "utf-8-sig"])
def test_korean_encodings_work_the_same(client, session, scene, encoding):
    _staff, need_a, need_b, exact, partial = scene
    import_id, page = _preview(client, _statement(exact, partial).encode(encoding), "거래내역.csv")
    assert _summary(page) == {"Matched": 1, "Partly paid": 1, "Over-paid": 0, "Unmatched": 1, "Already imported": 0}
    assert "김철수" in page and "홍길동" in page
    statement = session.get(StatementImport, import_id)
    assert statement.encoding == ("utf-8-sig" if encoding == "utf-8-sig" else "cp949")
    assert statement.filename == "거래내역.csv"
    page = _commit(client, import_id)
    assert "2 payments recorded, 0 confirming transfers already recorded by hand, 1 unmatched" in page
    session.refresh(exact)
    session.refresh(partial)
    assert (exact.status, partial.status) == (PledgeStatus.PAID, PledgeStatus.PARTLY_PAID)
    assert reconcile() == []


def test_over_payment_and_two_deposits_for_one_pledge(client, session, scene):
    _staff, need_a, need_b, exact, partial = scene
    content = (
        "거래일시,입금액,입금자명\n"
        f"2025-03-02 09:00,60000,{exact.reference}\n"
        f"2025-03-02 10:00,40000,{exact.reference}\n"
        f"2025-03-02 11:00,250000,{partial.reference}\n"
        f"2025-03-02 12:00,5000,{exact.reference}\n"
    ).encode("utf-8")
    import_id, page = _preview(client, content)
    rows = session.get(StatementImport, import_id).rows
    assert [(r["outcome"], r["owed"]) for r in rows] == [("partly_paid", 100_000), ("matched", 40_000),
                                                         ("over_paid", 200_000), ("over_paid", 0)]
    assert _summary(page) == {"Matched": 1, "Partly paid": 1, "Over-paid": 2, "Unmatched": 0, "Already imported": 0}
    _commit(client, import_id)
    for item in (need_a, need_b, exact, partial):
        session.refresh(item)
    assert (exact.paid, exact.status, need_a.confirmed) == (105_000, PledgeStatus.PAID, 100_000)
    assert (partial.paid, partial.status, need_b.confirmed, need_b.reserved) == (250_000, PledgeStatus.PAID,
                                                                                 200_000, 0)
    refunds = {r.pledge_id: (r.amount, r.status) for r in session.scalars(select(Refund))}
    assert refunds == {exact.id: (5_000, "due"), partial.id: (50_000, "due")}
    assert "Refunds to send (2)" in _text(client.get("/staff/pledges?lang=en"))
    assert reconcile() == []


def test_deposit_for_a_cancelled_pledge_is_kept_and_owed_back(client, session, scene):
    staff, need_a, _need_b, exact, _partial = scene
    pledge_service.cancel_pledge(Actor(staff, "test"), exact.id)
    session.commit()
    content = f"거래일시,입금액,입금자명\n2025-03-02 09:00,100000,{exact.reference}\n".encode("utf-8")
    _commit(client, _preview(client, content)[0])
    session.refresh(exact)
    session.refresh(need_a)
    assert (exact.status, exact.paid, need_a.confirmed, need_a.reserved) == (PledgeStatus.CANCELLED, 100_000, 0, 0)
    [refund] = session.scalars(select(Refund).where(Refund.pledge_id == exact.id)).all()
    assert (refund.amount, refund.status) == (100_000, "due")
    assert reconcile() == []


def test_preview_does_not_call_a_deposit_for_a_cancelled_pledge_matched(client, session, scene):
    staff, _a, _b, exact, _partial = scene
    pledge_service.cancel_pledge(Actor(staff, "test"), exact.id)
    session.commit()
    content = f"거래일시,입금액,입금자명\n2025-03-02 09:00,100000,{exact.reference}\n".encode("utf-8")
    import_id, _page = _preview(client, content)
    [row] = session.get(StatementImport, import_id).rows
    assert row["outcome"] != "matched"


def test_row_without_a_trailing_second_memo_column(client, session, scene):
    _staff, _a, _b, exact, _partial = scene
    content = ("거래일시,입금액,입금자명,잔액,메모\n"
               f"2025-03-02 09:00,100000,홍길동,1100000,{exact.reference}\n"
               "2025-03-02 10:00,30000,김철수,1130000\n").encode("utf-8")
    # The short second row is read, not refused: the file goes to its preview (a redirect, as always).
    import_id, _page = _preview(client, content)
    rows = session.get(StatementImport, import_id).rows
    assert [(row["amount"], row["outcome"]) for row in rows] == [(100_000, "matched"), (30_000, "unmatched")]


# --- refusals: a clear message and nothing written -----------------------------------------------------

@pytest.mark.parametrize("content, expected", [
    ("거래내역조회\n계좌번호: 123\n\n거래일시,입금액,잔액\n2025-03-02,1000,5000\n",
     'Row 4: the column "depositor or memo" is missing'),
    ('거래내역조회\n\n거래일시,입금액,입금자명\n2025-03-02,1000,a\n2025-03-02,"12,5a",b\n',
     'Row 5, column "deposit amount": "12,5a" is not a whole number of won.'),
    ("거래일시,입금액,입금자명\n2025-03-02,1000,a\n2025-13-45,1000,b\n",
     'Row 3, column "transaction date": "2025-13-45" is not a date.'),
    ("거래일시,입금액,입금자명,잔액\n2025-03-02,1000,a,5000\n2025-03-03,1000\n",
     'Row 3 has too few cells: the column "depositor or memo" is empty.'),
    ("계좌 요약\n이름,금액\n", "No header row with a date and a deposit amount column was found in the first 15 rows."),
    ("", "No header row with a date and a deposit amount column was found"),
])
def test_bad_files_name_the_row_and_column(client, session, scene, content, expected):
    _staff, need_a, _need_b, exact, _partial = scene
    before = (_count(session, StatementImport), _count(session, Payment), _count(session, BankTransaction))
    response = _upload(client, content.encode("utf-8"))
    assert response.status_code == 200
    page = _text(response)
    assert expected in page
    assert (_count(session, StatementImport), _count(session, Payment), _count(session, BankTransaction)) == before
    session.refresh(exact)
    assert exact.paid == 0


def test_bad_amount_in_a_cp949_file_counts_title_lines(client, session, scene):
    content = ('거래내역조회\n계좌번호: 123-456\n\n거래일시,입금액,입금자명\n2025-03-02,"12,5a",홍길동\n').encode("cp949")
    page = _text(_upload(client, content))
    assert 'Row 5, column "deposit amount": "12,5a" is not a whole number of won.' in page
    assert _count(session, StatementImport) == 0


def test_binary_file_is_refused(client, session, scene):
    page = _text(_upload(client, b"\xff\xfe\x00\x80\x81\xff\x00\x01" * 64))
    assert "The file is neither UTF-8 nor CP949/EUC-KR text." in page
    assert _count(session, StatementImport) == 0


@pytest.mark.parametrize("filename", ["statement.xlsx", "statement.pdf", "statement", "statement.csv.exe"])
def test_other_file_types_are_refused(client, session, scene, filename):
    _staff, _a, _b, exact, partial = scene
    response = _upload(client, _statement(exact, partial).encode("utf-8"), filename)
    assert response.status_code == 200
    assert "Please upload a CSV file." in _text(response)
    assert _count(session, StatementImport) == 0 and _count(session, Payment) == 0


def test_no_file_is_refused(client, session, scene):
    response = client.post("/staff/statements?lang=en", data={}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert _count(session, StatementImport) == 0


def test_txt_extension_is_accepted(client, session, scene):
    _staff, _a, _b, exact, partial = scene
    import_id, _page = _preview(client, _statement(exact, partial).encode("utf-8"), "export.TXT")
    assert session.get(StatementImport, import_id).filename == "export.TXT"


# --- who may import -------------------------------------------------------------------------------------

def test_donors_and_visitors_cannot_import(app, session, scene):
    _staff, _a, _b, exact, partial = scene
    content = _statement(exact, partial).encode("utf-8")
    donor = f.user("donor")
    session.commit()
    visitor = app.test_client()
    assert _upload(visitor, content).status_code == 302
    f.login(visitor, donor)
    assert _upload(visitor, content).status_code == 403
    assert visitor.get("/staff/statements").status_code == 403
    assert _count(session, StatementImport) == 0


def test_only_money_staff_see_statements_and_deposits_without_a_reference(app, client, session, scene):
    """A 양동 staff member must not read a 화정1동 donor's name and code; neither do 화정1동's own staff
    without the money permission, who keep seeing their own centre's pledges."""
    _staff, _a, _b, exact, partial = scene
    import_id, _page = _preview(client, _statement(exact, partial).encode("utf-8"))
    _commit(client, import_id)
    row = session.scalars(select(BankTransaction).where(BankTransaction.outcome == "unmatched")).one()
    own_centre, yangdong = f.user("staff"), f.user("staff", centre_code="centre-yang")
    session.commit()
    for person, sees_own_pledges in ((own_centre, True), (yangdong, False)):
        other = app.test_client()
        f.login(other, person)
        queue = _text(other.get("/staff/pledges?lang=en"))
        assert "Deposits without a known reference code" not in queue and "김철수" not in queue
        assert "Import a bank statement" not in queue
        assert (partial.reference in queue) is sees_own_pledges  # partly paid: still in the queue
        assert "Import a bank statement" not in _text(other.get("/staff/?lang=en"))
        assert other.get("/staff/statements").status_code == 403
        assert other.get(f"/staff/statements/{import_id}").status_code == 403
        assert _upload(other, _statement(exact, partial).encode("utf-8")).status_code == 403
        assert other.post(f"/staff/statements/{import_id}/commit").status_code == 403
        assert other.post(f"/staff/bank-rows/{row.id}/match", data={"reference": partial.reference}).status_code == 403
    session.refresh(row)
    assert row.outcome == "unmatched" and _count(session, StatementImport) == 1
    with pytest.raises(Forbidden):
        statement_service.preview_statement(Actor(own_centre), "s.csv", _statement(exact, partial).encode("utf-8"))
    with pytest.raises(Forbidden):
        statement_service.match_bank_row(Actor(own_centre), row.id, partial.reference)


def test_an_administrator_gives_and_takes_the_money_permission(app, client, session, scene):
    _staff, _a, _b, exact, partial = scene
    import_id, _page = _preview(client, _statement(exact, partial).encode("utf-8"))
    _commit(client, import_id)
    admin, clerk = f.user("admin"), f.user("staff", centre_code="district-welfare")
    session.commit()
    desk = app.test_client()
    f.login(desk, clerk)
    assert desk.get("/staff/statements").status_code == 403  # the district office too, until given it
    office = app.test_client()
    f.login(office, admin)
    form = {"role": "staff", "centre_id": str(clerk.centre_id), "active": "y"}
    assert "Handles the district" in _text(office.get(f"/admin/users/{clerk.id}?lang=en"))
    assert office.post(f"/admin/users/{clerk.id}", data=form | {"money_staff": "y"}).status_code == 302
    session.refresh(clerk)
    assert clerk.money_staff
    assert desk.get("/staff/statements").status_code == 200
    assert "김철수" in _text(desk.get("/staff/pledges?lang=en"))
    assert office.post(f"/admin/users/{clerk.id}", data=form).status_code == 302
    assert desk.get("/staff/statements").status_code == 403
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.money_staff",
                                                       AuditEntry.entity_id == clerk.id).order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.before, e.after) for e in entries] == [
        (admin.id, {"money_staff": False}, {"money_staff": True}),
        (admin.id, {"money_staff": True}, {"money_staff": False})]
    # a donor cannot hold it; staff cannot give it
    donor = f.user("donor")
    session.commit()
    refused = _text(office.post(f"/admin/users/{donor.id}?lang=en",
                                data={"role": "donor", "centre_id": "0", "active": "y", "money_staff": "y"}))
    assert "Only staff and administrators can handle the district's bank account." in refused
    session.refresh(donor)
    assert not donor.money_staff
    with pytest.raises(Forbidden):
        accounts.set_money_staff(Actor(clerk), clerk, True)
    # made a donor, a money clerk no longer holds it
    office.post(f"/admin/users/{clerk.id}", data=form | {"money_staff": "y"})
    office.post(f"/admin/users/{clerk.id}", data={"role": "donor", "centre_id": "0", "active": "y"})
    session.refresh(clerk)
    assert (clerk.role, clerk.money_staff) == ("donor", False)


def test_unknown_import_and_bank_row_are_404(client, session, scene):
    assert client.get("/staff/statements/999999").status_code == 404
    assert client.post("/staff/statements/999999/commit").status_code == 404
    assert client.post("/staff/bank-rows/999999/match", data={"reference": "KC7Q2MXA"}).status_code == 404


def test_staff_see_one_outcome_at_a_time(client, session, scene):
    _staff, _need_a, _need_b, exact, partial = scene
    import_id, page = _preview(client, _statement(exact, partial).encode("utf-8"))
    assert f'href="/staff/statements/{import_id}?outcome=unmatched"' in page
    assert "?outcome=over_paid" not in page  # no over-paid rows: nothing to link to
    only = _text(client.get(f"/staff/statements/{import_id}?outcome=unmatched&lang=en"))
    body = only.split("<tbody>", 1)[1]
    assert "김철수" in body and exact.reference not in body and partial.reference not in body
    assert "Showing only: Unmatched." in only and 'aria-current="true">Unmatched</a>' in only
    assert _summary(only) == _summary(page)  # the counts stay those of the whole statement
    everything = _text(client.get(f"/staff/statements/{import_id}?outcome=nonsense&lang=en"))
    assert "Showing only" not in everything and exact.reference in everything.split("<tbody>", 1)[1]


def test_a_long_statement_shows_its_first_rows_and_says_so(client, session, scene, monkeypatch):
    from kindcity.web.staff import money as staff_money
    monkeypatch.setattr(staff_money, "STATEMENT_ROWS_SHOWN", 2)
    _staff, _need_a, _need_b, exact, partial = scene
    import_id, page = _preview(client, _statement(exact, partial).encode("utf-8"))
    assert page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].count("<tr>") == 2
    assert "Showing the first 2 of 3 rows." in page
    only = _text(client.get(f"/staff/statements/{import_id}?outcome=matched&lang=en"))
    assert "Showing the first" not in only


def test_statements_page_lists_recent_imports(client, session, scene):
    _staff, _a, _b, exact, partial = scene
    import_id, _page = _preview(client, _statement(exact, partial).encode("utf-8"), "march.csv")
    page = _text(client.get("/staff/statements?lang=en"))
    assert "march.csv" in page and "preview only" in page
    _commit(client, import_id)
    page = _text(client.get("/staff/statements?lang=en"))
    assert "march.csv" in page and "applied" in page
    assert reconcile() == []


def test_transfer_confirmed_by_hand_is_not_counted_twice_when_the_statement_arrives(client, session):
    from datetime import timedelta as _td
    from sqlalchemy import func as _func, select as _select

    from kindcity.models import Payment as _Payment
    from kindcity.services import Actor as _Actor
    from kindcity.services import pledges as _svc
    from kindcity.services.reconcile import reconcile as _reconcile

    staff = f.user("staff", centre_code="district-welfare", money_staff=True)
    need = f.need(target=500_000)
    donor = f.user("donor")
    pledge = _svc.create_direct_pledge(_Actor(donor), _svc.PledgeRequest(
        need_id=need.id, amount=100_000, units=None, display="anonymous", message="", on_cancel="refund"),
        hold_for=_td(days=7))
    session.commit()
    f.login(client, staff)
    today = seoul_today().isoformat()  # a payment cannot be received before its pledge was made
    client.post(f"/staff/pledges/{pledge.id}/payments", data={"amount": "100,000", "received_on": today,
                                                               "token": "hand-1"})
    csv_text = f"거래일시,입금액,입금자명,잔액\n{today} 09:00,100000,홍길동 {pledge.reference},100000\n"
    response = client.post("/staff/statements", data={"statement": (io.BytesIO(csv_text.encode()), "s.csv")},
                           content_type="multipart/form-data")
    import_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    preview = client.get(f"/staff/statements/{import_id}?lang=en").get_data(as_text=True)
    assert "Already recorded by hand" in preview
    client.post(f"/staff/statements/{import_id}/commit")
    session.refresh(need)
    assert need.confirmed == 100_000
    payments = session.scalars(_select(_Payment).where(_Payment.pledge_id == pledge.id)).all()
    assert len(payments) == 1 and payments[0].bank_fingerprint is not None
    assert session.scalar(_select(_func.count()).select_from(_Payment)) >= 1
    assert _reconcile() == []
