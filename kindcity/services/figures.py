"""District figures counted ahead of time, so that no visitor waits for a district-wide recount.

/impact (every period, with its breakdowns), its API, the donor wall (/donors) and the home page's
totals read one ``district_figures`` row each, by primary key. The rows are written by one job,
``figures.refresh`` (kindcity/jobs/figures.py), which counts everything with the very functions that
define the figures (``impact.district_impact``, ``impact.donor_wall``, ``needs.district_totals``), so
a stored figure is by construction the figure those functions give at that moment.

When the job runs:

- whenever money moves: a transaction that wrote to a table the figures read (the journal, payments,
  refunds, spending, leftovers, pledges, needs, reports, organisations) asks for the job as it
  commits (:func:`_ask_on_commit`), so the job exists if and only if the change does. On PostgreSQL
  the job carries a queueing lock and starts a few seconds later (``KINDCITY_FIGURES_DELAY_SECONDS``):
  however many payments arrive meanwhile, one recount follows them. On SQLite it runs in-process
  right after the commit (kindcity/jobs/);
- every ten minutes as a backstop (kindcity/jobs/upkeep.py), which also moves the periods on after
  midnight and catches writes that bypass the session (bulk COPY; a statement import asks by
  itself through :func:`moved`);
- after `kindcity demo-data` and on `kindcity refresh-figures`.

If no row exists yet (a new database before its first count), the page counts once for that request
and stores nothing (a public GET writes nothing): correct figures, at the old price, once.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from ..domain import impact as rules
from ..domain.time import seoul_today, utcnow
from ..extensions import db
from ..models import DistrictFigures
from . import impact as impact_service

JOB = "figures.refresh"
WALL, TOTALS = "wall", "totals"
_MOVED = "kindcity.figures.moved"

# Tables whose rows the figures are counted from: a write to any of them asks for a recount.
WATCHED_TABLES = frozenset({"ledger_transactions", "ledger_lines", "payments", "refunds", "disbursements",
                            "leftover_returns", "pledges", "needs", "impact_reports", "organisations"})


def impact_key(period: str) -> str:
    return f"impact:{period}"


# --- counting and storing -------------------------------------------------------------------------

def _impact_json(summary: impact_service.DistrictImpact) -> dict[str, Any]:
    rows = lambda items: [[r.ref.code, r.ref.name_ko, r.ref.name_en, r.placed, r.completed]  # noqa: E731
                          for r in items]
    return {"period": summary.period, "start": summary.start.isoformat() if summary.start else None,
            "end": summary.end.isoformat() if summary.end else None, "received": summary.received,
            "refunded": summary.refunded, "spent": summary.spent, "needs_completed": summary.needs_completed,
            "beneficiaries_reached": summary.beneficiaries_reached, "donors": summary.donors,
            "by_category": rows(summary.by_category), "by_dong": rows(summary.by_dong),
            "by_month": [list(month) for month in summary.by_month],
            "fund_received": summary.fund_received, "fund_balance": summary.fund_balance}


def _impact_from(data: dict[str, Any], counted_at: datetime) -> impact_service.DistrictImpact:
    rows = lambda items: [impact_service.Breakdown(impact_service.Label(code, ko, en), placed, completed)  # noqa: E731
                          for code, ko, en, placed, completed in items]
    day = lambda value: date.fromisoformat(value) if value else None  # noqa: E731
    return impact_service.DistrictImpact(
        data["period"], day(data["start"]), day(data["end"]), data["received"], data["refunded"], data["spent"],
        data["needs_completed"], data["beneficiaries_reached"], data["donors"], rows(data["by_category"]),
        rows(data["by_dong"]), [(month, amount) for month, amount in data["by_month"]], counted_at,
        data["fund_received"], data["fund_balance"])


def _wall_json(wall: dict[rules.WallGroup, list[rules.WallEntry]]) -> dict[str, list]:
    return {group.value: [[e.name, e.tier.value, e.total] for e in entries] for group, entries in wall.items()}


def _wall_from(data: dict[str, list]) -> dict[rules.WallGroup, list[rules.WallEntry]]:
    wall = {group: [] for group in rules.WALL_GROUP_ORDER}
    for group_value, entries in data.items():
        group = rules.WallGroup(group_value)
        wall[group] = [rules.WallEntry(name, group, rules.Tier(tier), total) for name, tier, total in entries]
    return wall


def count_all(today: date) -> dict[str, Any]:
    """Every stored figure, counted now from the tables (what the job stores)."""
    from .needs import district_totals

    figures: dict[str, Any] = {impact_key(period): _impact_json(impact_service.district_impact(period, today))
                               for period in rules.PERIODS}
    figures[WALL] = _wall_json(impact_service.donor_wall())
    figures[TOTALS] = district_totals(today)
    return figures


def refresh(today: date | None = None) -> datetime:
    """Count every figure and replace the stored rows, in the caller's transaction (readers keep
    seeing the previous rows until it commits). Returns when they were counted."""
    today = today or seoul_today()
    counted_at = utcnow()
    figures = count_all(today)
    db.session.execute(delete(DistrictFigures))
    db.session.add_all(DistrictFigures(key=key, day=today, counted_at=counted_at, data=data)
                       for key, data in figures.items())
    db.session.flush()
    return counted_at


# --- reading (one indexed query each) --------------------------------------------------------------

def _row(key: str) -> DistrictFigures | None:
    return db.session.get(DistrictFigures, key)


def district_impact(period: str, today: date | None = None) -> impact_service.DistrictImpact:
    """The district's figures for a period, as last counted; counted now (not stored) if never."""
    period = period if period in rules.PERIODS else "all"
    row = _row(impact_key(period))
    if row is None:
        return impact_service.district_impact(period, today or seoul_today())
    return _impact_from(row.data, row.counted_at)


def donor_wall() -> tuple[dict[rules.WallGroup, list[rules.WallEntry]], datetime]:
    """(the wall, when it was counted)."""
    row = _row(WALL)
    if row is None:
        return impact_service.donor_wall(), utcnow()
    return _wall_from(row.data), row.counted_at


_wall_memo: tuple[tuple[str, datetime], dict[str, list]] | None = None  # ((database, counted_at), data)


def _wall_data() -> tuple[dict[str, list], datetime]:
    """The stored wall's data and when it was counted. Reading it whole means decoding every recognised
    donor (25 MB of JSON at ten times the data, 0.4 s), so each process keeps the last one it read and
    asks only for ``counted_at`` while that is still the stored one: one small query, and the whole row
    once after each recount."""
    global _wall_memo
    counted_at = db.session.scalar(select(DistrictFigures.counted_at).where(DistrictFigures.key == WALL))
    if counted_at is None:
        return _wall_json(impact_service.donor_wall()), utcnow()
    key = (str(db.engine.url), counted_at)
    memo = _wall_memo
    if memo is not None and memo[0] == key:
        return memo[1], counted_at
    row = _row(WALL)
    if row is None:  # removed in between: count it now
        return _wall_json(impact_service.donor_wall()), utcnow()
    _wall_memo = ((str(db.engine.url), row.counted_at), row.data)
    return row.data, row.counted_at


def donor_wall_slices(wanted: dict[rules.WallGroup, tuple[int, int]]
                      ) -> tuple[dict[rules.WallGroup, list[rules.WallEntry]], dict[rules.WallGroup, int], datetime]:
    """(the entries ``[start:stop]`` of each group in ``wanted``, every group's size, when it was
    counted): one read of the stored wall, and only the wanted entries are built (the wall holds every
    recognised donor: 87,000 at ten times the data)."""
    data, counted_at = _wall_data()
    sizes = {group: len(data.get(group.value, ())) for group in rules.WALL_GROUP_ORDER}
    entries = {group: [rules.WallEntry(name, group, rules.Tier(tier), total)
                       for name, tier, total in data.get(group.value, [])[start:stop]]
               for group, (start, stop) in wanted.items()}
    return entries, sizes, counted_at


def district_totals(today: date | None = None) -> dict[str, Any]:
    """The home page's totals, with ``counted_at`` (None when counted for this request)."""
    row = _row(TOTALS)
    if row is None:
        from .needs import district_totals as count

        return {**count(today or seoul_today()), "counted_at": None}
    return {**row.data, "counted_at": row.counted_at}


def newest_count():
    """A data-version source (kindcity/web/caching.py): pages showing these figures change when the
    job stores a new count, after the change that asked for it."""
    from sqlalchemy import func

    return select(func.max(DistrictFigures.counted_at)).scalar_subquery()


# --- asking for a recount when money moves ---------------------------------------------------------

def moved(session: Session | None = None) -> None:
    """Note that this transaction changed what the figures count (for writes the session cannot see,
    such as COPY): the recount is asked for as it commits."""
    (session or db.session()).info[_MOVED] = True


def _seen_in_flush(session: Session, flush_context) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        if getattr(instance, "__tablename__", None) in WATCHED_TABLES:
            session.info[_MOVED] = True
            return


def _seen_in_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in WATCHED_TABLES:
            state.session.info[_MOVED] = True


def _ask_on_commit(session: Session) -> None:
    if not has_app_context() or not db.session.registry.has() or db.session() is not session:
        return  # only the app's own session defers jobs (kindcity/jobs/ writes through it)
    if session.new or session.dirty or session.deleted:
        session.flush()  # what is still pending is part of this commit too
    if not session.info.pop(_MOVED, False):
        return
    from ..jobs import defer

    defer(JOB, queueing_lock=JOB, lock=JOB,
          delay_seconds=float(current_app.config.get("KINDCITY_FIGURES_DELAY_SECONDS", 0)))


def _forget_on_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(_MOVED, None)


_LISTENERS = (("after_flush", _seen_in_flush), ("do_orm_execute", _seen_in_statement),
              ("before_commit", _ask_on_commit), ("after_soft_rollback", _forget_on_rollback))


def watch_money_tables() -> None:
    """Have every session note writes to the watched tables and ask for a recount as it commits.
    Called once from ``create_app`` (kindcity/__init__.py), where the order of set-up can be seen;
    calling it again changes nothing."""
    for name, listener in _LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
