"""The demo card provider: the embedded default without Stripe keys, a local page where no money moves."""
from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from kindcity.domain.pledges import PledgeStatus
from kindcity.domain.time import utcnow
from kindcity.extensions import db
from kindcity.models import Need, Payment, Pledge, Refund
from kindcity.payments import app_card_provider
from kindcity.services import Actor
from kindcity.services import needs as need_service
from kindcity.services import pledges as pledge_service
from kindcity.services.reconcile import reconcile
from kindcity.jobs.card import send_card_refunds
from tests import factories as f


@pytest.fixture
def demo(app, monkeypatch):
    monkeypatch.setitem(app.config, "KINDCITY_STRIPE_SECRET_KEY", "")
    monkeypatch.setitem(app.config, "KINDCITY_ENV", "development")


def _browser(app, donor):
    browser = app.test_client()
    f.login(browser, donor)
    return browser


def _pledge_by_card(browser, need, amount="50,000", on_cancel="refund"):
    response = browser.post(f"/me/needs/{need.id}/pledge?lang=en", data={
        "amount": amount, "display": "anonymous", "on_cancel": on_cancel, "method": "card"})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    checkout = browser.get(response.headers["Location"])
    assert checkout.status_code == 303
    return checkout.headers["Location"]


def test_a_donor_pays_on_the_demo_page_and_the_need_moves(app, demo, client, session):
    need = f.need(target=200_000)
    donor = f.user("donor")
    browser = _browser(app, donor)
    location = _pledge_by_card(browser, need)
    assert location.startswith("/demo-checkout/demo_cs_")

    page = html.unescape(browser.get(location + "?lang=en").get_data(as_text=True))
    assert "This is a demonstration: no card is charged and no money moves." in page
    assert "50,000" in page
    paid = browser.post(location, data={"action": "pay"})

    pledge = db.session.scalars(select(Pledge).where(Pledge.donor_id == donor.id)).one()
    assert paid.status_code == 303 and paid.headers["Location"].endswith(f"/me/pledges/{pledge.id}/card/return")
    db.session.refresh(pledge)
    payment = db.session.scalars(select(Payment).where(Payment.pledge_id == pledge.id)).one()
    assert (pledge.status, pledge.paid, payment.source, payment.amount) == (PledgeStatus.PAID, 50_000, "demo", 50_000)
    assert db.session.get(Need, need.id).confirmed == 50_000
    # Pressing pay again (a reload, a double click) records nothing more.
    browser.post(location, data={"action": "pay"})
    assert len(db.session.scalars(select(Payment).where(Payment.pledge_id == pledge.id)).all()) == 1
    assert reconcile() == []


def test_a_declined_demo_card_moves_nothing(app, demo, client, session):
    need = f.need(target=200_000)
    donor = f.user("donor")
    browser = _browser(app, donor)
    location = _pledge_by_card(browser, need)
    declined = browser.post(location + "?lang=en", data={"action": "decline"}, follow_redirects=True)
    assert "the card was declined" in html.unescape(declined.get_data(as_text=True))
    pledge = db.session.scalars(select(Pledge).where(Pledge.donor_id == donor.id)).one()
    db.session.refresh(pledge)
    assert pledge.status == PledgeStatus.AWAITING_PAYMENT and pledge.paid == 0
    assert db.session.scalars(select(Payment)).all() == []


def test_the_demo_page_is_only_the_donors_own(app, demo, client, session):
    need = f.need(target=200_000)
    location = _pledge_by_card(_browser(app, f.user("donor")), need)
    stranger = _browser(app, f.user("donor"))
    assert stranger.get(location).status_code == 404
    assert stranger.post(location, data={"action": "pay"}).status_code == 404
    assert db.session.scalars(select(Payment)).all() == []


def test_an_expired_demo_checkout_cannot_be_paid(app, demo, client, session):
    need = f.need(target=100_000)
    donor = f.user("donor")
    browser = _browser(app, donor)
    location = _pledge_by_card(browser, need)
    pledge = db.session.scalars(select(Pledge).where(Pledge.donor_id == donor.id)).one()
    assert pledge_service.release_expired(now=utcnow() + timedelta(minutes=31)) == [pledge.id]
    db.session.commit()
    page = html.unescape(browser.get(location + "?lang=en").get_data(as_text=True))
    assert "There is nothing to pay on this pledge now." in page and 'value="pay"' not in page
    assert browser.post(location, data={"action": "pay"}).status_code == 303
    assert db.session.scalars(select(Payment).where(Payment.pledge_id == pledge.id)).all() == []


def test_a_cancelled_need_refunds_demo_card_money_the_same_way(app, demo, client, session):
    need = f.need(target=200_000)
    donor = f.user("donor")
    browser = _browser(app, donor)
    browser.post(_pledge_by_card(browser, need), data={"action": "pay"})
    pledge = db.session.scalars(select(Pledge).where(Pledge.donor_id == donor.id)).one()
    staff = f.user("staff")
    need_service.cancel(Actor(staff), db.session.get(Need, need.id), "사업 취소")
    db.session.commit()
    refund = db.session.scalars(select(Refund).where(Refund.pledge_id == pledge.id)).one()
    assert (refund.status, refund.amount, refund.reason) == ("due", 50_000, "need_cancelled")

    sent = send_card_refunds(app, app_card_provider(app))

    db.session.refresh(refund)
    assert sent == {refund.id: "refund_done"}
    assert refund.status == "done" and refund.external_id.startswith("demo_re_")
    assert send_card_refunds(app, app_card_provider(app)) == {}  # nothing twice
    assert reconcile() == []


def test_demo_checkout_refused_when_stripe_is_configured_or_in_production(app, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "KINDCITY_STRIPE_SECRET_KEY", "")
    need = f.need(target=200_000)
    donor = f.user("donor")
    browser = _browser(app, donor)
    location = _pledge_by_card(browser, need)
    monkeypatch.setitem(app.config, "KINDCITY_ENV", "production")
    assert browser.get(location).status_code == 404
    assert browser.post(location, data={"action": "pay"}).status_code == 404
    form = html.unescape(browser.get(f"/me/needs/{need.id}/pledge?lang=en").get_data(as_text=True))
    assert 'value="card"' not in form
    refused = browser.post(f"/me/needs/{need.id}/pledge?lang=en", data={
        "amount": "10,000", "display": "anonymous", "on_cancel": "refund", "method": "card"})
    assert refused.status_code == 200 and "Not a valid choice" in html.unescape(refused.get_data(as_text=True))
    assert len(db.session.scalars(select(Pledge).where(Pledge.donor_id == donor.id)).all()) == 1
    assert db.session.scalars(select(Refund)).all() == []
