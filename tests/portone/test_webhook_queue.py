"""The PortOne webhook on the PostgreSQL queue, with a real worker: PortOne gets its 200 before anything
is read back or recorded; the job then records the payment; a replay is a no-op. PortOne answering 500
fails the job, and the queue's retry records the payment once."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from kindcity.extensions import db
from kindcity.models import KrPayment, Pledge
from kindcity.payments.korean import app_kr_provider, close_app_kr_providers
from kindcity.services import Actor, kr_payments
from kindcity.services import pledges as pledge_service
from tests import factories as f
from tests.jobqueue import (
    check_provider_event_is_queued_then_recorded_once,
    count,
    queue_app,
    start_worker,
    stop,
    wait_until,
)

from .conftest import WEBHOOK_SECRET, sign
from .fake_portone import API_SECRET, STORE_ID

pytestmark = pytest.mark.postgres_only



def _portone(fake) -> dict:
    return dict(KINDCITY_PORTONE_API_SECRET=API_SECRET, KINDCITY_PORTONE_STORE_ID=STORE_ID,
                KINDCITY_PORTONE_WEBHOOK_SECRET=WEBHOOK_SECRET, KINDCITY_PORTONE_API_BASE=fake.url,
                KINDCITY_PORTONE_CHANNEL_CARD="channel-key-card")


def _paid_pledge(app, fake, amount: int) -> tuple[int, str, dict]:
    with app.app_context():
        need = f.need(target=300_000)
        donor = f.user("donor")
        pledge = pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
            need_id=need.id, amount=amount, units=None, display="anonymous", message="", on_cancel="refund",
            method="portone"), hold_for=timedelta(minutes=30))
        db.session.commit()
        kr_payments.open_window(Actor(donor), app_kr_provider(app), pledge.id, "card", order_name="test")
        payment_id = db.session.scalar(select(KrPayment.payment_id).where(KrPayment.pledge_id == pledge.id))
        db.session.commit()
        pledge_id = pledge.id
        db.session.remove()
    fake.open_window(payment_id, amount=amount)
    return pledge_id, payment_id, fake.pay(payment_id)


def _post(app, message: dict):
    body = json.dumps(message["event"], separators=(",", ":"), ensure_ascii=False)
    t = int(time.time())
    return app.test_client().post("/webhooks/portone", data=body.encode(), headers={
        "webhook-id": message["id"], "webhook-timestamp": str(t), "webhook-signature": sign(message["id"], t, body),
        "Content-Type": "application/json"})


def test_the_webhook_answers_before_the_job_runs_and_the_job_records_the_payment_once(fake_portone_server,
                                                                                      tmp_path):
    fake = fake_portone_server
    fake.reset()
    with queue_app("qportone", tmp_path, **_portone(fake)) as app:
        pledge_id, payment_id, message = _paid_pledge(app, fake, 70_000)
        check_provider_event_is_queued_then_recorded_once(
            app, tmp_path, post=lambda: _post(app, message), task="portone.event", pledge_id=pledge_id,
            event_id=message["id"], records_event_first=True,
            provider_reads=lambda: len([r for r in fake.requests if r[:2] == ("GET", f"/payments/{payment_id}")]))
        close_app_kr_providers(app)


def test_portone_answering_500_fails_the_job_and_the_queue_retries_it(fake_portone_server, tmp_path):
    fake = fake_portone_server
    fake.reset()
    with queue_app("qportone500", tmp_path, **_portone(fake)) as app:
        pledge_id, payment_id, message = _paid_pledge(app, fake, 40_000)
        assert _post(app, message).get_json()["outcome"] == "queued"
        fake.fail_next = 500  # the job's first read of the payment
        worker = start_worker(app, log=tmp_path / "worker.log")
        try:
            wait_until(lambda: count(app, "SELECT count(*) FROM procrastinate_jobs WHERE task_name = "
                                           "'portone.event' AND status = 'succeeded'") == 1, 90,
                       what="the event's job, retried")
        finally:
            stop(worker)
        assert count(app, "SELECT attempts FROM procrastinate_jobs WHERE task_name = 'portone.event'") == 2
        assert ("GET", f"/payments/{payment_id}") in [r[:2] for r in fake.requests]
        assert count(app, "SELECT count(*) FROM payments") == 1
        with app.app_context():
            assert db.session.get(Pledge, pledge_id).paid == 40_000
            db.session.remove()
        close_app_kr_providers(app)
