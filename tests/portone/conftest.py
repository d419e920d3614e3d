"""PortOne without the internet: the real ``portone_server_sdk`` talks to a fake PortOne on 127.0.0.1.

``portone_on`` points the session's app at the fake (through KINDCITY_PORTONE_API_BASE, a test-only
setting that production refuses) for one test. Webhooks are signed as PortOne signs them (Standard
Webhooks): ``webhook-signature: v1,<base64 HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<raw body>")>``,
where the secret is the base64 after ``whsec_``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from kindcity.extensions import db
from kindcity.models import KrPayment, Pledge, ProviderEvent
from kindcity.payments.korean import close_app_kr_providers
from tests import factories as f

from .fake_portone import API_SECRET, STORE_ID, FakePortOne

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"kindcity-portone-test-webhook-key").decode()


@pytest.fixture(scope="session")
def fake_portone_server(app):
    fake = FakePortOne()
    yield fake
    close_app_kr_providers(app)
    fake.close()


@pytest.fixture
def portone_on(app, fake_portone_server, monkeypatch):
    """The app uses PortOne (the fake) for this test; the fake starts empty."""
    fake_portone_server.reset()
    for key, value in {"KINDCITY_PORTONE_API_SECRET": API_SECRET, "KINDCITY_PORTONE_STORE_ID": STORE_ID,
                       "KINDCITY_PORTONE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                       "KINDCITY_PORTONE_API_BASE": fake_portone_server.url,
                       "KINDCITY_PORTONE_CHANNEL_CARD": "channel-key-card",
                       "KINDCITY_PORTONE_CHANNEL_EASY_PAY": "channel-key-easy-pay",
                       "KINDCITY_PORTONE_CHANNEL_VIRTUAL_ACCOUNT": "channel-key-va"}.items():
        monkeypatch.setitem(app.config, key, value)
    return fake_portone_server


def sign(message_id: str, timestamp: int, payload: str, secret: str = WEBHOOK_SECRET) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.{payload}".encode("utf-8"), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def deliver(client, message: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None,
            signature: str | None = None, payload: str | None = None):
    """POST one of the fake's webhooks to /webhooks/portone, signed as PortOne signs it."""
    body = payload if payload is not None else json.dumps(message["event"], separators=(",", ":"), ensure_ascii=False)
    t = int(time.time()) if timestamp is None else timestamp
    headers = {"webhook-id": message["id"], "webhook-timestamp": str(t),
               "webhook-signature": signature if signature is not None else sign(message["id"], t, body, secret),
               "Content-Type": "application/json"}
    return client.post("/webhooks/portone", data=body.encode("utf-8"), headers=headers)


def handled(client, message: dict, **kwargs) -> str | None:
    """Deliver ``message`` and return what became of it. The webhook answers at once ("queued", or
    "duplicate" and "ignored" for what needs no job); the work is a ``portone.event`` job, run here
    in-process right after the commit (kindcity/jobs/), and what it did is the outcome recorded for the
    delivery ("received" while it is not processed)."""
    response = deliver(client, message, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()["outcome"]
    if answer != "queued":
        return answer
    return db.session.scalar(select(ProviderEvent.outcome).where(ProviderEvent.event_id == message["id"])
                             .execution_options(populate_existing=True))


@dataclass
class KrPledge:
    pledge_id: int
    need_id: int
    donor_id: int
    payment_id: str
    client: object

    def row(self) -> Pledge:
        pledge = db.session.get(Pledge, self.pledge_id)
        db.session.refresh(pledge)
        return pledge


def kr_pledge(client, need, amount: int, *, method: str = "card", donor=None, on_cancel: str = "refund") -> KrPledge:
    """A donor pledges through the real pledge form (in a browser of their own) and reaches the payment page."""
    donor = donor or f.user("donor")
    client = client.application.test_client()
    f.login(client, donor)
    response = client.post(f"/me/needs/{need.id}/pledge?lang=en", data={
        "amount": f"{amount:,}", "display": "anonymous", "message": "", "on_cancel": on_cancel,
        "method": f"kr_{method}"})
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    assert response.headers["Location"].endswith(f"/kr/{method}")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200, page.get_data(as_text=True)[:800]
    pledge_id = db.session.scalar(select(Pledge.id).where(Pledge.donor_id == donor.id).order_by(Pledge.id.desc()))
    payment_id = db.session.scalar(select(KrPayment.payment_id).where(KrPayment.pledge_id == pledge_id))
    assert f'data-payment-id="{payment_id}"' in page.get_data(as_text=True)
    return KrPledge(pledge_id=pledge_id, need_id=need.id, donor_id=donor.id, payment_id=payment_id, client=client)
