"""Recurring pooled pledges (정기 나눔 기금): a series that makes one pooled pledge per period.

"1,000,000원 a quarter for medical transport in 화정동 and 농성동, at most half of any one need" is a
series: the donor's terms (criteria, cap per need, display, what happens to unplaced money, bank or
card), how often (monthly or quarterly) and an optional last day. Each period it makes an instalment:
a pooled pledge of its own, with its own reference code, paid on its own, placed by the engine like
any pooled pledge. When the periods fall due is the pure rule of ``kindcity.domain.recurrence``.

* ``create_series`` makes the series and its first instalment (due today);
* ``create_due_instalments`` is the upkeep (``kindcity recurring``): it makes each series' instalment
  of the current period if it is not made yet. Idempotent: a second run makes nothing. Two runs at
  the same moment cannot both make one: the series row is locked while it is made, and the database's
  unique (series, period) refuses a second one whatever happens (the loser's savepoint rolls back);
* ``stop_series``: no more instalments; an instalment not paid at all is cancelled; money received
  stays and keeps being placed.

Services never commit and never send mail: the command or view commits, then mails each instalment's
bank details or its link to pay by card (``Instalment`` carries what the mail needs).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from ..domain.pledges import PledgeStatus
from ..domain.recurrence import (
    SeriesView,
    check_series,
    current_period,
    due_date,
    series_view,
)
from ..domain.time import utcnow
from .. import jobs
from ..extensions import db
from ..models import Pledge, PooledSeries, PooledTerms, User
from . import SYSTEM, Actor, NotFound
from . import kr_billing
from . import matching as matching_service
from .audit import record
from .matching import CriteriaInput, PooledRequest


@dataclass(frozen=True)
class Instalment:
    """An instalment just made: enough to tell the donor how to pay it, after the commit."""

    pledge_id: int
    series_id: int
    period: int
    reference: str
    amount: int
    method: str
    due_on: date
    ends_on: date | None
    frequency: str
    donor_email: str


# --- making a series and its instalments -------------------------------------------------------

def create_series(actor: Actor, request: PooledRequest, repeat: str, today: date, *, billing: bool = False) -> Pledge:
    """A recurring pooled pledge: the series, and its first instalment, due today (returned). ``billing``:
    the site can charge instalments by PortOne card billing key (정기결제, services/kr_billing.py); without
    it a series cannot be paid through PortOne."""
    checked = matching_service.check_pooled(actor, request, today)
    if request.method == "portone" and not billing:
        raise matching_service.MatchingError("kr_not_recurring")
    frequency = check_series(repeat, today, request.ends_on)
    criteria = checked.criteria
    series = PooledSeries(donor_id=checked.donor.id, frequency=frequency.value, starts_on=today,
                          ends_on=request.ends_on, amount=request.amount, method=request.method,
                          display=request.display, message=checked.message, on_end=request.on_end,
                          cap_won=request.cap_won, cap_percent=request.cap_percent,
                          categories=list(criteria.categories), dongs=list(criteria.dongs), groups=list(criteria.groups))
    db.session.add(series)
    db.session.flush()
    record(actor, "series.create", "pooled_series", series.id,
           after={"frequency": series.frequency, "amount": series.amount, "method": series.method,
                  "starts_on": today.isoformat(), "ends_on": request.ends_on.isoformat() if request.ends_on else None})
    pledge = insert_instalment(actor, series, 1)
    if pledge is None:  # a brand-new series has no instalment yet: this cannot happen
        raise RuntimeError(f"series {series.id}: its first instalment exists already")
    return pledge


def insert_instalment(actor: Actor, series: PooledSeries, period: int) -> Pledge | None:
    """Make instalment ``period`` of ``series``, or None if it exists already.

    The database decides: the pledge and its terms are written in a savepoint, and the unique
    (series_id, period) of the terms refuses a second instalment of the same period, even from another
    transaction at the same moment (PostgreSQL makes the second insert wait for the first to commit,
    then fail). The savepoint rolls back and leaves nothing of the loser's attempt.
    """
    donor = db.session.get(User, series.donor_id)
    criteria = CriteriaInput(tuple(series.categories or ()), tuple(series.dongs or ()), tuple(series.groups or ()))
    try:
        with db.session.begin_nested():
            pledge = matching_service.add_pooled_pledge(
                actor, donor, amount=series.amount, criteria=criteria, cap_won=series.cap_won,
                cap_percent=series.cap_percent, ends_on=series.ends_on, display=series.display,
                message=series.message, on_end=series.on_end, method=series.method, series_id=series.id,
                period=period)
    except IntegrityError:
        return None
    return pledge


def _due_series(today: date) -> list[tuple[int, int]]:
    """(series id, current period) of every running series whose current period is not made yet."""
    made = (select(PooledTerms.series_id, func.max(PooledTerms.period).label("last"))
            .where(PooledTerms.series_id.is_not(None)).group_by(PooledTerms.series_id).subquery())
    rows = db.session.execute(
        select(PooledSeries.id, PooledSeries.starts_on, PooledSeries.frequency, PooledSeries.ends_on, made.c.last)
        .join(User, User.id == PooledSeries.donor_id)
        .outerjoin(made, made.c.series_id == PooledSeries.id)
        .where(PooledSeries.stopped_at.is_(None), User.active.is_(True), PooledSeries.starts_on <= today,
               or_(PooledSeries.ends_on.is_(None), PooledSeries.ends_on >= today))
        .order_by(PooledSeries.id)).all()
    due = []
    for r in rows:
        period = current_period(r.starts_on, r.frequency, today, r.ends_on)
        if period is not None and period > (r.last or 0):
            due.append((r.id, period))
    return due


def create_due_instalments(today: date, actor: Actor = SYSTEM) -> list[Instalment]:
    """Make the instalment of the current period of every running series that lacks it (the upkeep).

    Only the current period is made: a period that passed entirely while this did not run is not made
    later, so a donor is never asked for two periods at once. Idempotent; safe to run concurrently.
    """
    made = []
    for series_id, period in _due_series(today):
        series = db.session.scalar(select(PooledSeries).where(PooledSeries.id == series_id).with_for_update()
                                   .execution_options(populate_existing=True))
        if series is None or series.stopped_at is not None:
            continue  # stopped while we looked
        exists = db.session.scalar(select(PooledTerms.pledge_id).where(PooledTerms.series_id == series_id,
                                                                       PooledTerms.period == period))
        if exists is not None:
            continue  # another run made it and committed while we waited for the lock
        pledge = insert_instalment(actor, series, period)
        if pledge is None:
            continue
        record(actor, "series.instalment", "pooled_series", series.id, after={"period": period, "pledge": pledge.id})
        if series.method == "portone" and kr_billing.active_key(series.id) is not None:
            kr_billing.ask_charge(pledge.id, 0)  # charged with the card billing key, once this commits
        else:
            jobs.defer("mail.instalment", pledge_id=pledge.id)  # how to pay it, once this commits
        made.append(Instalment(pledge_id=pledge.id, series_id=series.id, period=period, reference=pledge.reference,
                               amount=pledge.amount, method=pledge.method,
                               due_on=due_date(series.starts_on, series.frequency, period), ends_on=series.ends_on,
                               frequency=series.frequency, donor_email=series.donor.email))
    return made


def retry_declined_charges(config, now=None) -> list[tuple[int, int]]:
    """The upkeep: instalments whose card billing key was declined once are charged once more, when
    KINDCITY_PORTONE_RETRY_HOURS have passed (a job each). Idempotent."""
    from datetime import timedelta

    return kr_billing.ask_retries(now or utcnow(), timedelta(hours=int(config.get("KINDCITY_PORTONE_RETRY_HOURS", 24))))


# --- stopping ----------------------------------------------------------------------------------

def stop_series(actor: Actor, series_id: int) -> list[int]:
    """Stop a series: no instalment is made any more. Its instalments that received nothing are
    cancelled; money already received stays with its instalment and keeps being placed. Idempotent.
    Returns the instalments cancelled."""
    user = actor.user
    series = db.session.scalar(select(PooledSeries).where(PooledSeries.id == series_id).with_for_update()
                               .execution_options(populate_existing=True))
    if series is None or user is None or (series.donor_id != user.id and not user.is_staff):
        raise NotFound()
    if series.stopped_at is not None:
        return []
    series.stopped_at, series.stopped_by_id = utcnow(), user.id
    unpaid = db.session.scalars(
        select(Pledge.id).join(PooledTerms, PooledTerms.pledge_id == Pledge.id)
        .where(PooledTerms.series_id == series_id, PooledTerms.ended_at.is_(None),
               Pledge.status == PledgeStatus.AWAITING_PAYMENT, Pledge.paid == 0)
        .order_by(Pledge.id)).all()
    for pledge_id in unpaid:
        matching_service.end_pledge(actor, pledge_id, reason="series_stopped")
    if series.method == "portone":
        kr_billing.stop_billing(series.id)  # deleted at PortOne by a job of this transaction
    record(actor, "series.stop", "pooled_series", series.id, after={"cancelled": list(unpaid)})
    return list(unpaid)


# --- reading -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class InstalmentRow:
    pledge_id: int
    period: int
    due_on: date
    reference: str
    amount: int
    paid: int
    status: str
    ended: bool


@dataclass(frozen=True)
class SeriesSummary:
    series: PooledSeries
    view: SeriesView
    instalments: list[InstalmentRow]   # newest first


def summary(series_id: int, today: date) -> SeriesSummary:
    series = db.session.get(PooledSeries, series_id)
    if series is None:
        raise NotFound()
    rows = db.session.execute(
        select(Pledge.id, PooledTerms.period, Pledge.reference, Pledge.amount, Pledge.paid, Pledge.status,
               PooledTerms.ended_at)
        .join(PooledTerms, PooledTerms.pledge_id == Pledge.id)
        .where(PooledTerms.series_id == series_id).order_by(PooledTerms.period.desc())).all()
    instalments = [InstalmentRow(r.id, r.period, due_date(series.starts_on, series.frequency, r.period), r.reference,
                                 int(r.amount), int(r.paid), r.status, r.ended_at is not None) for r in rows]
    last = instalments[0].period if instalments else 0
    view = series_view(series.starts_on, series.frequency, series.ends_on, stopped=series.stopped_at is not None,
                       last_period=last, today=today)
    return SeriesSummary(series, view, instalments)


def series_of_pledges(pledge_ids) -> dict[int, tuple[str, int]]:
    """pledge id -> (frequency, period) for the instalments among ``pledge_ids``: one query."""
    ids = list(pledge_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(PooledTerms.pledge_id, PooledSeries.frequency, PooledTerms.period)
                              .join(PooledSeries, PooledSeries.id == PooledTerms.series_id)
                              .where(PooledTerms.pledge_id.in_(ids)))
    return {r.pledge_id: (r.frequency, r.period) for r in rows}
