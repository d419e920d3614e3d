"""Every public page runs a fixed number of SQL statements, whatever the size of the data.

Counted with SQLAlchemy's ``before_cursor_execute`` event on the engine: reads and writes (SELECT,
INSERT, UPDATE, DELETE), not transaction control (BEGIN, SAVEPOINT). Each page is counted with 10
and with 1,000 open needs, and its need with 3 and with 60 supporters (named, organisations and
anonymous), on a first view (rendered), a second view (served from the page store) and a
revalidation (304).

Pages registered with ``@public_page`` (kindcity/web/caching.py) must each have a URL in PAGES below:
a new public page is one line here.

Logged-in pages (a donor's own pages, the staff money queue and matching page, the audit log) are
counted with few and with many rows behind them: the counts must be equal.
"""
from __future__ import annotations

import itertools
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, select

from kindcity.domain.needs import NeedStatus
from kindcity.domain.time import seoul_today, utcnow
from kindcity.extensions import db
from kindcity.jobs import run_committed
from kindcity.models import (AuditEntry, BeneficiaryGroup, Category, Dong, LedgerLine, LedgerTransaction, Need, Organisation,
                             Pledge, Refund, User)
from kindcity.web.caching import clear_page_cache, public_page_endpoints
from kindcity.services.receipts import default_organisation
from tests import factories as f

# endpoint -> URL, given the id of a need with supporters. One line per public page.
PAGES = {
    "public.home": lambda need_id: "/",
    "public.needs": lambda need_id: "/needs?sort=newest",
    "public.need": lambda need_id: f"/needs/{need_id}",
    "api.needs": lambda need_id: "/api/v1/needs?per_page=100",
    "api.need": lambda need_id: f"/api/v1/needs/{need_id}",
    "public.impact": lambda need_id: "/impact?period=12m",
    "public.need_impact": lambda need_id: f"/needs/{need_id}/impact",
    "public.impact_reports_list": lambda need_id: "/impact/reports",
    "public.need_card_image": lambda need_id: f"/needs/{need_id}/card.png",
    "public.donors": lambda need_id: "/donors",
    "api.impact": lambda need_id: "/api/v1/impact",
    "api.need_impact": lambda need_id: f"/api/v1/needs/{need_id}/impact",
    "api.need_ledger_csv": lambda need_id: f"/api/v1/needs/{need_id}/ledger.csv",
    "public.privacy": lambda need_id: "/privacy",
    "public.terms": lambda need_id: "/terms",
}
SMALL, LARGE = (10, 3), (1_000, 60)   # (open needs, supporters of the need shown)
MAX_RENDERED = 10                      # a first view: version, version with horizon, the page (reads write nothing)
MAX_REVALIDATED = 1                    # served again or 304: the data version only

_seq = itertools.count(1)


@contextmanager
def counting():
    statements: list[str] = []

    def _count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(None, 1)[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)


def _ids(session):
    def first(model):
        return session.scalar(select(model.id).order_by(model.id).limit(1))
    return first(Category), first(Dong), first(BeneficiaryGroup)


def add_open_needs(session, author: User, count: int) -> None:
    """Many open needs in one INSERT: the page must not care how many there are."""
    category, dong, group = _ids(session)
    now, today = utcnow(), seoul_today()
    session.execute(insert(Need), [{
        "title": f"대량 수요 {n}", "summary": "요약", "description": "설명", "category_id": category,
        "dong_id": dong, "group_id": group, "beneficiary_count": 5, "target": 1_000_000 + n,
        "deadline": today + timedelta(days=5 + n % 300), "receiving_org_id": default_organisation().id,
        "centre_id": author.centre_id, "author_id": author.id, "status": NeedStatus.OPEN, "approved_at": now,
        "created_at": now, "updated_at": now, "reserved": 0, "confirmed": n % 7 * 1000,
    } for n in range(count)])
    session.commit()


def add_supporters(session, need: Need, count: int) -> None:
    """Donors who paid and whose money is on the need: a third named, a third organisations, a third anonymous."""
    now = utcnow()
    orgs = [session.execute(insert(Organisation).values(name=f"후원 단체 {next(_seq)}", kind="business")
                            .returning(Organisation.id)).scalar_one() for _ in range(count // 3 + 1)]
    for n in range(count):
        display = ("name", "organisation", "anonymous")[n % 3]
        donor_id = session.execute(insert(User).values(
            email=f"supporter{next(_seq)}@kindcity.example", password_hash="x", display_name=f"후원자 {n}",
            role="donor", organisation_id=orgs[n // 3] if display == "organisation" else None)
            .returning(User.id)).scalar_one()
        pledge_id = session.execute(insert(Pledge).values(
            reference=f"QC{next(_seq):06d}", donor_id=donor_id, need_id=need.id, kind="direct", amount=10_000,
            method="bank", display=display, message=f"응원합니다 {n}", on_cancel="refund", status="paid",
            created_at=now, paid=10_000, held=0).returning(Pledge.id)).scalar_one()
        transaction_id = session.execute(insert(LedgerTransaction).values(
            entry="received", pledge_id=pledge_id, need_id=need.id, memo="", created_at=now)
            .returning(LedgerTransaction.id)).scalar_one()
        session.execute(insert(LedgerLine), [
            {"transaction_id": transaction_id, "account": "cash", "amount": 10_000},
            {"transaction_id": transaction_id, "account": f"pledge:{pledge_id}", "amount": -10_000},
            {"transaction_id": transaction_id, "account": f"pledge:{pledge_id}", "amount": 10_000},
            {"transaction_id": transaction_id, "account": f"need:{need.id}", "amount": -10_000}])
    session.execute(Need.__table__.update().where(Need.id == need.id)
                    .values(confirmed=Need.confirmed + 10_000 * count, updated_at=utcnow()))
    session.commit()
    run_committed(only="figures.refresh")  # the district figures' recount, as the committer would


def measure(client, url: str) -> tuple[int, int, int, int]:
    """Statements for: a first view, a second view, a revalidation; and the first view's status."""
    with counting() as first:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    etag = response.headers["ETag"]
    with counting() as second:
        assert client.get(url).status_code == 200
    with counting() as revalidated:
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    return len(first), len(second), len(revalidated), response.status_code


@pytest.fixture
def counted_pages(app, client, session):
    """Counts for every page at both sizes: {endpoint: {size: (first, second, revalidated)}}."""
    clear_page_cache()
    author = f.user("staff")
    shown = f.need(author=author, title="후원자가 있는 수요", target=100_000_000)
    session.commit()
    results: dict[str, dict] = {endpoint: {} for endpoint in PAGES}
    have_needs, have_supporters = 1, 0
    for needs, supporters in (SMALL, LARGE):
        add_open_needs(session, author, needs - have_needs)
        add_supporters(session, shown, supporters - have_supporters)
        have_needs, have_supporters = needs, supporters
        assert session.scalar(select(db.func.count()).select_from(Need).where(Need.status == "open")) == needs
        for endpoint, url in PAGES.items():
            clear_page_cache()  # a first view pays for the horizon check too: the worst case
            first, second, revalidated, _status = measure(client, url(shown.id))
            results[endpoint][needs] = (first, second, revalidated)
    return results


def test_every_public_page_has_a_query_count_case(app):
    missing = public_page_endpoints(app) - set(PAGES)
    assert not missing, f"add a URL to PAGES in {__file__} for: {sorted(missing)}"
    assert {"public.home", "public.needs", "public.need", "api.needs", "api.need"} <= public_page_endpoints(app)


def test_public_pages_run_a_fixed_number_of_queries_whatever_the_data_size(counted_pages):
    for endpoint, by_size in counted_pages.items():
        small, large = by_size[SMALL[0]], by_size[LARGE[0]]
        assert small == large, f"{endpoint}: (first, second, 304) statements {small} with {SMALL}, {large} with {LARGE}"
        first, second, revalidated = large
        assert first <= MAX_RENDERED, f"{endpoint}: {first} statements on a first view"
        assert second <= MAX_REVALIDATED, f"{endpoint}: {second} statements when served from the page store"
        assert revalidated <= MAX_REVALIDATED, f"{endpoint}: {revalidated} statements for a 304"


def test_supporters_are_listed_without_a_query_per_donor(client, session):
    """The need page names organisation donors by their organisation, loaded with the pledges."""
    need = f.need(title="단체 후원 수요", target=50_000_000)
    session.commit()
    add_supporters(session, need, 9)
    clear_page_cache()
    with counting() as statements:
        page = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "후원 단체" in page and "후원자 0" in page and "응원합니다 0" in page
    assert not [s for s in statements if "FROM organisations" in s and "JOIN" not in s], statements


# --- logged-in pages: a donor with many pledges costs what a donor with few does ---------------------

FEW, MANY = 2, 25  # pledges of each kind (paid, awaiting transfer, money waiting to be moved)
LOGGED_IN_PAGES = (("donor", "/me/"), ("donor", "/me/impact"), ("donor", "/me/history.csv"),
                   ("staff", "/staff/pledges"), ("staff", "/staff/matching"))
SHOWN = {"/me/": ["paid", "awaiting", "to_move"], "/me/impact": ["paid"], "/me/history.csv": ["paid", "to_move"],
         "/staff/pledges": ["awaiting", "to_move"], "/staff/matching": ["pooled"]}


def add_donor_pledges(session, donor: User, author: User, count: int) -> dict[str, str]:
    """``count`` pledges of each kind, each on a need of its own (of the author's centre): paid and
    placed on the need; awaiting transfer within a day of its reservation's end; cancelled with its
    money left on the pledge to be moved to a similar need, with a refund due; and a paid pledge to
    the pooled fund with a refund due. Returns the title of the last need of each kind (the
    reference of the last pooled pledge)."""
    category, dong, group = _ids(session)
    now, today = utcnow(), seoul_today()
    titles = {}
    for n in range(count):
        for kind, status, paid, held in (("paid", "paid", 10_000, 0), ("awaiting", "awaiting_payment", 0, 10_000),
                                         ("to_move", "closed", 10_000, 0)):
            titles[kind] = title = f"{kind} 수요 {next(_seq)}"
            need_id = session.execute(insert(Need).values(
                title=title, summary="요약", description="설명", category_id=category, dong_id=dong,
                group_id=group, beneficiary_count=5, target=1_000_000, deadline=today + timedelta(days=30),
                receiving_org_id=default_organisation().id, centre_id=author.centre_id, author_id=author.id,
                status=NeedStatus.OPEN, approved_at=now, created_at=now, updated_at=now, reserved=held,
                confirmed=10_000 if kind == "paid" else 0).returning(Need.id)).scalar_one()
            pledge_id = session.execute(insert(Pledge).values(
                reference=f"QD{next(_seq):06d}", donor_id=donor.id, need_id=need_id, kind="direct", amount=10_000,
                method="bank", display="name", message="", on_cancel="similar" if kind == "to_move" else "refund",
                status=status, created_at=now, paid=paid, held=held,
                hold_expires_at=now + timedelta(hours=12)).returning(Pledge.id)).scalar_one()
            if paid:
                transaction_id = session.execute(insert(LedgerTransaction).values(
                    entry="received", pledge_id=pledge_id, need_id=need_id, memo="", created_at=now)
                    .returning(LedgerTransaction.id)).scalar_one()
                placed_on = f"need:{need_id}" if kind == "paid" else f"pledge:{pledge_id}"
                session.execute(insert(LedgerLine), [
                    {"transaction_id": transaction_id, "account": "cash", "amount": 10_000},
                    {"transaction_id": transaction_id, "account": placed_on, "amount": -10_000}])
            if kind == "to_move":
                session.execute(insert(Refund).values(pledge_id=pledge_id, amount=1_000, reason="test",
                                                      status="due", created_at=now))
        titles["pooled"] = reference = f"QP{next(_seq):06d}"
        pledge_id = session.execute(insert(Pledge).values(
            reference=reference, donor_id=donor.id, need_id=None, kind="pooled", amount=10_000, method="bank",
            display="name", message="", on_cancel="refund", status="paid", created_at=now, paid=10_000,
            held=0).returning(Pledge.id)).scalar_one()
        transaction_id = session.execute(insert(LedgerTransaction).values(
            entry="received", pledge_id=pledge_id, memo="", created_at=now).returning(LedgerTransaction.id)).scalar_one()
        session.execute(insert(LedgerLine), [
            {"transaction_id": transaction_id, "account": "cash", "amount": 10_000},
            {"transaction_id": transaction_id, "account": f"pledge:{pledge_id}", "amount": -10_000}])
        session.execute(insert(Refund).values(pledge_id=pledge_id, amount=1_000, reason="test", status="due",
                                              created_at=now))
    session.commit()
    return titles


def test_logged_in_pages_cost_the_same_queries_whatever_the_number_of_pledges(app, client, session):
    staff, donor = f.user("staff"), f.user("donor")
    session.commit()
    clients = {"donor": client, "staff": app.test_client()}
    f.login(clients["donor"], donor)
    f.login(clients["staff"], staff)
    for who, url in LOGGED_IN_PAGES:  # a first view may write once-only rows (the matching settings)
        assert clients[who].get(url).status_code == 200, url
    counts: dict[str, list[int]] = {url: [] for _, url in LOGGED_IN_PAGES}
    have = 0
    for size in (FEW, MANY):
        titles = add_donor_pledges(session, donor, staff, size - have)
        have = size
        for who, url in LOGGED_IN_PAGES:
            with counting() as statements:  # the body read inside: the history CSV streams its rows
                response = clients[who].get(url)
                page = response.get_data(as_text=True)
            assert response.status_code == 200, (url, response.status_code)
            assert all(titles[kind] in page for kind in SHOWN[url]), (url, SHOWN[url])
            counts[url].append(len(statements))
    for url, (few, many) in counts.items():
        assert few == many, f"{url}: {few} statements with {FEW} pledges of each kind, {many} with {MANY}"


def test_the_audit_log_pages_by_keyset_with_its_actors_in_a_fixed_number_of_queries(app, session):
    """Entries newest first, 50 a page, Next and Previous by cursor: every entry once in order, ties on
    the time broken by id, and each page costs the same statements whatever the actors."""
    admin = f.user("admin")
    actors = [f.user("staff") for _ in range(5)]
    at = utcnow()
    session.execute(insert(AuditEntry), [
        {"at": at - timedelta(minutes=n // 3), "actor_id": actors[n % 5].id, "action": "need.approve",
         "entity": "need", "entity_id": 900_000 + n} for n in range(120)])
    session.commit()
    client = app.test_client()
    f.login(client, admin)
    url, seen, counts = "/staff/audit", [], []
    while url:
        with counting() as statements:
            page = client.get(url).get_data(as_text=True)
        counts.append(len(statements))
        seen += [int(n) for n in re.findall(r"#(9\d{5})", page)]
        older = re.search(r'href="(/staff/audit\?before=\d+)"', page)
        url = older.group(1) if older else None
    # newest first: a smaller n is newer; within the same minute the larger id (larger n) comes first
    assert seen == sorted(range(900_000, 900_120), key=lambda n: ((n - 900_000) // 3, -n))
    assert len(set(counts)) == 1, counts
    back = re.search(r'href="(/staff/audit\?after=\d+)"', page).group(1)
    previous = client.get(back).get_data(as_text=True)
    assert [int(n) for n in re.findall(r"#(9\d{5})", previous)] == seen[50:100]
