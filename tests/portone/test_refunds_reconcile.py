"""Refunds and partial refunds through PortOne's cancel API, and `kindcity reconcile --portone`."""
from __future__ import annotations

from sqlalchemy import func, select

from kindcity.domain.needs import NeedStatus
from kindcity.domain.pledges import PledgeStatus
from kindcity.extensions import db
from kindcity.models import Need, Payment, Refund
from kindcity.services import Actor
from kindcity.services import needs as need_service
from kindcity.services.reconcile import reconcile
from kindcity import jobs
from tests import factories as f

from .conftest import deliver, kr_pledge


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["reconcile", "--portone", *args])


def test_an_over_payment_is_refunded_in_part_through_the_cancel_api(app, portone_on, client, session):
    need = f.need(target=100_000)
    first = kr_pledge(client, need, 70_000)
    second = kr_pledge(client, need, 30_000)
    portone_on.open_window(first.payment_id, amount=70_000)
    deliver(client, portone_on.pay(first.payment_id))
    # The second pledge's hold ends; a third donor takes 20,000 of the gap first.
    from kindcity.services import pledges as pledge_service
    pledge_service.expire_hold(Actor(None, "test"), second.pledge_id, reason="test")
    db.session.commit()
    third = kr_pledge(client, need, 20_000)
    portone_on.open_window(third.payment_id, amount=20_000)
    deliver(client, portone_on.pay(third.payment_id))
    portone_on.open_window(second.payment_id, amount=30_000)

    deliver(client, portone_on.pay(second.payment_id))  # 30,000 arrives; the need takes only 10,000

    refund = db.session.scalars(select(Refund).where(Refund.pledge_id == second.pledge_id)).one()
    assert (refund.amount, refund.status) == (20_000, "done")
    payment = portone_on.payments[second.payment_id]
    assert payment["status"] == "PARTIAL_CANCELLED" and payment["amount"]["cancelled"] == 20_000
    assert f"kindcity-refund-{refund.id}-" in payment["cancellations"][0]["reason"]
    assert refund.external_id == payment["cancellations"][0]["id"]
    assert db.session.get(Need, need.id).confirmed == 100_000
    # The cancellation's own webhook changes nothing more.
    deliver(client, portone_on.events[-1])
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 1
    assert reconcile() == []
    result = _run(app)
    assert result.exit_code == 0, result.output


def test_a_cancelled_need_refunds_a_card_payment_in_full(app, portone_on, client, session):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, 90_000)
    portone_on.open_window(kp.payment_id, amount=90_000)
    deliver(client, portone_on.pay(kp.payment_id))
    staff = f.user("staff")
    f.login(client, staff)

    need_service.cancel(Actor(staff), db.session.get(Need, need.id), "여행이 취소되었습니다")
    db.session.commit()
    with app.test_request_context():  # what the commit asked for: a portone.settle_pledge job
        assert jobs.run_committed() >= 1

    refund = db.session.scalars(select(Refund).where(Refund.pledge_id == kp.pledge_id)).one()
    assert (refund.amount, refund.status) == (90_000, "done")
    assert portone_on.payments[kp.payment_id]["status"] == "CANCELLED"
    assert db.session.get(Need, need.id).status == NeedStatus.CANCELLED
    assert reconcile() == []


def test_reconcile_applies_a_payment_whose_webhook_never_came(app, portone_on, client, session):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, 90_000)
    portone_on.open_window(kp.payment_id, amount=90_000)
    portone_on.pay(kp.payment_id)  # the webhook is lost and the donor closed the browser

    result = _run(app)

    assert result.exit_code == 0, result.output
    assert f"applied PortOne payment {kp.payment_id}: payment=payment_recorded" in result.output
    assert (kp.row().status, kp.row().paid) == (PledgeStatus.PAID, 90_000)
    again = _run(app)
    assert again.exit_code == 0 and "applied PortOne payment" not in again.output
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_reconcile_names_a_cancellation_made_in_portones_console(app, portone_on, client, session):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, 90_000)
    portone_on.open_window(kp.payment_id, amount=90_000)
    deliver(client, portone_on.pay(kp.payment_id))
    portone_on.cancel_in_console(kp.payment_id, 10_000)  # and its webhook is lost

    result = _run(app)

    assert result.exit_code == 1
    assert "portone_cancellation_vs_journal" in result.output and kp.payment_id in result.output
    assert "made outside kindcity" in kp.row().flagged


def test_reconcile_refuses_without_portone(app, session):
    result = app.test_cli_runner().invoke(args=["reconcile", "--portone"])
    assert result.exit_code != 0 and "PortOne is not configured" in result.output
