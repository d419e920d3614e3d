"""Writing a new direct pledge: the hottest write of the site, in as few round trips as it takes.

A pledge is five rows (the pledge, its journal transaction and two lines, an audit entry) and one
conditional UPDATE of the need that reserves the gap (invariant 1). What must hold, on every
database: the reservation and the rows are one transaction, and the need's row is locked for as
short a time as possible, since every donor of a popular need queues on it.

PostgreSQL: one statement. The pledge's and the journal transaction's ids are drawn from their
sequences when the need is read, so the journal lines are built by the ledger's own posting rules
in Python (kindcity/domain/ledger.py) before anything is written. Then a single statement with
data-modifying CTEs does it all: the UPDATE that reserves the gap comes first and the inserts read
from its RETURNING, so when the gap is gone (or the reference code is taken) nothing at all is
written and the caller is told to explain the refusal. The row lock lasts from that statement to
COMMIT: two round trips. (The generic path takes seven statements.)

SQLite (and any other database): the rows are inserted first and the conditional UPDATE comes
last, so the lock taken by BEGIN IMMEDIATE is the only one and the UPDATE is the last step.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, bindparam, exists, func, insert, select, update
from sqlalchemy.sql import literal

from ..domain.ledger import Posting
from ..domain.needs import NeedStatus
from ..extensions import db
from ..models import AuditEntry, LedgerLine, LedgerTransaction, Need, Pledge
from ..models.types import UTCDateTime
from . import Actor
from .bulk import is_postgresql

# The pledge's columns written from Python values, in this order.
PLEDGE_COLUMNS = ("reference", "donor_id", "need_id", "kind", "amount", "units", "method", "display", "message",
                  "on_cancel", "status", "hold_expires_at", "paid", "held", "created_at", "flagged")


@lru_cache(maxsize=2)
def _read_statement(with_ids: bool):
    """Built once: constructing it anew costs more than running it."""
    columns = [Need.status, Need.deadline, Need.unit_cost, Need.target, Need.reserved, Need.confirmed]
    if with_ids:
        columns += [func.nextval(func.pg_get_serial_sequence("pledges", "id")).label("pledge_id"),
                    func.nextval(func.pg_get_serial_sequence("ledger_transactions", "id")).label("transaction_id")]
    else:
        columns += [literal(None, Integer).label("pledge_id"), literal(None, Integer).label("transaction_id")]
    return select(*columns).where(Need.id == bindparam("need_id"))


def read_need(need_id: int):
    """The columns the pledge rules need; on PostgreSQL also a fresh pledge id and journal
    transaction id (``pledge_id``, ``transaction_id``), None elsewhere. None if no such need."""
    db.session.flush()  # anything pending goes first: the statements below bypass the ORM
    if is_postgresql():
        row = _run_raw(_read_statement(True), {"need_id": need_id})
        return None if row is None else _NeedRow(*row)
    return db.session.connection().execute(_read_statement(False), {"need_id": need_id}).one_or_none()


@dataclass(frozen=True)
class _NeedRow:
    status: str
    deadline: date
    unit_cost: int | None
    target: int
    reserved: int
    confirmed: int
    pledge_id: int | None
    transaction_id: int | None


@lru_cache(maxsize=8)
def _compiled(statement, dialect) -> tuple[str, dict[str, Any]]:
    """The SQL of a statement built once, and the values SQLAlchemy bound itself (literals such as
    'pledge.create'); the rest come with each call."""
    built = statement.compile(dialect=dialect)
    return built.string, {built.bind_names[bind]: bind.effective_value for bind in built.binds.values() if bind.unique}


def _run_raw(statement, params: dict[str, Any]):
    """Run a statement built once, straight on the driver's cursor, in the session's transaction:
    on the hottest path SQLAlchemy's per-execution bookkeeping costs as much as the database.
    Parameters must be plain driver values (psycopg adapts ints, str, dates, aware datetimes)."""
    sql, fixed = _compiled(statement, db.session.get_bind().dialect)
    cursor = db.session.connection().connection.driver_connection.cursor()
    cursor.execute(sql, {**fixed, **params})
    return cursor.fetchone()


@lru_cache(maxsize=8)
def _statement(line_count: int):
    """WITH held AS (UPDATE needs ... RETURNING), p AS (INSERT pledges SELECT ... FROM held), t AS
    (INSERT ledger_transactions SELECT ... FROM p), lines and audit from t and p; SELECT p.id.
    Built once per number of journal lines; every value is a bound parameter."""
    need, pledges = Need.__table__, Pledge.__table__
    transactions, lines, audit = LedgerTransaction.__table__, LedgerLine.__table__, AuditEntry.__table__
    now = bindparam("now", type_=UTCDateTime())
    held = (update(need)
            .where(need.c.id == bindparam("need_id"), need.c.status == NeedStatus.OPEN.value,
                   need.c.deadline >= bindparam("today"),
                   need.c.target - need.c.reserved - need.c.confirmed >= bindparam("amount", type_=BigInteger),
                   ~exists().where(pledges.c.reference == bindparam("reference")))
            .values(reserved=need.c.reserved + bindparam("amount", type_=BigInteger), updated_at=now)
            .returning(need.c.id).cte("held"))
    pledge_types = {name: pledges.c[name].type for name in PLEDGE_COLUMNS}
    pledge_row = (select(bindparam("pledge_id", type_=Integer),
                         *(bindparam(f"p_{name}", type_=pledge_types[name]) for name in PLEDGE_COLUMNS))
                  .select_from(held))
    pledge = (insert(pledges).from_select(["id", *PLEDGE_COLUMNS], pledge_row)
              .returning(pledges.c.id).cte("p"))
    transaction = (insert(transactions).from_select(
        ["id", "entry", "pledge_id", "need_id", "memo", "actor_id", "created_at"],
        select(bindparam("transaction_id", type_=Integer), bindparam("entry", type_=String), pledge.c.id,
               bindparam("need_id"), bindparam("memo", type_=String), bindparam("actor_id", type_=Integer), now)
        .select_from(pledge)).returning(transactions.c.id).cte("t"))
    line_rows = [select(transaction.c.id, bindparam(f"account_{n}", type_=String),
                        bindparam(f"amount_{n}", type_=BigInteger)).select_from(transaction)
                 for n in range(line_count)]
    line_rows_union = line_rows[0].union_all(*line_rows[1:]) if line_count > 1 else line_rows[0]
    journal_lines = insert(lines).from_select(["transaction_id", "account", "amount"], line_rows_union).cte("l")
    audit_entry = insert(audit).from_select(
        ["actor_id", "address", "action", "entity", "entity_id", "before", "after", "at"],
        select(bindparam("actor_id", type_=Integer), bindparam("address", type_=String),
               literal("pledge.create", String), literal("pledge", String), pledge.c.id,
               literal(None, JSON), bindparam("after", type_=JSON), now).select_from(pledge)).cte("a")
    return select(pledge.c.id).add_cte(journal_lines, audit_entry)


def write_single_statement(values: dict[str, Any], *, pledge_id: int, transaction_id: int, posting: Posting,
                           actor: Actor, after: dict[str, Any], now: datetime, today: date) -> bool:
    """PostgreSQL: reserve and write in one statement. False if the need refused (nothing written)."""
    params: dict[str, Any] = {f"p_{name}": values[name] for name in PLEDGE_COLUMNS}
    params.update(need_id=values["need_id"], amount=values["amount"], reference=values["reference"],
                  today=today, now=now, pledge_id=pledge_id, transaction_id=transaction_id,
                  entry=posting.entry.value, memo=posting.memo, actor_id=actor.user_id, address=actor.address,
                  after=after)
    for n, line in enumerate(posting.lines):
        params[f"account_{n}"], params[f"amount_{n}"] = line.account, line.amount
    params["after"] = json.dumps(after)
    return _run_raw(_statement(len(posting.lines)), params) is not None


def explain_refusal(need_id: int, reference: str, today: date) -> tuple[bool, int, bool]:
    """After a refused reservation: (whether the need is still open, its gap now, whether the code
    was taken)."""
    status, deadline, gap = db.session.execute(
        select(Need.status, Need.deadline, Need.target - Need.reserved - Need.confirmed)
        .where(Need.id == need_id)).one()
    taken = db.session.scalar(select(exists().where(Pledge.reference == reference)))
    return status == NeedStatus.OPEN and deadline >= today, int(gap), bool(taken)
