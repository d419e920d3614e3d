"""`kindcity reconcile --stripe`: catch up with events never delivered, then say what disagrees."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from kindcity.domain.pledges import PledgeStatus
from kindcity.domain.time import SEOUL, seoul_today, utcnow
from kindcity.extensions import db
from kindcity.models import Need, Payment, ProviderEvent, Refund
from kindcity.services import Actor
from kindcity.services import needs as need_service
from kindcity.services import pledges as pledge_service
from tests import factories as f

from .conftest import card_pledge, deliver, handled


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["reconcile", "--stripe", *args])


def test_events_never_delivered_are_fetched_and_applied(app, stripe_on, client, session):
    need = f.need(target=300_000)
    cp = card_pledge(client, need, 90_000)
    lost = stripe_on.pay(cp.session_id)  # the webhook never arrives

    result = _run(app)

    assert result.exit_code == 0, result.output
    assert f"applied missed event {lost['id']} (checkout.session.completed): payment_recorded" in result.output
    assert "All money is accounted for" in result.output
    assert (cp.row().status, cp.row().paid) == (PledgeStatus.PAID, 90_000)
    assert db.session.scalar(select(func.count(ProviderEvent.id))) == 1
    # Run again: nothing is missed any more and nothing changes.
    again = _run(app)
    assert again.exit_code == 0 and "applied missed event" not in again.output
    assert db.session.scalar(select(func.count(Payment.id))) == 1
    # The webhook, arriving after all, is a duplicate.
    assert handled(client, lost) == "duplicate"


def test_since_limits_the_events_asked_for(app, stripe_on, client, session):
    day = seoul_today() - timedelta(days=3)
    result = _run(app, "--since", day.isoformat())
    assert result.exit_code == 0, result.output
    asked = stripe_on.calls("GET", "/v1/events")
    assert len(asked) == 1
    assert int(asked[0]["params"]["created"]["gte"]) == int(datetime.combine(day, time.min, SEOUL).timestamp())
    assert "checkout.session.completed" in asked[0]["params"]["types"]
    assert set(asked[0]["params"]["types"]) >= {"charge.refunded", "refund.updated", "charge.dispute.created"}


def test_a_refund_made_on_the_dashboard_is_reported(app, stripe_on, client, session):
    need = f.need(target=300_000)
    cp = card_pledge(client, need, 90_000)
    deliver(client, stripe_on.pay(cp.session_id))
    refund = stripe_on.refund(stripe_on.session(cp.session_id)["payment_intent"], 30_000)

    result = _run(app)

    assert result.exit_code == 1
    assert f"stripe_refund_vs_journal: refund {refund['id']}" in result.output
    assert "expected 30000, found 0" in result.output
    assert refund["id"] in cp.row().flagged  # the missed charge.refunded event was applied: staff see it


def test_a_payment_stripe_does_not_know_is_reported(app, stripe_on, client, session):
    need = f.need(target=300_000)
    pledge = pledge_service.create_direct_pledge(Actor(f.user("donor")), pledge_service.PledgeRequest(
        need_id=need.id, amount=20_000, units=None, display="anonymous", message="", on_cancel="refund",
        method="card"), hold_for=timedelta(minutes=32))
    pledge_service.record_payment(Actor(None), pledge.id, 20_000, source="stripe", external_id="pi_made_up",
                                  received_at=utcnow())
    db.session.commit()
    result = _run(app)
    assert result.exit_code == 1
    assert "stripe_payment_unknown" in result.output and "pi_made_up" in result.output


def test_refunds_due_are_sent_and_unsent_ones_reported(app, stripe_on, client, session):
    need = f.need(target=100_000)
    cp = card_pledge(client, need, 100_000, on_cancel="refund")
    deliver(client, stripe_on.pay(cp.session_id))
    staff = f.user("staff")
    stripe_on.fail_next("POST", "/v1/refunds", status=500, times=1)
    need_service.cancel(Actor(staff), db.session.get(Need, need.id), "사업 취소")
    db.session.commit()
    refund = db.session.scalars(select(Refund).where(Refund.pledge_id == cp.pledge_id)).one()

    failed = _run(app)   # Stripe answers 500: the refund stays due and is reported
    assert failed.exit_code == 1
    assert f"card refund {refund.id}: not_sent" in failed.output
    assert f"card_refund_not_sent: refund {refund.id}" in failed.output
    fixed = _run(app)    # the same idempotency key, this time it goes through
    assert fixed.exit_code == 0, fixed.output
    assert f"card refund {refund.id}: refund_done" in fixed.output
    db.session.refresh(refund)
    assert refund.status == "done"
    keys = {r["idempotency_key"] for r in stripe_on.calls("POST", "/v1/refunds")}
    assert len(stripe_on.calls("POST", "/v1/refunds")) == 2 and len(keys) == 1
    assert len(stripe_on.objects["refund"]) == 1


def test_without_stripe_the_option_says_so(app, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "KINDCITY_STRIPE_SECRET_KEY", "")
    result = _run(app)
    assert result.exit_code != 0 and "Stripe is not configured" in result.output
