"""Recurring giving by card billing key through PortOne (정기결제).

A donor who chooses a Korean card for a recurring pooled pledge authorises once: the browser SDK's
``requestIssueBillingKey`` issues a card billing key at PortOne, for an issue id and a customer id that
kindcity chose (``issue_id_for``, ``customer_id_for``). The browser hands the key over, and the server reads
it back from PortOne (``GET /billing-keys/{billingKey}``) and keeps it for the series only when it is
issued, of this store, for this donor and for this series' issue id: a key the browser made up, or
another donor's, is refused.

Each instalment is then charged by a job (``portone.charge_instalment``, deferred by the scheduled upkeep
that makes the instalment, kindcity/jobs/portone.py) with ``POST /payments/{paymentId}/billing-key``, under
a payment id kindcity chose (the instalment's reference code and attempt), so PortOne charges it once
however often the job runs. The payment is believed only once it is read back and applied by the same rules
as any PortOne payment (``kr_payments.apply_state``: ours, KRW, the amount asked for).

A declined charge mails the donor and is tried once more after ``KINDCITY_PORTONE_RETRY_HOURS``; a second
decline mails the donor that the instalment stays unpaid (they can pay it by bank transfer). Stopping the
series deletes the billing key at PortOne (``DELETE /billing-keys/{billingKey}``, a job).
Services never commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..domain.pledges import HOLDING
from ..domain.time import utcnow
from ..extensions import db
from ..models import KrBillingKey, KrPayment, Pledge, PooledSeries, PooledTerms
from ..payments.korean import payment_id_for
from . import Actor, NotFound, ServiceError
from .audit import record

MAX_ATTEMPTS = 2  # the first charge and one retry


class BillingError(ServiceError):
    """Codes: not_billing_series, billing_key_invalid, billing_key_exists."""

    code = "billing_error"


def customer_id_for(donor_id: int) -> str:
    return f"kindcity-donor-{donor_id}"


def issue_id_for(series_id: int) -> str:
    return f"kindcity-series-{series_id}"


def series_of(pledge_id: int) -> PooledSeries | None:
    terms = db.session.get(PooledTerms, pledge_id)
    if terms is None or terms.series_id is None:
        return None
    return db.session.get(PooledSeries, terms.series_id)


def active_key(series_id: int) -> KrBillingKey | None:
    return db.session.scalar(select(KrBillingKey).where(KrBillingKey.series_id == series_id,
                                                        KrBillingKey.status == "active"))


@dataclass(frozen=True)
class BillingWindow:
    """What the browser SDK's ``PortOne.requestIssueBillingKey`` is called with."""

    store_id: str
    channel_key: str
    issue_id: str
    issue_name: str
    customer_id: str


def billing_window(actor: Actor, provider, pledge_id: int, *, issue_name: str) -> BillingWindow:
    series = _own_series(actor, pledge_id)
    if active_key(series.id) is not None:
        raise BillingError("billing_key_exists")
    return BillingWindow(store_id=provider.store_id, channel_key=provider.billing_channel,
                         issue_id=issue_id_for(series.id), issue_name=issue_name,
                         customer_id=customer_id_for(series.donor_id))


def _own_series(actor: Actor, pledge_id: int) -> PooledSeries:
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or actor.user is None or pledge.donor_id != actor.user.id:
        raise NotFound()
    series = series_of(pledge_id)
    if series is None or series.method != "portone" or series.stopped_at is not None:
        raise BillingError("not_billing_series")
    return series


def register_key(actor: Actor, provider, pledge_id: int, billing_key: str) -> KrBillingKey:
    """Keep the billing key the browser handed over, once PortOne confirms it is this series' own; ask for
    the charge of every unpaid instalment of the series (the first one, usually)."""
    series = _own_series(actor, pledge_id)
    billing_key = (billing_key or "").strip()
    if not billing_key or len(billing_key) > 200:
        raise BillingError("billing_key_invalid")
    if active_key(series.id) is not None:
        raise BillingError("billing_key_exists")
    info = provider.get_billing_key(billing_key)  # read back: never the browser's word
    if (info is None or info.status != "ISSUED" or info.store_id != provider.store_id
            or info.customer_id != customer_id_for(series.donor_id) or info.issue_id != issue_id_for(series.id)):
        raise BillingError("billing_key_invalid")
    row = KrBillingKey(series_id=series.id, donor_id=series.donor_id, billing_key=billing_key, status="active",
                       card_name=(info.card_name or "")[:60] or None, card_number=(info.card_number or "")[:30] or None)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise BillingError("billing_key_exists") from None
    record(actor, "series.billing_key", "pooled_series", series.id, after={"card": row.card_name})  # never the key
    for unpaid in _unpaid_instalments(series.id):
        ask_charge(unpaid, 0)
    return row


def _unpaid_instalments(series_id: int) -> list[int]:
    return list(db.session.scalars(
        select(Pledge.id).join(PooledTerms, PooledTerms.pledge_id == Pledge.id)
        .where(PooledTerms.series_id == series_id, PooledTerms.ended_at.is_(None), Pledge.paid == 0,
               Pledge.status.in_([status.value for status in HOLDING])).order_by(Pledge.id)))


def ask_charge(pledge_id: int, attempt: int) -> None:
    """In the caller's transaction: charge this instalment with its series' billing key (a job)."""
    from .. import jobs

    if jobs.first_in_transaction(f"portone-charge:{pledge_id}:{attempt}"):
        jobs.defer("portone.charge_instalment", lock=f"pledge:{pledge_id}", pledge_id=pledge_id, attempt=attempt)


@dataclass(frozen=True)
class Charge:
    outcome: str            # paid | declined | nothing_to_charge | no_billing_key | not_verified
    pledge_id: int
    attempt: int
    payment_id: str | None = None
    reason: str = ""


def charge_instalment(provider, pledge_id: int, attempt: int, *, order_name: str,
                      now: datetime | None = None) -> Charge:
    """Charge one instalment with its series' billing key, and apply what PortOne then says of the payment.
    Idempotent, keyed by the instalment and attempt: the payment id is fixed, a payment PortOne already has
    is read back instead of charged again. ProviderUnavailable propagates (the job is retried)."""
    from . import kr_payments

    now = now or utcnow()
    pledge = db.session.get(Pledge, pledge_id)
    series = series_of(pledge_id) if pledge is not None else None
    if pledge is None or series is None or series.method != "portone":
        return Charge("nothing_to_charge", pledge_id, attempt)
    key = active_key(series.id)
    if key is None:
        return Charge("no_billing_key", pledge_id, attempt)
    payment_id = payment_id_for(pledge.reference, attempt)
    row = db.session.scalar(select(KrPayment).where(KrPayment.payment_id == payment_id))
    if row is None:
        if pledge.paid or pledge.status not in HOLDING:
            return Charge("nothing_to_charge", pledge_id, attempt)
        row = KrPayment(pledge_id=pledge.id, payment_id=payment_id, provider=provider.name, pay_method="card",
                        amount=pledge.amount, status="READY", created_at=now, updated_at=now)
        db.session.add(row)
        db.session.flush()
    state = provider.get_payment(payment_id)
    answer = "read_back"
    if state is None or state.status in ("READY", "PAY_PENDING"):
        answer = provider.pay_with_billing_key(payment_id=payment_id, billing_key=key.billing_key,
                                               amount=row.amount, order_name=order_name,
                                               customer_id=customer_id_for(series.donor_id))
        state = provider.get_payment(payment_id)  # verified by reading the payment back
    if state is None:
        return Charge("not_verified", pledge_id, attempt, payment_id, answer)
    done = kr_payments.apply_state(kr_payments._provider_actor(provider, "billing"), provider.source, state, now=now)
    outcome = done.get("payment", "")
    if outcome.startswith("payment_recorded") or outcome == "payment_already_recorded":
        return Charge("paid", pledge_id, attempt, payment_id)
    if state.status == "FAILED":
        return Charge("declined", pledge_id, attempt, payment_id, answer.removeprefix("declined: "))
    return Charge(outcome or "not_verified", pledge_id, attempt, payment_id, answer)


def retries_due(now: datetime, after: timedelta) -> list[tuple[int, int]]:
    """(instalment, next attempt) of each unpaid instalment of a running billing-key series whose last
    charge was declined at least ``after`` ago and that has an attempt left."""
    attempts = (select(KrPayment.pledge_id, func.count(KrPayment.id).label("n"), func.max(KrPayment.id).label("last"))
                .group_by(KrPayment.pledge_id).subquery())
    rows = db.session.execute(
        select(Pledge.id, attempts.c.n, KrPayment.status, KrPayment.updated_at)
        .join(PooledTerms, PooledTerms.pledge_id == Pledge.id)
        .join(PooledSeries, PooledSeries.id == PooledTerms.series_id)
        .join(KrBillingKey, (KrBillingKey.series_id == PooledSeries.id) & (KrBillingKey.status == "active"))
        .join(attempts, attempts.c.pledge_id == Pledge.id)
        .join(KrPayment, KrPayment.id == attempts.c.last)
        .where(PooledSeries.method == "portone", PooledSeries.stopped_at.is_(None), PooledTerms.ended_at.is_(None),
               Pledge.paid == 0, Pledge.status.in_([status.value for status in HOLDING]))
        .order_by(Pledge.id)).all()
    return [(r.id, r.n) for r in rows if r.status == "FAILED" and r.n < MAX_ATTEMPTS and r.updated_at <= now - after]


def ask_retries(now: datetime, after: timedelta) -> list[tuple[int, int]]:
    """The upkeep: ask for the one retry of each declined instalment whose time has come."""
    due = retries_due(now, after)
    for pledge_id, attempt in due:
        ask_charge(pledge_id, attempt)
    return due


def stop_billing(series_id: int) -> bool:
    """The series stopped: its billing key is to be deleted at PortOne (a job of this transaction)."""
    from .. import jobs

    key = active_key(series_id)
    if key is None:
        return False
    key.status = "deleting"
    jobs.defer("portone.delete_billing_key", lock=f"billing-key:{key.id}", key_id=key.id)
    return True


def delete_key(provider, key_id: int) -> str:
    """Delete the billing key at PortOne and forget it here (its status stays). Idempotent."""
    key = db.session.get(KrBillingKey, key_id)
    if key is None or key.status == "deleted" or not key.billing_key:
        return "already_deleted"
    provider.delete_billing_key(key.billing_key, reason="the donor stopped the recurring gift")
    key.status, key.deleted_at, key.billing_key = "deleted", utcnow(), None
    record(Actor(None, f"{provider.name}:billing"), "series.billing_key_deleted", "pooled_series", key.series_id)
    return "deleted"
