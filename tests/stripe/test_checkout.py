"""Starting a card payment: the Checkout Session kindcity asks Stripe for, and what the donor sees."""
from __future__ import annotations

import html
from datetime import timedelta

from sqlalchemy import func, select

from kindcity import jobs
from kindcity.domain.pledges import PledgeStatus
from kindcity.domain.time import utcnow
from kindcity.extensions import db
from kindcity.models import Need, Payment, Pledge, Refund
from kindcity.payments import app_card_provider
from kindcity.services import card as card_service
from kindcity.services.reconcile import reconcile
from tests import factories as f

from .conftest import card_pledge, deliver, handled


def _values(node) -> list[str]:
    if isinstance(node, dict):
        return [v for value in node.values() for v in _values(value)]
    if isinstance(node, list):
        return [v for value in node for v in _values(value)]
    return [str(node)]


def test_a_card_pledge_asks_stripe_for_a_krw_checkout_in_whole_won(app, stripe_on, client, session):
    need = f.need(target=500_000, title="암 환자 서울 병원 왕복 교통비", group="cancer-patients")
    before = utcnow()
    cp = card_pledge(client, need, 150_000)

    created = stripe_on.calls("POST", "/v1/checkout/sessions")
    assert len(created) == 1
    params = created[0]["params"]
    pledge = cp.row()
    assert params["mode"] == "payment" and params["currency"] == "krw"
    price = params["line_items"][0]["price_data"]
    assert price["currency"] == "krw" and price["unit_amount"] == "150000"  # KRW has no minor unit: never x100
    assert params["line_items"][0]["quantity"] == "1"
    assert params["client_reference_id"] == str(pledge.id)
    reference = {"pledge_id": str(pledge.id), "need_id": str(need.id), "reference": pledge.reference}
    assert params["metadata"] == reference and params["payment_intent_data"]["metadata"] == reference
    # Nothing about beneficiaries leaves kindcity: not the need's title, not its group.
    assert not any("암" in value or "cancer" in value for value in _values(params))
    assert int(params["expires_at"]) == int(pledge.hold_expires_at.timestamp())
    minutes = (pledge.hold_expires_at - before).total_seconds() / 60
    assert 32 <= minutes < 33  # 30 minutes of card hold + Stripe's clock margin
    assert created[0]["idempotency_key"] == card_service.checkout_key(pledge)
    assert params["success_url"] == f"http://kindcity.test/me/pledges/{pledge.id}/card/return"
    assert params["cancel_url"] == f"http://kindcity.test/me/pledges/{pledge.id}/card/cancelled"
    assert pledge.method == "card" and pledge.status == PledgeStatus.AWAITING_PAYMENT
    assert pledge.checkout_session_id == stripe_on.only_session()["id"]
    assert db.session.get(Need, need.id).reserved == 150_000


def test_the_donor_is_sent_to_stripe_and_comes_back_to_the_same_session(app, stripe_on, client, session):
    need = f.need(target=500_000)
    donor = f.user("donor")
    browser = app.test_client()
    f.login(browser, donor)
    response = browser.post(f"/me/needs/{need.id}/pledge", data={
        "amount": "50,000", "display": "anonymous", "on_cancel": "refund", "method": "card"})
    pledge = db.session.scalars(select(Pledge).where(Pledge.donor_id == donor.id)).one()
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/me/pledges/{pledge.id}/card")
    first = browser.get(f"/me/pledges/{pledge.id}/card")
    again = browser.get(f"/me/pledges/{pledge.id}/card")
    url = stripe_on.only_session()["url"]
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"] == url
    assert len(stripe_on.calls("POST", "/v1/checkout/sessions")) == 1
    # A second donor cannot open someone else's checkout.
    stranger = app.test_client()
    f.login(stranger, f.user("donor"))
    assert stranger.get(f"/me/pledges/{pledge.id}/card").status_code == 404


def test_the_pledge_page_offers_the_card_payment(app, stripe_on, client, session):
    need = f.need(target=500_000)
    donor = f.user("donor")
    cp = card_pledge(client, need, 50_000, donor=donor)
    browser = app.test_client()
    f.login(browser, donor)
    page = html.unescape(browser.get(f"/me/pledges/{cp.pledge_id}?lang=en").get_data(as_text=True))
    assert f"/me/pledges/{cp.pledge_id}/card" in page and "Pay by card" in page
    assert "Write this reference code" not in page  # no bank transfer instructions for a card pledge


def test_stripe_answering_500_then_succeeding_makes_one_session(app, stripe_on, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "KINDCITY_STRIPE_NETWORK_RETRIES", 1)
    stripe_on.fail_next("POST", "/v1/checkout/sessions", status=500)
    need = f.need(target=500_000)
    cp = card_pledge(client, need, 50_000)
    attempts = stripe_on.calls("POST", "/v1/checkout/sessions")
    assert len(attempts) == 2 and attempts[0]["idempotency_key"] == attempts[1]["idempotency_key"]
    assert len(stripe_on.objects["checkout.session"]) == 1 and cp.session_id is not None


def test_stripe_unavailable_keeps_the_pledge_and_the_donor_can_try_again(app, stripe_on, client, session):
    stripe_on.fail_next("POST", "/v1/checkout/sessions", status=503)
    need = f.need(target=500_000)
    donor = f.user("donor")
    browser = app.test_client()
    f.login(browser, donor)
    response = browser.post(f"/me/needs/{need.id}/pledge?lang=en", data={
        "amount": "50,000", "display": "anonymous", "on_cancel": "refund", "method": "card"})
    pledge_id = db.session.scalar(select(Pledge.id).where(Pledge.donor_id == donor.id))
    failed = browser.get(response.headers["Location"], follow_redirects=True)
    assert "not answering" in html.unescape(failed.get_data(as_text=True))
    pledge = db.session.get(Pledge, pledge_id)
    db.session.refresh(pledge)
    assert pledge.status == PledgeStatus.AWAITING_PAYMENT and pledge.checkout_session_id is None
    retry = browser.get(f"/me/pledges/{pledge_id}/card")
    assert retry.status_code == 303 and retry.headers["Location"] == stripe_on.only_session()["url"]


def test_the_receiving_organisations_account_is_used(app, stripe_on, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "KINDCITY_STRIPE_ACCOUNT", "acct_seogu_welfare")
    card_pledge(client, f.need(target=500_000), 50_000)
    assert [r["account"] for r in stripe_on.requests] == ["acct_seogu_welfare"]


def test_coming_back_from_stripe_shows_the_payment_before_the_webhook(app, stripe_on, client, session):
    need = f.need(target=500_000)
    donor = f.user("donor")
    cp = card_pledge(client, need, 50_000, donor=donor)
    event = stripe_on.pay(cp.session_id)
    browser = app.test_client()
    f.login(browser, donor)
    page = browser.get(f"/me/pledges/{cp.pledge_id}/card/return?lang=en", follow_redirects=True)
    assert "Your card payment is confirmed" in html.unescape(page.get_data(as_text=True))
    assert (cp.row().status, cp.row().paid) == (PledgeStatus.PAID, 50_000)
    # The webhook arrives afterwards: recorded already, nothing changes.
    assert handled(client, event) == "payment_already_recorded"
    assert db.session.scalar(select(func.count(Payment.id))) == 1


def test_leaving_checkout_keeps_the_reservation(app, stripe_on, client, session):
    need = f.need(target=500_000)
    donor = f.user("donor")
    cp = card_pledge(client, need, 50_000, donor=donor)
    browser = app.test_client()
    f.login(browser, donor)
    page = browser.get(f"/me/pledges/{cp.pledge_id}/card/cancelled?lang=en", follow_redirects=True)
    assert "You left the card payment page" in html.unescape(page.get_data(as_text=True))
    assert cp.row().status == PledgeStatus.AWAITING_PAYMENT and db.session.get(Need, need.id).reserved == 50_000


def test_a_completed_session_is_not_offered_again(app, stripe_on, client, session):
    need = f.need(target=500_000)
    donor = f.user("donor")
    cp = card_pledge(client, need, 50_000, donor=donor)
    stripe_on.pay(cp.session_id)  # paid; the webhook is not here yet
    browser = app.test_client()
    f.login(browser, donor)
    response = browser.get(f"/me/pledges/{cp.pledge_id}/card?lang=en", follow_redirects=True)
    assert "being confirmed" in html.unescape(response.get_data(as_text=True))
    assert len(stripe_on.calls("POST", "/v1/checkout/sessions")) == 1


def test_bank_pledges_do_not_touch_stripe(app, stripe_on, client, session):
    need = f.need(target=500_000)
    donor = f.user("donor")
    browser = app.test_client()
    f.login(browser, donor)
    before = utcnow()
    response = browser.post(f"/me/needs/{need.id}/pledge", data={
        "amount": "50,000", "display": "anonymous", "on_cancel": "refund"})  # no method: bank transfer
    pledge = db.session.scalars(select(Pledge).where(Pledge.donor_id == donor.id)).one()
    assert response.status_code == 302 and pledge.method == "bank"
    assert pledge.hold_expires_at - before >= timedelta(days=7) - timedelta(minutes=1)
    assert stripe_on.requests == []


# --- a pledge that ends closes its checkout page --------------------------------------------------

def _cancel_as_donor(app, cp):
    browser = app.test_client()
    f.login(browser, db.session.get(Pledge, cp.pledge_id).donor)
    return browser.post(f"/me/pledges/{cp.pledge_id}/cancel?lang=en")


def test_a_donor_cancelling_an_unpaid_card_pledge_closes_its_checkout_page(app, stripe_on, client, session):
    need = f.need(target=500_000)
    cp = card_pledge(client, need, 50_000)
    assert _cancel_as_donor(app, cp).status_code == 303
    assert [c["path"] for c in stripe_on.calls("POST", "/v1/checkout/sessions/")] == [
        f"/v1/checkout/sessions/{cp.session_id}/expire"]
    assert stripe_on.session(cp.session_id)["status"] == "expired"  # nobody can pay there any more
    pledge = cp.row()
    assert pledge.status == PledgeStatus.CANCELLED and db.session.get(Need, need.id).reserved == 0
    # Stripe then reports the page expired: nothing changes a second time.
    response = deliver(client, stripe_on.events[-1])
    assert response.status_code == 200 and stripe_on.events[-1]["type"] == "checkout.session.expired"
    db.session.refresh(pledge)
    assert pledge.status == PledgeStatus.CANCELLED and db.session.get(Need, need.id).reserved == 0
    assert db.session.scalar(select(func.count(Payment.id))) == 0


def test_staff_cancelling_a_card_pledge_close_its_page_too(app, stripe_on, client, session):
    staff = f.user("staff", centre_code="district-welfare")
    need = f.need(target=500_000, author=staff)
    cp = card_pledge(client, need, 50_000)
    f.login(client, staff)
    assert client.post(f"/staff/pledges/{cp.pledge_id}/cancel").status_code == 303
    assert stripe_on.session(cp.session_id)["status"] == "expired"


def test_a_page_paid_just_before_the_cancel_is_left_to_the_webhook(app, stripe_on, client, session):
    need = f.need(target=500_000)
    cp = card_pledge(client, need, 50_000, on_cancel="refund")
    paid = stripe_on.pay(cp.session_id)  # paid on Stripe; the webhook has not arrived yet
    assert _cancel_as_donor(app, cp).status_code == 303
    assert stripe_on.session(cp.session_id)["status"] == "complete"  # Stripe refused to expire it: fine
    assert deliver(client, paid).status_code == 200
    pledge = cp.row()
    assert pledge.paid == 50_000 and pledge.status == PledgeStatus.CANCELLED  # recorded...
    refund = db.session.scalars(select(Refund).where(Refund.pledge_id == pledge.id)).one()
    db.session.refresh(refund)
    assert (refund.amount, refund.status) == (50_000, "done")  # ...and sent back, as the donor chose
    assert reconcile() == []
    assert card_service.reconcile_with_provider(app_card_provider(app), utcnow() - timedelta(days=1)) == []


def test_closing_the_page_is_best_effort_when_stripe_is_down(app, stripe_on, client, session):
    need = f.need(target=500_000)
    cp = card_pledge(client, need, 50_000)
    stripe_on.fail_next("POST", f"/v1/checkout/sessions/{cp.session_id}/expire", status=503)
    assert _cancel_as_donor(app, cp).status_code == 303
    assert cp.row().status == PledgeStatus.CANCELLED  # the cancel stands; the page expires on its own
    assert stripe_on.session(cp.session_id)["status"] == "open"


def test_cancelling_a_need_closes_open_card_pages_and_refunds_card_money_at_once(app, stripe_on, client, session):
    staff = f.user("staff", centre_code="district-welfare")
    need = f.need(target=500_000, author=staff)
    paid = card_pledge(client, need, 100_000, on_cancel="refund")
    deliver(client, stripe_on.pay(paid.session_id))
    unpaid = card_pledge(client, need, 50_000)
    f.login(client, staff)
    response = client.post(f"/staff/needs/{need.id}/cancel", data={"reason": "사업 취소"})
    assert response.status_code == 303
    assert stripe_on.session(unpaid.session_id)["status"] == "expired"
    refund = db.session.scalars(select(Refund).where(Refund.pledge_id == paid.pledge_id)).one()
    db.session.refresh(refund)
    assert (refund.amount, refund.status) == (100_000, "done")  # not left for `kindcity reconcile --stripe`
    assert len(stripe_on.objects["refund"]) == 1 and reconcile() == []


def test_expire_needs_closes_the_card_pages_of_the_needs_it_expires(app, stripe_on, client, session):
    need = f.need(target=500_000)
    cp = card_pledge(client, need, 50_000)
    db.session.get(Need, need.id).deadline = utcnow().date() - timedelta(days=2)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["expire-needs"])
    assert result.exit_code == 0 and f"need(s) expired: {need.id}" in result.output, result.output
    assert cp.row().status == PledgeStatus.CLOSED
    assert stripe_on.session(cp.session_id)["status"] == "expired"


def test_a_need_expired_by_the_scheduled_job_closes_its_card_pages(app, stripe_on, client, session):
    """A page read changes nothing; the scheduled expire-needs job expires the need, and the card page
    its pledge still had open is closed by the job that asks for."""
    need = f.need(target=500_000)
    cp = card_pledge(client, need, 50_000)
    db.session.get(Need, need.id).deadline = utcnow().date() - timedelta(days=2)
    db.session.commit()
    assert stripe_on.session(cp.session_id)["status"] == "open"
    reader = app.test_client()  # an anonymous visitor
    assert reader.get(f"/needs/{need.id}").status_code == 200
    assert cp.row().status == PledgeStatus.AWAITING_PAYMENT and stripe_on.session(cp.session_id)["status"] == "open"
    with app.test_request_context("/"):
        jobs.perform("upkeep.expire_needs", {})  # what the worker runs every 10 minutes
        assert jobs.run_committed() >= 1  # the card settlement it asked for, and the donor's notice
    assert cp.row().status == PledgeStatus.CLOSED
    assert stripe_on.session(cp.session_id)["status"] == "expired"
    assert reconcile() == []


def test_release_expired_closes_the_card_page_of_a_hold_it_releases(app, stripe_on, client, session):
    need = f.need(target=500_000)
    cp = card_pledge(client, need, 50_000)
    db.session.get(Pledge, cp.pledge_id).hold_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["release-expired"])
    assert result.exit_code == 0 and f"hold(s) released: {cp.pledge_id}" in result.output, result.output
    assert cp.row().status == PledgeStatus.EXPIRED
    assert stripe_on.session(cp.session_id)["status"] == "expired"


def test_a_cancel_rolled_back_after_it_ended_the_pledge_leaves_the_card_page_open(app, stripe_on, client, session,
                                                                                   monkeypatch):
    """The pledge services remember the pledge as it is cancelled; when the transaction is then rolled
    back, the settling after the response reads the pledge afresh and leaves its page alone."""
    from kindcity.services import ServiceError
    from kindcity.services import pledges as pledge_service

    need = f.need(target=500_000)
    cp = card_pledge(client, need, 50_000)
    cancel = pledge_service.cancel_pledge

    def cancel_then_fail(actor, pledge_id):
        cancel(actor, pledge_id)
        assert db.session.get(Pledge, pledge_id).status == PledgeStatus.CANCELLED  # ended, not yet committed
        raise ServiceError("need_not_open")

    monkeypatch.setattr(pledge_service, "cancel_pledge", cancel_then_fail)
    assert _cancel_as_donor(app, cp).status_code == 303
    assert cp.row().status == PledgeStatus.AWAITING_PAYMENT
    assert stripe_on.calls("POST", "/v1/checkout/sessions/") == []
    assert stripe_on.session(cp.session_id)["status"] == "open"
