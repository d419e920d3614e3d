"""Staff and donor pages at a fixed number of queries, however many rows they show or sum: a donor with
1,000 pledges (/me/, /me/impact, the history CSV) and the staff matching page over their pooled money,
the referral queue, the preview of a 10,000-row bank statement, and the audit log.

Each page is counted with few rows and with many: the counts are equal and under a fixed bound, so
nothing runs one query per row (N+1). Runs on SQLite and on PostgreSQL (KINDCITY_TEST_DATABASE_URL).
"""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import insert

from kindcity.domain.time import utcnow
from kindcity.models import AuditEntry
from kindcity.services import referrals as referral_service
from tests import factories as f
from tests.web.test_query_counts import add_donor_pledges, counting

BOUND = 40  # statements for one view of any of these pages


def _count(client, url: str) -> tuple[int, str]:
    with counting() as statements:  # the body read inside: the history CSV streams its rows
        response = client.get(url)
        page = response.get_data(as_text=True)
    assert response.status_code == 200, (url, response.status_code)
    return len(statements), page


def test_a_donor_with_a_thousand_pledges_costs_what_one_with_eight_does(app, client, session):
    staff, donor = f.user("staff"), f.user("donor")
    session.commit()
    clients = {"donor": client, "staff": app.test_client()}
    f.login(clients["donor"], donor)
    f.login(clients["staff"], staff)
    pages = (("donor", "/me/"), ("donor", "/me/impact"), ("donor", "/me/history.csv"), ("staff", "/staff/matching"),
             ("staff", "/staff/pledges"))
    for who, url in pages:  # a first view may write once-only rows (the matching settings)
        assert clients[who].get(url).status_code == 200, url
    counts = {url: [] for _, url in pages}
    have = 0
    for each_kind in (2, 250):  # four kinds of pledge: 8, then 1,000 pledges
        titles = add_donor_pledges(session, donor, staff, each_kind - have)
        have = each_kind
        for who, url in pages:
            statements, page = _count(clients[who], url)
            counts[url].append(statements)
            if url == "/me/history.csv":
                assert titles["paid"] in page
    for url, (few, many) in counts.items():
        assert few == many <= BOUND, f"{url}: {few} statements with 8 pledges, {many} with 1,000"
    # The pages of 1,000 pledges (25 a page: 40 pages) and 250 needs (20 a page: 13) cost what the first
    # does (counted again: the counts above include the district figures' recount after the inserts),
    # and each draws one page of rows, not all of them.
    again = {first: _count(clients["donor"], first)[0] for first in ("/me/", "/me/impact")}
    for url, first, rows in (("/me/?page=2", "/me/", 25), ("/me/?page=40", "/me/", 25),
                             ("/me/impact?page=2", "/me/impact", 20), ("/me/impact?page=13", "/me/impact", 10)):
        statements, page = _count(clients["donor"], url)
        assert statements == again[first] <= BOUND, (url, statements, again[first])
        drawn = re.findall(r"<code>Q[DP]\d{6}</code>" if first == "/me/" else r'<h2><a href="/needs/\d+/impact">', page)
        assert len(drawn) == rows, (url, len(drawn))
    assert clients["donor"].get("/me/?page=41").status_code == 404
    assert clients["donor"].get("/me/impact?page=14").status_code == 404


def _referrals(count: int, start: int) -> None:
    for n in range(start, start + count):
        referral_service.submit(f"203.0.{n // 200}.{n % 200}", referral_service.ReferralRequest(
            dong="hwajeong1" if n % 2 else "pungam", urgency="urgent" if n % 3 == 0 else "normal",
            situation=f"이웃 어르신의 난방이 끊긴 것 같습니다 ({n})", contact="이웃", consent=True))


def test_the_referral_queue_costs_the_same_with_three_referrals_or_two_hundred(app, session):
    admin = f.user("admin")
    session.commit()
    client = app.test_client()
    f.login(client, admin)
    _referrals(3, 0)
    session.commit()
    few, page = _count(client, "/staff/referrals")
    assert len(set(re.findall(r'href="/staff/referrals/(\d+)"', page))) == 3
    _referrals(197, 3)
    session.commit()
    many, page = _count(client, "/staff/referrals")
    assert len(set(re.findall(r'href="/staff/referrals/(\d+)"', page))) == 50  # the first of four pages
    assert few == many <= BOUND, (few, many)
    last, page = _count(client, "/staff/referrals?page=4")
    assert len(set(re.findall(r'href="/staff/referrals/(\d+)"', page))) == 50 and last == many


def _statement(rows: int) -> bytes:
    lines = ["거래일시,적요,출금액,입금액,입금자명,잔액"]
    start = utcnow().replace(microsecond=0) - timedelta(days=2)
    for n in range(rows):
        at = (start + timedelta(seconds=n)).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f'{at},타행이체,0,"{10_000 + n}",입금자{n},"{1_000_000 + n}"')
    return ("\n".join(lines) + "\n").encode("utf-8")


def _preview(client, rows: int) -> str:
    boundary = "kindcity-statement-boundary"
    # The body built here: the test client spools a large multipart body to a file it never closes.
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="statement"; filename="s{rows}.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n").encode() + _statement(rows) + f"\r\n--{boundary}--\r\n".encode()
    response = client.post("/staff/statements", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 303, response.get_data(as_text=True)[:1000]
    return response.headers["Location"]


def test_the_preview_of_a_ten_thousand_row_statement_costs_what_a_ten_row_one_does(app, session):
    staff = f.user("staff", money_staff=True)
    session.commit()
    client = app.test_client()
    f.login(client, staff)
    few, small = _count(client, _preview(client, 10))
    many, large = _count(client, _preview(client, 10_000))
    assert "입금자9999" in large or "10,000" in large
    assert few == many <= BOUND, (few, many)


def test_an_audit_log_page_costs_the_same_with_sixty_entries_or_five_thousand(app, session):
    admin = f.user("admin")
    actors = [f.user("staff") for _ in range(20)]
    session.commit()
    client = app.test_client()
    f.login(client, admin)

    def add(count: int, start: int) -> None:
        at = utcnow()
        session.execute(insert(AuditEntry), [
            {"at": at - timedelta(seconds=n), "actor_id": actors[n % 20].id, "action": "need.approve",
             "entity": "need", "entity_id": 800_000 + n} for n in range(start, start + count)])
        session.commit()

    add(60, 0)
    few, page = _count(client, "/staff/audit")
    add(4_940, 60)
    many, page = _count(client, "/staff/audit")
    older = re.search(r'href="(/staff/audit\?before=\d+)"', page).group(1)
    deeper, _ = _count(client, older)
    assert few == many <= BOUND and deeper <= many, (few, many, deeper)


def test_the_donor_wall_and_its_pages_cost_the_same_with_few_donors_or_many(app, session):
    """/donors and every page of a group read the one stored wall row and slice it: the same
    statements with 13 recognised donors or 3,130, on the first page and the last."""
    from tests.web.test_donor_wall_pages import store_wall

    client = app.test_client()
    counts = {}
    for residents in (10, 3_000):
        store_wall(session, {"good_shops": 3, "good_companies": 0, "churches_and_civic": 120, "residents": residents})
        last = -(-residents // 100)
        for url in ("/donors?lang=ko", "/donors?group=residents&lang=en", f"/donors?group=residents&page={last}&lang=ko"):
            key = url.replace(f"page={last}", "page=last")
            counts.setdefault(key, []).append(_count(client, url)[0])
    page = _count(client, "/donors?group=residents&page=17&lang=en")[1]  # one page of the 3,000 drawn
    assert len(re.findall(r'<span class="wall-name">residents-\d+</span>', page)) == 100
    for url, (few, many) in counts.items():
        assert 1 <= few == many <= BOUND, f"{url}: {few} statements with 10 residents, {many} with 3,000"
