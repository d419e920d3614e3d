"""The matching engine at work: pooled pledges (나눔 기금) and match offers (매칭 기부).

``kindcity.domain.matching`` decides; this module feeds it and writes what it decided:

* creating pooled pledges and match offers, pausing and ending them (unplaced money then follows
  the donor's choice);
* building the engine's snapshots from the database in a fixed number of queries, running
  :func:`~kindcity.domain.matching.propose`, recording the run (:class:`MatchRun`) and, when
  automatic application is on, applying it; otherwise the run waits for staff to approve it;
* applying allocations: each one re-checked under row locks against the need and the pledge as
  they are *now* (a need's gap, a pledge's received money, its criteria and cap per need), then
  posted to the journal (``allocated``) and added to ``Need.confirmed`` with the conditional
  UPDATE of invariant 1, with its one-line reason kept in :class:`MatchAllocation`;
* match offers: when a resident's gift lands on a need, each qualifying offer adds
  ``min(ratio x gift, what is left of its cap, the need's gap after the gift)``, under its terms
  row's lock and a conditional UPDATE that the database's own CHECK backs;
* giving pooled and offer money back to its pledge when a need closes.

The engine runs when pooled money is received (by bank transfer or card), when a need opens, when holds
are released, when a need closes with pooled money on it (that money is placed again at once), when a
donor resumes a paused pledge, and from ``kindcity match``. Only received money is ever placed. The
``after_...`` functions are what :mod:`kindcity.services.effects` calls when those things happen.

Locks: runs started by another operation (a payment, an approval, released holds) take row locks
with SKIP LOCKED, so they never wait on a row another transaction holds and cannot deadlock with
it; what they skip is placed by the next run. Staff approval and the CLI wait for their locks.
Order, as everywhere: needs, then pledges, then match offer terms.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, case, func, or_, select, update

from ..domain import ledger as ledger_rules
from ..domain import matching as engine
from ..domain.matching import Criteria, MatchOffer, NeedSnapshot, PoolSnapshot
from ..domain.needs import NeedAction, NeedStatus
from ..domain.pledges import MIN_PLEDGE, Display, OnCancel, PledgeAction, PledgeRuleError, PledgeStatus
from ..domain.time import SEOUL, seoul_today, utcnow
from ..extensions import db
from ..models import (BeneficiaryGroup, Category, Dong, LedgerLine, LedgerTransaction, MatchAllocation,
                      MatchingSettings, MatchOfferTerms, MatchRun, Need, Organisation, Pledge, PooledTerms, Refund,
                      User)
from . import SYSTEM, Actor, Forbidden, NotFound, journal
from . import pledges as pledge_service
from .audit import record
from .public_text import refuse_personal_data

POOL_FUNDING = (PledgeStatus.PARTLY_PAID, PledgeStatus.PAID)  # received money a pooled pledge may place
END_CHOICES = (OnCancel.REFUND, OnCancel.POOL)                # where unplaced money goes when it ends
REASON_OFFER = "offer_match"
EXPLICIT_TRIGGERS = ("cli", "staff")                          # runs recorded even when they propose nothing
MAX_RATIO = 10                                                # at most 10 won added per won given


class MatchingError(PledgeRuleError):
    """A refusal from the matching service (codes: criteria_unknown, cap_invalid, ...)."""


# --- the setting ------------------------------------------------------------------------------

def settings(lock: bool = False, create: bool = True) -> MatchingSettings:
    """The district's matching settings; the row is made on first use. ``create=False`` is for pages
    that only show them: before the first row, the defaults, unsaved (a GET writes nothing)."""
    query = select(MatchingSettings).order_by(MatchingSettings.id).limit(1)
    row = db.session.scalar(query.with_for_update() if lock else query)
    if row is None:
        row = MatchingSettings(auto_apply=True)
        if not create:
            return row
        db.session.add(row)
        db.session.flush()
    return row


def can_manage(user: User | None) -> bool:
    """Turning automatic application off and on: administrators and the district welfare office."""
    return user is not None and user.sees_all_centres


def set_auto_apply(actor: Actor, on: bool) -> MatchingSettings:
    if not can_manage(actor.user):
        raise Forbidden()
    row = settings(lock=True)
    before = row.auto_apply
    row.auto_apply, row.updated_at, row.updated_by_id = bool(on), utcnow(), actor.user_id
    record(actor, "matching.settings", "matching_settings", row.id, before={"auto_apply": before},
           after={"auto_apply": row.auto_apply})
    return row


# --- creating pooled pledges and match offers -------------------------------------------------

@dataclass(frozen=True)
class CriteriaInput:
    categories: tuple[str, ...] = ()
    dongs: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class PooledRequest:
    amount: int | None
    criteria: CriteriaInput
    cap_won: int | None = None
    cap_percent: int | None = None
    ends_on: date | None = None
    display: str = "anonymous"
    message: str = ""
    on_end: str = "refund"
    method: str = "bank"          # bank transfer, or card through the card provider's checkout


@dataclass(frozen=True)
class OfferRequest:
    amount: int | None            # the cap: the most the offer adds, in total
    ratio_num: int
    ratio_den: int
    criteria: CriteriaInput
    starts_on: date
    ends_on: date
    display: str = "organisation"
    message: str = ""
    on_end: str = "refund"
    method: str = "bank"


PAYMENT_METHODS = ("bank", "card", "portone")


def _donor(actor: Actor) -> User:
    if actor.user is None or actor.user.role != "donor":
        raise Forbidden()
    return actor.user


def _check_codes(criteria: CriteriaInput) -> CriteriaInput:
    cleaned = CriteriaInput(*(tuple(sorted(set(codes))) for codes in
                              (criteria.categories, criteria.dongs, criteria.groups)))
    for model, codes in ((Category, cleaned.categories), (Dong, cleaned.dongs), (BeneficiaryGroup, cleaned.groups)):
        if codes:
            known = set(db.session.scalars(select(model.code).where(model.code.in_(codes))))
            if known != set(codes):
                raise MatchingError("criteria_unknown")
    return cleaned


def _common(actor: Actor, amount: int | None, display: str, message: str, on_end: str,
            method: str = "bank") -> tuple[User, str]:
    donor = _donor(actor)
    if method not in PAYMENT_METHODS:
        raise MatchingError("method_invalid")
    if amount is None:
        raise MatchingError("amount_required")
    if amount < MIN_PLEDGE:
        raise MatchingError("amount_too_small", minimum=MIN_PLEDGE)
    if Display(display) == Display.ORGANISATION and donor.organisation is None:
        raise MatchingError("no_organisation")
    if OnCancel(on_end) not in END_CHOICES:
        raise MatchingError("on_end_invalid")
    message = (message or "").strip()
    refuse_personal_data({"message": message})
    return donor, message


def _new_pledge(actor: Actor, donor: User, kind: str, amount: int, display: str, message: str,
                on_end: str, method: str = "bank") -> Pledge:
    """The pledge row of a pooled pledge or a match offer: no need, so nothing is reserved (a card one
    starts its checkout when the donor goes to pay; see ``services.card.start_checkout``)."""
    pledge = Pledge(reference=pledge_service._unique_reference(), donor_id=donor.id, need_id=None, kind=kind,
                    amount=amount, method=method, display=display, message=message, on_cancel=on_end,
                    status=PledgeStatus.AWAITING_PAYMENT, hold_expires_at=None, paid=0, held=0)
    db.session.add(pledge)
    db.session.flush()
    return pledge


@dataclass(frozen=True)
class CheckedPooled:
    """A pooled pledge's terms once checked: what every instalment of a series repeats too."""

    donor: User
    message: str
    criteria: CriteriaInput


def check_pooled(actor: Actor, request: PooledRequest, today: date) -> CheckedPooled:
    donor, message = _common(actor, request.amount, request.display, request.message, request.on_end,
                             request.method)
    if request.cap_won is not None and request.cap_percent is not None:
        raise MatchingError("cap_one_kind")
    if request.cap_won is not None and request.cap_won < MIN_PLEDGE:
        raise MatchingError("cap_invalid")
    if request.cap_percent is not None and not 1 <= request.cap_percent <= 100:
        raise MatchingError("cap_invalid")
    if request.ends_on is not None and request.ends_on < today:
        raise MatchingError("ends_in_past")
    return CheckedPooled(donor, message, _check_codes(request.criteria))


def add_pooled_pledge(actor: Actor, donor: User, *, amount: int, criteria: CriteriaInput, cap_won: int | None,
                      cap_percent: int | None, ends_on: date | None, display: str, message: str, on_end: str,
                      method: str, series_id: int | None = None, period: int | None = None) -> Pledge:
    """Write a pooled pledge whose terms were checked, with its terms row (flushed: a second instalment
    of the same period of a series fails here, on the unique (series, period))."""
    pledge = _new_pledge(actor, donor, "pooled", amount, display, message, on_end, method)
    db.session.add(PooledTerms(pledge_id=pledge.id, categories=list(criteria.categories), dongs=list(criteria.dongs),
                               groups=list(criteria.groups), cap_won=cap_won, cap_percent=cap_percent,
                               ends_on=ends_on, paused=False, series_id=series_id, period=period))
    db.session.flush()
    record(actor, "pledge.create", "pledge", pledge.id,
           after={"kind": "pooled", "amount": pledge.amount, "method": method, "criteria": _criteria_dict(criteria),
                  "cap_won": cap_won, "cap_percent": cap_percent, "ends_on": ends_on.isoformat() if ends_on else None,
                  **({"series": series_id, "period": period} if series_id is not None else {})})
    return pledge


def create_pooled_pledge(actor: Actor, request: PooledRequest, today: date) -> Pledge:
    """A pooled pledge, awaiting its payment. Nothing is placed until money is received.
    (A recurring one is made by ``services.recurring.create_series``.)"""
    checked = check_pooled(actor, request, today)
    return add_pooled_pledge(actor, checked.donor, amount=request.amount, criteria=checked.criteria,
                             cap_won=request.cap_won, cap_percent=request.cap_percent, ends_on=request.ends_on,
                             display=request.display, message=checked.message, on_end=request.on_end,
                             method=request.method)


def create_match_offer(actor: Actor, request: OfferRequest, today: date) -> Pledge:
    """A match offer, awaiting its payment: it adds to residents' gifts once its money is received."""
    donor, message = _common(actor, request.amount, request.display, request.message, request.on_end,
                             request.method)
    if not (1 <= request.ratio_num <= MAX_RATIO * request.ratio_den and 1 <= request.ratio_den <= 100):
        raise MatchingError("ratio_invalid")
    if request.ends_on < request.starts_on:
        raise MatchingError("period_invalid")
    if request.ends_on < today:
        raise MatchingError("ends_in_past")
    criteria = _check_codes(request.criteria)
    pledge = _new_pledge(actor, donor, "match", request.amount, request.display, message, request.on_end,
                         request.method)
    db.session.add(MatchOfferTerms(pledge_id=pledge.id, categories=list(criteria.categories),
                                   dongs=list(criteria.dongs), groups=list(criteria.groups),
                                   ratio_num=request.ratio_num, ratio_den=request.ratio_den, cap=pledge.amount,
                                   matched=0, starts_on=request.starts_on, ends_on=request.ends_on))
    record(actor, "pledge.create", "pledge", pledge.id,
           after={"kind": "match", "amount": pledge.amount, "method": request.method,
                  "ratio": f"{request.ratio_num}:{request.ratio_den}",
                  "criteria": _criteria_dict(criteria), "starts_on": request.starts_on.isoformat(),
                  "ends_on": request.ends_on.isoformat()})
    _forget_offers()
    return pledge


def _criteria_dict(criteria: CriteriaInput) -> dict[str, list[str]]:
    return {"categories": list(criteria.categories), "dongs": list(criteria.dongs), "groups": list(criteria.groups)}


def _criteria_of(terms) -> Criteria:
    return Criteria(frozenset(terms.categories or ()), frozenset(terms.dongs or ()), frozenset(terms.groups or ()))


# --- pausing and ending -----------------------------------------------------------------------

def _own(actor: Actor, pledge_id: int, kinds: tuple[str, ...]) -> Pledge:
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or pledge.kind not in kinds or actor.user is None or (
            pledge.donor_id != actor.user.id and not actor.user.is_staff):
        raise NotFound()
    return pledge


def set_paused(actor: Actor, pledge_id: int, paused: bool) -> PooledTerms:
    """Pause (nothing more is placed) or resume a pooled pledge. Resuming runs the engine."""
    _own(actor, pledge_id, ("pooled",))
    pledge_service.lock_pledge(pledge_id)
    terms = db.session.get(PooledTerms, pledge_id, populate_existing=True)
    if terms.ended_at is not None:
        raise MatchingError("pledge_ended")
    if terms.paused != paused:
        terms.paused = paused
        record(actor, "pledge.pause" if paused else "pledge.resume", "pledge", pledge_id, after={"paused": paused})
        if not paused:
            run_engine(actor, "resumed")
    return terms


def end_pledge(actor: Actor, pledge_id: int, *, reason: str = "pledge_ended") -> int:
    """End a pooled pledge or a match offer: nothing more is placed or matched, and its received
    money not yet placed follows the donor's choice. Returns that amount. Idempotent."""
    _own(actor, pledge_id, ("pooled", "match"))
    pledge = pledge_service.lock_pledge(pledge_id)
    model = PooledTerms if pledge.kind == "pooled" else MatchOfferTerms
    terms = db.session.scalar(select(model).where(model.pledge_id == pledge_id).with_for_update()
                              .execution_options(populate_existing=True))
    if terms.ended_at is not None:
        return 0
    return _end(actor, pledge, terms, reason)


def _end(actor: Actor, pledge: Pledge, terms, reason: str) -> int:
    terms.ended_at = utcnow()
    rest = pledge_service.unplaced(pledge.id) - pledge_service.refunds_due(pledge.id)
    if rest > 0:
        pledge_service.follow_donor_choice(actor, pledge, rest, reason=reason)
    action = PledgeAction.CANCEL if pledge.status == PledgeStatus.AWAITING_PAYMENT else PledgeAction.CLOSE
    if pledge.status not in (PledgeStatus.CANCELLED, PledgeStatus.CLOSED):
        pledge_service._set_pledge_status(pledge, action)
    record(actor, "pledge.end", "pledge", pledge.id, after={"status": pledge.status, "unplaced": rest,
                                                            "reason": reason})
    if pledge.kind == "match":
        _forget_offers()
    return max(rest, 0)


def end_due(today: date, actor: Actor = SYSTEM, *, skip_locked: bool = False) -> list[int]:
    """End every pooled pledge and match offer whose last day has passed (Korea time). Idempotent.
    With ``skip_locked`` a pledge another transaction holds is left for the next time."""
    due = sorted(set(db.session.scalars(select(PooledTerms.pledge_id).where(
        PooledTerms.ended_at.is_(None), PooledTerms.ends_on < today))) | set(db.session.scalars(
        select(MatchOfferTerms.pledge_id).where(MatchOfferTerms.ended_at.is_(None), MatchOfferTerms.ends_on < today))))
    ended = []
    for pledge_id in due:
        pledge = db.session.scalar(select(Pledge).where(Pledge.id == pledge_id)
                                   .with_for_update(skip_locked=skip_locked)
                                   .execution_options(populate_existing=True))
        if pledge is None:
            continue
        model = PooledTerms if pledge.kind == "pooled" else MatchOfferTerms
        terms = db.session.scalar(select(model).where(model.pledge_id == pledge_id).with_for_update()
                                  .execution_options(populate_existing=True))
        if terms.ended_at is None:
            _end(actor, pledge, terms, "pledge_period_over")
            ended.append(pledge_id)
    return ended


# --- snapshots --------------------------------------------------------------------------------

@dataclass
class _NeedRow:
    snapshot: NeedSnapshot
    status: str


def _need_rows(*conditions, lock: bool = False, skip_locked: bool = False) -> dict[int, _NeedRow]:
    """Needs with their codes, in one query; ``already_from`` is filled in by the caller."""
    query = (select(Need.id, Need.status, Need.target, Need.reserved, Need.confirmed, Need.deadline,
                    Category.code.label("category"), Dong.code.label("dong"), BeneficiaryGroup.code.label("grp"))
             .join(Category, Category.id == Need.category_id).join(Dong, Dong.id == Need.dong_id)
             .join(BeneficiaryGroup, BeneficiaryGroup.id == Need.group_id).where(*conditions).order_by(Need.id))
    if lock:
        query = query.with_for_update(of=Need, skip_locked=skip_locked)
    rows = {}
    for r in db.session.execute(query):
        gap = max(0, r.target - r.reserved - r.confirmed)
        rows[r.id] = _NeedRow(NeedSnapshot(r.id, gap, r.target, r.deadline, r.category, r.dong, r.grp), r.status)
    return rows


@dataclass
class _PoolRow:
    id: int
    status: str
    amount: int
    terms: Any
    unplaced: int = 0
    given: dict[int, int] = field(default_factory=dict)   # need id -> won this pledge has on it now
    refunds_open: int = 0

    @property
    def remaining(self) -> int:
        """Received money it may still place: never beyond its promise, never money owed back."""
        placed = sum(self.given.values())
        return max(0, min(self.unplaced - self.refunds_open, self.amount - placed))

    def usable(self, today: date) -> bool:
        t = self.terms
        return (self.status in POOL_FUNDING and not t.paused and t.ended_at is None
                and (t.ends_on is None or today <= t.ends_on))

    def snapshot(self) -> PoolSnapshot:
        t = self.terms
        return PoolSnapshot(self.id, self.remaining, _criteria_of(t), t.cap_won, t.cap_percent, arrival=self.id,
                            ends=t.ends_on)


def _pool_rows(*conditions, lock: bool = False, skip_locked: bool = False) -> dict[int, _PoolRow]:
    """Pooled pledges with their terms and money: three queries, whatever their number."""
    query = (select(Pledge.id, Pledge.status, Pledge.amount, PooledTerms)
             .join(PooledTerms, PooledTerms.pledge_id == Pledge.id).where(*conditions).order_by(Pledge.id))
    if lock:
        query = query.with_for_update(of=Pledge, skip_locked=skip_locked).execution_options(populate_existing=True)
    pools = {r.id: _PoolRow(r.id, r.status, r.amount, r.PooledTerms) for r in db.session.execute(query)}
    if not pools:
        return pools
    ids = list(pools)
    money = (select(LedgerTransaction.pledge_id, LedgerLine.account, func.sum(LedgerLine.amount))
             .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
             .where(LedgerTransaction.pledge_id.in_(ids),
                    or_(LedgerLine.account.startswith("pledge:"), LedgerLine.account.startswith("need:")))
             .group_by(LedgerTransaction.pledge_id, LedgerLine.account))
    for pledge_id, account, total in db.session.execute(money):
        kind, _, key = account.partition(":")
        if kind == "pledge" and int(key) == pledge_id:
            pools[pledge_id].unplaced = -int(total)
        elif kind == "need" and -int(total) > 0:
            pools[pledge_id].given[int(key)] = -int(total)
    for pledge_id, total in db.session.execute(
            select(Refund.pledge_id, func.sum(Refund.amount))
            .where(Refund.pledge_id.in_(ids), Refund.status.in_(["due", "pending"])).group_by(Refund.pledge_id)):
        pools[pledge_id].refunds_open = int(total)
    return pools


def _active_pools() -> list:
    return [Pledge.kind == "pooled", Pledge.status.in_([s.value for s in POOL_FUNDING]),
            PooledTerms.paused.is_(False), PooledTerms.ended_at.is_(None)]


def _with_given(needs: dict[int, _NeedRow], pools: dict[int, _PoolRow]) -> list[NeedSnapshot]:
    given: dict[int, dict[int, int]] = defaultdict(dict)
    for pool in pools.values():
        for need_id, amount in pool.given.items():
            given[need_id][pool.id] = amount
    return [replace(row.snapshot, already_from=given.get(need_id, {})) for need_id, row in needs.items()]


@dataclass(frozen=True)
class Snapshot:
    needs: list[NeedSnapshot]
    pools: list[PoolSnapshot]


def snapshot(today: date, *, extra: PoolSnapshot | None = None) -> Snapshot:
    """What the engine sees now: open needs in time with a gap, and pooled pledges with received money
    to place, the district's pooled fund among them (a fixed number of queries: pools, their money,
    their refunds, the fund, needs)."""
    pools = {pid: p for pid, p in _pool_rows(*_active_pools()).items() if p.usable(today) and p.remaining > 0}
    fund = district_available()
    if not pools and extra is None and not fund:
        return Snapshot([], [])
    needs = _need_rows(Need.status == NeedStatus.OPEN, Need.deadline >= today,
                       Need.target - Need.reserved - Need.confirmed > 0)
    snapshots = [p.snapshot() for p in pools.values()]
    if fund:
        snapshots.append(engine.district_pool(fund))
    if extra is not None:
        snapshots = [s for s in snapshots if s.id != extra.id] + [extra]
    return Snapshot(_with_given(needs, pools), snapshots)


# --- runs -------------------------------------------------------------------------------------

@dataclass
class RunOutcome:
    result: engine.MatchResult | None
    run: MatchRun | None = None
    placed: int = 0

    @property
    def proposed(self) -> int:
        return self.result.total_placed() if self.result else 0


def _proposal(result: engine.MatchResult, needs: list[NeedSnapshot], today: date) -> list[dict[str, Any]]:
    deadline = {n.id: n.deadline for n in needs}
    return [{"pool_id": a.pool_id, "need_id": a.need_id, "amount": a.amount, "reason": a.reason,
             "reason_code": a.reason_code, "completes": a.completes,
             "days_left": (deadline[a.need_id] - today).days} for a in result.allocations]


def _fairness(report: engine.FairnessReport) -> dict[str, Any]:
    def rows(items):
        return [{"key": r.key, "open": r.open_needs, "reachable": r.reachable_needs, "funded": r.funded_needs,
                 "placed": r.placed} for r in items]
    return {"by_dong": rows(report.by_dong), "by_group": rows(report.by_group),
            "left_behind_dongs": list(report.left_behind_dongs), "left_behind_groups": list(report.left_behind_groups)}


def run_engine(actor: Actor, trigger: str, *, today: date | None = None, dry_run: bool = False,
               apply: bool | None = None) -> RunOutcome:
    """Propose, record and (when automatic application is on, or ``apply``) place pooled money.

    A dry run only proposes: nothing is written. Runs started by other operations are recorded only
    when they propose something; explicit ones (CLI, staff) always are.
    """
    today = today or seoul_today()
    db.session.flush()  # the caller's pending changes (a need just opened, money just recorded) count
    if not dry_run:
        end_due(today, actor, skip_locked=trigger not in EXPLICIT_TRIGGERS)
        db.session().info.pop(pledge_service.FUND_GREW, None)  # this run places what reached the fund
    seen = snapshot(today)
    if not seen.pools and trigger not in EXPLICIT_TRIGGERS:
        return RunOutcome(None)
    result = engine.propose(seen.needs, seen.pools, today)
    if dry_run or (not result.allocations and trigger not in EXPLICIT_TRIGGERS):
        return RunOutcome(result)
    auto = settings().auto_apply if apply is None else apply
    db.session.execute(update(MatchRun).where(MatchRun.status == "pending").values(status="superseded")
                       .execution_options(synchronize_session=False))
    run = MatchRun(trigger=trigger[:30], actor_id=actor.user_id, status="pending", today=today,
                   needs_considered=len(seen.needs), pools_considered=len(seen.pools),
                   proposed_total=result.total_placed(), placed_total=0, urgency_score=result.urgency_score,
                   proposal=_proposal(result, seen.needs, today), fully_funded=list(result.fully_funded),
                   fairness=_fairness(result.fairness), skipped=[])
    db.session.add(run)
    db.session.flush()
    placed = 0
    if auto and result.allocations:
        placed = _apply_run(actor, run, wait=trigger in EXPLICIT_TRIGGERS)
        run.status = "applied"
    elif auto:
        run.status, run.applied_at = "applied", utcnow()
    record(actor, "matching.run", "match_run", run.id,
           after={"trigger": run.trigger, "status": run.status, "proposed": run.proposed_total, "placed": placed})
    return RunOutcome(result, run, placed)


def approve_run(actor: Actor, run_id: int) -> MatchRun:
    """Staff apply a pending proposal, each allocation re-checked against the needs and pledges as
    they are now (what no longer fits is cut down or skipped, and listed on the run)."""
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden()
    if not can_manage(actor.user):
        raise Forbidden()
    run = db.session.scalar(select(MatchRun).where(MatchRun.id == run_id).with_for_update()
                            .execution_options(populate_existing=True))
    if run is None:
        raise NotFound()
    if run.status != "pending":
        raise MatchingError("run_not_pending")
    _apply_run(actor, run, wait=True)
    run.status, run.approved_by_id = "approved", actor.user_id
    record(actor, "matching.approve", "match_run", run.id, after={"placed": run.placed_total})
    return run


def latest_runs(limit: int = 10) -> list[MatchRun]:
    return list(db.session.scalars(select(MatchRun).order_by(MatchRun.id.desc()).limit(limit)))


def _apply_run(actor: Actor, run: MatchRun, *, wait: bool) -> int:
    """Place a run's proposal. Locks the needs and pledges it names (needs first, id order), re-reads
    them, and places each allocation only as far as it still fits."""
    today = seoul_today()
    proposal = list(run.proposal)
    db.session.flush()
    needs = _need_rows(Need.id.in_(sorted({a["need_id"] for a in proposal})), lock=True, skip_locked=not wait)
    pools = _pool_rows(Pledge.id.in_(sorted({a["pool_id"] for a in proposal} - {engine.DISTRICT_POOL_ID})),
                       Pledge.kind == "pooled", lock=True, skip_locked=not wait)
    # The fund has no row of its own: the setting's row serialises every run that spends it.
    fund = district_available(lock=True) if any(a["pool_id"] == engine.DISTRICT_POOL_ID for a in proposal) else 0
    skipped, placed_total, touched = [], 0, set()
    for item in proposal:
        if item["pool_id"] == engine.DISTRICT_POOL_ID:
            amount, why = _fund_fits(item, needs.get(item["need_id"]), fund, today)
            if amount and not _raise_confirmed(item["need_id"], amount):
                amount, why = 0, "need_gap"
            if amount < item["amount"]:
                skipped.append({"pool_id": item["pool_id"], "need_id": item["need_id"], "proposed": item["amount"],
                                "placed": amount, "why": why})
            if amount:
                need = needs[item["need_id"]]
                _place_from_fund(actor, run, need, item, amount)
                fund -= amount
                placed_total += amount
                touched.add(need.snapshot.id)
            continue
        amount, why = _fits(item, needs.get(item["need_id"]), pools.get(item["pool_id"]), today)
        if amount and not _raise_confirmed(item["need_id"], amount):
            amount, why = 0, "need_gap"
        if amount < item["amount"]:
            skipped.append({"pool_id": item["pool_id"], "need_id": item["need_id"], "proposed": item["amount"],
                            "placed": amount, "why": why})
        if not amount:
            continue
        need, pool = needs[item["need_id"]], pools[item["pool_id"]]
        completes = amount == need.snapshot.gap
        code, reason = item["reason_code"], item["reason"]
        if item["completes"] and not completes:  # cut down since it was proposed: no longer completes
            code, reason = engine.REASON_PARTIAL, reason.split(";")[0] + "; only part of it still fitted when placed"
        journal.post(ledger_rules.allocated(pool.id, need.snapshot.id, amount, memo=f"match run {run.id}"), actor)
        db.session.add(MatchAllocation(source="pool", pledge_id=pool.id, need_id=need.snapshot.id, amount=amount,
                                       reason_code=code, reason=reason, days_left=item.get("days_left"),
                                       completes=completes, run_id=run.id))
        _reduce(need, pool, amount)
        placed_total += amount
        touched.add(need.snapshot.id)
    _fund_completed(actor, touched)
    run.placed_total, run.skipped, run.applied_at = placed_total, skipped, utcnow()
    return placed_total


def _fits(item: dict, need: _NeedRow | None, pool: _PoolRow | None, today: date) -> tuple[int, str]:
    """How much of a proposed allocation still fits, and if not all of it, why."""
    if need is None:
        return 0, "need_busy_or_gone"
    if pool is None:
        return 0, "pledge_busy_or_gone"
    if need.status != NeedStatus.OPEN or need.snapshot.deadline < today:
        return 0, "need_not_open"
    if not pool.usable(today):
        return 0, "pledge_not_active"
    snap = NeedSnapshot(need.snapshot.id, need.snapshot.gap, need.snapshot.target, need.snapshot.deadline,
                        need.snapshot.category, need.snapshot.dong, need.snapshot.group,
                        {pool.id: pool.given.get(need.snapshot.id, 0)})
    if not _criteria_of(pool.terms).accepts(snap):
        return 0, "criteria"
    room = pool.snapshot().cap_for(snap)  # cap per need (counting what it gave), and the gap
    amount = min(item["amount"], room, pool.remaining)
    if amount >= item["amount"]:
        return item["amount"], ""
    why = "pledge_money" if pool.remaining < min(item["amount"], room) else (
        "need_gap" if room == need.snapshot.gap else "cap_per_need")
    return max(0, amount), why


def _fund_fits(item: dict, need: _NeedRow | None, fund: int, today: date) -> tuple[int, str]:
    """How much of a proposed placement from the district's fund still fits (any need: no criteria
    or cap per need, only the need's gap and the fund's money)."""
    if need is None:
        return 0, "need_busy_or_gone"
    if need.status != NeedStatus.OPEN or need.snapshot.deadline < today:
        return 0, "need_not_open"
    amount = min(item["amount"], need.snapshot.gap, fund)
    if amount >= item["amount"]:
        return item["amount"], ""
    return max(0, amount), "pledge_money" if fund < min(item["amount"], need.snapshot.gap) else "need_gap"


def _place_from_fund(actor: Actor, run: MatchRun, need: _NeedRow, item: dict, amount: int) -> None:
    """Post the fund's placement and say whose money it was, first in first out (one placement with
    its reason per donor's pledge), so each donor can see where their money went."""
    completes = amount == need.snapshot.gap
    code, reason = item["reason_code"], item["reason"]
    if item["completes"] and not completes:
        code, reason = engine.REASON_PARTIAL, reason.split(";")[0] + "; only part of it still fitted when placed"
    journal.post(ledger_rules.pool_allocated(need.snapshot.id, amount, memo=f"match run {run.id}"), actor)
    for pledge_id, part in engine.attribute(district_sources(), amount):
        db.session.add(MatchAllocation(source="fund", pledge_id=pledge_id, need_id=need.snapshot.id, amount=part,
                                       reason_code=code, reason=reason, days_left=item.get("days_left"),
                                       completes=completes, run_id=run.id))
    db.session.flush()
    need.snapshot = replace(need.snapshot, gap=need.snapshot.gap - amount)


def _reduce(need: _NeedRow, pool: _PoolRow, amount: int) -> None:
    need.snapshot = replace(need.snapshot, gap=need.snapshot.gap - amount)
    pool.unplaced -= amount
    pool.given[need.snapshot.id] = pool.given.get(need.snapshot.id, 0) + amount


def _raise_confirmed(need_id: int, amount: int) -> bool:
    """Invariant 1's conditional UPDATE: only if the need is open and its gap still allows it."""
    result = db.session.execute(
        update(Need).where(Need.id == need_id, Need.status == NeedStatus.OPEN,
                           Need.target - Need.reserved - Need.confirmed >= amount)
        .values(confirmed=Need.confirmed + amount).execution_options(synchronize_session=False))
    return result.rowcount == 1


def _fund_completed(actor: Actor, need_ids: set[int]) -> None:
    """Needs whose money now reaches the target move to funded; loaded objects see the new money."""
    if not need_ids:
        return
    for need in db.session.scalars(select(Need).where(Need.id.in_(sorted(need_ids)))
                                   .execution_options(populate_existing=True)):
        if need.status == NeedStatus.OPEN and need.confirmed >= need.target:
            pledge_service._set_need_status(actor, need, NeedAction.FUND)


def preview_unpaid(pledge: Pledge, today: date | None = None) -> list[engine.Allocation]:
    """Where an unpaid pooled pledge's money would go if it were received today. Proposed only:
    nothing is written, and nothing is placed until the money arrives."""
    terms = db.session.get(PooledTerms, pledge.id)
    today = today or seoul_today()
    if terms is None or terms.paused or terms.ended_at is not None or pledge.owed <= 0:
        return []
    unpaid = PoolSnapshot(pledge.id, pledge.owed, _criteria_of(terms), terms.cap_won, terms.cap_percent,
                          arrival=pledge.id, ends=terms.ends_on)
    seen = snapshot(today, extra=unpaid)
    return [a for a in engine.propose(seen.needs, seen.pools, today).allocations if a.pool_id == pledge.id]


# --- the district's pooled fund (구 나눔 기금) ----------------------------------------------------

CLOSED_NEEDS = (NeedStatus.CANCELLED, NeedStatus.EXPIRED)  # their fund money went back to the fund


def district_balance() -> int:
    """Won in the district's pooled fund now, from the journal."""
    from .ledger import balance
    return -balance(ledger_rules.POOL)


def district_sources(among: Select | None = None) -> list[tuple[int, int]]:
    """(pledge id, won of that pledge's money still in the fund), the pledge whose money came in
    first first: what came in (moved to the fund), less what the fund placed of it on needs that
    did not close (a closed need's fund money came back to the fund). ``among``, a query of pledge
    ids, keeps only those pledges (each pledge's figure is its own, whoever else gave)."""
    came_in_query = (
        select(LedgerTransaction.pledge_id, func.min(LedgerTransaction.id), func.sum(LedgerLine.amount))
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
        .where(LedgerLine.account == ledger_rules.POOL, LedgerTransaction.pledge_id.is_not(None)))
    went_out_query = (
        select(MatchAllocation.pledge_id, func.sum(MatchAllocation.amount))
        .join(Need, Need.id == MatchAllocation.need_id)
        .where(MatchAllocation.source == "fund", Need.status.not_in([s.value for s in CLOSED_NEEDS])))
    if among is not None:
        came_in_query = came_in_query.where(LedgerTransaction.pledge_id.in_(among.scalar_subquery()))
        went_out_query = went_out_query.where(MatchAllocation.pledge_id.in_(among.scalar_subquery()))
    came_in = db.session.execute(came_in_query.group_by(LedgerTransaction.pledge_id)).all()
    went_out = dict(db.session.execute(went_out_query.group_by(MatchAllocation.pledge_id)).all())
    left = [(first, pledge_id, -int(total) - int(went_out.get(pledge_id, 0)))
            for pledge_id, first, total in came_in]
    return [(pledge_id, won) for _, pledge_id, won in sorted(left) if won > 0]


def district_available(lock: bool = False) -> int:
    """What the fund may place: its balance, and never more than its sources account for."""
    if lock:
        settings(lock=True)
    balance = district_balance()
    if balance <= 0:
        return 0
    return min(balance, sum(won for _, won in district_sources()))


@dataclass(frozen=True)
class FundPlacement:
    need_id: int
    title: str
    amount: int
    status: str
    created_at: datetime


def district_placements(pledge_ids=None, limit: int = 50) -> list[FundPlacement]:
    """Where the fund's money went, newest first: for one donor's pledges, or for everyone.
    ``pledge_ids`` may be a query of pledge ids (a subquery: a donor's 1,000 pledges are not sent back
    as 1,000 parameters) or the ids themselves."""
    query = (select(MatchAllocation.need_id, Need.title, Need.status, MatchAllocation.amount,
                    MatchAllocation.created_at)
             .join(Need, Need.id == MatchAllocation.need_id).where(MatchAllocation.source == "fund"))
    if isinstance(pledge_ids, Select):
        query = query.where(MatchAllocation.pledge_id.in_(pledge_ids.scalar_subquery()))
    elif pledge_ids is not None:
        query = query.where(MatchAllocation.pledge_id.in_(list(pledge_ids)))
    rows = db.session.execute(query.order_by(MatchAllocation.id.desc()).limit(limit)).all()
    return [FundPlacement(r.need_id, r.title, int(r.amount), r.status, r.created_at) for r in rows]


def district_summary() -> dict[str, int]:
    """The fund in figures: what came in, what it placed on needs (net of closed needs' money that
    came back), and what waits in it now."""
    came_in, total = db.session.execute(
        select(func.coalesce(func.sum(case((LedgerTransaction.pledge_id.is_not(None), LedgerLine.amount), else_=0)), 0),
               func.coalesce(func.sum(LedgerLine.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
        .where(LedgerLine.account == ledger_rules.POOL)).one()
    return {"received": -int(came_in), "balance": -int(total), "placed": int(total) - int(came_in)}


def district_waiting_for(pledge_ids) -> int:
    """Won of these pledges' money that waits in the fund for a need now. ``pledge_ids`` may be a
    query of pledge ids (the database then sums only theirs) or the ids themselves."""
    if isinstance(pledge_ids, Select):
        return sum(won for _, won in district_sources(pledge_ids))
    ids = set(pledge_ids)
    return sum(won for pledge_id, won in district_sources() if pledge_id in ids)


# --- triggers: services/effects.py calls these, in the order it states ------------------------

def after_need_opened(actor: Actor, need: Need) -> None:
    run_engine(actor, "need_opened")


def after_unassigned_received(actor: Actor, pledge_ids) -> None:
    _forget_offers()  # an offer's money may have arrived: it can match from now on
    kinds = set(db.session.scalars(select(Pledge.kind).where(Pledge.id.in_(list(pledge_ids)))))
    if "pooled" in kinds:
        run_engine(actor, "money_received")


def after_holds_released(actor: Actor) -> None:
    run_engine(actor, "holds_released")


# --- a need closing: pooled and offer money goes back to its pledge ----------------------------

def after_need_closed(actor: Actor, need: Need) -> None:
    """Money that pooled pledges and match offers placed on a closed need goes back to them: an offer's
    can match again; a pooled pledge's, and the district's fund's, is placed again at once, by an engine
    run in the same transaction (trigger ``need_closed``, which also places what donors of the need just
    left to the fund; with automatic application off it waits for staff like any run); if the
    pledge has ended, it follows the donor's choice instead."""
    if _return_placed_money(actor, need) or district_balance() > 0:
        run_engine(actor, "need_closed")


def after_pool_received(actor: Actor) -> None:
    """Money moved to the district's pooled fund is placed at once, like any pooled money."""
    run_engine(actor, "pool_received")


def _return_placed_money(actor: Actor, need: Need) -> bool:
    """Give pooled and offer money on a closed need back to its pledges. True if pooled money that can
    still be placed came back (so the engine has something new to place)."""
    rows = db.session.execute(
        select(LedgerTransaction.pledge_id, func.sum(LedgerLine.amount))
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
        .join(Pledge, Pledge.id == LedgerTransaction.pledge_id)
        .where(LedgerLine.account == ledger_rules.need_account(need.id), Pledge.kind.in_(["pooled", "match"]))
        .group_by(LedgerTransaction.pledge_id).order_by(LedgerTransaction.pledge_id)).all()
    reason = "need_cancelled" if need.status == NeedStatus.CANCELLED else "need_expired"
    pooled_back = _return_fund_money(actor, need, reason)
    for pledge_id, total in rows:
        placed = -int(total)
        if placed <= 0:
            continue
        need.confirmed -= placed
        journal.post(ledger_rules.unallocated(pledge_id, need.id, placed, memo=reason), actor)
        offer = db.session.scalar(select(MatchOfferTerms).where(MatchOfferTerms.pledge_id == pledge_id)
                                  .with_for_update().execution_options(populate_existing=True))
        if offer is not None:
            offer.matched -= placed
        ended = offer.ended_at if offer is not None else db.session.scalar(
            select(PooledTerms.ended_at).where(PooledTerms.pledge_id == pledge_id))
        if ended is not None:
            pledge_service.follow_donor_choice(actor, db.session.get(Pledge, pledge_id), placed, reason=reason)
        elif offer is None:
            pooled_back = True
        record(actor, "pledge.unplaced", "pledge", pledge_id, after={"need": need.id, "amount": placed,
                                                                     "reason": reason})
    return pooled_back


def fund_on_need(need_id: int) -> int:
    """Won the district's fund has on a need now (placed, less what came back), from the journal."""
    return -int(db.session.scalar(
        select(func.coalesce(func.sum(LedgerLine.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
        .where(LedgerLine.account == ledger_rules.need_account(need_id),
               LedgerTransaction.entry.in_([ledger_rules.Entry.POOL_ALLOCATED, ledger_rules.Entry.POOL_RETURNED]))))


def return_to_fund(actor: Actor, need: Need, amount: int, reason: str) -> None:
    """Give ``amount`` of the fund's money on ``need`` back to the fund (caller holds the need's lock)."""
    need.confirmed -= amount
    journal.post(ledger_rules.pool_returned(need.id, amount, memo=reason), actor)
    record(actor, "fund.unplaced", "need", need.id, after={"amount": amount, "reason": reason})


def _return_fund_money(actor: Actor, need: Need, reason: str) -> bool:
    """The district's fund money on a closed need goes back to the fund. True if any did."""
    on_need = fund_on_need(need.id)
    if on_need <= 0:
        return False
    return_to_fund(actor, need, on_need, reason)
    return True


# --- match offers -----------------------------------------------------------------------------

_OFFERS_KEY = "kindcity.match_offers"


def _forget_offers() -> None:
    db.session().info.pop(_OFFERS_KEY, None)


def _open_offers() -> list[tuple[int, int, Any]]:
    """(offer pledge id, sponsor id, terms) of offers not ended; read once per transaction (a bulk
    statement import asks for every gift) and forgotten when an offer is created or ended."""
    session = db.session()
    transaction = session.get_transaction()
    cached = session.info.get(_OFFERS_KEY)
    if cached is not None and cached[0] is transaction:
        return cached[1]
    rows = db.session.execute(
        select(MatchOfferTerms.pledge_id, Pledge.donor_id, MatchOfferTerms.starts_on, MatchOfferTerms.ends_on,
               MatchOfferTerms.categories, MatchOfferTerms.dongs, MatchOfferTerms.groups,
               MatchOfferTerms.ratio_num, MatchOfferTerms.ratio_den)
        .join(Pledge, Pledge.id == MatchOfferTerms.pledge_id)
        .where(MatchOfferTerms.ended_at.is_(None), Pledge.status.in_([s.value for s in POOL_FUNDING]))
        .order_by(MatchOfferTerms.pledge_id)).all()
    session.info[_OFFERS_KEY] = (transaction, rows)
    return rows


@dataclass(frozen=True)
class _Placed:
    category: str
    dong: str
    group: str


def _codes_of(need) -> _Placed:
    if isinstance(need, Need):
        return _Placed(need.category.code, need.dong.code, need.group.code)
    row = db.session.execute(select(Category.code, Dong.code, BeneficiaryGroup.code).select_from(Need)
                             .join(Category, Category.id == Need.category_id).join(Dong, Dong.id == Need.dong_id)
                             .join(BeneficiaryGroup, BeneficiaryGroup.id == Need.group_id)
                             .where(Need.id == need.id)).one()
    return _Placed(*row)


def after_gift_placed(actor: Actor, need, gift: Pledge, amount: int, received_at: datetime, poster) -> None:
    """A resident's gift landed on a need (rows locked by the caller, who writes ``need`` back):
    every qualifying offer adds its match, earliest-starting first, never past its cap or the gap."""
    offers = _open_offers()
    if not offers:
        return
    on = received_at.astimezone(SEOUL).date()
    candidates = [r for r in offers if r.donor_id != gift.donor_id and r.starts_on <= on <= r.ends_on]
    if not candidates or need.status != NeedStatus.OPEN:
        return
    placed_on = _codes_of(need)
    candidates = [r for r in candidates if Criteria(frozenset(r.categories), frozenset(r.dongs),
                                                     frozenset(r.groups)).accepts(placed_on)]
    if not candidates:
        return
    ids = [r.pledge_id for r in candidates]
    locked = {t.pledge_id: t for t in db.session.scalars(
        select(MatchOfferTerms).where(MatchOfferTerms.pledge_id.in_(ids), MatchOfferTerms.ended_at.is_(None))
        .order_by(MatchOfferTerms.pledge_id).with_for_update().execution_options(populate_existing=True))}
    paid = dict(db.session.execute(select(Pledge.id, Pledge.paid).where(Pledge.id.in_(list(locked)))).all())
    offers = [MatchOffer(t.pledge_id, t.ratio_num, t.ratio_den, max(0, min(t.cap, paid.get(t.pledge_id, 0)) - t.matched),
                         _criteria_of(t), t.starts_on, t.ends_on) for t in locked.values()]
    gap = need.target - need.reserved - need.confirmed
    for match in engine.match_gift(offers, placed_on, amount, max(0, gap), on):
        terms = locked[match.offer_id]
        # Backed by the lock above and by the database: matched + amount never passes the cap.
        done = db.session.execute(
            update(MatchOfferTerms).where(MatchOfferTerms.pledge_id == terms.pledge_id,
                                          MatchOfferTerms.matched + match.amount <= MatchOfferTerms.cap)
            .values(matched=MatchOfferTerms.matched + match.amount).execution_options(synchronize_session=False))
        if done.rowcount != 1:
            continue
        db.session.expire(terms, ["matched"])
        need.confirmed += match.amount
        poster(ledger_rules.allocated(terms.pledge_id, need.id, match.amount, memo=f"match of pledge {gift.id}"))
        db.session.add(MatchAllocation(
            source="offer", pledge_id=terms.pledge_id, need_id=need.id, amount=match.amount, reason_code=REASON_OFFER,
            reason=f"matches a resident's gift of {amount:,} won at {terms.ratio_num}:{terms.ratio_den}",
            days_left=None, completes=need.confirmed + need.reserved >= need.target, gift_pledge_id=gift.id,
            gift_amount=amount))
        record(actor, "offer.match", "pledge", terms.pledge_id,
               after={"need": need.id, "gift_pledge": gift.id, "gift": amount, "matched": match.amount})


# --- reading ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PledgeMoney:
    received: int
    placed: int        # on needs now
    unplaced: int      # received, not placed, not owed back
    returned: int      # refunded, owed back, or moved to the district's pooled fund


def money_of(pledge: Pledge) -> PledgeMoney:
    """A pooled pledge's or an offer's money, from the journal."""
    rows = db.session.execute(
        select(LedgerLine.account, func.sum(LedgerLine.amount))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
        .where(LedgerTransaction.pledge_id == pledge.id).group_by(LedgerLine.account)).all()
    on_needs = -sum(int(t) for a, t in rows if a.startswith("need:"))
    unplaced = -sum(int(t) for a, t in rows if a == ledger_rules.pledge_account(pledge.id))
    owed = pledge_service.refunds_due(pledge.id)
    return PledgeMoney(received=pledge.paid, placed=on_needs, unplaced=max(0, unplaced - owed),
                       returned=pledge.paid - on_needs - max(0, unplaced - owed))


def allocations_of(pledge_id: int) -> list[MatchAllocation]:
    return list(db.session.scalars(select(MatchAllocation).where(MatchAllocation.pledge_id == pledge_id)
                                   .order_by(MatchAllocation.id.desc())))


def offer_summary(pledge_id: int) -> dict[str, int]:
    """What an offer multiplied: residents' gifts it matched, what it added, how many gifts."""
    row = db.session.execute(select(func.count(MatchAllocation.id), func.coalesce(func.sum(MatchAllocation.amount), 0),
                                    func.coalesce(func.sum(MatchAllocation.gift_amount), 0))
                             .where(MatchAllocation.pledge_id == pledge_id, MatchAllocation.source == "offer")).one()
    return {"gifts": int(row[0]), "added": int(row[1]), "residents": int(row[2]), "together": int(row[1] + row[2])}


def matches_on_need(need_id: int) -> list[dict[str, Any]]:
    """The match offers that added to this need, for its public page: one query, donors included."""
    rows = db.session.execute(
        select(Pledge.id, Pledge.display, User.display_name, Organisation.name.label("organisation"),
               func.sum(MatchAllocation.amount).label("amount"))
        .select_from(MatchAllocation).join(Pledge, Pledge.id == MatchAllocation.pledge_id)
        .join(User, User.id == Pledge.donor_id).outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(MatchAllocation.need_id == need_id, MatchAllocation.source == "offer")
        .group_by(Pledge.id, Pledge.display, User.display_name, Organisation.name).order_by(Pledge.id)).all()
    shown = []
    for r in rows:
        name = r.organisation if r.display == "organisation" else r.display_name if r.display == "name" else None
        if r.amount > 0:
            shown.append({"offer_id": r.id, "sponsor": name, "amount": int(r.amount)})
    return shown

