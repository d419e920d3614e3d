"""Invariant 4 under real concurrency, on PostgreSQL: PortOne delivers about one payment twice at the same moment.

Each delivery runs on its own thread, through its own test client, session and connection, and commits for
real, in a database of its own. A barrier holds the deliveries together once each is verified, so they race
for the event's row and for the payment: exactly one may record the money.
"""
from __future__ import annotations

import json
import os
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kindcity.domain.pledges import PledgeStatus
from kindcity.extensions import db
from kindcity.models import KrPayment, Need, Payment, Pledge, ProviderEvent
from kindcity.payments.korean import app_kr_provider, close_app_kr_providers
from kindcity.services import Actor
from kindcity.services import kr_payments
from kindcity.services import pledges as pledge_service
from kindcity.services.reconcile import reconcile
from tests import factories as f
from tests.pgdb import own_postgres_app

from .conftest import WEBHOOK_SECRET, sign
from .fake_portone import API_SECRET, STORE_ID, expiry

pytestmark = pytest.mark.postgres_only
ROUNDS = 4


@pytest.fixture(scope="module")
def live_app(fake_portone_server):
    url = os.environ.get("KINDCITY_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI: the concurrency tests need PostgreSQL (KINDCITY_TEST_DATABASE_URL)")
        pytest.skip("needs PostgreSQL (KINDCITY_TEST_DATABASE_URL); `make test` runs it")
    with own_postgres_app("portone_concurrency", SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 5},
                          KINDCITY_PORTONE_API_SECRET=API_SECRET, KINDCITY_PORTONE_STORE_ID=STORE_ID,
                          KINDCITY_PORTONE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                          KINDCITY_PORTONE_API_BASE=fake_portone_server.url,
                          KINDCITY_PORTONE_CHANNEL_CARD="channel-key-card",
                          KINDCITY_PORTONE_CHANNEL_VIRTUAL_ACCOUNT="channel-key-va") as app:
        yield app
        close_app_kr_providers(app)


@pytest.fixture
def fake(fake_portone_server):
    fake_portone_server.reset()
    return fake_portone_server


def _pledge_with_window(app, fake, method: str, amount: int = 80_000):
    with app.app_context():
        need = f.need(target=200_000)
        donor = f.user("donor")
        pledge = pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
            need_id=need.id, amount=amount, units=None, display="anonymous", message="", on_cancel="refund",
            method="portone"), hold_for=timedelta(minutes=30))
        db.session.commit()
        kr_payments.open_window(Actor(donor), app_kr_provider(app), pledge.id, method, order_name="test")
        payment_id = db.session.scalar(select(KrPayment.payment_id).where(KrPayment.pledge_id == pledge.id))
        db.session.commit()
        ids = (pledge.id, need.id)
        db.session.remove()
    fake.open_window(payment_id, amount=amount, method=method)
    return ids, payment_id


def _deliver_at_once(app, messages, monkeypatch) -> list:
    barrier = threading.Barrier(len(messages), timeout=20)
    real_record = kr_payments.record_event

    def wait_then_record(provider, notice):
        barrier.wait()
        return real_record(provider, notice)

    monkeypatch.setattr(kr_payments, "record_event", wait_then_record)
    results: list = [None] * len(messages)

    def deliver(index, message):
        body = json.dumps(message["event"], separators=(",", ":"))
        t = int(time.time())
        response = app.test_client().post("/webhooks/portone", data=body.encode(), headers={
            "webhook-id": message["id"], "webhook-timestamp": str(t),
            "webhook-signature": sign(message["id"], t, body), "Content-Type": "application/json"})
        results[index] = (response.status_code, (response.get_json(silent=True) or {}).get("outcome"))

    threads = [threading.Thread(target=deliver, args=(i, m)) for i, m in enumerate(messages)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _state(app, pledge_id, need_id):
    with app.app_context():
        pledge, need = db.session.get(Pledge, pledge_id), db.session.get(Need, need_id)
        payments = db.session.scalar(select(func.count(Payment.id)).where(Payment.pledge_id == pledge_id))
        events = db.session.scalar(select(func.count(ProviderEvent.id)).where(ProviderEvent.pledge_id == pledge_id,
                                                                              ProviderEvent.processed_at.is_not(None)))
        problems = [p for p in reconcile() if f"pledge {pledge_id}" in p.subject or f"need {need_id}" in p.subject]
        state = (pledge.status, pledge.paid, need.confirmed, need.reserved, payments, events, problems)
        db.session.remove()
        return state


def test_one_delivery_twice_at_once_is_processed_once(live_app, fake, monkeypatch):
    for _ in range(ROUNDS):
        (pledge_id, need_id), payment_id = _pledge_with_window(live_app, fake, "card")
        message = fake.pay(payment_id)
        results = _deliver_at_once(live_app, [message, message], monkeypatch)
        assert sorted(results) == [(200, "duplicate"), (200, "queued")]  # one job; the other delivery asks none
        assert _state(live_app, pledge_id, need_id) == (PledgeStatus.PAID, 80_000, 80_000, 0, 1, 1, [])


def test_two_deliveries_about_one_deposit_at_once_record_it_once(live_app, fake, monkeypatch):
    for _ in range(ROUNDS):
        (pledge_id, need_id), payment_id = _pledge_with_window(live_app, fake, "virtual_account")
        issued = fake.issue_virtual_account(payment_id, expires_at=expiry())
        paid = fake.deposit(payment_id)
        results = _deliver_at_once(live_app, [issued, paid], monkeypatch)
        assert results == [(200, "queued"), (200, "queued")]
        with live_app.app_context():  # each delivery's job ran in its own request, right after its commit
            outcomes = sorted(db.session.scalars(select(ProviderEvent.outcome).where(
                ProviderEvent.event_id.in_([issued["id"], paid["id"]]))))
            db.session.remove()
        assert outcomes == ["payment_already_recorded", "payment_recorded"]
        assert _state(live_app, pledge_id, need_id) == (PledgeStatus.PAID, 80_000, 80_000, 0, 1, 2, [])
