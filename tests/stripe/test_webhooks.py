"""The Stripe webhook: signatures, duplicates, disorder, Stripe failing, money that arrives too late.

Every test pays through the fake Stripe, delivers signed events to /webhooks/stripe, and ends by
checking the journal (reconcile) and, where it matters, the comparison with Stripe's records.
"""
from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlalchemy import func, select

from kindcity import jobs
from kindcity.domain.needs import NeedStatus
from kindcity.domain.pledges import PledgeStatus
from kindcity.domain.time import utcnow
from kindcity.extensions import db
from kindcity.models import LedgerTransaction, Need, Payment, Pledge, ProviderEvent, Refund
from kindcity.jobs.card import event_args
from kindcity.payments import app_card_provider
from kindcity.services import Actor
from kindcity.services import card as card_service
from kindcity.services import pledges as pledge_service
from kindcity.services.reconcile import reconcile
from tests import factories as f

from .conftest import card_pledge, deliver, handled, sign


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def money_state(pledge_id: int, need_id: int) -> tuple:
    """Everything that must converge, whatever the order of deliveries."""
    db.session.expire_all()
    pledge, need = db.session.get(Pledge, pledge_id), db.session.get(Need, need_id)
    payments = sorted((p.source, p.amount) for p in db.session.scalars(select(Payment).where(Payment.pledge_id == pledge_id)))
    refunds = sorted((r.amount, r.status) for r in db.session.scalars(select(Refund).where(Refund.pledge_id == pledge_id)))
    entries = sorted(db.session.scalars(select(LedgerTransaction.entry).where(LedgerTransaction.pledge_id == pledge_id)))
    return (pledge.status, pledge.paid, pledge.held, need.reserved, need.confirmed, need.status, payments, refunds,
            entries, bool(pledge.flagged))


def stripe_agrees(app) -> list:
    return card_service.reconcile_with_provider(app_card_provider(app), utcnow() - timedelta(days=1))


# --- a valid event --------------------------------------------------------------------------------

def test_paid_checkout_is_recorded_once_in_whole_won(app, stripe_on, client, session):
    need = f.need(target=300_000)
    cp = card_pledge(client, need, 120_000)
    event = stripe_on.pay(cp.session_id)

    response = handled(client, event)

    assert response == "payment_recorded"
    payment = db.session.scalars(select(Payment).where(Payment.pledge_id == cp.pledge_id)).one()
    intent = stripe_on.session(cp.session_id)["payment_intent"]
    assert (payment.source, payment.external_id, payment.amount) == ("stripe", intent, 120_000)
    assert (cp.row().status, cp.row().paid, cp.row().held) == (PledgeStatus.PAID, 120_000, 0)
    need = db.session.get(Need, need.id)
    assert (need.reserved, need.confirmed) == (0, 120_000)
    stored = db.session.scalars(select(ProviderEvent)).one()
    assert (stored.event_id, stored.type, stored.pledge_id, stored.outcome) == (
        event["id"], "checkout.session.completed", cp.pledge_id, "payment_recorded")
    assert stored.processed_at is not None
    # The event was only a trigger: the session was read back from Stripe before acting.
    assert stripe_on.calls("GET", f"/v1/checkout/sessions/{cp.session_id}")
    assert reconcile() == [] and stripe_agrees(app) == []


def test_other_events_get_200_and_are_ignored(stripe_on, client, session):
    event = {"id": "evt_other_1", "object": "event", "type": "customer.created", "created": int(time.time()),
             "data": {"object": {"id": "cus_1", "object": "customer"}}}
    response = handled(client, event)
    assert response == "ignored"
    assert count(ProviderEvent) == 0 and stripe_on.requests == []


def test_an_object_stripe_will_not_show_gets_200_and_is_not_remembered(stripe_on, client, session):
    event = {"id": "evt_elsewhere", "object": "event", "type": "checkout.session.completed",
             "created": int(time.time()), "data": {"object": {"id": "cs_not_on_this_account"}}}
    response = handled(client, event)
    assert response is None  # the job logged it and remembered nothing: reconcile --stripe applies it later
    assert count(ProviderEvent) == 0 and count(Payment) == 0
    assert stripe_on.calls("GET", "/v1/checkout/sessions/cs_not_on_this_account")


def test_a_session_that_is_not_ours_is_remembered_and_changes_nothing(stripe_on, client, session):
    need = f.need(target=300_000)
    cp = card_pledge(client, need, 50_000)
    # Another application on the same Stripe account: a session with an id kindcity never stored,
    # claiming our pledge's number but not its reference code.
    stripe_on.session(cp.session_id)["metadata"]["reference"] = "KCOTHER1"
    db.session.execute(Pledge.__table__.update().where(Pledge.id == cp.pledge_id).values(checkout_session_id=None))
    event = stripe_on.pay(cp.session_id)
    response = handled(client, event)
    assert response == "not_ours"
    assert count(Payment) == 0 and count(ProviderEvent, ProviderEvent.outcome == "not_ours") == 1
    assert handled(client, event) == "duplicate"


# --- signatures -------------------------------------------------------------------------------------

def _paid_event(stripe_on, client):
    need = f.need(target=300_000)
    cp = card_pledge(client, need, 50_000)
    return cp, stripe_on.pay(cp.session_id)


def _nothing_changed(stripe_on, cp):
    assert count(Payment) == 0 and count(ProviderEvent) == 0
    assert cp.row().status == PledgeStatus.AWAITING_PAYMENT and cp.row().held == 50_000
    assert stripe_on.calls("GET", "/v1/checkout/sessions/") == []  # not even read back


def test_a_wrong_signature_gets_400_and_changes_nothing(stripe_on, client, session):
    cp, event = _paid_event(stripe_on, client)
    response = deliver(client, event, secret="whsec_somebody_else")
    assert response.status_code == 400
    _nothing_changed(stripe_on, cp)


def test_a_body_changed_after_signing_gets_400(stripe_on, client, session):
    cp, event = _paid_event(stripe_on, client)
    payload = json.dumps(event, separators=(",", ":"))
    header = sign(payload)
    tampered = payload.replace('"amount_total":50000', '"amount_total":5000000')
    assert tampered != payload
    response = client.post("/webhooks/stripe", data=tampered.encode(), headers={"Stripe-Signature": header})
    assert response.status_code == 400
    assert client.post("/webhooks/stripe", data=payload.encode()).status_code == 400  # no header at all
    _nothing_changed(stripe_on, cp)


def test_a_stale_timestamp_gets_400_within_tolerance_is_accepted(stripe_on, client, session):
    cp, event = _paid_event(stripe_on, client)
    stale = deliver(client, event, timestamp=int(time.time()) - 301)  # Stripe's tolerance is 300 s
    assert stale.status_code == 400
    _nothing_changed(stripe_on, cp)
    recent = deliver(client, event, timestamp=int(time.time()) - 240)
    assert recent.status_code == 200 and cp.row().status == PledgeStatus.PAID


def test_the_webhook_needs_no_csrf_token_but_is_404_without_stripe(app, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    monkeypatch.setitem(app.config, "KINDCITY_STRIPE_SECRET_KEY", "")
    assert client.post("/webhooks/stripe", data=b"{}").status_code == 404


def test_csrf_is_not_asked_of_stripe(app, stripe_on, client, session, monkeypatch):
    cp, event = _paid_event(stripe_on, client)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert deliver(client, event).status_code == 200
    assert cp.row().status == PledgeStatus.PAID


# --- duplicates and disorder --------------------------------------------------------------------------

def test_the_same_event_twice_changes_nothing_the_second_time(app, stripe_on, client, session):
    cp, event = _paid_event(stripe_on, client)
    assert handled(client, event) == "payment_recorded"
    before = money_state(cp.pledge_id, cp.need_id), count(LedgerTransaction)
    reads = len(stripe_on.requests)

    again = handled(client, event)

    assert again == "duplicate"
    assert (money_state(cp.pledge_id, cp.need_id), count(LedgerTransaction)) == before
    assert count(Payment) == 1 and count(ProviderEvent) == 1
    assert len(stripe_on.requests) == reads  # a known event is not even read back
    assert reconcile() == [] and stripe_agrees(app) == []


def test_completed_and_expired_in_either_order_converge(stripe_on, client, session):
    """Both events name the same paid session: read back, it is paid, whichever arrives first."""
    states = []
    for order in (("completed", "expired"), ("expired", "completed")):
        need = f.need(target=300_000)
        cp = card_pledge(client, need, 70_000)
        completed = stripe_on.pay(cp.session_id)
        expired = dict(completed, id=completed["id"] + "_exp", type="checkout.session.expired")
        events = {"completed": completed, "expired": expired}
        outcomes = [handled(client, events[name]) for name in order]
        assert outcomes == ["payment_recorded", "payment_already_recorded"]
        states.append(money_state(cp.pledge_id, cp.need_id))
    assert states[0] == states[1]
    assert states[0][:5] == (PledgeStatus.PAID, 70_000, 0, 0, 70_000)
    assert reconcile() == []


def test_an_expired_session_releases_the_hold_and_a_late_duplicate_changes_nothing(stripe_on, client, session):
    need = f.need(target=300_000)
    cp = card_pledge(client, need, 80_000)
    assert db.session.get(Need, need.id).reserved == 80_000
    expired = stripe_on.expire(cp.session_id)

    assert handled(client, expired) == "hold_released"
    state = money_state(cp.pledge_id, cp.need_id)
    assert state[:5] == (PledgeStatus.EXPIRED, 0, 0, 0, 0)
    # The same expiry again, and a stale "completed" for it (read back: still expired, never paid).
    assert handled(client, expired) == "duplicate"
    stale = dict(expired, id="evt_stale_completed", type="checkout.session.completed")
    assert handled(client, stale) == "hold_already_ended"
    assert money_state(cp.pledge_id, cp.need_id) == state
    assert reconcile() == []


def test_a_refund_event_before_the_completed_event_converges(app, stripe_on, client, session):
    """Stripe's dashboard refunds part of a payment whose completed event is still on its way."""
    states = []
    for refund_first in (True, False):
        need = f.need(target=300_000)
        cp = card_pledge(client, need, 60_000)
        completed = stripe_on.pay(cp.session_id)
        intent = stripe_on.session(cp.session_id)["payment_intent"]
        refund = stripe_on.refund(intent, 10_000)
        charge_refunded = [e for e in stripe_on.events
                           if e["type"] == "charge.refunded" and e["data"]["object"]["payment_intent"] == intent][-1]
        order = [charge_refunded, completed] if refund_first else [completed, charge_refunded]
        responses = [deliver(client, event) for event in order]
        assert [r.status_code for r in responses] == [200, 200]
        states.append(money_state(cp.pledge_id, cp.need_id))
        pledge = cp.row()
        assert refund["id"] in pledge.flagged  # a refund kindcity did not make: staff must look
    assert states[0] == states[1]
    assert states[0][:2] == (PledgeStatus.PAID, 60_000)
    assert count(Payment) == 2  # one per pledge, never twice
    problems = stripe_agrees(app)
    assert {p.check for p in problems} == {"stripe_refund_vs_journal"} and len(problems) == 2


def test_a_dispute_flags_the_pledge_for_staff(stripe_on, client, session):
    cp, event = _paid_event(stripe_on, client)
    deliver(client, event)
    charge = stripe_on.objects["payment_intent"][stripe_on.session(cp.session_id)["payment_intent"]]["latest_charge"]
    dispute = stripe_on.dispute(charge)
    response = handled(client, dispute)
    assert response == "dispute_flagged"
    assert dispute["data"]["object"]["id"] in cp.row().flagged
    assert cp.row().status == PledgeStatus.PAID and count(Payment) == 1


# --- delayed payment methods --------------------------------------------------------------------------

def test_completed_but_unpaid_keeps_the_hold_until_the_money_arrives(stripe_on, client, session):
    need = f.need(target=300_000)
    cp = card_pledge(client, need, 40_000)
    first_expiry = cp.row().hold_expires_at
    completed = stripe_on.pay(cp.session_id, asynchronous=True)

    assert handled(client, completed) == "awaiting_delayed_payment"
    pledge = cp.row()
    assert pledge.status == PledgeStatus.AWAITING_PAYMENT and pledge.paid == 0 and count(Payment) == 0
    assert pledge.hold_expires_at >= utcnow() + timedelta(days=6) > first_expiry

    succeeded = stripe_on.async_succeeds(cp.session_id)
    assert handled(client, succeeded) == "payment_recorded"
    assert (cp.row().status, cp.row().paid) == (PledgeStatus.PAID, 40_000)
    assert reconcile() == []


def test_a_failed_delayed_payment_releases_the_hold(stripe_on, client, session):
    need = f.need(target=300_000)
    cp = card_pledge(client, need, 40_000)
    deliver(client, stripe_on.pay(cp.session_id, asynchronous=True))
    failed = stripe_on.async_fails(cp.session_id)
    assert handled(client, failed) == "hold_released"
    assert money_state(cp.pledge_id, cp.need_id)[:5] == (PledgeStatus.EXPIRED, 0, 0, 0, 0)
    assert reconcile() == []


# --- Stripe failing -----------------------------------------------------------------------------------

def test_stripe_answering_500_fails_the_job_and_its_retry_succeeds(app, stripe_on, client, session):
    cp, event = _paid_event(stripe_on, client)
    stripe_on.fail_next("GET", f"/v1/checkout/sessions/{cp.session_id}", status=500)

    first = deliver(client, event)

    assert first.status_code == 200 and first.get_json()["outcome"] == "queued"  # Stripe has its answer at once
    assert count(ProviderEvent) == 0 and count(Payment) == 0 and cp.row().status == PledgeStatus.AWAITING_PAYMENT
    payload = json.dumps(event, separators=(",", ":"))
    notice = app_card_provider(app).parse_webhook(payload.encode(), sign(payload))
    with app.test_request_context("/"):  # the queue retries the failed job with backoff: here, at once
        jobs.perform("card.event", event_args(notice))
    assert handled(client, event) == "duplicate"
    assert count(ProviderEvent) == 1 and count(Payment) == 1
    assert reconcile() == [] and stripe_agrees(app) == []


def test_the_library_retries_a_500_itself_when_allowed(app, stripe_on, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "KINDCITY_STRIPE_NETWORK_RETRIES", 1)
    cp, event = _paid_event(stripe_on, client)
    stripe_on.fail_next("GET", f"/v1/checkout/sessions/{cp.session_id}", status=500)
    response = handled(client, event)
    assert response == "payment_recorded"
    assert len(stripe_on.calls("GET", f"/v1/checkout/sessions/{cp.session_id}")) == 2


# --- money that arrives after its hold expired and the need filled ----------------------------------------

def _fill_need_after_card_hold_expired(client, stripe_on, *, on_cancel="refund"):
    need = f.need(target=100_000)
    cp = card_pledge(client, need, 50_000, on_cancel=on_cancel)
    assert pledge_service.release_expired(now=utcnow() + timedelta(minutes=40)) == [cp.pledge_id]
    other = f.user("donor")
    bank = pledge_service.create_direct_pledge(Actor(other), pledge_service.PledgeRequest(
        need_id=need.id, amount=100_000, units=None, display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    pledge_service.record_payment(Actor(None), bank.id, 100_000, source="manual", external_id=f"bank-{bank.id}",
                                  received_at=utcnow())
    db.session.commit()
    assert db.session.get(Need, need.id).status == NeedStatus.FUNDED
    return need, cp


def test_payment_after_the_need_filled_is_recorded_and_refunded_through_stripe(app, stripe_on, client, session):
    need, cp = _fill_need_after_card_hold_expired(client, stripe_on)
    event = stripe_on.pay(cp.session_id)  # the donor paid at the last second; the webhook comes late

    response = handled(client, event)

    assert response == "payment_recorded_unplaced"
    payment = db.session.scalars(select(Payment).where(Payment.pledge_id == cp.pledge_id)).one()
    assert payment.amount == 50_000  # recorded: money is never refused
    need = db.session.get(Need, need.id)
    assert (need.confirmed, need.reserved) == (100_000, 0)  # never funded past its target
    sent = stripe_on.calls("POST", "/v1/refunds")
    refund = db.session.scalars(select(Refund).where(Refund.pledge_id == cp.pledge_id)).one()
    assert len(sent) == 1
    assert sent[0]["params"]["payment_intent"] == payment.external_id and sent[0]["params"]["amount"] == "50000"
    assert sent[0]["idempotency_key"] == card_service.refund_key(refund.id, cp.row().reference)
    assert sent[0]["params"]["metadata"]["kindcity_refund_id"] == str(refund.id)
    # Stripe answered 'succeeded' at once: that is its confirmation, and the journal records it now.
    assert (refund.status, refund.reason) == ("done", "need_full") and refund.external_id.startswith("re_")
    assert pledge_service.unplaced(cp.pledge_id) == 0
    assert reconcile() == [] and stripe_agrees(app) == []
    # Stripe's own events about that refund change nothing more.
    for follow_up in [e for e in stripe_on.events if e["type"] in ("charge.refunded", "refund.created")]:
        assert deliver(client, follow_up).status_code == 200
    assert len(stripe_on.calls("POST", "/v1/refunds")) == 1 and reconcile() == []


def test_a_pending_refund_is_recorded_when_stripe_confirms_it(app, stripe_on, client, session):
    need, cp = _fill_need_after_card_hold_expired(client, stripe_on)
    stripe_on.refund_status = "pending"
    deliver(client, stripe_on.pay(cp.session_id))
    refund = db.session.scalars(select(Refund).where(Refund.pledge_id == cp.pledge_id)).one()
    assert refund.status == "pending"
    assert count(LedgerTransaction, LedgerTransaction.pledge_id == cp.pledge_id,
                 LedgerTransaction.entry == "refunded") == 0
    assert reconcile() == []

    updated = stripe_on.settle_refund(refund.external_id, "succeeded")
    response = handled(client, updated)

    assert response == "refund_done"
    db.session.refresh(refund)
    assert refund.status == "done"
    assert count(LedgerTransaction, LedgerTransaction.pledge_id == cp.pledge_id,
                 LedgerTransaction.entry == "refunded") == 1
    assert handled(client, updated) == "duplicate"
    assert reconcile() == [] and stripe_agrees(app) == []


def test_a_failed_card_refund_stays_owed_for_staff_and_is_not_resent(app, stripe_on, client, session):
    need, cp = _fill_need_after_card_hold_expired(client, stripe_on)
    stripe_on.refund_status = "pending"
    deliver(client, stripe_on.pay(cp.session_id))
    refund = db.session.scalars(select(Refund).where(Refund.pledge_id == cp.pledge_id)).one()
    failed = stripe_on.settle_refund(refund.external_id, "failed", failure_reason="expired_or_canceled_card")

    assert handled(client, failed) == "refund_failed"
    db.session.refresh(refund)
    assert refund.status == "due" and "expired_or_canceled_card" in refund.failure
    assert card_service.card_refunds_due(app_card_provider(app)) == []  # not sent to Stripe again
    assert reconcile() == []
    staff = f.user("staff")
    pledge_service.record_bank_refund(Actor(staff), refund.id, refunded_at=utcnow(), bank_reference="BANK-77")
    db.session.commit()
    db.session.refresh(refund)
    assert refund.status == "done" and reconcile() == []


def test_late_money_follows_a_pool_choice_without_any_refund(stripe_on, client, session):
    need, cp = _fill_need_after_card_hold_expired(client, stripe_on, on_cancel="pool")
    deliver(client, stripe_on.pay(cp.session_id))
    assert count(Refund, Refund.pledge_id == cp.pledge_id) == 0 and stripe_on.calls("POST", "/v1/refunds") == []
    assert count(LedgerTransaction, LedgerTransaction.pledge_id == cp.pledge_id,
                 LedgerTransaction.entry == "moved_to_pool") == 1
    assert reconcile() == []


def test_a_signed_event_whose_ids_are_not_strings_gets_400_and_is_logged(stripe_on, client, session, caplog):
    malformed = [
        {"id": "evt_number_object", "type": "checkout.session.completed", "data": {"object": {"id": 12345}}},
        {"id": 12345, "type": "checkout.session.completed", "data": {"object": {"id": "cs_1"}}},
        {"id": "evt_number_type", "type": 7, "data": {"object": {"id": "cs_1"}}},
        {"id": "evt_list_object", "type": "charge.refunded", "data": {"object": ["ch_1"]}},
        {"id": "evt_list_data", "type": "charge.refunded", "data": ["ch_1"]},
    ]
    for event in malformed:
        caplog.clear()
        response = deliver(client, {"object": "event", "created": int(time.time()), **event})
        assert response.status_code == 400, event
        assert response.get_json() == {"error": "invalid signature or payload"}
        assert any("stripe webhook refused" in record.getMessage() for record in caplog.records), event
    assert count(ProviderEvent) == 0 and count(Payment) == 0 and stripe_on.requests == []
