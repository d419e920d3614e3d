"""Korean rails (PortOne): opening a payment window for a pledge, recording what PortOne says, virtual
accounts, refunds through PortOne's cancel API, webhooks and reconciliation.

The server never trusts the browser. A payment window is opened for a payment id that kindcity chose
(``payment_id_for``: the pledge's reference code) and an amount it fixed; whatever the browser or a
webhook says afterwards is only a trigger to read the payment back from PortOne. It is recorded only
when the payment id is ours, the currency is KRW and the amount PortOne charged is the amount the
window was opened for. A virtual account's deposit is recorded for what was deposited: a wrong amount
then follows the same rules as a wrong bank transfer (partly paid, or the excess by the donor's choice).

Every step is idempotent (one Payment per PortOne payment id, one refund completion per cancellation),
so a webhook delivered twice, late or out of order converges on PortOne's current state. Services never
commit; the provider is called before any row is locked, except in ``send_kr_refund``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..domain.ledger import Entry
from ..domain.pledges import ENDED, HOLDING
from ..domain.time import utcnow
from ..extensions import db
from ..models import (KrPayment, Payment, Pledge, ProviderEvent, Refund,
                      RefundBankAccount)
from ..payments.korean import (EASY_PAY_PROVIDERS, REFUND_BANKS, KrCancellation, KrEventNotice, KrPaymentState,
                               RefundAccount, payment_id_for, reference_of)
from . import Actor, NotFound, ServiceError
from . import pledges as pledge_service
from .audit import record
from .ledger import cash_by_memo
from .reconcile import Discrepancy

# PortOne's webhook types (version 2024-04-01) that say something about a payment's money.
HANDLED_EVENTS = frozenset({"Transaction.Paid", "Transaction.VirtualAccountIssued", "Transaction.Failed",
                            "Transaction.Cancelled", "Transaction.PartialCancelled",
                            "Transaction.CancelPending"})
PAID_STATUSES = ("PAID", "PARTIAL_CANCELLED", "CANCELLED")
SDK_METHODS = {"card": "CARD", "easy_pay": "EASY_PAY", "virtual_account": "VIRTUAL_ACCOUNT"}


class KrPayError(ServiceError):
    """A refusal about paying on the Korean rails (codes: not_kr_pledge, kr_method_unavailable,
    kr_checkout_closed, hold_expired, virtual_account_issued, refund_account_invalid)."""

    code = "kr_pay_error"


def refund_key(refund_id: int, reference: str) -> str:
    return f"kindcity-refund-{refund_id}-{reference}"


_REFUND_KEY = re.compile(r"kindcity-refund-(\d+)-")


# --- opening a payment window ---------------------------------------------------------------------

@dataclass(frozen=True)
class PaymentWindow:
    """What the browser SDK's ``PortOne.requestPayment`` is called with (nothing the donor can change
    matters: the server reads the payment back and compares)."""

    store_id: str
    channel_key: str
    payment_id: str
    order_name: str
    amount: int
    pay_method: str             # CARD | EASY_PAY | VIRTUAL_ACCOUNT
    easy_pay_provider: str | None
    va_due: datetime | None
    demo: bool


def open_window(actor: Actor, provider, pledge_id: int, pay_method: str, *, order_name: str,
                easy_pay_provider: str | None = None, now: datetime | None = None) -> PaymentWindow:
    now = now or utcnow()
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or actor.user is None or pledge.donor_id != actor.user.id:
        raise NotFound()
    if pledge.method != "portone":
        raise KrPayError("not_kr_pledge")
    if pay_method not in provider.channels or not provider.channels.get(pay_method):
        raise KrPayError("kr_method_unavailable")
    if easy_pay_provider is not None and easy_pay_provider not in EASY_PAY_PROVIDERS:
        raise KrPayError("kr_method_unavailable")
    if pledge.status not in HOLDING or pledge.paid:
        raise KrPayError("kr_checkout_closed")
    if pledge.need_id is not None and (pledge.hold_expires_at is None or pledge.hold_expires_at <= now):
        raise KrPayError("hold_expired")
    row = current_payment(pledge.id)
    if row is not None and row.status == "VIRTUAL_ACCOUNT_ISSUED":
        raise KrPayError("virtual_account_issued")
    if row is None or row.status == "CANCELLED":
        # A pledge without a need whose virtual account closed unpaid is paid with a new payment id;
        # a failed or unfinished window is simply opened again with the same one.
        attempt = 0 if row is None else db.session.scalar(
            select(func.count()).select_from(KrPayment).where(KrPayment.pledge_id == pledge.id))
        row = KrPayment(pledge_id=pledge.id, payment_id=payment_id_for(pledge.reference, attempt),
                        provider=provider.name, pay_method=pay_method, amount=pledge.amount, status="READY")
        db.session.add(row)
        record(actor, "pledge.kr_window", "pledge", pledge.id, after={"payment": row.payment_id, "method": pay_method})
    row.pay_method, row.amount, row.updated_at = pay_method, pledge.amount, now
    row.easy_pay_provider = easy_pay_provider if pay_method == "easy_pay" else None
    va_due = None
    if pay_method == "virtual_account":
        va_due = now + timedelta(hours=provider.virtual_account_hours)
    db.session.flush()
    return PaymentWindow(store_id=provider.store_id, channel_key=provider.channels[pay_method],
                         payment_id=row.payment_id, order_name=order_name, amount=row.amount,
                         pay_method=SDK_METHODS[pay_method],
                         easy_pay_provider=easy_pay_provider, va_due=va_due,
                         demo=provider.demo)


def switch_to_bank(actor: Actor, pledge_id: int, *, hold_for: timedelta, now: datetime | None = None) -> None:
    """Pay this pledge by bank transfer instead (the donor's browser cannot open PortOne's window):
    allowed while nothing is paid and no virtual account is open; the hold becomes a bank transfer's."""
    now = now or utcnow()
    pledge = pledge_service.lock_pledge(pledge_id)
    if actor.user is None or pledge.donor_id != actor.user.id:
        raise NotFound()
    if pledge.method != "portone":
        raise KrPayError("not_kr_pledge")
    if pledge.status not in HOLDING or pledge.paid:
        raise KrPayError("kr_checkout_closed")
    row = current_payment(pledge_id)
    if row is not None and row.status not in ("READY", "FAILED"):
        raise KrPayError("virtual_account_issued" if row.status == "VIRTUAL_ACCOUNT_ISSUED" else "kr_checkout_closed")
    pledge.method = "bank"
    record(actor, "pledge.method", "pledge", pledge.id, before={"method": "portone"}, after={"method": "bank"})
    if pledge.need_id is not None:
        pledge_service.extend_hold(actor, pledge.id, until=now + hold_for, reason="switched_to_bank_transfer")


def current_payment(pledge_id: int) -> KrPayment | None:
    return db.session.scalar(select(KrPayment).where(KrPayment.pledge_id == pledge_id)
                             .order_by(KrPayment.id.desc()).limit(1))


# --- what PortOne says, applied ---------------------------------------------------------------------

def _ours(state: KrPaymentState) -> tuple[KrPayment, Pledge] | None:
    """Our window and pledge for this payment: the payment id must be one we opened, for the pledge
    whose reference code it carries."""
    row = db.session.scalar(select(KrPayment).where(KrPayment.payment_id == state.payment_id))
    reference = reference_of(state.payment_id)
    if row is None or reference is None:
        return None
    pledge = db.session.get(Pledge, row.pledge_id)
    if pledge is None or pledge.reference != reference:
        return None
    return row, pledge


def apply_state(actor: Actor, source: str, state: KrPaymentState, *, now: datetime | None = None) -> dict[str, str]:
    """Bring the pledge in line with PortOne's current state of one payment. Returns what each part did."""
    now = now or utcnow()
    found = _ours(state)
    if found is None:
        return {"payment": "not_ours"}
    row, pledge = found
    pledge_id, need_id = pledge.id, pledge.need_id
    done: dict[str, str] = {}
    if state.currency != "KRW":
        pledge_service.flag_pledge(actor, pledge_id, f"PortOne payment {state.payment_id} in {state.currency}, not KRW")
        return {"payment": "currency_mismatch"}
    if state.total != row.amount:
        # The browser asked PortOne for another amount than the server opened the window for: nothing is
        # recorded, and money charged for it is cancelled at PortOne by a job of this transaction, which
        # tells the money staff (kindcity/jobs/portone.py).
        if 0 < state.paid <= state.cancelled:
            return {"payment": "amount_mismatch_cancelled"}  # already sent back: nothing more to say
        pledge_service.flag_pledge(actor, pledge_id, f"PortOne payment {state.payment_id} of {state.total} KRW; "
                                                     f"the window was opened for {row.amount} KRW")
        if mismatch_to_cancel(state):
            ask_cancel_mismatch(state.payment_id)
        return {"payment": "amount_mismatch"}
    _remember_state(row, state, now)
    if state.status in PAID_STATUSES and state.paid > 0:
        outcome = pledge_service.record_payment(actor, pledge_id, state.paid, source=source,
                                                external_id=state.payment_id, received_at=state.paid_at or now,
                                                note=f"{row.pay_method} {state.payment_id}")
        if not outcome.created:
            done["payment"] = "payment_already_recorded"
        elif outcome.surplus:
            done["payment"] = "payment_recorded_unplaced"
        else:
            done["payment"] = "payment_recorded" if state.paid == state.total else "payment_recorded_other_amount"
    elif state.status == "VIRTUAL_ACCOUNT_ISSUED":
        done["payment"] = _virtual_account_issued(actor, pledge_id, need_id, state, now)
    elif state.status in ("FAILED", "CANCELLED"):
        # A window that failed may be tried again while the hold lasts; a virtual account closed or
        # expired unpaid ends the hold it kept.
        if state.method == "virtual_account" and need_id is not None:
            released = pledge_service.expire_hold(actor, pledge_id, reason="virtual_account_closed")
            done["payment"] = "hold_released" if released else "hold_already_ended"
        else:
            done["payment"] = "payment_failed" if state.status == "FAILED" else "payment_cancelled_unpaid"
    else:
        done["payment"] = "payment_pending"
    for cancellation in state.cancellations:
        done[f"cancel:{cancellation.id}"] = apply_cancellation(actor, source, pledge_id, cancellation)
    return done


# --- a payment of another amount than the window: cancelled at PortOne -------------------------------

MISMATCH_KEY = "kindcity-mismatch-"


def mismatch_to_cancel(state: KrPaymentState) -> bool:
    """Money PortOne holds for a payment that does not match its window, not yet cancelled."""
    return state.status in ("PAID", "PARTIAL_CANCELLED") and state.paid - state.cancelled > 0


def ask_cancel_mismatch(payment_id: str) -> None:
    """In the caller's transaction, once: cancel this payment at PortOne (kindcity/jobs/portone.py)."""
    from .. import jobs

    if jobs.first_in_transaction(f"portone-mismatch:{payment_id}"):
        jobs.defer("portone.cancel_mismatch", lock=f"portone-payment:{payment_id}", payment_id=payment_id)


@dataclass(frozen=True)
class MismatchCancelled:
    outcome: str                # cancelled | cancel_requested | already_cancelled | nothing_to_cancel | not_mismatched | unknown_payment
    pledge_id: int | None = None
    charged: int = 0            # what PortOne charged
    expected: int = 0           # what the window was opened for
    cancelled: int = 0          # cancelled now


def cancel_mismatched(provider, payment_id: str) -> MismatchCancelled:
    """Cancel, in full, a payment PortOne charged for another amount than its window (a tampered browser):
    its money was never recorded, so it goes back to the card at once. Idempotent, keyed by the payment:
    PortOne's payment is read first, and a cancellation naming this payment's key, or nothing left to cancel,
    asks nothing again; the request carries the cancellable amount, which PortOne refuses if it changed.
    A matching payment is never cancelled here. The caller commits."""
    row = db.session.scalar(select(KrPayment).where(KrPayment.payment_id == payment_id))
    if row is None:
        return MismatchCancelled("unknown_payment")
    state = provider.get_payment(payment_id)
    if state is None:
        return MismatchCancelled("unknown_payment", row.pledge_id)
    facts = dict(pledge_id=row.pledge_id, charged=state.total, expected=row.amount)
    if state.total == row.amount:
        return MismatchCancelled("not_mismatched", **facts)
    key = f"{MISMATCH_KEY}{payment_id}"
    if any(key in (c.reason or "") and c.status in ("SUCCEEDED", "REQUESTED") for c in state.cancellations):
        return MismatchCancelled("already_cancelled", **facts)
    left = state.paid - state.cancelled
    if not mismatch_to_cancel(state):
        return MismatchCancelled("nothing_to_cancel", **facts)
    cancellation = provider.cancel_payment(payment_id=payment_id, amount=left, cancellable=left,
                                           reason=f"amount {state.total} KRW does not match pledge {row.amount} KRW {key}")
    row.status, row.updated_at = ("CANCELLED" if cancellation.status == "SUCCEEDED" else row.status), utcnow()
    actor = _provider_actor(provider, "mismatch")
    pledge_service.flag_pledge(actor, row.pledge_id, f"PortOne payment {payment_id} of {state.total} KRW did not match "
                                                     f"the pledge ({row.amount} KRW): {left} KRW cancelled at PortOne "
                                                     f"({cancellation.status})")
    record(actor, "pledge.kr_mismatch_cancelled", "pledge", row.pledge_id,
           after={"payment": payment_id, "charged": state.total, "expected": row.amount, "cancelled": left,
                  "status": cancellation.status})
    return MismatchCancelled("cancelled" if cancellation.status == "SUCCEEDED" else "cancel_requested",
                             cancelled=left, **facts)


def _remember_state(row: KrPayment, state: KrPaymentState, now: datetime) -> None:
    row.status, row.updated_at = state.status, now
    if state.method in ("card", "easy_pay", "virtual_account"):
        row.pay_method = state.method
    if state.va_number:
        row.va_bank, row.va_number, row.va_holder = state.va_bank, state.va_number, state.va_holder
        row.va_expires_at = state.va_expires_at


def _virtual_account_issued(actor: Actor, pledge_id: int, need_id: int | None, state: KrPaymentState,
                            now: datetime) -> str:
    """The pledge's own account number is open until its due time: the hold lasts as long; once the due
    time has passed unpaid, the hold ends."""
    if need_id is None:
        return "virtual_account_issued"
    if state.va_expires_at is not None and state.va_expires_at <= now:
        released = pledge_service.expire_hold(actor, pledge_id, reason="virtual_account_expired")
        return "hold_released" if released else "hold_already_ended"
    if state.va_expires_at is not None:
        pledge_service.extend_hold(actor, pledge_id, until=state.va_expires_at, reason="virtual_account_issued")
    return "virtual_account_issued"


def apply_cancellation(actor: Actor, source: str, pledge_id: int, cancellation: KrCancellation) -> str:
    ours = db.session.scalar(select(Refund).where(Refund.external_id == cancellation.id))
    if ours is None:
        match = _REFUND_KEY.search(cancellation.reason or "")
        if match:
            # Sent, but the answer was lost before we stored its id: the reason names our refund.
            ours = db.session.scalar(select(Refund).where(Refund.id == int(match.group(1)),
                                                          Refund.pledge_id == pledge_id,
                                                          Refund.external_id.is_(None)))
    if ours is None:
        if cancellation.status == "FAILED":
            return "cancel_not_ours_failed"
        pledge_service.flag_pledge(actor, pledge_id, f"PortOne cancellation {cancellation.id} of {cancellation.amount}"
                                                     f" KRW made outside kindcity ({cancellation.status})")
        return "cancel_not_ours"
    if cancellation.status == "SUCCEEDED":
        done = pledge_service.complete_provider_refund(actor, ours.id, source=source, external_id=cancellation.id,
                                                       refunded_at=cancellation.cancelled_at or utcnow())
        forget_refund_account(ours.id)
        return "refund_done" if done else "refund_already_done"
    if cancellation.status == "REQUESTED":
        sent = pledge_service.mark_refund_sent(actor, ours.id, source=source, external_id=cancellation.id)
        return "refund_pending" if sent else "refund_already_pending"
    if ours.status == "done":
        return "refund_already_done"
    failed = pledge_service.refund_failed(actor, ours.id, failure=f"{source}: cancellation failed",
                                          external_id=cancellation.id)
    return "refund_failed" if failed else "refund_already_failed"


def sync_payment(actor: Actor, provider, pledge_id: int, *, now: datetime | None = None) -> str:
    """The payment window closed: ask PortOne about this pledge's payment now, never the browser."""
    row = current_payment(pledge_id)
    if row is None or provider.demo:
        return "nothing_to_sync"
    state = provider.get_payment(row.payment_id)
    if state is None:
        return "payment_not_started"
    return apply_state(actor, provider.source, state, now=now).get("payment", "nothing_to_sync")


def settle_demo(actor: Actor, provider, pledge_id: int, action: str, *, now: datetime | None = None) -> str:
    """A button on the demo window: the same path as PortOne's answer ('pay', 'issue', 'deposit', 'expire')."""
    if not provider.demo:
        raise NotFound()
    now = now or utcnow()
    pledge = db.session.get(Pledge, pledge_id)
    row = current_payment(pledge_id)
    if pledge is None or row is None or actor.user is None or pledge.donor_id != actor.user.id:
        raise NotFound()
    va_due = row.va_expires_at or now + timedelta(hours=provider.virtual_account_hours)
    status, paid = {"pay": ("PAID", row.amount), "issue": ("VIRTUAL_ACCOUNT_ISSUED", 0),
                    "deposit": ("PAID", row.amount), "fail": ("FAILED", 0)}[action]
    state = provider.state(row.payment_id, status=status, method=row.pay_method, amount=row.amount, paid=paid,
                           easy_pay_provider=row.easy_pay_provider, va_expires_at=va_due, now=now)
    return apply_state(actor, provider.source, state, now=now).get("payment", "nothing")


# --- webhooks ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EventResult:
    outcome: str
    pledge_id: int | None = None
    duplicate: bool = False
    event_row: int | None = None
    recorded_now: bool = False      # this delivery is the first: its job is to be asked for


def record_event(provider, notice: KrEventNotice) -> EventResult:
    """Remember a verified delivery (its webhook-id), unprocessed. A second delivery finds the row; two at
    once collide on the unique key (on PostgreSQL the second waits for the first), and the loser finds it."""
    existing = _recorded(provider, notice)
    if existing is not None:
        return existing
    if notice.type not in HANDLED_EVENTS or not notice.payment_id:
        return EventResult("ignored")
    row = ProviderEvent(provider=provider.name, event_id=notice.id, type=notice.type, object_id=notice.payment_id,
                        created_at=notice.created, outcome="received", summary="")
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return _recorded(provider, notice)
    return EventResult("received", event_row=row.id, recorded_now=True)


def _recorded(provider, notice: KrEventNotice) -> EventResult | None:
    existing = db.session.scalar(select(ProviderEvent).where(ProviderEvent.provider == provider.name,
                                                             ProviderEvent.event_id == notice.id)
                                 .execution_options(populate_existing=True))
    if existing is None:
        return None
    return EventResult(existing.outcome, existing.pledge_id, duplicate=existing.processed_at is not None,
                       event_row=existing.id)


def process_event(provider, event_row_id: int, *, now: datetime | None = None) -> EventResult:
    """Act on one recorded event exactly once: read the payment back, apply it, mark the event processed.
    ProviderUnavailable propagates (nothing is marked: the event stays to be processed again)."""
    event = db.session.get(ProviderEvent, event_row_id)
    if event is None:
        raise NotFound()
    if event.processed_at is not None:
        return EventResult(event.outcome, event.pledge_id, duplicate=True, event_row=event.id)
    state = provider.get_payment(event.object_id)
    # Claim it: on PostgreSQL a second worker waits here, then sees it processed.
    event = db.session.scalar(select(ProviderEvent).where(ProviderEvent.id == event_row_id).with_for_update()
                              .execution_options(populate_existing=True))
    if event.processed_at is not None:
        return EventResult(event.outcome, event.pledge_id, duplicate=True, event_row=event.id)
    if state is None:
        done = {"payment": "unknown_payment"}
    else:
        done = apply_state(_provider_actor(provider, event.event_id), provider.source, state, now=now)
    found = _ours(state) if state is not None else None
    event.pledge_id = found[1].id if found else None
    event.outcome = done.get("payment", "nothing")[:40]
    event.summary = "; ".join(f"{part}={what}" for part, what in done.items())[:300]
    event.processed_at = utcnow()
    return EventResult(event.outcome, event.pledge_id, event_row=event.id)


def unprocessed_events(provider) -> list[int]:
    return list(db.session.scalars(select(ProviderEvent.id).where(ProviderEvent.provider == provider.name,
                                                                  ProviderEvent.processed_at.is_(None))
                                   .order_by(ProviderEvent.id)))


def _provider_actor(provider, detail: str) -> Actor:
    return Actor(None, f"{provider.name}:{detail}"[:64])


# --- pledges that ended: close their open virtual accounts -------------------------------------------

def virtual_accounts_to_close(pledge_ids) -> list[tuple[int, str]]:
    """(pledge, payment id) of these pledges that ended unpaid with a virtual account still open."""
    return [(row.pledge_id, row.payment_id) for row in db.session.execute(
        select(KrPayment.pledge_id, KrPayment.payment_id).join(Pledge, Pledge.id == KrPayment.pledge_id).where(
            KrPayment.pledge_id.in_(list(pledge_ids)), KrPayment.status == "VIRTUAL_ACCOUNT_ISSUED",
            Pledge.paid == 0, Pledge.status.in_([status.value for status in ENDED])).order_by(KrPayment.pledge_id))]


def ended_with_open_virtual_account() -> list[int]:
    return list(db.session.scalars(
        select(KrPayment.pledge_id).join(Pledge, Pledge.id == KrPayment.pledge_id).where(
            KrPayment.status == "VIRTUAL_ACCOUNT_ISSUED", Pledge.paid == 0,
            Pledge.status.in_([status.value for status in ENDED])).order_by(KrPayment.pledge_id)))


def mark_closed(payment_id: str) -> None:
    row = db.session.scalar(select(KrPayment).where(KrPayment.payment_id == payment_id))
    if row is not None and row.status == "VIRTUAL_ACCOUNT_ISSUED":
        row.status, row.updated_at = "CANCELLED", utcnow()


# --- refunds through PortOne's cancel API ------------------------------------------------------------

def kr_refunds_due(provider, pledge_ids=None) -> list[int]:
    paid_here = select(Payment.pledge_id).where(Payment.source == provider.source)
    query = (select(Refund.id).where(Refund.status == "due", Refund.failure.is_(None),
                                     Refund.pledge_id.in_(paid_here)).order_by(Refund.id))
    if pledge_ids is not None:
        query = query.where(Refund.pledge_id.in_(list(pledge_ids)))
    return list(db.session.scalars(query))


def refund_needs_account(refund_id: int) -> bool:
    """A 가상계좌 payment is refunded to a bank account the donor names; no account yet: not sent."""
    row = db.session.execute(select(KrPayment.pay_method).join(Payment, Payment.external_id == KrPayment.payment_id)
                             .join(Refund, Refund.pledge_id == Payment.pledge_id)
                             .where(Refund.id == refund_id, Payment.source.in_(["portone", "demo_kr"]))).first()
    return row is not None and row.pay_method == "virtual_account"


def save_refund_account(actor: Actor, refund_id: int, *, bank: str, number: str, holder: str) -> None:
    """The donor names the account their 가상계좌 refund goes to (kept only until it is done)."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or actor.user is None:
        raise NotFound()
    pledge = db.session.get(Pledge, refund.pledge_id)
    if pledge.donor_id != actor.user.id or refund.status == "done":
        raise NotFound()
    digits = re.sub(r"[\s-]", "", number or "")
    holder = (holder or "").strip()
    if bank not in REFUND_BANKS or not digits.isdigit() or not 6 <= len(digits) <= 20 or not 1 <= len(holder) <= 60:
        raise KrPayError("refund_account_invalid")
    row = db.session.scalar(select(RefundBankAccount).where(RefundBankAccount.refund_id == refund_id))
    if row is None:
        row = RefundBankAccount(refund_id=refund_id, bank=bank, number=digits, holder=holder)
        db.session.add(row)
    else:
        row.bank, row.number, row.holder = bank, digits, holder
    if refund.failure:
        refund.failure = None  # a new account: worth trying again
    record(actor, "refund.account", "refund", refund_id, after={"bank": bank})  # never the number


def refund_account_of(refund_id: int) -> RefundAccount | None:
    row = db.session.scalar(select(RefundBankAccount).where(RefundBankAccount.refund_id == refund_id))
    return RefundAccount(bank=row.bank, number=row.number, holder=row.holder) if row is not None else None


def forget_refund_account(refund_id: int) -> None:
    row = db.session.scalar(select(RefundBankAccount).where(RefundBankAccount.refund_id == refund_id))
    if row is not None:
        db.session.delete(row)


def send_kr_refund(actor: Actor, provider, refund_id: int) -> str:
    """Send one refund back through PortOne (a partial cancellation when it is less than what was paid).

    Repeating it never cancels twice: PortOne's payment is read first, and a cancellation whose reason
    names this refund is applied instead of asking again; otherwise the request carries the cancellable
    amount kindcity expects, which PortOne refuses if a cancellation happened meanwhile."""
    row = db.session.execute(select(Refund.pledge_id, Pledge.reference).join(Pledge, Pledge.id == Refund.pledge_id)
                             .where(Refund.id == refund_id)).one_or_none()
    if row is None:
        raise NotFound()
    payment = db.session.scalar(select(Payment).where(Payment.pledge_id == row.pledge_id,
                                                      Payment.source == provider.source)
                                .order_by(Payment.amount.desc(), Payment.id))
    if payment is None:
        return "no_kr_payment"
    account = None
    if refund_needs_account(refund_id):
        account = refund_account_of(refund_id)
        if account is None:
            return "refund_account_needed"
    key = refund_key(refund_id, row.reference)
    state = provider.get_payment(payment.external_id)
    cancellable = None
    if state is not None:
        for cancellation in state.cancellations:
            if key in (cancellation.reason or ""):
                return apply_cancellation(actor, provider.source, row.pledge_id, cancellation)
        cancellable = state.paid - state.cancelled
    pledge_service.lock_pledge(row.pledge_id)
    refund = db.session.scalar(select(Refund).where(Refund.id == refund_id).with_for_update()
                               .execution_options(populate_existing=True))
    if refund.status != "due" or refund.failure:
        return "not_due"
    cancellation = provider.cancel_payment(payment_id=payment.external_id, amount=refund.amount,
                                           reason=f"{refund.reason} {key}", cancellable=cancellable,
                                           refund_account=account)
    return apply_cancellation(actor, provider.source, row.pledge_id, cancellation)


# --- reconciliation with PortOne --------------------------------------------------------------------



def apply_missed(provider, states: list[KrPaymentState]) -> dict[str, dict[str, str]]:
    """Apply PortOne's state of each of our payments whose money or cancellations the journal lacks
    (a webhook that never came), each as the webhook would. The caller commits each."""
    received = cash_by_memo(Entry.RECEIVED, f"{provider.source}:")
    refunded = cash_by_memo(Entry.REFUNDED, f"{provider.source}:")
    applied = {}
    windows = dict(db.session.execute(select(KrPayment.payment_id, KrPayment.amount)
                                      .where(KrPayment.payment_id.in_([s.payment_id for s in states]))).all())
    for state in states:
        if reference_of(state.payment_id) is None:
            continue
        if state.payment_id in windows and state.total != windows[state.payment_id] and not mismatch_to_cancel(state):
            continue  # another amount than its window, and nothing of it left charged: never journal money
        missing_money = state.status in PAID_STATUSES and state.paid and \
            f"{provider.source}:{state.payment_id}" not in received
        missing_cancel = any(c.status == "SUCCEEDED" and f"{provider.source}:{c.id}" not in refunded
                             for c in state.cancellations)
        row = db.session.scalar(select(KrPayment.status).where(KrPayment.payment_id == state.payment_id))
        if missing_money or missing_cancel or (row is not None and row != state.status):
            applied[state.payment_id] = apply_state(_provider_actor(provider, "reconcile"), provider.source, state)
    return applied


def reconcile_with_portone(provider, states: list[KrPaymentState], since: datetime) -> list[Discrepancy]:
    source = provider.source
    received = cash_by_memo(Entry.RECEIVED, f"{source}:")
    refunded = cash_by_memo(Entry.REFUNDED, f"{source}:")
    found: list[Discrepancy] = []
    seen_payments, seen_cancellations = set(), set()
    windows = dict(db.session.execute(select(KrPayment.payment_id, KrPayment.amount)
                                      .where(KrPayment.payment_id.in_([s.payment_id for s in states]))).all())
    for state in states:
        if reference_of(state.payment_id) is None:
            continue  # another application on the same store
        seen_payments.add(state.payment_id)
        if state.payment_id in windows and state.total != windows[state.payment_id]:
            # Charged for another amount than its window: never in the journal; its money must go back.
            if mismatch_to_cancel(state):
                found.append(Discrepancy(f"{source}_mismatch_not_cancelled",
                                         f"payment {state.payment_id} of {state.total} KRW for a window of "
                                         f"{windows[state.payment_id]} KRW", "cancelled at PortOne",
                                         f"{state.paid - state.cancelled} KRW still charged"))
            continue
        in_journal = received.get(f"{source}:{state.payment_id}", 0)
        expected = state.paid if state.status in PAID_STATUSES else 0
        if in_journal != expected:
            found.append(Discrepancy(f"{source}_payment_vs_journal",
                                     f"payment {state.payment_id} ({state.status})", expected, in_journal))
        for cancellation in state.cancellations:
            seen_cancellations.add(cancellation.id)
            booked = refunded.get(f"{source}:{cancellation.id}", 0)
            wanted = cancellation.amount if cancellation.status == "SUCCEEDED" else 0
            if booked != wanted:
                found.append(Discrepancy(f"{source}_cancellation_vs_journal",
                                         f"cancellation {cancellation.id} of payment {state.payment_id} "
                                         f"({cancellation.status})", wanted, booked))
    for payment in db.session.scalars(select(Payment).where(Payment.source == source, Payment.received_at >= since)
                                      .order_by(Payment.id)):
        if payment.external_id not in seen_payments:
            found.append(Discrepancy(f"{source}_payment_unknown", f"payment {payment.id} ({payment.external_id}, "
                                     f"pledge {payment.pledge_id})", f"a paid payment at {source}", "none"))
    paid_here = select(Payment.pledge_id).where(Payment.source == source)
    for refund in db.session.scalars(select(Refund).where(Refund.external_id.is_not(None), Refund.status == "done",
                                                          Refund.pledge_id.in_(paid_here),
                                                          Refund.created_at >= since).order_by(Refund.id)):
        if refund.external_id not in seen_cancellations:
            found.append(Discrepancy(f"{source}_refund_unknown", f"refund {refund.id} ({refund.external_id}, "
                                     f"pledge {refund.pledge_id})", f"a cancellation at {source}", "none"))
    for refund in db.session.scalars(select(Refund).where(Refund.status == "due", Refund.pledge_id.in_(paid_here))
                                     .order_by(Refund.id)):
        waiting = "refund account needed" if refund_needs_account(refund.id) and refund_account_of(refund.id) is None \
            else (refund.failure or "due")
        found.append(Discrepancy("kr_refund_not_sent", f"refund {refund.id} (pledge {refund.pledge_id}, "
                                 f"{refund.amount} KRW)", "sent", waiting))
    return found
