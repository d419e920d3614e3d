"""Invariant 1 under real concurrency, on PostgreSQL: 20 donors race for the last 100,000원.

Each thread has its own session and commits for real, so this runs in a database of its own
(created and dropped here) rather than inside the rolled-back test transaction.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kindcity.domain.pledges import PledgeRuleError, PledgeStatus
from kindcity.domain.time import utcnow
from kindcity.extensions import db
from kindcity.models import Need, Pledge
from kindcity.services import Actor
from kindcity.services import pledges as svc
from kindcity.services.reconcile import reconcile
from tests import factories as f
from tests.pgdb import own_postgres_app

pytestmark = pytest.mark.postgres_only
THREADS = 20


@pytest.fixture(scope="module")
def live_app():
    with own_postgres_app("concurrency", SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS + 5,
                                                                   "max_overflow": 5}) as app:
        yield app

def _setup(app, target: int, already: int, donors: int):
    """A need with ``already`` won received through the real services, so the journal agrees."""
    with app.app_context():
        need = f.need(target=target)
        first = f.user("donor")
        pledge = svc.create_direct_pledge(Actor(first), svc.PledgeRequest(
            need_id=need.id, amount=already, units=None, display="anonymous", message="", on_cancel="refund"),
            hold_for=timedelta(days=7))
        svc.record_payment(Actor(None), pledge.id, already, source="manual", external_id=f"setup-{pledge.id}",
                           received_at=utcnow())
        people = [f.user("donor") for _ in range(donors)]
        db.session.commit()
        return need.id, [p.id for p in people]


def _race(app, work, donor_ids):
    barrier = threading.Barrier(len(donor_ids))
    results: list[tuple[str, int]] = []
    lock = threading.Lock()

    def run(donor_id, index):
        with app.app_context():
            barrier.wait()
            try:
                amount = work(donor_id, index)
                db.session.commit()
                outcome = ("won", amount)
            except PledgeRuleError as error:
                db.session.rollback()
                outcome = (error.code, 0)
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=run, args=(d, i)) for i, d in enumerate(donor_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _atomic(need_id, amounts):
    def work(donor_id, index):
        from kindcity.models import User
        donor = db.session.get(User, donor_id)
        amount = amounts[index]
        svc.create_direct_pledge(Actor(donor), svc.PledgeRequest(
            need_id=need_id, amount=amount, units=None, display="anonymous", message="", on_cancel="refund"),
            hold_for=timedelta(days=7))
        return amount
    return work


def _naive(need_id, amounts):
    """The read-then-write version that invariant 1 forbids: check the gap in Python, then write."""
    def work(donor_id, index):
        need = db.session.get(Need, need_id)
        amount = amounts[index]
        if need.gap < amount:
            raise PledgeRuleError("not_enough_left", gap=need.gap)
        time.sleep(0.05)  # the window between read and write that real traffic also has
        need.reserved = need.reserved + amount
        db.session.add(Pledge(reference=f"KCN{index:05d}", donor_id=donor_id, need_id=need_id, amount=amount,
                              held=amount, paid=0, status=PledgeStatus.AWAITING_PAYMENT))
        return amount
    return work


def _state(app, need_id):
    with app.app_context():
        need = db.session.get(Need, need_id)
        racing = (Pledge.need_id == need_id, Pledge.paid == 0)
        pledged = db.session.scalar(select(func.coalesce(func.sum(Pledge.held), 0)).where(*racing))
        winners = db.session.scalar(select(func.count(Pledge.id)).where(*racing))
        problems = [p for p in reconcile() if f"need {need_id}" in p.subject]
        db.session.remove()
        return need, int(pledged), winners, problems


def test_twenty_donors_race_for_the_last_100000(live_app):
    need_id, donors = _setup(live_app, target=1_000_000, already=900_000, donors=THREADS)
    results = _race(live_app, _atomic(need_id, [100_000] * THREADS), donors)
    won = [r for r in results if r[0] == "won"]
    assert len(results) == THREADS
    assert len(won) == 1
    assert {code for code, _ in results if code != "won"} == {"not_enough_left"}
    need, pledged, winners, problems = _state(live_app, need_id)
    assert (need.reserved, need.confirmed, need.gap) == (100_000, 900_000, 0)
    assert pledged == 100_000 and winners == 1 and problems == []


def test_mixed_amounts_never_exceed_the_gap(live_app):
    amounts = [10_000, 20_000, 30_000, 50_000, 70_000, 5_000, 15_000, 25_000, 40_000, 60_000,
               1_000, 2_000, 3_000, 80_000, 90_000, 35_000, 45_000, 55_000, 65_000, 75_000]
    need_id, donors = _setup(live_app, target=500_000, already=400_000, donors=THREADS)
    results = _race(live_app, _atomic(need_id, amounts), donors)
    won_total = sum(amount for code, amount in results if code == "won")
    need, pledged, winners, problems = _state(live_app, need_id)
    assert 0 < won_total <= 100_000
    assert need.reserved == pledged == won_total
    assert need.reserved + need.confirmed <= need.target
    assert problems == []


def test_control_the_same_race_catches_a_naive_read_then_write(live_app):
    need_id, donors = _setup(live_app, target=1_000_000, already=900_000, donors=THREADS)
    results = _race(live_app, _naive(need_id, [100_000] * THREADS), donors)
    won = [r for r in results if r[0] == "won"]
    need, pledged, winners, problems = _state(live_app, need_id)
    # The naive version lets several donors "win" the same 100,000원: the pledges promise more than
    # the gap, and the need's reserved column lost updates. This is exactly what the test detects.
    assert len(won) > 1
    assert pledged > 100_000
    assert pledged != need.reserved
