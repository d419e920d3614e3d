"""Recurring giving by card billing key through PortOne (정기결제), against the fake PortOne with the real SDK:
the key read back before it is kept, each instalment charged by the job and verified by reading the payment
back, a decline mailed and retried once, PortOne failing mid-charge, and stopping deleting the key."""
from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kindcity import jobs
from kindcity.domain.pledges import PledgeStatus
from kindcity.domain.recurrence import due_date
from kindcity.domain.time import utcnow
from kindcity.extensions import db
from kindcity.payments import ProviderUnavailable
from kindcity.models import KrBillingKey, KrPayment, Payment, Pledge, PooledSeries
from kindcity.services import recurring as recurring_service
from kindcity.services.kr_billing import customer_id_for, issue_id_for
from kindcity.services.reconcile import reconcile
from tests import factories as f

from .conftest import handled


@pytest.fixture
def billing_on(app, portone_on, monkeypatch):
    monkeypatch.setitem(app.config, "KINDCITY_PORTONE_CHANNEL_BILLING", "channel-key-billing")
    return portone_on


def _recurring_by_form(client, donor, amount: int = 30_000, method: str = "card"):
    donor_client = client.application.test_client()
    f.login(donor_client, donor)
    return donor_client, donor_client.post("/me/pooled/new?lang=en", data={
        "amount": f"{amount:,}", "display": "anonymous", "message": "", "on_end": "refund", "repeat": "monthly",
        "method": f"kr_{method}"})


def _registered(client, fake, amount: int = 30_000):
    """A donor makes a monthly pooled pledge by Korean card and registers the card (the browser SDK's
    requestIssueBillingKey, played by the fake); the first instalment's charge runs after the commit."""
    donor = f.user("donor")
    donor_client, made = _recurring_by_form(client, donor, amount)
    assert made.status_code == 303 and made.headers["Location"].endswith("/kr/billing"), made.get_data(as_text=True)[:500]
    pledge = db.session.scalars(select(Pledge).where(Pledge.donor_id == donor.id)).one()
    series = db.session.scalars(select(PooledSeries).where(PooledSeries.donor_id == donor.id)).one()
    page = donor_client.get(made.headers["Location"]).get_data(as_text=True)
    assert f'data-issue-id="{issue_id_for(series.id)}"' in page and 'data-channel-key="channel-key-billing"' in page
    assert f'data-customer-id="{customer_id_for(donor.id)}"' in page
    key = fake.issue_billing_key(issue_id=issue_id_for(series.id), customer_id=customer_id_for(donor.id))
    answer = donor_client.post(made.headers["Location"], data={"billing_key": key})
    assert answer.status_code == 303
    return donor, donor_client, series.id, pledge.id, key


def _charges(fake) -> list[dict]:
    return [body for verb, path, body in fake.requests if verb == "POST" and path.endswith("/billing-key")]


def _next_instalment(app, series_id: int, period: int, *, fake_now=None) -> int:
    series = db.session.get(PooledSeries, series_id)
    made = recurring_service.create_due_instalments(due_date(series.starts_on, series.frequency, period))
    db.session.commit()
    with app.test_request_context("/"):
        jobs.run_committed()
    return made[0].pledge_id


def _mails_to(app, before, address: str) -> list[str]:
    found = []
    for path in f.outbox(app) - before:
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if mail["To"] == address:
            found.append(mail["Subject"] + "\n" + mail.get_content())
    return found


def test_the_card_is_registered_once_read_back_and_the_first_instalment_is_charged(app, billing_on, client, session):
    donor, _, series_id, pledge_id, key = _registered(client, billing_on)

    stored = db.session.scalars(select(KrBillingKey)).one()
    assert (stored.series_id, stored.billing_key, stored.status, stored.card_name) == (series_id, key, "active",
                                                                                       "KB국민카드")
    assert ("GET", f"/billing-keys/{key}") in [r[:2] for r in billing_on.requests]  # read back before kept
    pledge = db.session.get(Pledge, pledge_id)
    payment_id = f"kc-{pledge.reference}"
    assert [c["amount"]["total"] for c in _charges(billing_on)] == [30_000]
    assert _charges(billing_on)[0]["billingKey"] == key and _charges(billing_on)[0]["currency"] == "KRW"
    charge_at = billing_on.requests.index(next(r for r in billing_on.requests if r[1].endswith("/billing-key")))
    assert ("GET", f"/payments/{payment_id}") in [r[:2] for r in billing_on.requests[charge_at + 1:]]  # verified
    assert (pledge.status, pledge.paid) == (PledgeStatus.PAID, 30_000)
    assert db.session.scalar(select(Payment.external_id).where(Payment.pledge_id == pledge_id)) == payment_id
    # PortOne's webhook of the same payment changes nothing more.
    assert handled(client, billing_on.events[-1]) == "payment_already_recorded"
    assert reconcile() == []


def test_a_billing_key_that_is_not_this_series_own_is_refused(app, billing_on, client, session):
    donor = f.user("donor")
    someone = f.user("donor")
    donor_client, made = _recurring_by_form(client, donor)
    series = db.session.scalars(select(PooledSeries).where(PooledSeries.donor_id == donor.id)).one()
    others = billing_on.issue_billing_key(issue_id=issue_id_for(series.id), customer_id=customer_id_for(someone.id))
    made_up = "billing-key-made-up-by-the-browser"

    for key in (others, made_up):
        answer = donor_client.post(made.headers["Location"] + "?lang=en", data={"billing_key": key},
                                   follow_redirects=True)
        assert "The card could not be registered" in answer.get_data(as_text=True)

    assert db.session.scalar(select(func.count()).select_from(KrBillingKey)) == 0
    assert _charges(billing_on) == []


def test_easy_pay_and_virtual_accounts_are_not_recurring(app, billing_on, client, session):
    donor = f.user("donor")
    _, answer = _recurring_by_form(client, donor, method="easy_pay")
    assert answer.status_code == 200 and "Easy pay and virtual account are for a single gift" in answer.get_data(
        as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PooledSeries)) == 0


def test_each_instalment_is_charged_by_the_scheduled_job_and_a_decline_is_mailed_and_retried_once(app, billing_on,
                                                                                                 client, session):
    donor, _, series_id, _, key = _registered(client, billing_on)
    before = f.outbox(app)
    billing_on.decline_next = 1

    second = _next_instalment(app, series_id, 2)

    pledge = db.session.get(Pledge, second)
    assert (pledge.status, pledge.paid) == (PledgeStatus.AWAITING_PAYMENT, 0)
    assert db.session.scalar(select(KrPayment.status).where(KrPayment.pledge_id == second)) == "FAILED"
    mails = _mails_to(app, before, donor.email)
    assert len(mails) == 1 and "declined" in mails[0] and "once more" in mails[0]
    # Not yet time for the retry; then it is, and the retry charges attempt 1.
    assert recurring_service.retry_declined_charges(app.config, now=utcnow() + timedelta(hours=1)) == []
    assert recurring_service.retry_declined_charges(app.config, now=utcnow() + timedelta(hours=25)) == [(second, 1)]
    db.session.commit()
    with app.test_request_context("/"):
        jobs.run_committed()
    db.session.refresh(pledge)
    assert (pledge.status, pledge.paid) == (PledgeStatus.PAID, 30_000)
    assert db.session.scalar(select(Payment.external_id).where(Payment.pledge_id == second)) == \
        f"kc-{pledge.reference}-1"
    assert recurring_service.retry_declined_charges(app.config, now=utcnow() + timedelta(days=9)) == []

    # The third instalment is declined twice: the donor is told, with the bank details, and nothing more is tried.
    before = f.outbox(app)
    billing_on.decline_next = 2
    third = _next_instalment(app, series_id, 3)
    assert recurring_service.retry_declined_charges(app.config, now=utcnow() + timedelta(hours=25)) == [(third, 1)]
    db.session.commit()
    with app.test_request_context("/"):
        jobs.run_committed()
    assert db.session.get(Pledge, third).paid == 0
    mails = _mails_to(app, before, donor.email)
    assert len(mails) == 2 and any("declined again" in mail and "reference code" in mail for mail in mails)
    assert recurring_service.retry_declined_charges(app.config, now=utcnow() + timedelta(days=9)) == []
    assert len(_charges(billing_on)) == 1 + 2 + 2
    assert reconcile() == []


def test_portone_failing_after_the_charge_retries_the_job_and_charges_once(app, billing_on, client, session):
    donor, _, series_id, _, key = _registered(client, billing_on)
    series = db.session.get(PooledSeries, series_id)
    made = recurring_service.create_due_instalments(due_date(series.starts_on, series.frequency, 2))
    db.session.commit()
    pledge_id = made[0].pledge_id
    reference = db.session.get(Pledge, pledge_id).reference
    billing_on.fail_routes.append(("GET", f"/payments/kc-{reference}", 500))  # the first read, before charging

    with app.test_request_context("/"):
        jobs.run_committed()  # the job fails at its first read (the queue would retry it)
    assert db.session.get(Pledge, pledge_id).paid == 0 and len(_charges(billing_on)) == 1
    # The retry charges, but PortOne fails the read back: the job fails again, the charge stands at PortOne.
    calls = []
    real = billing_on._pay_with_billing_key

    def charge_then_fail_the_read_back(payment_id, body):
        calls.append(payment_id)
        answer = real(payment_id, body)
        billing_on.fail_routes.append(("GET", f"/payments/{payment_id}", 500))
        return answer

    billing_on._pay_with_billing_key = charge_then_fail_the_read_back
    try:
        with app.test_request_context("/"), pytest.raises(ProviderUnavailable):
            jobs.perform("portone.charge_instalment", {"pledge_id": pledge_id, "attempt": 0})
    finally:
        billing_on._pay_with_billing_key = real
    assert calls == [f"kc-{reference}"] and db.session.get(Pledge, pledge_id).paid == 0
    with app.test_request_context("/"):
        jobs.perform("portone.charge_instalment", {"pledge_id": pledge_id, "attempt": 0})  # the queue's next retry
    pledge = db.session.get(Pledge, pledge_id)
    db.session.refresh(pledge)
    assert (pledge.status, pledge.paid) == (PledgeStatus.PAID, 30_000)
    assert len(_charges(billing_on)) == 2  # the first instalment and this one, each once
    assert reconcile() == []


def test_stopping_deletes_the_billing_key_at_portone_and_charges_no_more(app, billing_on, client, session):
    donor, donor_client, series_id, pledge_id, key = _registered(client, billing_on)

    answer = donor_client.post(f"/me/pooled/{pledge_id}/series/stop", data={"confirm": "y"})

    assert answer.status_code in (302, 303)
    assert billing_on.billing_keys[key]["status"] == "DELETED"
    assert ("DELETE", f"/billing-keys/{key}") in [r[:2] for r in billing_on.requests]
    stored = db.session.scalars(select(KrBillingKey)).one()
    db.session.refresh(stored)
    assert (stored.status, stored.billing_key) == ("deleted", None)
    assert db.session.get(PooledSeries, series_id).stopped_at is not None
    assert recurring_service.create_due_instalments(utcnow().date() + timedelta(days=40)) == []
    assert len(_charges(billing_on)) == 1
    with app.test_request_context("/"):  # a second run of the job asks PortOne nothing
        jobs.perform("portone.delete_billing_key", {"key_id": stored.id})
    assert [r[:2] for r in billing_on.requests].count(("DELETE", f"/billing-keys/{key}")) == 1
