"""Invariant 4 under real concurrency, on PostgreSQL: Stripe delivers one event twice at the same moment.

Each delivery runs on its own thread, through its own test client, session and database connection,
and commits for real, so this runs in a database of its own (created and dropped here). A barrier
holds both deliveries after they have read the session back from Stripe, so both have passed the
"seen this event?" check and race for the event's row: exactly one may act.
"""
from __future__ import annotations

import json
import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kindcity.domain.pledges import PledgeStatus
from kindcity.extensions import db
from kindcity.models import Need, Payment, Pledge, ProviderEvent
from kindcity.payments import app_card_provider, close_app_providers
from kindcity.services import Actor
from kindcity.services import card as card_service
from kindcity.services import pledges as pledge_service
from kindcity.services.reconcile import reconcile
from tests import factories as f
from tests.pgdb import PG_URL, own_postgres_app

from .conftest import WEBHOOK_SECRET, sign
from .fake_stripe import API_KEY

pytestmark = pytest.mark.postgres_only
ROUNDS = 5


@pytest.fixture(scope="module")
def live_app(fake_stripe_server):
    if not PG_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI: the concurrency tests need PostgreSQL (KINDCITY_TEST_DATABASE_URL)")
        pytest.skip("needs PostgreSQL (KINDCITY_TEST_DATABASE_URL); `make test` runs it")
    with own_postgres_app("stripe_concurrency", SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 5},
                          KINDCITY_STRIPE_SECRET_KEY=API_KEY, KINDCITY_STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                          KINDCITY_STRIPE_API_BASE=fake_stripe_server.url,
                          KINDCITY_STRIPE_NETWORK_RETRIES=0) as app:
        yield app
        close_app_providers(app)


@pytest.fixture
def fake(fake_stripe_server):
    fake_stripe_server.reset()
    return fake_stripe_server


def _paid_card_pledge(app, fake, amount=80_000):
    with app.app_context():
        need = f.need(target=200_000)
        donor = f.user("donor")
        pledge = pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
            need_id=need.id, amount=amount, units=None, display="anonymous", message="", on_cancel="refund",
            method="card"), hold_for=timedelta(minutes=32))
        db.session.commit()
        card_service.start_checkout(Actor(donor), app_card_provider(app), pledge.id, success_url="http://t/s",
                                    cancel_url="http://t/c", product_name="test")
        session_id = db.session.scalar(select(Pledge.checkout_session_id).where(Pledge.id == pledge.id))
        db.session.commit()
        ids = (pledge.id, need.id)
    return ids, fake.pay(session_id)


def _deliver_at_once(app, events, monkeypatch) -> list:
    """Deliver ``events`` on as many threads, held together after each has read Stripe back (in the job
    each webhook asks for, run in-process after its commit)."""
    barrier = threading.Barrier(len(events), timeout=20)
    real_read_back = card_service.read_back

    def read_back_then_wait(provider, notice):
        snapshot = real_read_back(provider, notice)
        barrier.wait()
        return snapshot

    monkeypatch.setattr(card_service, "read_back", read_back_then_wait)
    results: list = [None] * len(events)

    def deliver(index, event):
        payload = json.dumps(event, separators=(",", ":"))
        response = app.test_client().post("/webhooks/stripe", data=payload.encode(),
                                          headers={"Stripe-Signature": sign(payload)})
        body = response.get_json(silent=True) or {}
        results[index] = (response.status_code, body.get("outcome") or body.get("error") or response.get_data(as_text=True)[:300])

    threads = [threading.Thread(target=deliver, args=(i, e)) for i, e in enumerate(events)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _outcomes(app, pledge_id) -> list[str]:
    """What the jobs of the events did (on the in-process path, each ran right after its webhook's commit)."""
    with app.app_context():
        outcomes = sorted(db.session.scalars(select(ProviderEvent.outcome).where(ProviderEvent.pledge_id == pledge_id)))
        db.session.remove()
        return outcomes


def _state(app, pledge_id, need_id):
    with app.app_context():
        pledge, need = db.session.get(Pledge, pledge_id), db.session.get(Need, need_id)
        payments = db.session.scalar(select(func.count(Payment.id)).where(Payment.pledge_id == pledge_id))
        events = db.session.scalar(select(func.count(ProviderEvent.id)).where(ProviderEvent.pledge_id == pledge_id))
        problems = [p for p in reconcile() if f"pledge {pledge_id}" in p.subject or f"need {need_id}" in p.subject]
        state = (pledge.status, pledge.paid, need.confirmed, need.reserved, payments, events, problems)
        db.session.remove()
        return state


def test_one_event_delivered_twice_at_once_is_applied_once(live_app, fake, monkeypatch):
    for _ in range(ROUNDS):
        (pledge_id, need_id), event = _paid_card_pledge(live_app, fake)
        results = _deliver_at_once(live_app, [event, event], monkeypatch)
        assert results == [(200, "queued"), (200, "queued")]  # each answered at once; each job read Stripe back
        assert _outcomes(live_app, pledge_id) == ["payment_recorded"]
        assert _state(live_app, pledge_id, need_id) == (PledgeStatus.PAID, 80_000, 80_000, 0, 1, 1, [])


def test_two_events_about_one_payment_at_once_record_it_once(live_app, fake, monkeypatch):
    """Different event ids (completed and a late expired for the same paid session): the row locks decide."""
    for _ in range(ROUNDS):
        (pledge_id, need_id), completed = _paid_card_pledge(live_app, fake)
        expired = dict(completed, id=completed["id"] + "_x", type="checkout.session.expired")
        results = _deliver_at_once(live_app, [completed, expired], monkeypatch)
        assert results == [(200, "queued"), (200, "queued")]
        assert _outcomes(live_app, pledge_id) == ["payment_already_recorded", "payment_recorded"]
        assert _state(live_app, pledge_id, need_id) == (PledgeStatus.PAID, 80_000, 80_000, 0, 1, 2, [])
