"""Stripe without the internet: the real ``stripe`` library talks to a fake Stripe on 127.0.0.1.

``stripe_on`` points the session's app at the fake (through KINDCITY_STRIPE_API_BASE, Stripe's base
address setting) for one test; webhooks are signed with a test secret exactly as Stripe signs them:
``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from kindcity.extensions import db
from kindcity.models import Pledge, ProviderEvent
from kindcity.payments import close_app_providers
from kindcity.services import Actor
from kindcity.services import pledges as pledge_service
from tests import factories as f

from .fake_stripe import API_KEY, FakeStripe

WEBHOOK_SECRET = "whsec_test_kindcity_0123456789abcdef"
CARD_HOLD = timedelta(minutes=32)


@pytest.fixture(scope="session")
def fake_stripe_server(app):
    fake = FakeStripe()
    yield fake
    close_app_providers(app)
    fake.close()


@pytest.fixture
def stripe_on(app, fake_stripe_server, monkeypatch):
    """The app uses Stripe (the fake) for this test; the fake starts empty."""
    fake_stripe_server.reset()
    for key, value in {"KINDCITY_STRIPE_SECRET_KEY": API_KEY, "KINDCITY_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                       "KINDCITY_STRIPE_API_BASE": fake_stripe_server.url, "KINDCITY_STRIPE_ACCOUNT": "",
                       "KINDCITY_STRIPE_NETWORK_RETRIES": 0}.items():
        monkeypatch.setitem(app.config, key, value)
    return fake_stripe_server


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header for ``payload``, computed the way Stripe computes it."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode("utf-8"), f"{t}.{payload}".encode("utf-8"), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def deliver(client, event: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None,
            signature: str | None = None):
    payload = json.dumps(event, separators=(",", ":"))
    header = signature if signature is not None else sign(payload, secret, timestamp)
    return client.post("/webhooks/stripe", data=payload.encode("utf-8"),
                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})


def handled(client, event: dict, **kwargs) -> str | None:
    """Deliver ``event`` and return what became of it. The webhook answers at once ("queued", or
    "duplicate" and "ignored" for what needs no job); the work is a job, run here in-process right
    after the commit (kindcity/jobs/), and what it did is the outcome recorded for the event (None when
    nothing was recorded: an event Stripe would not show us)."""
    response = deliver(client, event, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()["outcome"]
    if answer != "queued":
        return answer
    return db.session.scalar(select(ProviderEvent.outcome).where(ProviderEvent.event_id == event["id"]))


@dataclass
class CardPledge:
    pledge_id: int
    need_id: int
    donor_id: int
    session_id: str | None = None

    def row(self) -> Pledge:
        pledge = db.session.get(Pledge, self.pledge_id)
        db.session.refresh(pledge)
        return pledge


def card_pledge(client, need, amount: int, *, donor=None, on_cancel: str = "refund") -> CardPledge:
    """A donor pledges by card through the real pledge form (in a browser of their own) and is sent to Checkout."""
    donor = donor or f.user("donor")
    client = client.application.test_client()
    f.login(client, donor)
    response = client.post(f"/me/needs/{need.id}/pledge?lang=en", data={
        "amount": f"{amount:,}", "display": "anonymous", "message": "", "on_cancel": on_cancel, "method": "card"})
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    pledge_id = db.session.scalar(select(Pledge.id).where(Pledge.donor_id == donor.id).order_by(Pledge.id.desc()))
    checkout = client.get(response.headers["Location"])
    assert checkout.status_code == 303, checkout.get_data(as_text=True)[:800]
    session_id = db.session.scalar(select(Pledge.checkout_session_id).where(Pledge.id == pledge_id))
    return CardPledge(pledge_id=pledge_id, need_id=need.id, donor_id=donor.id, session_id=session_id)


def card_pledge_by_service(need, amount: int, *, on_cancel: str = "refund", hold: timedelta = CARD_HOLD):
    donor = f.user("donor")
    return pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
        need_id=need.id, amount=amount, units=None, display="anonymous", message="", on_cancel=on_cancel,
        method="card"), hold_for=hold), donor
