"""Public pages only read: with the upkeep scheduled (kindcity/jobs/upkeep.py), a GET performs no
INSERT, UPDATE nor DELETE, even when a need's deadline has passed and a hold has run out (the two
things the upkeep makes so in the database)."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from kindcity.domain.time import seoul_today
from kindcity.extensions import db
from kindcity.jobs import run_committed
from kindcity.services import Actor
from kindcity.services import pledges as pledge_service
from kindcity.web.caching import clear_page_cache
from tests import factories as f

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE)\b", re.IGNORECASE)


@contextmanager
def statements_seen():
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)


@pytest.fixture
def overdue(session):
    overdue_need = f.need(title="어제 마감된 수요", deadline=seoul_today() - timedelta(days=1))
    open_need = f.need(title="열린 수요", target=1_000_000)
    donor = f.user("donor")
    session.commit()
    pledge_service.create_direct_pledge(
        Actor(donor, "test"), pledge_service.PledgeRequest(need_id=open_need.id, amount=100_000, units=None,
                                                           display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(seconds=-1))  # its hold has already run out
    session.commit()
    run_committed(only="figures.refresh")  # the district figures' recount, as the committer would
    return overdue_need, open_need


def test_no_public_get_writes(client, session, overdue):
    overdue_need, open_need = overdue
    paths = ["/", "/needs", "/needs?status=expired", f"/needs/{overdue_need.id}", f"/needs/{open_need.id}",
             "/matching", "/refer", "/refer/status", "/impact", f"/needs/{overdue_need.id}/impact", "/donors",
             "/account/login", "/account/register", "/account/reset",  # /healthz reads nothing at all
             "/api/v1/needs", f"/api/v1/needs/{overdue_need.id}", "/api/v1/impact",
             f"/api/v1/needs/{open_need.id}/impact", f"/api/v1/needs/{open_need.id}/ledger.csv"]
    for path in paths:
        clear_page_cache()  # a first view: the worst case, every query runs
        with statements_seen() as seen:
            response = client.get(path)
        assert response.status_code == 200, path
        assert seen, path  # the listener is live: the page did read
        writes = [s for s in seen if WRITE.match(s)]
        assert writes == [], f"GET {path} wrote: {writes}"


def test_the_counter_sees_a_write(client, session):
    """The listener catches writes, so the test above can fail."""
    with statements_seen() as seen:
        f.need(title="새 수요")
        session.commit()
    assert any(WRITE.match(s) for s in seen)


def test_the_staff_matching_page_writes_nothing_before_the_first_run(client, session):
    """Before any engine run or toggle there is no settings row: the page shows the defaults
    (runs apply themselves) and does not make the row on a GET."""
    admin = f.user("admin")
    session.commit()
    f.login(client, admin)
    with statements_seen() as seen:
        response = client.get("/staff/matching")
    assert response.status_code == 200
    assert 'id="auto-apply-state"' in response.get_data(as_text=True)
    writes = [s for s in seen if WRITE.match(s)]
    assert writes == [], f"GET /staff/matching wrote: {writes}"
