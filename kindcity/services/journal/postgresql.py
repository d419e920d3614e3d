"""The journal writer for PostgreSQL: a new pledge in one statement, a batch of postings by COPY.

A pledge is five rows (the pledge, its journal transaction and two lines, an audit entry) and one
conditional UPDATE of the need that reserves the gap (invariant 1). The pledge's and the journal
transaction's ids are drawn from their sequences when the need is read (``read_need``), so the
journal lines are built by the ledger's own posting rules in Python before anything is written.
Then a single statement with data-modifying CTEs does it all: the UPDATE that reserves the gap
comes first and the inserts read from its RETURNING, so when the gap is gone (or the reference
code is taken) nothing at all is written and the caller is told why. The need's row lock lasts
from that statement to COMMIT: two round trips (the generic path takes seven statements).

A batch: the transactions' ids come from their sequence, then both tables are filled by COPY
(kindcity/services/bulk.py), so nothing needs RETURNING.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, bindparam, exists, func, insert, select, update
from sqlalchemy.sql import literal

from ...domain.ledger import Posting
from ...domain.needs import NeedStatus
from ...extensions import db
from ...models import AuditEntry, LedgerLine, LedgerTransaction, Need, Pledge
from ...models.types import UTCDateTime
from .. import Actor, bulk
from .generic import GenericWriter, NeedReading, NewPledge, Refused, Written, _forget_need, _insert_lines, \
    _transaction_rows

# The pledge's columns written from Python values, in this order.
PLEDGE_COLUMNS = ("reference", "donor_id", "need_id", "kind", "amount", "units", "method", "display", "message",
                  "on_cancel", "status", "hold_expires_at", "paid", "held", "created_at", "flagged")


class PostgreSQLWriter(GenericWriter):
    def read_need(self, need_id: int) -> NeedReading | None:
        """The need's columns, and a fresh pledge id and journal transaction id (``drawn``)."""
        db.session.flush()  # anything pending goes first: the statements that follow bypass the ORM
        row = _run_raw(_read_statement(), {"need_id": need_id})
        return None if row is None else NeedReading(*row[:6], drawn=row[6:])

    def write_pledge(self, actor: Actor, need: NeedReading, pledge: NewPledge, *, now: datetime, today: date,
                     draw_reference) -> Written | Refused:
        pledge_id, transaction_id = need.drawn
        posting = pledge.posting(pledge_id)
        values = dict(pledge.values)
        for _ in range(10):
            if _write_single_statement(values, pledge_id=pledge_id, transaction_id=transaction_id, posting=posting,
                                       actor=actor, after=pledge.audit, now=now, today=today):
                _forget_need(values["need_id"])
                return Written(pledge_id, values["reference"])
            still_open, gap, taken = _explain_refusal(values["need_id"], values["reference"], today)
            if not taken:
                return Refused(still_open=still_open, gap=gap)
            values["reference"] = draw_reference()  # that code was just given to someone else: another
        raise RuntimeError("could not find a free reference code")

    def write_batch(self, postings: list[Posting], actor: Actor | None, at: datetime) -> None:
        rows = _transaction_rows(postings, actor, at)
        ids = bulk.allocate_ids(LedgerTransaction.__table__, len(rows))
        bulk.insert_rows(LedgerTransaction.__table__, [{"id": i, **row} for i, row in zip(ids, rows)])
        _insert_lines(ids, postings)


@lru_cache(maxsize=1)
def _read_statement():
    """Built once: constructing it anew costs more than running it."""
    return select(Need.status, Need.deadline, Need.unit_cost, Need.target, Need.reserved, Need.confirmed,
                  func.nextval(func.pg_get_serial_sequence("pledges", "id")).label("pledge_id"),
                  func.nextval(func.pg_get_serial_sequence("ledger_transactions", "id")).label("transaction_id")) \
        .where(Need.id == bindparam("need_id"))


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


def _write_single_statement(values: dict[str, Any], *, pledge_id: int, transaction_id: int, posting: Posting,
                            actor: Actor, after: dict[str, Any], now: datetime, today: date) -> bool:
    """Reserve and write in one statement. False if the need refused (nothing written)."""
    params: dict[str, Any] = {f"p_{name}": values[name] for name in PLEDGE_COLUMNS}
    params.update(need_id=values["need_id"], amount=values["amount"], reference=values["reference"],
                  today=today, now=now, pledge_id=pledge_id, transaction_id=transaction_id,
                  entry=posting.entry.value, memo=posting.memo, actor_id=actor.user_id, address=actor.address)
    for n, line in enumerate(posting.lines):
        params[f"account_{n}"], params[f"amount_{n}"] = line.account, line.amount
    params["after"] = json.dumps(after)
    return _run_raw(_statement(len(posting.lines)), params) is not None


def _explain_refusal(need_id: int, reference: str, today: date) -> tuple[bool, int, bool]:
    """After a refused reservation: (whether the need is still open, its gap now, whether the code
    was taken)."""
    status, deadline, gap = db.session.execute(
        select(Need.status, Need.deadline, Need.target - Need.reserved - Need.confirmed)
        .where(Need.id == need_id)).one()
    taken = db.session.scalar(select(exists().where(Pledge.reference == reference)))
    return status == NeedStatus.OPEN and deadline >= today, int(gap), bool(taken)
