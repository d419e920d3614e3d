"""Direct pledges: reserving part of a need's gap, paying, expiring, cancelling, and what happens to
money when its need closes. Every change of money is one transaction: the caller commits once, and
rolls back when a service refuses (a refusal may come after rows were added to the session).

Lock order, everywhere: the need row first, then the pledge row. On PostgreSQL these are row
locks (SELECT ... FOR UPDATE); on SQLite the whole database is locked at BEGIN IMMEDIATE.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, and_, case, cast, func, literal, select
from sqlalchemy.orm import make_transient_to_detached

from ..domain import ledger as ledger_rules
from ..domain.needs import NeedAction, NeedStatus
from ..domain.needs import next_status as next_need_status
from ..domain.pledges import (ENDED, HOLDING, Display, OnCancel, PledgeAction, PledgeRuleError, PledgeStatus,
                              new_reference, next_status, pledge_amount, split_payment)
from ..domain.time import seoul_today, utcnow
from ..extensions import db
from ..models import LedgerLine, Need, Payment, Pledge, Refund
from .. import jobs
from . import Actor, Forbidden, NotFound, bulk, effects, journal
from .audit import record
from .ledger import placed_by_pledge_on_need
from .public_text import refuse_personal_data

PAYMENT_SOURCES = ("manual", "statement", "stripe", "demo", "portone", "demo_kr")


class PledgeError(PledgeRuleError):
    """A refusal from the pledge service (codes: need_not_open, not_enough_left, ...)."""


FUND_GREW = "kindcity.fund_received"


def place_fund_money(actor: Actor) -> None:
    """If money went to the district's pooled fund in this operation, the engine places it now
    (:func:`effects.pool_received`), so it does not wait for the next run."""
    if db.session().info.pop(FUND_GREW, False):
        effects.pool_received(actor)


def _lock(model, row_id: int):
    """The row, locked for this transaction and read afresh (NotFound if there is none)."""
    row = db.session.scalar(select(model).where(model.id == row_id).with_for_update(of=model)
                            .execution_options(populate_existing=True))
    if row is None:
        raise NotFound()
    return row


def lock_need(need_id: int) -> Need:
    return _lock(Need, need_id)


def lock_pledge(pledge_id: int) -> Pledge:
    return _lock(Pledge, pledge_id)


def lock_needs_and_pledges(need_ids, pledge_ids) -> tuple[dict[int, Need], dict[int, Pledge]]:
    """Lock many rows at once, needs before pledges, each in id order (no deadlocks between importers)."""
    needs = {n.id: n for n in db.session.scalars(
        select(Need).where(Need.id.in_(sorted(set(need_ids)))).order_by(Need.id).with_for_update(of=Need)
        .execution_options(populate_existing=True))}
    pledges = {p.id: p for p in db.session.scalars(
        select(Pledge).where(Pledge.id.in_(sorted(set(pledge_ids)))).order_by(Pledge.id).with_for_update()
        .execution_options(populate_existing=True))}
    return needs, pledges


def _set_need_status(actor: Actor, need: Need, action: NeedAction) -> None:
    before = need.status
    need.status = next_need_status(need.status, action)
    record(actor, f"need.{action.value}", "need", need.id, before={"status": before},
           after={"status": need.status, "confirmed": need.confirmed})


def _settle_after_commit(pledge: Pledge) -> None:
    """A card or PortOne pledge that ended or now owes a refund: its provider must hear of it (an open
    checkout page or virtual account closed, the refund sent), by a job of this transaction
    (kindcity/jobs/card.py, kindcity/jobs/portone.py). Once per pledge and transaction; the job reads
    the pledge afresh."""
    if pledge.method not in ("card", "portone") or not jobs.first_in_transaction(f"settle:{pledge.id}"):
        return
    jobs.defer("card.settle_pledge" if pledge.method == "card" else "portone.settle_pledge",
               lock=f"pledge:{pledge.id}", pledge_id=pledge.id)


def _set_pledge_status(pledge: Pledge, action: PledgeAction) -> None:
    pledge.status = next_status(pledge.status, action)
    if pledge.status in ENDED:
        _settle_after_commit(pledge)


class PaymentBatch:
    """Collects payment rows and journal postings (bulk imports), then writes them in a handful of
    statements: the payments, then the postings by the journal's batch writer."""

    def __init__(self, actor: Actor, at: datetime):
        self.actor, self.at = actor, at
        self.postings: list = []
        self.payments: list[dict] = []

    def post(self, posting) -> None:
        ledger_rules.check_balanced(posting.lines)
        self.postings.append(posting)

    def write(self) -> None:
        bulk.insert_rows(Payment.__table__, self.payments)
        if self.postings:
            journal.write_batch(self.postings, self.actor, self.at)
        self.postings, self.payments = [], []


# --- creating a pledge ---------------------------------------------------------------------

@dataclass(frozen=True)
class PledgeRequest:
    need_id: int
    amount: int | None
    units: int | None
    display: str
    message: str
    on_cancel: str
    method: str = "bank"


def create_direct_pledge(actor: Actor, request: PledgeRequest, *, hold_for: timedelta,
                         now: datetime | None = None) -> Pledge:
    donor = actor.user
    if donor is None or donor.role != "donor":
        raise Forbidden()
    now = now or utcnow()
    display, on_cancel = Display(request.display), OnCancel(request.on_cancel)
    if display == Display.ORGANISATION and donor.organisation is None:
        raise PledgeError("no_organisation")
    if request.method not in ("bank", "card", "portone"):
        raise PledgeError("method_invalid")
    message = (request.message or "").strip()
    refuse_personal_data({"message": message})
    # Only the columns the rules need: this is the hottest path of the site, so no ORM objects are
    # built until the pledge is safely reserved (kindcity/services/journal/).
    today = seoul_today(now)
    row = journal.read_need(request.need_id)
    if row is None or row.status in (NeedStatus.DRAFT, NeedStatus.AWAITING_APPROVAL):
        raise NotFound()  # not public: do not reveal it exists
    if row.status != NeedStatus.OPEN or row.deadline < today:
        raise PledgeError("need_not_open")
    amount = pledge_amount(amount=request.amount, units=request.units, unit_cost=row.unit_cost,
                           gap=row.target - row.reserved - row.confirmed)
    values = dict(reference=new_reference(), donor_id=donor.id, need_id=request.need_id, kind="direct",
                  amount=amount, units=request.units, method=request.method, display=display.value, message=message,
                  on_cancel=on_cancel.value, status=PledgeStatus.AWAITING_PAYMENT, hold_expires_at=now + hold_for,
                  paid=0, held=amount, created_at=now, flagged=None)
    need_id = request.need_id
    written = journal.write_pledge(actor, row, journal.NewPledge(
        values, posting=lambda pledge_id: ledger_rules.pledged(pledge_id, need_id, amount),
        audit={"need": need_id, "amount": amount, "method": request.method}),
        now=now, today=today, draw_reference=new_reference)
    if isinstance(written, journal.Refused):  # nothing of it is kept: the caller rolls back, as on any refusal
        raise PledgeError("not_enough_left", gap=written.gap) if written.still_open else PledgeError("need_not_open")
    values["reference"] = written.reference
    # The caller gets a Pledge without another query inside the locked part of the transaction.
    pledge = Pledge(id=written.pledge_id, **values)
    make_transient_to_detached(pledge)
    db.session.add(pledge)
    return pledge


def _unique_reference() -> str:
    for _ in range(10):
        code = new_reference()
        if db.session.scalar(select(Pledge.id).where(Pledge.reference == code)) is None:
            return code
    raise RuntimeError("could not find a free reference code")


# --- money arriving --------------------------------------------------------------------------

@dataclass(frozen=True)
class PaymentOutcome:
    payment: Payment
    created: bool           # False: this payment was already recorded; nothing changed
    placed: int = 0
    surplus: int = 0


def find_payment(source: str, external_id: str) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.source == source, Payment.external_id == external_id))


def record_payment(actor: Actor, pledge_id: int, amount: int, *, source: str, external_id: str,
                   received_at: datetime, note: str = "") -> PaymentOutcome:
    """Record money that arrived for a pledge, exactly once per (source, external_id)."""
    if source not in PAYMENT_SOURCES:
        raise PledgeError("source_invalid")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise PledgeError("payment_not_positive")
    existing = find_payment(source, external_id)
    if existing is not None:
        return PaymentOutcome(existing, created=False)
    row = db.session.execute(select(Pledge.need_id).where(Pledge.id == pledge_id)).one_or_none()
    if row is None:
        raise NotFound()
    if row.need_id is None:  # a pooled pledge or a match offer: the money waits for the matching engine
        pledge = lock_pledge(pledge_id)
        existing = find_payment(source, external_id)
        if existing is not None:
            return PaymentOutcome(existing, created=False)
        outcome = apply_unassigned_payment(actor, pledge, amount, source=source, external_id=external_id,
                                           received_at=received_at, note=note)
        effects.unassigned_received(actor, [pledge.id])
        return outcome
    need = lock_need(row.need_id)
    pledge = lock_pledge(pledge_id)
    existing = find_payment(source, external_id)  # another worker may have recorded it while we waited
    if existing is not None:
        return PaymentOutcome(existing, created=False)
    return apply_payment(actor, need, pledge, amount, source=source, external_id=external_id,
                         received_at=received_at, note=note)


def apply_payment(actor: Actor, need: Need, pledge: Pledge, amount: int, *, source: str, external_id: str,
                  received_at: datetime, note: str = "", batch: PaymentBatch | None = None,
                  bank_fingerprint: str | None = None) -> PaymentOutcome:
    """The payment rules on rows the caller has locked; adds rows, never flushes.

    With a ``batch`` (bulk imports) the payment row and the journal postings are collected and
    written by the caller in a few statements; ``need`` and ``pledge`` may then be plain objects
    with the same attributes, which the caller writes back."""
    poster = batch.post if batch is not None else (lambda posting: journal.post(posting, actor))
    holding = pledge.status in HOLDING
    can_place = need.status == NeedStatus.OPEN and pledge.status not in (PledgeStatus.CANCELLED, PledgeStatus.CLOSED)
    split = split_payment(amount=amount, promised=pledge.amount, paid_before=pledge.paid,
                          hold_left=pledge.held if holding else 0,
                          need_room=(need.target - need.reserved - need.confirmed) if can_place else 0)
    need.reserved -= split.from_hold
    need.confirmed += split.to_need
    pledge.held -= split.from_hold
    pledge.paid += amount
    _set_pledge_status(pledge, PledgeAction.PAY_FULL if split.completes else PledgeAction.PAY_PART)
    if pledge.status not in HOLDING and pledge.held:
        _release(actor, need, pledge, pledge.held, poster=poster)
    row = dict(pledge_id=pledge.id, amount=amount, source=source, external_id=external_id, received_at=received_at,
               recorded_by_id=actor.user_id, note=note[:300], bank_fingerprint=bank_fingerprint)
    payment = None
    if batch is not None:
        batch.payments.append(row)
    else:
        payment = Payment(**row)
        db.session.add(payment)
    poster(ledger_rules.received(pledge.id, amount, need_id=need.id, placed=split.to_need,
                          converted_hold=split.from_hold, memo=f"{source}:{external_id}"[:200]))
    if split.surplus:
        follow_donor_choice(actor, pledge, split.surplus, poster=poster,
                            reason="over_paid" if split.to_need == min(amount, pledge.amount) else "need_full")
    if split.to_need and pledge.kind == "direct":  # match offers add to a resident's gift (services.matching)
        effects.gift_placed(actor, need, pledge, split.to_need, received_at, poster)
    if need.status == NeedStatus.OPEN and need.confirmed >= need.target:
        _set_need_status(actor, need, NeedAction.FUND)
    if batch is None:
        place_fund_money(actor)
        _thank_after_commit(source, external_id)
    return PaymentOutcome(payment, created=True, placed=split.to_need, surplus=split.surplus)


def apply_unassigned_payment(actor: Actor, pledge: Pledge, amount: int, *, source: str, external_id: str,
                             received_at: datetime, note: str = "", batch: PaymentBatch | None = None,
                             bank_fingerprint: str | None = None) -> PaymentOutcome:
    """Money for a pledge with no need of its own (a pooled pledge or a match offer), on a pledge row
    the caller has locked: it stays on the pledge, unplaced, until the matching engine places it.
    Beyond the promise, or on a pledge that has ended, it follows the donor's choice."""
    poster = batch.post if batch is not None else (lambda posting: journal.post(posting, actor))
    accepting = pledge.status not in (PledgeStatus.CANCELLED, PledgeStatus.CLOSED)
    kept = min(amount, max(0, pledge.amount - pledge.paid)) if accepting else 0
    pledge.paid += amount
    _set_pledge_status(pledge, PledgeAction.PAY_FULL if pledge.paid >= pledge.amount else PledgeAction.PAY_PART)
    row = dict(pledge_id=pledge.id, amount=amount, source=source, external_id=external_id, received_at=received_at,
               recorded_by_id=actor.user_id, note=note[:300], bank_fingerprint=bank_fingerprint)
    payment = None
    if batch is not None:
        batch.payments.append(row)
    else:
        payment = Payment(**row)
        db.session.add(payment)
    poster(ledger_rules.received(pledge.id, amount, memo=f"{source}:{external_id}"[:200]))
    if amount > kept:
        follow_donor_choice(actor, pledge, amount - kept, poster=poster,
                            reason="over_paid" if accepting else "pledge_ended")
        if batch is None:
            place_fund_money(actor)
    if batch is None:
        _thank_after_commit(source, external_id)
    return PaymentOutcome(payment, created=True, placed=0, surplus=amount - kept)


def _thank_after_commit(source: str, external_id: str) -> None:
    """The donor gets a thank-you with the receipt's link (kindcity/mail/pledges.py), by a job of this
    transaction: a payment rolled back thanks nobody. A statement import asks once for all its rows."""
    jobs.defer("mail.payment_thanks", source=source, external_id=external_id)


def follow_donor_choice(actor: Actor, pledge: Pledge, amount: int, *, reason: str, poster=None) -> None:
    """Money of this pledge that no need can take: pooled, owed back, or left for staff to move."""
    choice = OnCancel(pledge.on_cancel)
    if choice == OnCancel.POOL:
        write = poster or (lambda posting: journal.post(posting, actor))
        write(ledger_rules.moved_to_pool(pledge.id, amount, memo=reason))
        db.session().info[FUND_GREW] = True
    elif choice == OnCancel.REFUND:
        db.session.add(Refund(pledge_id=pledge.id, amount=amount, reason=reason, status="due"))
        _settle_after_commit(pledge)
    # SIMILAR: the money stays on the pledge's own account; staff see it in their queue and move it.
    record(actor, f"pledge.unplaced.{choice.value}", "pledge", pledge.id, after={"amount": amount, "reason": reason})


# --- holds ending ----------------------------------------------------------------------------

def _release(actor: Actor, need: Need, pledge: Pledge, amount: int, poster=None) -> None:
    if amount <= 0:
        return
    need.reserved -= amount
    pledge.held -= amount
    (poster or (lambda posting: journal.post(posting, actor)))(ledger_rules.released(pledge.id, need.id, amount))


def release_expired(now: datetime | None = None, actor: Actor | None = None) -> list[int]:
    """End every unpaid hold past its expiry. Idempotent: a second run finds nothing to do."""
    from . import SYSTEM
    actor = actor or SYSTEM
    now = now or utcnow()
    due = db.session.execute(select(Pledge.id, Pledge.need_id).where(
        Pledge.status.in_([s.value for s in HOLDING]), Pledge.hold_expires_at <= now)
        .order_by(Pledge.need_id, Pledge.id)).all()
    released = []
    for pledge_id, need_id in due:
        need = lock_need(need_id)
        pledge = lock_pledge(pledge_id)
        if pledge.status not in HOLDING or pledge.hold_expires_at > now:
            continue  # paid or released by someone else meanwhile
        _release(actor, need, pledge, pledge.held)
        _set_pledge_status(pledge, PledgeAction.EXPIRE)
        record(actor, "pledge.expire", "pledge", pledge.id, after={"released": True})
        released.append(pledge.id)
    if released:
        effects.holds_released(actor)
    return released


def cancel_pledge(actor: Actor, pledge_id: int) -> Pledge:
    """A donor withdraws an unpaid pledge; staff may end the unpaid rest of any pledge."""
    user = actor.user
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or user is None or (pledge.donor_id != user.id and not user.is_staff):
        raise NotFound()
    need = lock_need(pledge.need_id)
    pledge = lock_pledge(pledge_id)
    if pledge.status not in HOLDING:
        raise PledgeError("pledge_not_cancellable")
    if pledge.paid and not user.is_staff:
        raise PledgeError("pledge_has_payments")
    _release(actor, need, pledge, pledge.held)
    _set_pledge_status(pledge, PledgeAction.EXPIRE if pledge.paid else PledgeAction.CANCEL)
    record(actor, "pledge.cancel", "pledge", pledge.id, after={"status": pledge.status})
    effects.holds_released(actor)
    return pledge


# --- a need closing: every won goes back, is pooled, or waits for a similar need ----------------

def settle_closed_need(actor: Actor, need: Need) -> None:
    """The direct pledges of a need that closed: holds released, money placed on it unallocated and
    following each donor's choice. Called by :func:`effects.need_closed`, before the engine runs."""
    pledges = db.session.scalars(select(Pledge).where(
        Pledge.need_id == need.id, Pledge.status.not_in([PledgeStatus.CANCELLED, PledgeStatus.CLOSED]))
        .order_by(Pledge.id).with_for_update()).all()
    reason = "need_cancelled" if need.status == NeedStatus.CANCELLED else "need_expired"
    for pledge in pledges:
        _release(actor, need, pledge, pledge.held)
        placed = placed_by_pledge_on_need(pledge.id, need.id)
        if placed > 0:
            need.confirmed -= placed
            journal.post(ledger_rules.unallocated(pledge.id, need.id, placed, memo=reason), actor)
            follow_donor_choice(actor, pledge, placed, reason=reason)
        _set_pledge_status(pledge, PledgeAction.CLOSE)


# --- staff moving money and recording refunds ------------------------------------------------

def unplaced(pledge_id: int) -> int:
    from .ledger import balance
    return -balance(ledger_rules.pledge_account(pledge_id))


def unplaced_column():
    """unplaced() as a column of a query on pledges: one indexed sum per pledge row (ix_ledger_lines_account),
    so a list of pledges with money to move costs one query, not one per pledge."""
    return -(select(func.coalesce(func.sum(LedgerLine.amount), 0))
             .where(LedgerLine.account == literal("pledge:", String) + cast(Pledge.id, String))
             .correlate(Pledge).scalar_subquery())


def refunds_due(pledge_id: int) -> int:
    return sum(r.amount for r in db.session.scalars(
        select(Refund).where(Refund.pledge_id == pledge_id, Refund.status.in_(["due", "pending"]))))


def move_to_need(actor: Actor, pledge_id: int, need_id: int, amount: int) -> None:
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden()
    need = lock_need(need_id)
    pledge = lock_pledge(pledge_id)
    free = unplaced(pledge.id) - refunds_due(pledge.id)
    if amount <= 0 or amount > free:
        raise PledgeError("not_enough_unplaced", available=free)
    if need.status != NeedStatus.OPEN:
        raise PledgeError("need_not_open")
    if need.target - need.reserved - need.confirmed < amount:
        raise PledgeError("not_enough_left", gap=need.target - need.reserved - need.confirmed)
    need.confirmed += amount
    moved = journal.post(ledger_rules.allocated(pledge.id, need.id, amount, memo="moved by staff"), actor)
    record(actor, "pledge.move", "pledge", pledge.id, after={"need": need.id, "amount": amount})
    if need.confirmed >= need.target:
        _set_need_status(actor, need, NeedAction.FUND)
    db.session.flush()
    jobs.defer("mail.money_moved", transaction_id=moved.id)  # the donor hears where their money went


def similar_needs(user, pledge: Pledge, query: str = "", limit: int = 20) -> list[Need]:
    """Open needs this staff member may move a pledge's money to, that still have room: the same
    category and dong as the pledge's own need first, then the same category, then the same dong, then
    the rest; nearest deadline first within each. ``query`` keeps needs whose title holds it."""
    from .needs import staff_scope

    source = pledge.need
    rank = literal(3)
    if source is not None:
        rank = case((and_(Need.category_id == source.category_id, Need.dong_id == source.dong_id), 0),
                    (Need.category_id == source.category_id, 1), (Need.dong_id == source.dong_id, 2), else_=3)
    statement = (select(Need).where(Need.status == NeedStatus.OPEN, Need.target - Need.reserved - Need.confirmed > 0,
                                    Need.deadline >= seoul_today())
                 .order_by(rank, Need.deadline, Need.id).limit(limit))
    if source is not None:
        statement = statement.where(Need.id != source.id)
    words = (query or "").strip()
    if words:
        statement = statement.where(Need.title.contains(words, autoescape=True))
    return list(db.session.scalars(staff_scope(user, statement)))


def move_to_pool(actor: Actor, pledge_id: int, amount: int) -> None:
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden()
    pledge = lock_pledge(pledge_id)
    free = unplaced(pledge.id) - refunds_due(pledge.id)
    if amount <= 0 or amount > free:
        raise PledgeError("not_enough_unplaced", available=free)
    journal.post(ledger_rules.moved_to_pool(pledge.id, amount, memo="moved by staff"), actor)
    record(actor, "pledge.pool", "pledge", pledge.id, after={"amount": amount})
    effects.pool_received(actor)


def record_bank_refund(actor: Actor, refund_id: int, *, refunded_at: datetime, bank_reference: str) -> Refund:
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden()
    refund = db.session.scalar(select(Refund).where(Refund.id == refund_id).with_for_update())
    if refund is None:
        raise NotFound()
    if refund.status == "done":
        return refund  # recorded already: nothing changes
    if not bank_reference.strip():
        raise PledgeError("bank_reference_required")
    lock_pledge(refund.pledge_id)
    if unplaced(refund.pledge_id) < refund.amount:
        raise PledgeError("not_enough_unplaced", available=unplaced(refund.pledge_id))
    refund.status, refund.refunded_at = "done", refunded_at
    refund.bank_reference, refund.recorded_by_id = bank_reference.strip()[:100], actor.user_id
    journal.post(ledger_rules.refunded(refund.pledge_id, refund.amount, memo=f"bank:{refund.bank_reference}"), actor)
    record(actor, "refund.record", "refund", refund.id, after={"amount": refund.amount})
    return refund


# --- card payments: holds ended by the provider, refunds the provider confirms ----------------
# Used by kindcity.services.card. Each step is idempotent (a second call changes nothing), because
# provider events arrive late, twice and out of order. Lock order as everywhere: need, pledge, refund.

def expire_hold(actor: Actor, pledge_id: int, *, reason: str) -> bool:
    """End one pledge's hold now (its card checkout expired or its delayed payment failed)."""
    need_id = db.session.scalar(select(Pledge.need_id).where(Pledge.id == pledge_id))
    if need_id is None:
        raise NotFound()
    need = lock_need(need_id)
    pledge = lock_pledge(pledge_id)
    if pledge.status not in HOLDING:
        return False  # paid, cancelled or released already
    _release(actor, need, pledge, pledge.held)
    _set_pledge_status(pledge, PledgeAction.EXPIRE)
    record(actor, "pledge.expire", "pledge", pledge.id, after={"released": True, "reason": reason})
    effects.holds_released(actor)
    return True


def extend_hold(actor: Actor, pledge_id: int, *, until: datetime, reason: str) -> bool:
    """Keep an unpaid pledge's hold until ``until`` (a delayed payment method is settling)."""
    pledge = lock_pledge(pledge_id)
    if pledge.status not in HOLDING or (pledge.hold_expires_at is not None and pledge.hold_expires_at >= until):
        return False
    before = pledge.hold_expires_at
    pledge.hold_expires_at = until
    record(actor, "pledge.hold_extended", "pledge", pledge.id,
           before={"until": before.isoformat() if before else None}, after={"until": until.isoformat(), "reason": reason})
    return True


def flag_pledge(actor: Actor, pledge_id: int, text: str) -> bool:
    """Put a pledge in front of staff (a dispute, a refund made outside kindcity, ...)."""
    pledge = lock_pledge(pledge_id)
    text = text[:200]
    if pledge.flagged == text:
        return False
    before = pledge.flagged
    pledge.flagged = text
    record(actor, "pledge.flag", "pledge", pledge.id, before={"flagged": before}, after={"flagged": text})
    return True


def _lock_refund(refund_id: int) -> Refund:
    return _lock(Refund, refund_id)


def mark_refund_sent(actor: Actor, refund_id: int, *, source: str, external_id: str) -> bool:
    """The provider accepted a refund but has not confirmed it yet: 'due' -> 'pending'."""
    pledge_id = db.session.scalar(select(Refund.pledge_id).where(Refund.id == refund_id))
    if pledge_id is None:
        raise NotFound()
    lock_pledge(pledge_id)
    refund = _lock_refund(refund_id)
    if refund.status != "due":
        return False
    refund.status, refund.external_id, refund.failure = "pending", external_id, None
    record(actor, "refund.sent", "refund", refund.id, after={"amount": refund.amount, "via": f"{source}:{external_id}"})
    return True


def complete_provider_refund(actor: Actor, refund_id: int, *, source: str, external_id: str,
                             refunded_at: datetime) -> bool:
    """The provider confirmed the refund: the journal records it now, once."""
    pledge_id = db.session.scalar(select(Refund.pledge_id).where(Refund.id == refund_id))
    if pledge_id is None:
        raise NotFound()
    lock_pledge(pledge_id)
    refund = _lock_refund(refund_id)
    if refund.status == "done":
        return False
    if unplaced(pledge_id) < refund.amount:
        raise PledgeError("not_enough_unplaced", available=unplaced(pledge_id))
    refund.status, refund.refunded_at, refund.external_id, refund.failure = "done", refunded_at, external_id, None
    journal.post(ledger_rules.refunded(pledge_id, refund.amount, memo=f"{source}:{external_id}"[:200]), actor)
    record(actor, "refund.complete", "refund", refund.id, after={"amount": refund.amount, "via": f"{source}:{external_id}"})
    return True


def refund_failed(actor: Actor, refund_id: int, *, failure: str, external_id: str | None = None) -> bool:
    """The provider could not send it back: the refund stays owed ('due') and staff pay it by bank."""
    pledge_id = db.session.scalar(select(Refund.pledge_id).where(Refund.id == refund_id))
    if pledge_id is None:
        raise NotFound()
    lock_pledge(pledge_id)
    refund = _lock_refund(refund_id)
    if refund.status == "done" or refund.failure == failure[:200]:
        return False
    refund.status, refund.failure = "due", failure[:200]
    if external_id and refund.external_id is None:
        refund.external_id = external_id
    record(actor, "refund.failed", "refund", refund.id, after={"amount": refund.amount, "failure": refund.failure})
    return True
