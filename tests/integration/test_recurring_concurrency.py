"""Recurring pooled pledges under real concurrency, on PostgreSQL: two sessions race to make the same
instalment, and exactly one wins.

Each thread has its own session and commits for real, so this runs in a database of its own (created
and dropped here) rather than inside the rolled-back test transaction.
"""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text

from kindcity.domain.recurrence import due_date
from kindcity.domain.time import seoul_today
from kindcity.extensions import db
from kindcity.models import Pledge, PooledSeries, PooledTerms
from kindcity.services import Actor, recurring
from kindcity.services import matching as matching_service
from kindcity.services.reconcile import reconcile
from tests import factories as f
from tests.pgdb import own_postgres_app

pytestmark = pytest.mark.postgres_only
TODAY = seoul_today()


@pytest.fixture(scope="module")
def live_app():
    with own_postgres_app("recurring_concurrency", SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 6, "max_overflow": 2}) as app:
        yield app


def _series(app) -> int:
    with app.app_context():
        request = matching_service.PooledRequest(
            amount=1_000_000, criteria=matching_service.CriteriaInput(categories=("medical-transport",)),
            cap_percent=50)
        first = recurring.create_series(Actor(f.user("donor")), request, "monthly", TODAY)
        series_id = db.session.get(PooledTerms, first.id).series_id
        db.session.commit()
        db.session.remove()
        return series_id


def _waiting_on_a_lock(app) -> bool:
    with app.app_context():
        waiting = db.session.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                         "AND wait_event_type = 'Lock'"))
        db.session.remove()
        return bool(waiting)


def _race(app, work, won) -> tuple[list, bool]:
    """Run ``work`` in two threads with sessions of their own, released at the same moment. The one that
    made something keeps its transaction open until the other is seen waiting on its lock (the collision
    the test is about), then commits. Returns the outcomes and whether they collided."""
    barrier = threading.Barrier(2)
    results: list = []
    collided = threading.Event()
    guard = threading.Lock()

    def run():
        with app.app_context():
            barrier.wait()
            try:
                outcome = work()
                deadline = time.monotonic() + 10
                while won(outcome) and time.monotonic() < deadline:
                    if _waiting_on_a_lock(app):
                        collided.set()
                        break
                    time.sleep(0.02)
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - any failure is reported, never swallowed
                db.session.rollback()
                outcome = f"{type(error).__name__}: {error}"
            finally:
                db.session.remove()
            with guard:
                results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, collided.is_set()


def _state(app, series_id):
    with app.app_context():
        periods = db.session.scalars(select(PooledTerms.period).where(PooledTerms.series_id == series_id)
                                     .order_by(PooledTerms.period)).all()
        orphans = db.session.scalar(select(func.count(Pledge.id)).where(
            Pledge.kind == "pooled", ~select(PooledTerms.pledge_id).where(PooledTerms.pledge_id == Pledge.id).exists()))
        problems = reconcile()
        db.session.remove()
        return list(periods), orphans, problems


def test_two_sessions_making_the_same_instalment_exactly_one_wins(live_app):
    """The database's unique (series, period) alone decides, with no lock taken first."""
    series_id = _series(live_app)

    def make():
        series = db.session.get(PooledSeries, series_id)
        pledge = recurring.insert_instalment(Actor(None), series, 2)
        return "made" if pledge is not None else "exists"

    outcomes, collided = _race(live_app, make, won=lambda outcome: outcome == "made")
    assert sorted(outcomes) == ["exists", "made"]
    assert collided  # the loser's insert really waited on the winner's uncommitted instalment
    periods, orphans, problems = _state(live_app, series_id)
    assert periods == [1, 2] and orphans == 0 and problems == []


def test_two_upkeep_runs_at_the_same_moment_make_one_instalment(live_app):
    series_id = _series(live_app)
    second_day = due_date(TODAY, "monthly", 2)

    outcomes, collided = _race(live_app, lambda: len(recurring.create_due_instalments(second_day)),
                               won=lambda outcome: outcome == 1)
    assert sorted(outcomes) == [0, 1] and collided
    periods, orphans, problems = _state(live_app, series_id)
    assert periods == [1, 2] and orphans == 0 and problems == []
