"""A match offer's cap under real concurrency, on PostgreSQL: 20 residents' gifts land at the same
moment and the offer has money for only some of them.

Each thread has its own session and commits for real, so this runs in a database of its own
(created and dropped here) rather than inside the rolled-back test transaction.
"""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kindcity.domain.time import seoul_today, utcnow
from kindcity.extensions import db
from kindcity.models import MatchAllocation, MatchOfferTerms, Need, Organisation
from kindcity.services import Actor
from kindcity.services import matching as matching_service
from kindcity.services import pledges as pledge_service
from kindcity.services.reconcile import reconcile
from tests import factories as f
from tests.pgdb import own_postgres_app

pytestmark = pytest.mark.postgres_only
THREADS = 20


@pytest.fixture(scope="module")
def live_app():
    with own_postgres_app("offer_concurrency", SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS + 5,
                                                                         "max_overflow": 5}) as app:
        yield app

def _setup(app, *, cap: int, gift: int, same_need: bool):
    """A paid 1:1 offer with ``cap``, and 20 residents' unpaid gifts of ``gift`` won each."""
    with app.app_context():
        org = Organisation(name="○○엘리베이터", kind="business")
        db.session.add(org)
        db.session.flush()
        sponsor = f.user("donor", organisation=org)
        today = seoul_today()
        offer = matching_service.create_match_offer(Actor(sponsor), matching_service.OfferRequest(
            amount=cap, ratio_num=1, ratio_den=1, criteria=matching_service.CriteriaInput(),
            starts_on=today, ends_on=today + timedelta(days=30), display="organisation"), today)
        pledge_service.record_payment(Actor(None), offer.id, cap, source="manual", external_id=f"offer-{offer.id}",
                                      received_at=utcnow())
        shared = f.need(target=100_000_000) if same_need else None
        gifts = []
        for _ in range(THREADS):
            need = shared or f.need(target=10_000_000)
            gifts.append(pledge_service.create_direct_pledge(Actor(f.user("donor")), pledge_service.PledgeRequest(
                need_id=need.id, amount=gift, units=None, display="anonymous", message="", on_cancel="refund"),
                hold_for=timedelta(days=7)).id)
        db.session.commit()
        return offer.id, gifts


def _pay_all_at_once(app, gifts, gift: int) -> list[str]:
    barrier = threading.Barrier(len(gifts))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(pledge_id):
        with app.app_context():
            barrier.wait()
            try:
                pledge_service.record_payment(Actor(None), pledge_id, gift, source="manual",
                                              external_id=f"gift-{pledge_id}", received_at=utcnow())
                db.session.commit()
                outcome = "ok"
            except Exception as error:  # noqa: BLE001 - any failure is reported, never swallowed
                db.session.rollback()
                outcome = f"{type(error).__name__}: {error}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(p,)) for p in gifts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _state(app, offer_id):
    with app.app_context():
        terms = db.session.get(MatchOfferTerms, offer_id)
        placed = db.session.scalar(select(func.coalesce(func.sum(MatchAllocation.amount), 0))
                                   .where(MatchAllocation.pledge_id == offer_id))
        events = db.session.scalar(select(func.count(MatchAllocation.id)).where(MatchAllocation.pledge_id == offer_id))
        over = db.session.scalar(select(func.count(Need.id)).where(Need.reserved + Need.confirmed > Need.target))
        problems = reconcile()
        db.session.remove()
        return terms.matched, int(placed), events, over, problems


@pytest.mark.parametrize("same_need", [False, True], ids=["twenty-needs", "one-need"])
def test_concurrent_gifts_never_push_an_offer_past_its_cap(live_app, same_need):
    offer_id, gifts = _setup(live_app, cap=75_000, gift=10_000, same_need=same_need)
    outcomes = _pay_all_at_once(live_app, gifts, 10_000)
    assert outcomes == ["ok"] * THREADS  # every gift is recorded; only the match is bounded
    matched, placed, events, over, problems = _state(live_app, offer_id)
    # 20 gifts of 10,000 would ask for 200,000: the offer adds exactly its cap and not a won more.
    assert matched == placed == 75_000
    assert events == 8  # seven whole matches of 10,000 and the last 5,000
    assert over == 0 and problems == []
