"""Pooled pledges, their instalments and match offers paid by card: the donor's form, the Checkout Session,
the webhook recording the money once, the engine placing it (or the offer matching with it), ending and
refunds back to the card. Every test ends with the journal and Stripe's records agreeing."""
from __future__ import annotations

import html
from datetime import timedelta

from sqlalchemy import func, select

from kindcity.domain.needs import NeedStatus
from kindcity.domain.pledges import PledgeStatus
from kindcity.domain.recurrence import due_date
from kindcity.domain.time import seoul_today, utcnow
from kindcity.extensions import db
from kindcity.models import (
    MatchAllocation,
    MatchRun,
    Need,
    Organisation,
    Payment,
    Pledge,
    PooledTerms,
    Refund,
)
from kindcity.payments import app_card_provider
from kindcity.services import Actor, recurring
from kindcity.services import card as card_service
from kindcity.services import pledges as pledge_service
from kindcity.services.reconcile import reconcile
from tests import factories as f

from .conftest import deliver, handled

TODAY = seoul_today()


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def stripe_agrees(app) -> list:
    return card_service.reconcile_with_provider(app_card_provider(app), utcnow() - timedelta(days=1))


def _browser(app, donor):
    browser = app.test_client()
    f.login(browser, donor)
    return browser


def _pooled_by_card(browser, donor, **extra) -> tuple[Pledge, object]:
    data = {"amount": "300,000", "categories": ["medical-transport"], "dongs": ["hwajeong1"], "cap_percent": "50",
            "display": "anonymous", "on_end": "refund", "method": "card", "repeat": "once"}
    data.update(extra)
    response = browser.post("/me/pooled/new?lang=en", data=data)
    assert response.status_code == 303, _text(response)[:1500]
    pledge = db.session.scalars(select(Pledge).where(Pledge.donor_id == donor.id).order_by(Pledge.id.desc())).first()
    assert response.headers["Location"].endswith(f"/me/pledges/{pledge.id}/card")
    return pledge, response


def _checkout(browser, pledge_id) -> str:
    """The donor goes to pay: the Checkout Session's id (the page redirects to Stripe)."""
    response = browser.get(f"/me/pledges/{pledge_id}/card")
    assert response.status_code == 303, _text(response)[:800]
    assert response.headers["Location"].startswith("https://checkout.stripe.com/")
    return db.session.scalar(select(Pledge.checkout_session_id).where(Pledge.id == pledge_id))


def _row(pledge_id) -> Pledge:
    pledge = db.session.get(Pledge, pledge_id)
    db.session.refresh(pledge)
    return pledge


def _sponsor():
    org = Organisation(name="○○엘리베이터", kind="business")
    db.session.add(org)
    db.session.flush()
    return f.user("donor", organisation=org)


def test_a_card_paid_pooled_pledge_is_placed_by_the_engine_when_the_webhook_lands(app, stripe_on, client, session):
    need = f.need(target=300_000, deadline=TODAY + timedelta(days=5), dong="hwajeong1", title="암 환자 병원 이동")
    donor = f.user("donor")
    browser = _browser(app, donor)
    before = utcnow()
    pledge, _ = _pooled_by_card(browser, donor)
    assert (pledge.method, pledge.need_id, pledge.hold_expires_at, pledge.held) == ("card", None, None, 0)
    session_id = _checkout(browser, pledge.id)

    [created] = stripe_on.calls("POST", "/v1/checkout/sessions")
    params = created["params"]
    assert params["line_items"][0]["price_data"]["unit_amount"] == "300000"  # whole won, never x100
    assert params["metadata"] == {"pledge_id": str(pledge.id), "reference": pledge.reference}  # no need to name
    assert not any("암" in str(value) for value in params["metadata"].values())
    window = int(params["expires_at"]) - before.timestamp()
    assert 31 * 60 <= window <= 33 * 60  # the card hold, counted from when the donor goes to pay
    assert created["idempotency_key"] == f"kindcity-checkout-{pledge.id}-{pledge.reference}-{params['expires_at']}"
    assert db.session.get(Need, need.id).reserved == 0  # a pooled pledge reserves nothing

    event = stripe_on.pay(session_id)
    response = handled(browser, event)
    assert response == "payment_recorded"
    payment = db.session.scalars(select(Payment).where(Payment.pledge_id == pledge.id)).one()
    assert (payment.source, payment.amount) == ("stripe", 300_000)
    assert (_row(pledge.id).status, _row(pledge.id).paid) == (PledgeStatus.PAID, 300_000)
    # exactly as bank money: the engine ran at once and placed it (half of the need: the donor's cap)
    placed = db.session.scalars(select(MatchAllocation).where(MatchAllocation.pledge_id == pledge.id)).all()
    assert [(p.need_id, p.amount) for p in placed] == [(need.id, 150_000)]
    run = db.session.scalar(select(MatchRun).order_by(MatchRun.id.desc()))
    assert (run.trigger, run.status) == ("money_received", "applied")
    assert db.session.get(Need, need.id).confirmed == 150_000
    # a second delivery changes nothing
    assert handled(browser, event) == "duplicate"
    assert db.session.scalar(select(func.count(MatchAllocation.id)).where(MatchAllocation.pledge_id == pledge.id)) == 1
    page = _text(browser.get(f"/me/pooled/{pledge.id}?lang=en"))
    assert "Receipt (PDF)" in page and "Pay by card" not in page
    receipt = browser.get(f"/me/receipts/{payment.id}.pdf")
    assert receipt.status_code == 200 and receipt.mimetype == "application/pdf"
    assert reconcile() == [] and stripe_agrees(app) == []


def test_the_pledge_page_offers_card_payment_and_coming_back_confirms_it(app, stripe_on, client, session):
    donor = f.user("donor")
    browser = _browser(app, donor)
    pledge, _ = _pooled_by_card(browser, donor, categories=["culture"])
    page = _text(browser.get(f"/me/pooled/{pledge.id}?lang=en"))
    assert f"/me/pledges/{pledge.id}/card" in page and "Pay by card" in page
    assert "Write this reference code" not in page  # no bank transfer instructions
    left = browser.get(f"/me/pledges/{pledge.id}/card/cancelled?lang=en", follow_redirects=True)
    assert "Nothing was charged" in _text(left)
    session_id = _checkout(browser, pledge.id)
    stripe_on.pay(session_id)
    back = browser.get(f"/me/pledges/{pledge.id}/card/return?lang=en")
    assert back.status_code == 303 and back.headers["Location"].endswith(f"/me/pooled/{pledge.id}")
    page = _text(browser.get(back.headers["Location"] + "?lang=en"))
    assert "Your card payment is confirmed" in page
    assert _row(pledge.id).paid == 300_000
    assert reconcile() == [] and stripe_agrees(app) == []


def test_a_checkout_that_ends_unpaid_can_be_started_again(app, stripe_on, client, session):
    donor = f.user("donor")
    browser = _browser(app, donor)
    pledge, _ = _pooled_by_card(browser, donor, categories=["culture"])
    first = _checkout(browser, pledge.id)
    assert _checkout(browser, pledge.id) == first  # still open: the same session
    expired = stripe_on.expire(first)
    assert handled(browser, expired) == "checkout_ended_unpaid"
    assert _row(pledge.id).status == PledgeStatus.AWAITING_PAYMENT  # nothing held, nothing lost: still payable
    second = _checkout(browser, pledge.id)
    assert second != first and len(stripe_on.calls("POST", "/v1/checkout/sessions")) == 2
    keys = [c["idempotency_key"] for c in stripe_on.calls("POST", "/v1/checkout/sessions")]
    assert keys[0] != keys[1]
    # a late copy of the old session's event still finds the pledge and changes nothing
    assert handled(browser, dict(expired, id=expired["id"] + "_late")) == "checkout_ended_unpaid"
    assert handled(browser, stripe_on.pay(second)) == "payment_recorded"
    assert _row(pledge.id).paid == 300_000
    assert reconcile() == [] and stripe_agrees(app) == []


def test_ending_a_card_paid_pooled_pledge_refunds_the_unplaced_money_to_the_card(app, stripe_on, client, session):
    donor = f.user("donor")
    browser = _browser(app, donor)
    need = f.need(target=100_000, dong="hwajeong1")
    pledge, _ = _pooled_by_card(browser, donor, cap_percent="")
    deliver(browser, stripe_on.pay(_checkout(browser, pledge.id)))
    assert db.session.get(Need, need.id).status == NeedStatus.FUNDED  # 100,000 placed, 200,000 waiting
    response = browser.post(f"/me/pooled/{pledge.id}/end")
    assert response.status_code == 303
    refund = db.session.scalars(select(Refund).where(Refund.pledge_id == pledge.id)).one()
    db.session.refresh(refund)
    assert (refund.amount, refund.reason, refund.status) == (200_000, "pledge_ended", "done")
    [sent] = stripe_on.calls("POST", "/v1/refunds")
    assert sent["params"]["amount"] == "200000"
    assert _row(pledge.id).status == PledgeStatus.CLOSED
    assert reconcile() == [] and stripe_agrees(app) == []


def test_card_money_for_a_pooled_pledge_that_ended_meanwhile_goes_back_to_the_card(app, stripe_on, client, session):
    donor = f.user("donor")
    browser = _browser(app, donor)
    pledge, _ = _pooled_by_card(browser, donor, categories=["culture"])
    session_id = _checkout(browser, pledge.id)
    # Ending closes the checkout page; Stripe is unreachable at that moment, so it stays open...
    stripe_on.fail_next("POST", f"/v1/checkout/sessions/{session_id}/expire", status=503)
    browser.post(f"/me/pooled/{pledge.id}/end")  # unpaid: cancelled
    assert _row(pledge.id).status == PledgeStatus.CANCELLED
    assert len(stripe_on.calls("POST", f"/v1/checkout/sessions/{session_id}/expire")) == 1
    response = handled(browser, stripe_on.pay(session_id))  # ...and the donor, who had it open, pays there
    assert response == "payment_recorded_unplaced"
    refund = db.session.scalars(select(Refund).where(Refund.pledge_id == pledge.id)).one()
    db.session.refresh(refund)
    assert (refund.amount, refund.status) == (300_000, "done")
    assert db.session.scalar(select(func.count(MatchAllocation.id)).where(MatchAllocation.pledge_id == pledge.id)) == 0
    assert reconcile() == [] and stripe_agrees(app) == []


def test_ending_an_unpaid_card_pooled_pledge_closes_its_checkout_page(app, stripe_on, client, session):
    donor = f.user("donor")
    browser = _browser(app, donor)
    pledge, _ = _pooled_by_card(browser, donor, categories=["culture"])
    session_id = _checkout(browser, pledge.id)
    browser.post(f"/me/pooled/{pledge.id}/end")
    assert _row(pledge.id).status == PledgeStatus.CANCELLED
    assert stripe_on.session(session_id)["status"] == "expired"
    assert deliver(browser, stripe_on.events[-1]).status_code == 200  # Stripe's own word of it changes nothing
    assert _row(pledge.id).status == PledgeStatus.CANCELLED and reconcile() == []


def test_a_card_paid_match_offer_doubles_a_residents_gift(app, stripe_on, client, session):
    sponsor = _sponsor()
    youth = f.need(target=1_000_000, category="education", group="out-of-school-youth")
    browser = _browser(app, sponsor)
    response = browser.post("/me/offers/new?lang=en", data={
        "amount": "5,000,000", "ratio_num": "1", "ratio_den": "1", "groups": ["out-of-school-youth"],
        "starts_on": TODAY.isoformat(), "ends_on": (TODAY + timedelta(days=30)).isoformat(),
        "display": "organisation", "on_end": "refund", "method": "card"})
    assert response.status_code == 303, _text(response)[:1500]
    offer = db.session.scalars(select(Pledge).where(Pledge.donor_id == sponsor.id)).one()
    assert (offer.kind, offer.method) == ("match", "card")
    session_id = _checkout(browser, offer.id)
    gift_before = pledge_service.create_direct_pledge(Actor(f.user("donor")), pledge_service.PledgeRequest(
        need_id=youth.id, amount=30_000, units=None, display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    pledge_service.record_payment(Actor(None), gift_before.id, 30_000, source="manual", external_id="g0",
                                  received_at=utcnow())
    assert db.session.get(Need, youth.id).confirmed == 30_000  # the offer is not paid yet: no match
    assert handled(browser, stripe_on.pay(session_id)) == "payment_recorded"
    assert _row(offer.id).status == PledgeStatus.PAID  # the offer is active from now on
    gift = pledge_service.create_direct_pledge(Actor(f.user("donor")), pledge_service.PledgeRequest(
        need_id=youth.id, amount=50_000, units=None, display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    pledge_service.record_payment(Actor(None), gift.id, 50_000, source="manual", external_id="g1",
                                  received_at=utcnow())
    [match] = db.session.scalars(select(MatchAllocation).where(MatchAllocation.pledge_id == offer.id)).all()
    assert (match.amount, match.gift_pledge_id) == (50_000, gift.id)
    assert db.session.get(Need, youth.id).confirmed == 130_000
    page = _text(browser.get(f"/me/offers/{offer.id}?lang=en"))
    assert "Receipt (PDF)" in page and "became" in page
    assert reconcile() == [] and stripe_agrees(app) == []


def test_each_card_instalment_of_a_recurring_pooled_pledge_is_paid_on_its_own(app, stripe_on, client, session):
    need = f.need(target=1_000_000, dong="hwajeong1", deadline=TODAY + timedelta(days=60))
    donor = f.user("donor")
    browser = _browser(app, donor)
    first, _ = _pooled_by_card(browser, donor, amount="100,000", repeat="monthly", cap_percent="")
    series_id = db.session.get(PooledTerms, first.id).series_id
    assert series_id is not None
    deliver(browser, stripe_on.pay(_checkout(browser, first.id)))
    [made] = recurring.create_due_instalments(due_date(TODAY, "monthly", 2))
    assert made.method == "card"
    second = _row(made.pledge_id)
    assert (second.status, second.checkout_session_id) == (PledgeStatus.AWAITING_PAYMENT, None)
    deliver(browser, stripe_on.pay(_checkout(browser, second.id)))  # its own checkout, opened from its page
    assert _row(second.id).paid == 100_000
    assert db.session.get(Need, need.id).confirmed == 200_000
    assert reconcile() == [] and stripe_agrees(app) == []


def test_stopping_a_series_closes_the_checkout_page_of_its_unpaid_instalment(app, stripe_on, client, session):
    f.need(target=1_000_000, dong="hwajeong1", deadline=TODAY + timedelta(days=60))
    donor = f.user("donor")
    browser = _browser(app, donor)
    first, _ = _pooled_by_card(browser, donor, amount="100,000", repeat="monthly", cap_percent="")
    deliver(browser, stripe_on.pay(_checkout(browser, first.id)))
    [made] = recurring.create_due_instalments(due_date(TODAY, "monthly", 2))
    second_session = _checkout(browser, made.pledge_id)  # the donor opened the card page, then stops
    assert browser.post(f"/me/pooled/{first.id}/series/stop").status_code == 303
    assert _row(made.pledge_id).status == PledgeStatus.CANCELLED and _row(first.id).paid == 100_000
    assert stripe_on.session(second_session)["status"] == "expired"
    assert reconcile() == [] and stripe_agrees(app) == []


def test_the_demo_checkout_pays_a_pooled_pledge_and_refuses_card_in_production(app, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "KINDCITY_STRIPE_SECRET_KEY", "")
    monkeypatch.setitem(app.config, "KINDCITY_ENV", "development")
    need = f.need(target=300_000, dong="hwajeong1")
    donor = f.user("donor")
    browser = _browser(app, donor)
    pledge, _ = _pooled_by_card(browser, donor, cap_percent="")
    checkout = browser.get(f"/me/pledges/{pledge.id}/card")
    location = checkout.headers["Location"]
    assert checkout.status_code == 303 and location.startswith("/demo-checkout/demo_cs_")
    page = _text(browser.get(location + "?lang=en"))
    assert "no money moves" in page and "Pooled fund" in page and f"/me/pooled/{pledge.id}" in page
    paid = browser.post(location, data={"action": "pay"})
    assert paid.headers["Location"].endswith(f"/me/pledges/{pledge.id}/card/return")
    back = browser.get(paid.headers["Location"])
    assert back.headers["Location"].endswith(f"/me/pooled/{pledge.id}")
    payment = db.session.scalars(select(Payment).where(Payment.pledge_id == pledge.id)).one()
    assert (payment.source, payment.amount) == ("demo", 300_000)
    assert db.session.get(Need, need.id).status == NeedStatus.FUNDED
    assert reconcile() == []
    # in production without Stripe keys, card is not offered, and a forged choice is refused in words
    monkeypatch.setitem(app.config, "KINDCITY_ENV", "production")
    form = _text(browser.get("/me/pooled/new?lang=en"))
    assert 'value="card"' not in form
    refused = browser.post("/me/pooled/new?lang=en", data={
        "amount": "10,000", "display": "anonymous", "on_end": "refund", "method": "card", "repeat": "once"})
    assert refused.status_code == 200
    assert "Card payment is not available on this site. Please choose bank transfer." in _text(refused)
    assert db.session.scalar(select(func.count(Pledge.id)).where(Pledge.donor_id == donor.id)) == 1


def _past_its_last_day(pledge_id: int) -> None:
    db.session.scalars(select(PooledTerms).where(PooledTerms.pledge_id == pledge_id)).one().ends_on = \
        TODAY - timedelta(days=1)
    db.session.commit()


def test_the_engine_ending_a_card_paid_pooled_pledge_past_its_last_day_refunds_the_card(app, stripe_on, client,
                                                                                         session):
    """`kindcity match` (as cron runs it) ends the pooled pledges whose last day has passed; the money
    still unplaced goes back to the card at once, not when someone next runs reconcile --stripe."""
    donor = f.user("donor")
    browser = _browser(app, donor)
    pledge, _ = _pooled_by_card(browser, donor, categories=["culture"])  # no need of that kind: nothing placed
    deliver(browser, stripe_on.pay(_checkout(browser, pledge.id)))
    _past_its_last_day(pledge.id)
    result = app.test_cli_runner().invoke(args=["match"])
    assert result.exit_code == 0, result.output
    assert _row(pledge.id).status == PledgeStatus.CLOSED
    refund = db.session.scalars(select(Refund).where(Refund.pledge_id == pledge.id)).one()
    db.session.refresh(refund)
    assert (refund.amount, refund.reason, refund.status) == (300_000, "pledge_period_over", "done")
    [sent] = stripe_on.calls("POST", "/v1/refunds")
    assert sent["params"]["amount"] == "300000"
    assert reconcile() == [] and stripe_agrees(app) == []


def test_staff_running_the_engine_closes_the_page_of_an_unpaid_pooled_pledge_past_its_last_day(app, stripe_on,
                                                                                                client, session):
    donor = f.user("donor")
    browser = _browser(app, donor)
    pledge, _ = _pooled_by_card(browser, donor, categories=["culture"])
    session_id = _checkout(browser, pledge.id)
    _past_its_last_day(pledge.id)
    manager = f.user("staff", centre_code="district-welfare")
    db.session.commit()
    staff = _browser(app, manager)
    assert staff.post("/staff/matching/run").status_code == 303
    assert _row(pledge.id).status == PledgeStatus.CANCELLED
    assert stripe_on.session(session_id)["status"] == "expired"
    assert reconcile() == [] and stripe_agrees(app) == []
