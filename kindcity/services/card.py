"""Card payments: starting a checkout, acting on the provider's events exactly once, sending card
refunds, and comparing the journal with the provider's records.

How events converge. An event is only a trigger: the checkout, charge, refund or dispute it names is
read back from the provider, together with everything else about the same payment (its checkout and
all its refunds), and the pledge is brought in line with that *current* state by idempotent steps
(record the payment once per PaymentIntent, release a hold once, complete a refund once). So an event
delivered twice, late, or before an earlier one leads to the same end state. The event's id is stored
in the same transaction as the effects: a second delivery is a no-op; two at once collide on the
unique key and the loser changes nothing.

Services never commit: the webhook view, the donor's pages and the CLI commit at the edge. The
provider is called before any row is locked, except in ``send_card_refund`` (the pledge and refund
rows only, never the need, so donors pledging are not held up by Stripe's latency).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..domain.card import CheckoutAction, RefundOutcome, checkout_action, refund_outcome
from ..domain.ledger import Entry
from ..domain.pledges import ENDED, HOLDING
from ..domain.time import utcnow
from ..extensions import db
from ..models import Payment, Pledge, ProviderEvent, Refund
from ..payments import (CardProvider, CheckoutRequest, CheckoutState, DisputeState, EventNotice, RefundState)
from . import Actor, NotFound, ServiceError
from . import pledges as pledge_service
from .audit import record
from .ledger import cash_by_memo
from .reconcile import Discrepancy

CHECKOUT_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded",
                             "checkout.session.async_payment_failed", "checkout.session.expired"})
CHARGE_REFUND_EVENTS = frozenset({"charge.refunded"})
REFUND_EVENTS = frozenset({"refund.updated", "refund.failed"})
DISPUTE_EVENTS = frozenset({"charge.dispute.created"})
HANDLED_EVENTS = CHECKOUT_EVENTS | CHARGE_REFUND_EVENTS | REFUND_EVENTS | DISPUTE_EVENTS


class CardError(ServiceError):
    """A refusal about card payment (codes: not_card_pledge, checkout_closed, hold_expired, payment_confirming)."""

    code = "card_error"


def provider_actor(provider: CardProvider, detail: str = "") -> Actor:
    return Actor(None, f"{provider.name}:{detail}"[:64] if detail else provider.name)


def checkout_key(pledge: Pledge, expires_at: datetime | None = None, after: str | None = None) -> str:
    """Fixed per pledge; the reference code keeps two installations on one Stripe account apart.

    A pledge without a need opens a checkout whenever the donor goes to pay, and a new one when the last
    ended unpaid: its key also names the session's end (``expires_at``, whole minutes) and the session it
    replaces (``after``). A retried request replays the same session (same key, same parameters); a
    later one, or one after an ended session, gets a new one instead of the old session replayed."""
    key = f"kindcity-checkout-{pledge.id}-{pledge.reference}"
    if after:
        key += f"-after-{after}"
    return key if expires_at is None else f"{key}-{int(expires_at.timestamp())}"


def refund_key(refund_id: int, reference: str) -> str:
    return f"kindcity-refund-{refund_id}-{reference}"


# --- starting a checkout --------------------------------------------------------------------------

def start_checkout(actor: Actor, provider: CardProvider, pledge_id: int, *, success_url: str, cancel_url: str,
                   product_name: str, now: datetime | None = None) -> str:
    """The address of the provider's checkout page for this card pledge.

    A pledge to a need has one session, which lives as long as its hold on the need. A pooled pledge or a
    match offer (no need: nothing is reserved) gets a session when the donor goes to pay, open for the
    card hold; if it ends unpaid, the next visit starts a new one, so an instalment's link works whenever
    the donor opens it."""
    now = now or utcnow()
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or actor.user is None or pledge.donor_id != actor.user.id:
        raise NotFound()
    if pledge.method != "card":
        raise CardError("not_card_pledge")
    if pledge.status not in HOLDING or pledge.paid:
        raise CardError("checkout_closed")
    unassigned = pledge.need_id is None
    if unassigned:
        # Whole minutes: a second click within the same minute finds the same session.
        expires_at = (now + provider.hold_for()).replace(second=0, microsecond=0)
        key = checkout_key(pledge) if provider.demo else checkout_key(pledge, expires_at)
    else:
        if pledge.hold_expires_at is None or pledge.hold_expires_at <= now:
            raise CardError("hold_expired")
        expires_at, key = pledge.hold_expires_at, checkout_key(pledge)
    if pledge.checkout_session_id and not provider.demo:
        state = provider.get_checkout(pledge.checkout_session_id)
        if state.status == "open" and state.url:
            return state.url
        ended_unpaid = checkout_action(state.status, state.payment_status,
                                       state.payment_state) == CheckoutAction.RELEASE_HOLD
        if not (unassigned and ended_unpaid):
            raise CardError("payment_confirming" if state.status == "complete" else "hold_expired")
        key = checkout_key(pledge, expires_at, after=pledge.checkout_session_id)
    session = provider.create_checkout(CheckoutRequest(
        pledge_id=pledge.id, need_id=pledge.need_id, reference=pledge.reference, amount=pledge.amount,
        product_name=product_name, expires_at=expires_at, success_url=success_url,
        cancel_url=cancel_url, idempotency_key=key))
    if pledge.checkout_session_id != session.id:
        pledge.checkout_session_id = session.id
        record(actor, "pledge.checkout", "pledge", pledge.id, after={"provider": provider.name, "session": session.id})
    return session.url


# --- reading the provider's state back ------------------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    """Everything the provider says now about one payment, read before any row is locked."""

    pledge_id: int | None
    checkout: CheckoutState | None = None
    refunds: tuple[RefundState, ...] = ()
    dispute: DisputeState | None = None
    refund_id: str | None = None        # the refund the event was about, if any


def read_back(provider: CardProvider, notice: EventNotice) -> Snapshot:
    checkout, dispute, payment_id, refund_id = None, None, None, None
    if notice.type in CHECKOUT_EVENTS:
        checkout = provider.get_checkout(notice.object_id)
        payment_id = checkout.payment_id
    elif notice.type in CHARGE_REFUND_EVENTS:
        payment_id = provider.get_charge(notice.object_id).payment_id
    elif notice.type in REFUND_EVENTS:
        refund = provider.get_refund(notice.object_id)
        payment_id, refund_id = refund.payment_id, refund.id
    elif notice.type in DISPUTE_EVENTS:
        dispute = provider.get_dispute(notice.object_id)
        payment_id = dispute.payment_id
        if payment_id is None and dispute.charge_id:
            payment_id = provider.get_charge(dispute.charge_id).payment_id
    if checkout is None and payment_id:
        checkout = provider.find_checkout(payment_id)   # money first, then what happened to it
    refunds = tuple(provider.refunds_for(payment_id)) if payment_id else ()
    return Snapshot(pledge_id=_pledge_for(provider, checkout, payment_id), checkout=checkout, refunds=refunds,
                    dispute=dispute, refund_id=refund_id)


def _pledge_for(provider: CardProvider, checkout: CheckoutState | None, payment_id: str | None) -> int | None:
    """Our pledge for this checkout or payment, or None when it is not ours (another app on the account)."""
    if checkout is not None:
        found = db.session.scalar(select(Pledge.id).where(Pledge.checkout_session_id == checkout.session_id))
        if found is not None:
            return found
        if checkout.pledge_id is not None:
            # The session was created but its id never stored (the request died after Stripe answered), or,
            # for a pledge without a need, an earlier session that a new one replaced after it ended unpaid:
            # trust client_reference_id only together with the pledge's reference code.
            row = db.session.execute(select(Pledge.id, Pledge.method, Pledge.reference, Pledge.checkout_session_id,
                                            Pledge.need_id)
                                     .where(Pledge.id == checkout.pledge_id)).one_or_none()
            if (row is not None and row.method == "card" and checkout.reference == row.reference
                    and (row.checkout_session_id is None or row.need_id is None)):
                return row.id
    if payment_id:
        return db.session.scalar(select(Payment.pledge_id).where(Payment.source == provider.source,
                                                                 Payment.external_id == payment_id))
    return None


# --- acting on the state ------------------------------------------------------------------------

def apply_checkout_state(actor: Actor, source: str, pledge_id: int, state: CheckoutState, *,
                         async_hold: timedelta, now: datetime | None = None) -> str:
    outcome = _act_on_checkout(actor, source, pledge_id, state, async_hold=async_hold, now=now or utcnow())
    # Last, once the rows are locked in the usual order (need, then pledge).
    _remember_session(pledge_id, state.session_id)
    return outcome


def _act_on_checkout(actor: Actor, source: str, pledge_id: int, state: CheckoutState, *, async_hold: timedelta,
                     now: datetime) -> str:
    action = checkout_action(state.status, state.payment_status, state.payment_state)
    if action == CheckoutAction.RECORD_PAYMENT:
        if state.currency != "krw":
            pledge_service.flag_pledge(actor, pledge_id, f"card payment {state.payment_id} in {state.currency}, not krw")
            return "currency_mismatch"
        amount = state.amount_received or (state.amount_total if state.payment_status == "paid" else 0)
        if not state.payment_id or amount <= 0:
            return "nothing_received"
        outcome = pledge_service.record_payment(actor, pledge_id, amount, source=source, external_id=state.payment_id,
                                                received_at=state.paid_at or now, note=f"checkout {state.session_id}")
        if not outcome.created:
            return "payment_already_recorded"
        return "payment_recorded_unplaced" if outcome.surplus else "payment_recorded"
    if action in (CheckoutAction.AWAIT_ASYNC, CheckoutAction.RELEASE_HOLD):
        row = db.session.execute(select(Pledge.need_id, Pledge.checkout_session_id)
                                 .where(Pledge.id == pledge_id)).one()
        if row.need_id is None:
            # A pooled pledge or a match offer holds nothing on a need: it simply waits for its money,
            # and a checkout that ended unpaid can be started again from the donor's page.
            return "awaiting_delayed_payment" if action == CheckoutAction.AWAIT_ASYNC else "checkout_ended_unpaid"
    if action == CheckoutAction.AWAIT_ASYNC:
        pledge_service.extend_hold(actor, pledge_id, until=now + async_hold, reason="delayed_payment_method")
        return "awaiting_delayed_payment"
    if action == CheckoutAction.RELEASE_HOLD:
        if row.checkout_session_id not in (None, state.session_id):
            return "other_checkout"
        released = pledge_service.expire_hold(actor, pledge_id, reason=f"checkout_{state.status}")
        return "hold_released" if released else "hold_already_ended"
    return "checkout_open"


def _remember_session(pledge_id: int, session_id: str) -> None:
    """Store the session id if the request that created it died before it could (see _pledge_for)."""
    db.session.execute(update(Pledge).where(Pledge.id == pledge_id, Pledge.checkout_session_id.is_(None))
                       .values(checkout_session_id=session_id).execution_options(synchronize_session=False))


def apply_refund_state(actor: Actor, source: str, pledge_id: int, state: RefundState) -> str:
    ours = db.session.scalar(select(Refund).where(Refund.external_id == state.id))
    if ours is None and state.refund_id is not None:
        # Sent, but the answer was lost before we stored its id: the refund's metadata names ours.
        ours = db.session.scalar(select(Refund).where(Refund.id == state.refund_id, Refund.pledge_id == pledge_id,
                                                      Refund.external_id.is_(None)))
    if ours is None:
        if refund_outcome(state.status) == RefundOutcome.FAILED:
            return "refund_not_ours_failed"
        pledge_service.flag_pledge(actor, pledge_id,
                                   f"refund {state.id} of {state.amount} KRW made outside kindcity ({state.status})")
        return "refund_not_ours"
    outcome = refund_outcome(state.status)
    if outcome == RefundOutcome.DONE:
        done = pledge_service.complete_provider_refund(actor, ours.id, source=source, external_id=state.id,
                                                       refunded_at=state.created)
        return "refund_done" if done else "refund_already_done"
    if outcome == RefundOutcome.PENDING:
        sent = pledge_service.mark_refund_sent(actor, ours.id, source=source, external_id=state.id)
        return "refund_pending" if sent else "refund_already_pending"
    if ours.status == "done":
        if ours.external_id == state.id:
            pledge_service.flag_pledge(actor, pledge_id, f"refund {state.id} failed after it was confirmed")
            return "refund_failed_after_done"
        return "refund_already_done"
    failed = pledge_service.refund_failed(actor, ours.id, failure=f"{source}: {state.failure or state.status}",
                                          external_id=state.id)
    return "refund_failed" if failed else "refund_already_failed"


def apply_snapshot(actor: Actor, provider: CardProvider, snapshot: Snapshot, *, async_hold: timedelta,
                   now: datetime | None = None) -> dict[str, str]:
    """Bring one pledge in line with the provider's state. Returns what each part did."""
    if snapshot.pledge_id is None:
        return {"pledge": "not_ours"}
    done: dict[str, str] = {}
    if snapshot.checkout is not None:
        done["checkout"] = apply_checkout_state(actor, provider.source, snapshot.pledge_id, snapshot.checkout,
                                                async_hold=async_hold, now=now)
    for refund in snapshot.refunds:
        done[f"refund:{refund.id}"] = apply_refund_state(actor, provider.source, snapshot.pledge_id, refund)
    if snapshot.dispute is not None:
        dispute = snapshot.dispute
        pledge_service.flag_pledge(actor, snapshot.pledge_id,
                                   f"card dispute {dispute.id} ({dispute.reason}): {dispute.amount} KRW, {dispute.status}")
        done["dispute"] = "dispute_flagged"
    return done


# --- events ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EventResult:
    outcome: str
    pledge_id: int | None = None
    duplicate: bool = False


def event_recorded(provider_name: str, event_id: str) -> bool:
    return db.session.scalar(select(ProviderEvent.id).where(ProviderEvent.provider == provider_name,
                                                            ProviderEvent.event_id == event_id)) is not None


def handle_event(provider: CardProvider, notice: EventNotice, *, async_hold: timedelta,
                 now: datetime | None = None) -> EventResult:
    """Act on one verified event exactly once. ProviderUnavailable propagates: answer 5xx, Stripe retries."""
    if notice.type not in HANDLED_EVENTS:
        return EventResult("ignored")
    if event_recorded(provider.name, notice.id):
        return EventResult("duplicate", duplicate=True)
    snapshot = read_back(provider, notice)
    row = _claim(provider.name, notice)
    if row is None:
        return EventResult("duplicate", duplicate=True)
    done = apply_snapshot(provider_actor(provider, notice.id), provider, snapshot, async_hold=async_hold, now=now)
    # Only now: the foreign key takes a share lock on the pledge row, which must come after need and pledge.
    row.pledge_id = snapshot.pledge_id
    row.outcome = _primary(notice, snapshot, done)[:40]
    row.summary = "; ".join(f"{part}={what}" for part, what in done.items())[:300]
    row.processed_at = utcnow()
    return EventResult(row.outcome, snapshot.pledge_id)


def _claim(provider_name: str, notice: EventNotice) -> ProviderEvent | None:
    """Insert the event's row; None if another delivery of the same event got there first.

    On PostgreSQL a concurrent insert of the same key waits for the first transaction: if it commits,
    this one fails on the unique key (a duplicate); if it rolls back, this one goes ahead. The row is
    inserted without its pledge, so claiming locks nothing but the event's own key.
    """
    row = ProviderEvent(provider=provider_name, event_id=notice.id, type=notice.type, object_id=notice.object_id,
                        created_at=notice.created, outcome="processing", summary="")
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return None
    return row


def _primary(notice: EventNotice, snapshot: Snapshot, done: dict[str, str]) -> str:
    if "pledge" in done:
        return done["pledge"]
    if notice.type in CHECKOUT_EVENTS:
        return done.get("checkout", "no_checkout")
    if notice.type in DISPUTE_EVENTS:
        return done.get("dispute", "no_dispute")
    if snapshot.refund_id:
        return done.get(f"refund:{snapshot.refund_id}", "no_refund")
    refunds = [what for part, what in done.items() if part.startswith("refund:")]
    return refunds[-1] if refunds else done.get("checkout", "nothing")


def sync_checkout(actor: Actor, provider: CardProvider, pledge_id: int, *, async_hold: timedelta,
                  now: datetime | None = None) -> str:
    """Ask the provider about this pledge's checkout now (the donor is back on our site before the webhook)."""
    session_id = db.session.scalar(select(Pledge.checkout_session_id).where(Pledge.id == pledge_id))
    if not session_id or provider.demo:
        return "nothing_to_sync"
    checkout = provider.get_checkout(session_id)
    refunds = tuple(provider.refunds_for(checkout.payment_id)) if checkout.payment_id else ()
    done = apply_snapshot(actor, provider, Snapshot(pledge_id=pledge_id, checkout=checkout, refunds=refunds),
                          async_hold=async_hold, now=now)
    return done.get("checkout", "nothing_to_sync")


def settle_demo_checkout(actor: Actor, provider: CardProvider, session_id: str, *, async_hold: timedelta,
                         now: datetime | None = None) -> str:
    """The donor pressed 'pay' on the demo checkout page: the same path as a paid Stripe checkout."""
    if not provider.demo:
        raise NotFound()
    pledge = db.session.scalar(select(Pledge).where(Pledge.checkout_session_id == session_id))
    if pledge is None or actor.user is None or pledge.donor_id != actor.user.id:
        raise NotFound()
    state = provider.paid_state(session_id, pledge_id=pledge.id, reference=pledge.reference, amount=pledge.amount,
                                now=now)
    return apply_checkout_state(actor, provider.source, pledge.id, state, async_hold=async_hold, now=now)


def missed_events(provider: CardProvider, since: datetime) -> list[EventNotice]:
    """Events of the handled kinds since ``since`` that never reached us (oldest first)."""
    return [notice for notice in provider.events_since(since, HANDLED_EVENTS)
            if not event_recorded(provider.name, notice.id)]


# --- checkouts of pledges that have ended -------------------------------------------------------

def checkouts_to_close(pledge_ids) -> list[tuple[int, str]]:
    """(pledge id, checkout session) of these pledges whose card checkout may still be open although
    the pledge takes no more money: cancelled, expired or ended before anything was paid."""
    return [(row.id, row.checkout_session_id) for row in db.session.execute(
        select(Pledge.id, Pledge.checkout_session_id).where(
            Pledge.id.in_(list(pledge_ids)), Pledge.method == "card", Pledge.checkout_session_id.is_not(None),
            Pledge.paid == 0, Pledge.status.in_([status.value for status in ENDED])).order_by(Pledge.id))]


# --- refunds through the provider ---------------------------------------------------------------

def card_refunds_due(provider: CardProvider, pledge_ids=None) -> list[int]:
    """Refunds owed on pledges paid through this provider, not yet sent and not given up on; of
    these pledges only, if named."""
    paid_here = select(Payment.pledge_id).where(Payment.source == provider.source)
    query = (select(Refund.id).where(Refund.status == "due", Refund.failure.is_(None),
                                     Refund.pledge_id.in_(paid_here)).order_by(Refund.id))
    if pledge_ids is not None:
        query = query.where(Refund.pledge_id.in_(list(pledge_ids)))
    return list(db.session.scalars(query))


def send_card_refund(actor: Actor, provider: CardProvider, refund_id: int) -> str:
    """Send one refund back through the provider, with a fixed idempotency key per refund.

    The journal records it only when the provider confirms it (now, or later by refund.updated).
    """
    row = db.session.execute(select(Refund.pledge_id, Pledge.reference).join(Pledge, Pledge.id == Refund.pledge_id)
                             .where(Refund.id == refund_id)).one_or_none()
    if row is None:
        raise NotFound()
    pledge_service.lock_pledge(row.pledge_id)
    refund = db.session.scalar(select(Refund).where(Refund.id == refund_id).with_for_update()
                               .execution_options(populate_existing=True))
    if refund.status != "due" or refund.failure:
        return "not_due"
    payment = db.session.scalar(select(Payment).where(Payment.pledge_id == row.pledge_id,
                                                      Payment.source == provider.source)
                                .order_by(Payment.amount.desc(), Payment.id))
    if payment is None:
        return "no_card_payment"
    state = provider.create_refund(payment_id=payment.external_id, amount=refund.amount,
                                   idempotency_key=refund_key(refund.id, row.reference),
                                   metadata={"kindcity_refund_id": str(refund.id), "pledge_id": str(row.pledge_id)})
    return apply_refund_state(actor, provider.source, row.pledge_id, state)


# --- reconciliation with the provider -------------------------------------------------------------



def reconcile_with_provider(provider: CardProvider, since: datetime) -> list[Discrepancy]:
    """Compare the journal with the provider's charges, checkout sessions and refunds since ``since``."""
    source = provider.source
    charges, sessions, refunds = provider.charges_since(since), provider.checkouts_since(since), provider.refunds_since(since)
    received = cash_by_memo(Entry.RECEIVED, f"{source}:")
    refunded = cash_by_memo(Entry.REFUNDED, f"{source}:")
    found: list[Discrepancy] = []

    charged = set()
    for charge in charges:
        if not (charge.paid and charge.status == "succeeded" and charge.payment_id):
            continue
        charged.add(charge.payment_id)
        subject = f"charge {charge.id} (payment {charge.payment_id}, pledge {charge.pledge_id or '?'})"
        if received.get(f"{source}:{charge.payment_id}", 0) != charge.amount:
            found.append(Discrepancy(f"{source}_charge_vs_journal", subject, charge.amount,
                                     received.get(f"{source}:{charge.payment_id}", 0)))
        if charge.disputed:
            found.append(Discrepancy(f"{source}_charge_disputed", subject, "no dispute", "disputed"))
    for session in sessions:
        if session.status == "complete" and session.payment_status == "paid" and session.payment_id not in charged \
                and received.get(f"{source}:{session.payment_id}", 0) != session.amount_received:
            found.append(Discrepancy(f"{source}_checkout_vs_journal",
                                     f"checkout {session.session_id} (pledge {session.pledge_id or '?'})",
                                     session.amount_received, received.get(f"{source}:{session.payment_id}", 0)))

    ours = db.session.scalars(select(Payment).where(Payment.source == source, Payment.received_at >= since)
                              .order_by(Payment.id))
    for payment in ours:
        if payment.external_id not in charged:
            found.append(Discrepancy(f"{source}_payment_unknown", f"payment {payment.id} ({payment.external_id}, "
                                     f"pledge {payment.pledge_id})", f"a paid charge at {source}", "none"))

    seen_refunds = set()
    for refund in refunds:
        seen_refunds.add(refund.id)
        subject = f"refund {refund.id} (payment {refund.payment_id})"
        in_journal = refunded.get(f"{source}:{refund.id}", 0)
        outcome = refund_outcome(refund.status)
        if outcome == RefundOutcome.DONE and in_journal != refund.amount:
            found.append(Discrepancy(f"{source}_refund_vs_journal", subject, refund.amount, in_journal))
        elif outcome != RefundOutcome.DONE and in_journal:
            found.append(Discrepancy(f"{source}_refund_vs_journal", f"{subject} ({refund.status})", 0, in_journal))
    paid_here = select(Payment.pledge_id).where(Payment.source == source)
    sent = db.session.scalars(select(Refund).where(Refund.external_id.is_not(None), Refund.bank_reference.is_(None),
                                                   Refund.pledge_id.in_(paid_here),
                                                   Refund.created_at >= since).order_by(Refund.id))
    for refund in sent:
        if refund.external_id not in seen_refunds:
            found.append(Discrepancy(f"{source}_refund_unknown", f"refund {refund.id} ({refund.external_id}, "
                                     f"pledge {refund.pledge_id})", f"a refund at {source}", "none"))
    for refund in db.session.scalars(select(Refund).where(Refund.status == "due", Refund.pledge_id.in_(paid_here))
                                     .order_by(Refund.id)):
        found.append(Discrepancy("card_refund_not_sent", f"refund {refund.id} (pledge {refund.pledge_id}, "
                                 f"{refund.amount} KRW)", "sent", refund.failure or "due"))
    return found
