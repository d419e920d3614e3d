"""Paying a pledge by domestic card, easy pay and 가상계좌 through the fake PortOne, and what the server
believes: only what it reads back from PortOne, never the browser."""
from __future__ import annotations

import email
import email.policy
from datetime import timedelta

from sqlalchemy import func, select

from kindcity.domain.pledges import PledgeStatus
from kindcity.domain.time import utcnow
from kindcity import jobs
from kindcity.extensions import db
from kindcity.models import KrPayment, Need, Payment, Pledge, Refund
from kindcity.services import pledges as pledge_service
from kindcity.services.reconcile import reconcile
from tests import factories as f

from .conftest import deliver, handled, kr_pledge
from .fake_portone import expiry


def payments_of(pledge_id: int) -> list[tuple]:
    return sorted((p.source, p.external_id, p.amount)
                  for p in db.session.scalars(select(Payment).where(Payment.pledge_id == pledge_id)))


def test_card_paid_in_the_window_is_recorded_when_the_window_closes(app, portone_on, client, session):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, 120_000)
    assert kp.payment_id.startswith("kc-") and kp.row().reference in kp.payment_id
    portone_on.open_window(kp.payment_id, amount=120_000)
    portone_on.pay(kp.payment_id)

    back = kp.client.get(f"/me/pledges/{kp.pledge_id}/kr/complete?paymentId={kp.payment_id}&lang=en")

    assert back.status_code == 303
    assert payments_of(kp.pledge_id) == [("portone", kp.payment_id, 120_000)]
    pledge = kp.row()
    assert (pledge.status, pledge.paid, pledge.held) == (PledgeStatus.PAID, 120_000, 0)
    assert db.session.get(Need, need.id).confirmed == 120_000
    # The webhook that follows changes nothing.
    assert handled(client, portone_on.events[-1]) == "payment_already_recorded"
    assert payments_of(kp.pledge_id) == [("portone", kp.payment_id, 120_000)]
    assert reconcile() == []


def test_easy_pay_by_webhook_alone(app, portone_on, client, session):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, 50_000, method="easy_pay")
    portone_on.open_window(kp.payment_id, amount=50_000, method="easy_pay", easy_pay_provider="KAKAOPAY")
    message = portone_on.pay(kp.payment_id)

    outcome = handled(client, message)

    assert outcome == "payment_recorded"
    assert payments_of(kp.pledge_id) == [("portone", kp.payment_id, 50_000)]
    row = db.session.scalar(select(KrPayment).where(KrPayment.payment_id == kp.payment_id))
    assert (row.pay_method, row.status) == ("easy_pay", "PAID")


def test_a_card_charged_for_another_amount_is_cancelled_at_portone_and_money_staff_are_told(app, portone_on, client,
                                                                                             session):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, 120_000)
    money = f.user("staff", money_staff=True)
    other_staff = f.user("staff")
    db.session.commit()
    before = f.outbox(app)
    portone_on.open_window(kp.payment_id, amount=1_000)  # a tampered browser asked for 1,000원
    portone_on.pay(kp.payment_id)

    kp.client.get(f"/me/pledges/{kp.pledge_id}/kr/complete")  # the cancel job runs right after this commit

    assert payments_of(kp.pledge_id) == []
    pledge = kp.row()
    assert pledge.paid == 0 and "1000 KRW" in pledge.flagged and "cancelled at PortOne" in pledge.flagged
    payment = portone_on.payments[kp.payment_id]
    assert payment["status"] == "CANCELLED" and payment["amount"]["cancelled"] == 1_000
    assert f"kindcity-mismatch-{kp.payment_id}" in payment["cancellations"][0]["reason"]
    mails = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
             for path in f.outbox(app) - before]
    assert [mail["To"] for mail in mails] == [money.email] and other_staff.email not in str(mails)
    body = mails[0].get_content()
    assert kp.payment_id in body and "1,000원" in body and "120,000원" in body
    # The cancellation's webhook, a second run of the job and reconcile change nothing more.
    assert handled(client, portone_on.events[-1]) == "amount_mismatch_cancelled"
    with app.test_request_context("/"):
        jobs.perform("portone.cancel_mismatch", {"payment_id": kp.payment_id})
    assert len(portone_on.payments[kp.payment_id]["cancellations"]) == 1
    assert len(f.outbox(app) - before) == 1
    assert reconcile() == []
    result = app.test_cli_runner().invoke(args=["reconcile", "--portone"])
    assert result.exit_code == 0, result.output


def test_a_mismatched_payment_whose_cancel_failed_is_named_by_reconcile(app, portone_on, client, session):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, 50_000)
    portone_on.open_window(kp.payment_id, amount=5_000)
    message = portone_on.pay(kp.payment_id)
    calls = []
    from kindcity.services import kr_payments
    real = kr_payments.ask_cancel_mismatch
    kr_payments.ask_cancel_mismatch = lambda payment_id: calls.append(payment_id)  # the job is lost
    try:
        assert handled(client, message) == "amount_mismatch"
    finally:
        kr_payments.ask_cancel_mismatch = real
    assert calls == [kp.payment_id]

    result = app.test_cli_runner().invoke(args=["reconcile", "--portone"])

    # reconcile applies what PortOne says again: its job now cancels the payment, and the comparison is clean
    assert portone_on.payments[kp.payment_id]["status"] == "CANCELLED"
    assert "portone_mismatch_not_cancelled" not in result.output


def test_a_payment_in_another_currency_is_not_recorded(app, portone_on, client, session):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, 120_000)
    portone_on.open_window(kp.payment_id, amount=120_000, currency="USD")
    assert handled(client, portone_on.pay(kp.payment_id)) == "currency_mismatch"
    assert payments_of(kp.pledge_id) == [] and "USD" in kp.row().flagged


def test_a_payment_id_that_is_not_ours_changes_nothing(app, portone_on, client, session):
    portone_on.open_window("kc-NOTOURS", amount=10_000)
    assert handled(client, portone_on.pay("kc-NOTOURS")) == "not_ours"
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_a_failed_card_keeps_the_hold_and_can_be_tried_again(app, portone_on, client, session):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, 100_000)
    portone_on.open_window(kp.payment_id, amount=100_000)
    assert handled(client, portone_on.fail(kp.payment_id)) == "payment_failed"
    assert kp.row().held == 100_000

    again = kp.client.get(f"/me/pledges/{kp.pledge_id}/kr/card")
    assert again.status_code == 200
    portone_on.open_window(kp.payment_id, amount=100_000)
    handled(client, portone_on.pay(kp.payment_id))
    assert kp.row().status == PledgeStatus.PAID


# --- 가상계좌 ---------------------------------------------------------------------------------------

def test_virtual_account_is_issued_holds_until_its_due_time_and_the_deposit_pays_it(app, portone_on, client, session):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, 80_000, method="virtual_account")
    due = expiry(48)
    portone_on.open_window(kp.payment_id, amount=80_000, method="virtual_account")
    issued = portone_on.issue_virtual_account(kp.payment_id, expires_at=due)

    assert handled(client, issued) == "virtual_account_issued"
    pledge = kp.row()
    assert abs(pledge.hold_expires_at - due) < timedelta(seconds=1) and pledge.held == 80_000
    page = kp.client.get(f"/me/pledges/{kp.pledge_id}?lang=en").get_data(as_text=True)
    row = db.session.scalar(select(KrPayment).where(KrPayment.payment_id == kp.payment_id))
    assert row.va_number in page and "Your virtual account" in page

    outcome = handled(client, portone_on.deposit(kp.payment_id))

    assert outcome == "payment_recorded"
    pledge = kp.row()
    assert (pledge.status, pledge.paid, pledge.held) == (PledgeStatus.PAID, 80_000, 0)
    assert reconcile() == []


def test_a_short_deposit_leaves_the_pledge_partly_paid(app, portone_on, client, session):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, 80_000, method="virtual_account")
    portone_on.open_window(kp.payment_id, amount=80_000, method="virtual_account")
    deliver(client, portone_on.issue_virtual_account(kp.payment_id, expires_at=expiry()))

    outcome = handled(client, portone_on.deposit(kp.payment_id, 30_000))

    assert outcome == "payment_recorded_other_amount"
    pledge = kp.row()
    assert (pledge.status, pledge.paid) == (PledgeStatus.PARTLY_PAID, 30_000)
    assert reconcile() == []


def test_an_over_deposit_follows_the_donors_choice(app, portone_on, client, session):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, 80_000, method="virtual_account", on_cancel="pool")
    portone_on.open_window(kp.payment_id, amount=80_000, method="virtual_account")
    deliver(client, portone_on.issue_virtual_account(kp.payment_id, expires_at=expiry()))

    deliver(client, portone_on.deposit(kp.payment_id, 100_000))

    pledge = kp.row()
    assert (pledge.status, pledge.paid) == (PledgeStatus.PAID, 100_000)
    # the 20,000 over went to the district's pooled fund, by the donor's choice, which places it at once:
    # here on the only open need with room, this one
    assert db.session.get(Need, need.id).confirmed == 100_000
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0  # pooled, not refunded
    assert reconcile() == []


def test_an_expired_virtual_account_releases_the_hold_and_a_late_deposit_is_refunded(app, portone_on, client,
                                                                                     session):
    need = f.need(target=100_000)
    kp = kr_pledge(client, need, 100_000, method="virtual_account", on_cancel="refund")
    portone_on.open_window(kp.payment_id, amount=100_000, method="virtual_account")
    deliver(client, portone_on.issue_virtual_account(kp.payment_id, expires_at=expiry(1)))
    # The due time passes: the hold is released by the scheduled command, and another donor fills the need.
    pledge_service.release_expired(now=utcnow() + timedelta(hours=2))
    db.session.commit()
    assert kp.row().status == PledgeStatus.EXPIRED and db.session.get(Need, need.id).reserved == 0
    other = kr_pledge(client, need, 100_000)
    portone_on.open_window(other.payment_id, amount=100_000)
    deliver(client, portone_on.pay(other.payment_id))

    outcome = handled(client, portone_on.deposit(kp.payment_id))

    assert outcome == "payment_recorded_unplaced"
    refund = db.session.scalars(select(Refund).where(Refund.pledge_id == kp.pledge_id)).one()
    assert (refund.amount, refund.status) == (100_000, "due")  # waits for the donor's bank account
    page = kp.client.get(f"/me/pledges/{kp.pledge_id}?lang=en").get_data(as_text=True)
    assert "A refund is waiting for your bank account" in page

    answer = kp.client.post(f"/me/refunds/{refund.id}/account?lang=en",
                            data={"bank": "KWANGJU", "number": "123-456-789012", "holder": "김광주"})

    assert answer.status_code == 303
    db.session.refresh(refund)
    assert refund.status == "done"
    assert portone_on.payments[kp.payment_id]["_refund_account"] == {
        "bank": "KWANGJU", "number": "123456789012", "holderName": "김광주"}
    from kindcity.models import RefundBankAccount
    assert db.session.scalar(select(func.count()).select_from(RefundBankAccount)) == 0  # kept only until done
    assert reconcile() == []


def test_cancelling_an_unpaid_pledge_closes_its_virtual_account(app, portone_on, client, session):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, 80_000, method="virtual_account")
    portone_on.open_window(kp.payment_id, amount=80_000, method="virtual_account")
    deliver(client, portone_on.issue_virtual_account(kp.payment_id, expires_at=expiry()))

    response = kp.client.post(f"/me/pledges/{kp.pledge_id}/cancel?lang=en", data={"confirm": "y"})

    assert response.status_code in (302, 303)
    assert kp.row().status == PledgeStatus.CANCELLED
    assert portone_on.payments[kp.payment_id]["status"] == "CANCELLED"
    assert ("POST", f"/payments/{kp.payment_id}/virtual-account/close") in [r[:2] for r in portone_on.requests]


# --- pooled pledges and match offers --------------------------------------------------------------

def _pooled_by_form(client, donor, method: str, *, repeat: str = "once"):
    client = client.application.test_client()
    f.login(client, donor)
    return client, client.post("/me/pooled/new?lang=en", data={
        "amount": "50,000", "display": "anonymous", "message": "", "on_end": "refund", "repeat": repeat,
        "method": f"kr_{method}"})


def test_a_pooled_pledge_is_paid_by_virtual_account_and_placed_by_the_engine(app, portone_on, client, session):
    donor = f.user("donor")
    f.need(target=300_000)
    donor_client, response = _pooled_by_form(client, donor, "virtual_account")
    assert response.status_code == 303 and response.headers["Location"].endswith("/kr/virtual_account")
    assert donor_client.get(response.headers["Location"]).status_code == 200
    pledge = db.session.scalars(select(Pledge).where(Pledge.donor_id == donor.id)).one()
    assert (pledge.kind, pledge.method, pledge.need_id) == ("pooled", "portone", None)
    payment_id = db.session.scalar(select(KrPayment.payment_id).where(KrPayment.pledge_id == pledge.id))
    portone_on.open_window(payment_id, amount=50_000, method="virtual_account")

    assert handled(client, portone_on.issue_virtual_account(payment_id, expires_at=expiry())) == "virtual_account_issued"
    assert handled(client, portone_on.deposit(payment_id)) == "payment_recorded"

    db.session.refresh(pledge)
    assert pledge.paid == 50_000
    from kindcity.models import MatchAllocation
    placed = db.session.scalar(select(func.coalesce(func.sum(MatchAllocation.amount), 0))
                               .where(MatchAllocation.pledge_id == pledge.id))
    assert placed == 50_000
    page = donor_client.get(f"/me/pooled/{pledge.id}?lang=en").get_data(as_text=True)
    assert "Your virtual account" not in page
    assert reconcile() == []


def test_a_match_offer_is_paid_by_card(app, portone_on, client, session):
    donor = f.user("donor")
    donor_client = client.application.test_client()
    f.login(donor_client, donor)
    today = utcnow().date()
    response = donor_client.post("/me/offers/new?lang=en", data={
        "amount": "100,000", "ratio_num": "1", "ratio_den": "1", "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=30)).isoformat(), "display": "anonymous", "message": "",
        "on_end": "refund", "method": "kr_card"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/kr/card")
    donor_client.get(response.headers["Location"])
    pledge = db.session.scalars(select(Pledge).where(Pledge.donor_id == donor.id)).one()
    payment_id = db.session.scalar(select(KrPayment.payment_id).where(KrPayment.pledge_id == pledge.id))
    portone_on.open_window(payment_id, amount=100_000)
    portone_on.pay(payment_id)

    donor_client.get(f"/me/pledges/{pledge.id}/kr/complete")

    db.session.refresh(pledge)
    assert (pledge.kind, pledge.paid) == ("match", 100_000)
    assert reconcile() == []


def test_a_recurring_pooled_pledge_is_refused_without_a_billing_channel(app, portone_on, client, session):
    donor = f.user("donor")
    _, response = _pooled_by_form(client, donor, "card", repeat="monthly")
    assert response.status_code == 200
    assert "where this site offers it" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Pledge).where(Pledge.donor_id == donor.id)) == 0


def test_staff_see_the_portone_payment_and_its_virtual_account(app, portone_on, client, session):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, 80_000, method="virtual_account")
    portone_on.open_window(kp.payment_id, amount=80_000, method="virtual_account")
    deliver(client, portone_on.issue_virtual_account(kp.payment_id, expires_at=expiry()))
    staff = f.user("staff")
    f.login(client, staff)

    page = client.get(f"/staff/pledges/{kp.pledge_id}?lang=en").get_data(as_text=True)

    row = db.session.scalar(select(KrPayment).where(KrPayment.payment_id == kp.payment_id))
    assert "PortOne payment" in page and kp.payment_id in page and "VIRTUAL_ACCOUNT_ISSUED" in page
    assert row.va_number in page


def test_a_late_deposit_is_kept_in_the_pooled_fund_when_the_donor_chose_so(app, portone_on, client, session):
    need = f.need(target=100_000)
    kp = kr_pledge(client, need, 100_000, method="virtual_account", on_cancel="pool")
    portone_on.open_window(kp.payment_id, amount=100_000, method="virtual_account")
    deliver(client, portone_on.issue_virtual_account(kp.payment_id, expires_at=expiry(1)))
    pledge_service.release_expired(now=utcnow() + timedelta(hours=2))
    db.session.commit()
    other = kr_pledge(client, need, 100_000)
    portone_on.open_window(other.payment_id, amount=100_000)
    deliver(client, portone_on.pay(other.payment_id))

    outcome = handled(client, portone_on.deposit(kp.payment_id))

    assert outcome == "payment_recorded_unplaced"
    assert kp.row().paid == 100_000
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0
    assert portone_on.payments[kp.payment_id]["amount"]["cancelled"] == 0  # kept, not sent back
    assert db.session.get(Need, need.id).confirmed == 100_000
    assert reconcile() == []
