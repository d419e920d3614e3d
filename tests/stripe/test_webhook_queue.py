"""The Stripe webhook on the PostgreSQL queue, with a real worker: Stripe gets its 200 before anything
is read back or recorded; the job then records the payment; a replay is a no-op."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from kindcity.extensions import db
from kindcity.models import Pledge
from kindcity.payments import app_card_provider, close_app_providers
from kindcity.services import Actor
from kindcity.services import card as card_service
from kindcity.services import pledges as pledge_service
from tests import factories as f
from tests.jobqueue import check_provider_event_is_queued_then_recorded_once, queue_app

from .conftest import WEBHOOK_SECRET, sign
from .fake_stripe import API_KEY

pytestmark = pytest.mark.postgres_only



def test_the_webhook_answers_before_the_job_runs_and_the_job_records_the_payment_once(fake_stripe_server, tmp_path):
    fake_stripe_server.reset()
    with queue_app("qwebhook", tmp_path, KINDCITY_STRIPE_SECRET_KEY=API_KEY,
                   KINDCITY_STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, KINDCITY_STRIPE_API_BASE=fake_stripe_server.url,
                   KINDCITY_STRIPE_NETWORK_RETRIES=0) as app:
        with app.app_context():
            need = f.need(target=300_000)
            donor = f.user("donor")
            pledge = pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
                need_id=need.id, amount=80_000, units=None, display="anonymous", message="", on_cancel="refund",
                method="card"), hold_for=timedelta(minutes=32))
            db.session.commit()
            card_service.start_checkout(Actor(donor), app_card_provider(app), pledge.id, success_url="http://t/s",
                                        cancel_url="http://t/c", product_name="test")
            session_id = db.session.scalar(select(Pledge.checkout_session_id).where(Pledge.id == pledge.id))
            db.session.commit()
            pledge_id = pledge.id
        event = fake_stripe_server.pay(session_id)
        payload = json.dumps(event, separators=(",", ":"))

        def post():
            return app.test_client().post("/webhooks/stripe", data=payload.encode(),
                                          headers={"Stripe-Signature": sign(payload)})

        check_provider_event_is_queued_then_recorded_once(
            app, tmp_path, post=post, task="card.event", pledge_id=pledge_id, event_id=event["id"],
            provider_reads=lambda: len(fake_stripe_server.calls("GET", f"/v1/checkout/sessions/{session_id}")))
        close_app_providers(app)
