"""PortOne jobs: what PortOne must hear of once a change commits, and what its webhook told us.

- ``portone.event``: a verified delivery, recorded (``provider_events``) by the webhook in the
  transaction that answers PortOne (kindcity/web/webhooks/portone.py), so PortOne gets its 2xx at once.
  The job runs ``kr_payments.process_event``: it reads the payment back from PortOne and applies it
  exactly once (an event already processed is a no-op, so a replay or a second run changes nothing).
  PortOne briefly unavailable (5xx, the network) fails the job and the queue retries it; an event
  PortOne will not show us is logged and left unprocessed, for `kindcity reconcile --portone`.

- ``portone.settle_pledge``: a pledge paid on the Korean rails ended or owes a refund: its pending
  payment is cancelled (an issued, unpaid virtual account closed, so nobody deposits into a pledge that
  has ended) and its refunds due are sent through PortOne's cancel API, each committed on its own.
  Keyed by the pledge: a refund already cancelled at PortOne is recognised by the refund key in its
  reason and applied instead of asked again, so a job run twice refunds once.

- ``portone.cancel_mismatch``: PortOne charged a payment for another amount than the window kindcity
  opened (a tampered browser): nothing was recorded, and the job cancels the payment in full at PortOne
  and mails the money staff (kindcity/mail/payments.py). Keyed by the payment: a cancellation naming it,
  or nothing left charged, asks nothing again.

All of them raise ``TryAgain`` (or the provider's error) when PortOne could not be reached, and the queue
retries with backoff; on SQLite they run in-process after the commit and a failure waits for
`kindcity reconcile --portone`.
"""
from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..payments import CardPaymentsUnavailable, ProviderError, ProviderRefused
from ..payments.korean import app_kr_provider
from ..services import kr_payments
from . import TryAgain, job, send_refunds_one_by_one


def ask_event(event_row: int) -> None:
    """In the webhook's transaction: the recorded delivery is processed by a job (one at a time per payment)."""
    from . import defer

    defer("portone.event", lock=f"portone-event:{event_row}", event_row=event_row)


def ask_settle(pledge_id: int) -> None:
    """In the transaction that ended the pledge or left it owing a refund."""
    from . import defer

    defer("portone.settle_pledge", lock=f"pledge:{pledge_id}", pledge_id=pledge_id)


def _provider(app: Flask):
    try:
        return app_kr_provider(app)
    except CardPaymentsUnavailable:
        return None


@job("portone.event")
def handle_event(event_row: int) -> str:
    provider = _provider(current_app)
    if provider is None:
        raise TryAgain("PortOne is not configured; the recorded delivery waits")
    try:
        result = kr_payments.process_event(provider, event_row)
    except ProviderRefused as error:
        db.session.rollback()
        current_app.logger.error("portone event %s unreadable: %s", event_row, error)
        return "unreadable"
    return result.outcome  # ProviderUnavailable and database errors fail the job: the queue retries it


@job("portone.settle_pledge")
def settle_pledge(pledge_id: int) -> None:
    provider = _provider(current_app)
    if provider is None:
        return
    failed = close_virtual_accounts(current_app, provider, [pledge_id], failures=True)
    refunds = send_kr_refunds(current_app, provider, pledge_ids=[pledge_id])
    unsent = [refund_id for refund_id, outcome in refunds.items() if outcome == "not_sent"]
    if failed or unsent:
        raise TryAgain(f"pledge {pledge_id}: virtual accounts not closed {failed}, PortOne refunds not sent {unsent}")


def close_virtual_accounts(app: Flask, provider, pledge_ids, *, failures: bool = False) -> list[int]:
    """Cancel the pending payments of these pledges that ended unpaid: close their issued virtual accounts.
    Returns the pledges whose account was closed now, or with ``failures`` those that could not be."""
    closed, failed = [], []
    for pledge_id, payment_id in kr_payments.virtual_accounts_to_close(pledge_ids):
        try:
            if provider.close_virtual_account(payment_id):
                kr_payments.mark_closed(payment_id)
                db.session.commit()
                closed.append(pledge_id)
        except (ProviderError, OperationalError) as error:
            db.session.rollback()
            failed.append(pledge_id)
            app.logger.warning("virtual account %s of pledge %s not closed: %s", payment_id, pledge_id, error)
    return failed if failures else closed


def send_kr_refunds(app: Flask, provider, *, pledge_ids=None) -> dict[int, str]:
    """Send the refunds due on pledges paid through PortOne, each in its own transaction. One that fails
    stays due: the job's retry or `kindcity reconcile --portone` sends it again."""
    from ..services import SYSTEM

    return send_refunds_one_by_one(app, kr_payments.kr_refunds_due(provider, pledge_ids),
                                   lambda refund_id: kr_payments.send_kr_refund(SYSTEM, provider, refund_id),
                                   "PortOne")


@job("portone.cancel_mismatch")
def cancel_mismatch(payment_id: str) -> str:
    """A payment PortOne charged for another amount than its pledge's window: cancel it in full at PortOne
    and tell the money staff. Keyed by the payment (a second run finds it cancelled and asks nothing);
    PortOne unavailable fails the job and the queue retries it."""
    from ..mail.payments import ask_mismatch_notice

    provider = _provider(current_app)
    if provider is None:
        raise TryAgain("PortOne is not configured; the mismatched payment waits")
    done = kr_payments.cancel_mismatched(provider, payment_id)
    if done.outcome in ("cancelled", "cancel_requested"):
        ask_mismatch_notice(done.pledge_id, payment_id, done.charged, done.expected, done.cancelled,
                            "SUCCEEDED" if done.outcome == "cancelled" else "REQUESTED")
    return done.outcome


@job("portone.charge_instalment")
def charge_instalment(pledge_id: int, attempt: int) -> str:
    """Charge an instalment of a recurring pooled pledge with its billing key (kindcity/services/kr_billing.py),
    verified by reading the payment back. A decline mails the donor; the first one is tried again once,
    by the upkeep, after KINDCITY_PORTONE_RETRY_HOURS. PortOne 5xx fails the job and the queue retries it
    (the payment id is fixed, so PortOne charges it once)."""
    from datetime import timedelta

    from flask_babel import gettext as _

    from ..domain.time import SEOUL, utcnow
    from ..mail.payments import ask_charge_failed
    from ..models import Pledge
    from ..services import kr_billing

    provider = _provider(current_app)
    if provider is None or provider.demo:
        raise TryAgain("PortOne is not configured; the instalment waits")
    pledge = db.session.get(Pledge, pledge_id)
    name = _("Recurring donation, pledge %(reference)s", reference=pledge.reference) if pledge else "kindcity"
    done = kr_billing.charge_instalment(provider, pledge_id, attempt, order_name=name)
    if done.outcome == "declined":
        retry_on = None
        if attempt + 1 < kr_billing.MAX_ATTEMPTS:
            hours = int(current_app.config.get("KINDCITY_PORTONE_RETRY_HOURS", 24))
            retry_on = (utcnow() + timedelta(hours=hours)).astimezone(SEOUL).date().isoformat()
        ask_charge_failed(pledge_id, attempt, retry_on)
        current_app.logger.info("instalment %s declined (attempt %s): %s", pledge_id, attempt, done.reason)
    return done.outcome


@job("portone.delete_billing_key")
def delete_billing_key(key_id: int) -> str:
    """The donor stopped the recurring pledge: its billing key is deleted at PortOne. Keyed by the key;
    PortOne 5xx fails the job and the queue retries it."""
    from ..services import kr_billing

    provider = _provider(current_app)
    if provider is None or provider.demo:
        raise TryAgain("PortOne is not configured; the billing key waits to be deleted")
    return kr_billing.delete_key(provider, key_id)
