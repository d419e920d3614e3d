"""The journal writer for any database (SQLite in development and tests): ordinary INSERTs.

PostgreSQL's writer (postgresql.py) extends it with faster forms of the same writes.

A new pledge: the rows are inserted first and the conditional UPDATE of the need comes last, so
the lock SQLite takes at BEGIN IMMEDIATE (kindcity/db_setup.py) is the only one and the
reservation is the transaction's last step.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Callable

from sqlalchemy import bindparam, insert, select, update

from ...domain.ledger import Posting, check_balanced
from ...domain.needs import NeedStatus
from ...extensions import db
from ...models import LedgerLine, LedgerTransaction, Need, Pledge
from .. import Actor, bulk
from ..audit import record_now


@dataclass(frozen=True)
class NeedReading:
    """The columns of a need the pledge rules decide on; ``drawn`` is the writer's own (PostgreSQL:
    the pledge's and its journal transaction's ids, drawn in the same round trip)."""
    status: str
    deadline: date
    unit_cost: int | None
    target: int
    reserved: int
    confirmed: int
    drawn: Any = None


@dataclass(frozen=True)
class NewPledge:
    values: dict[str, Any]             # the pledge's columns; ``reference`` is the first code tried
    posting: Callable[[int], Posting]  # the ledger rules' posting of it, given the pledge's id
    audit: dict[str, Any]              # the audit entry's ``after``


@dataclass(frozen=True)
class Written:
    pledge_id: int
    reference: str


@dataclass(frozen=True)
class Refused:
    """The reservation was refused: the need is no longer open, or its gap is smaller than the pledge."""
    still_open: bool
    gap: int


@lru_cache(maxsize=1)
def _read_statement():
    """Built once: constructing it anew costs more than running it."""
    return select(Need.status, Need.deadline, Need.unit_cost, Need.target, Need.reserved, Need.confirmed) \
        .where(Need.id == bindparam("need_id"))


class GenericWriter:
    def post(self, posting: Posting, actor: Actor | None) -> LedgerTransaction:
        check_balanced(posting.lines)
        transaction = LedgerTransaction(entry=posting.entry.value, pledge_id=posting.pledge_id,
                                        need_id=posting.need_id, memo=posting.memo,
                                        actor_id=actor.user_id if actor else None)
        # Lines hang off the transaction, so many postings go to the database in one flush.
        transaction.lines = [LedgerLine(account=line.account, amount=line.amount) for line in posting.lines]
        db.session.add(transaction)
        return transaction

    def read_need(self, need_id: int) -> NeedReading | None:
        db.session.flush()  # anything pending goes first: the statements that follow bypass the ORM
        row = db.session.connection().execute(_read_statement(), {"need_id": need_id}).one_or_none()
        return None if row is None else NeedReading(*row)

    def write_pledge(self, actor: Actor, need: NeedReading, pledge: NewPledge, *, now: datetime, today: date,
                     draw_reference) -> Written | Refused:
        values = dict(pledge.values)
        values["reference"] = _free_reference(values["reference"], draw_reference)
        pledge_id = db.session.execute(insert(Pledge).values(**values).returning(Pledge.id)).scalar_one()
        self._post_now(pledge.posting(pledge_id), actor, now)
        record_now(actor, "pledge.create", "pledge", pledge_id, after=pledge.audit, at=now)
        # Last, so the need's row lock is held only from here to the commit: everything else is written.
        # If refused, the caller rolls back, as on any refusal; nothing of this pledge is then kept.
        refused = _reserve_gap(values["need_id"], values["amount"])
        if refused is not None:
            return refused
        _forget_need(values["need_id"])
        return Written(pledge_id, values["reference"])

    def write_batch(self, postings: list[Posting], actor: Actor | None, at: datetime) -> None:
        """The transactions by batched INSERTs (their ids come back), then all their lines."""
        # RETURNING makes SQLAlchemy send multi-row VALUES batches instead of one INSERT per row.
        returning = insert(LedgerTransaction).returning(LedgerTransaction.id, sort_by_parameter_order=True)
        ids = db.session.scalars(returning, _transaction_rows(postings, actor, at)).all()
        _insert_lines(ids, postings)

    @staticmethod
    def _post_now(posting: Posting, actor: Actor | None, at: datetime) -> int:
        """A posting written at once with two statements and no ORM objects."""
        check_balanced(posting.lines)
        transaction_id = db.session.execute(insert(LedgerTransaction).values(
            entry=posting.entry.value, pledge_id=posting.pledge_id, need_id=posting.need_id, memo=posting.memo,
            actor_id=actor.user_id if actor else None, created_at=at).returning(LedgerTransaction.id)).scalar_one()
        db.session.execute(insert(LedgerLine), [
            {"transaction_id": transaction_id, "account": line.account, "amount": line.amount}
            for line in posting.lines])
        return transaction_id


def _transaction_rows(postings: list[Posting], actor: Actor | None, at: datetime) -> list[dict[str, Any]]:
    actor_id = actor.user_id if actor else None
    return [{"entry": p.entry.value, "pledge_id": p.pledge_id, "need_id": p.need_id, "memo": p.memo,
             "actor_id": actor_id, "created_at": at} for p in postings]


def _insert_lines(transaction_ids: list[int], postings: list[Posting]) -> None:
    """Every posting's lines, as tuples (cheaper for the tens of thousands of a large import)."""
    bulk.insert_rows(LedgerLine.__table__, [
        (transaction_id, account, amount) for transaction_id, posting in zip(transaction_ids, postings)
        for account, amount in posting.lines], columns=("transaction_id", "account", "amount"))


def _free_reference(code: str, draw_reference) -> str:
    for _ in range(10):
        if db.session.scalar(select(Pledge.id).where(Pledge.reference == code)) is None:
            return code
        code = draw_reference()
    raise RuntimeError("could not find a free reference code")


def _reserve_gap(need_id: int, amount: int) -> Refused | None:
    """The single atomic step of invariant 1: reserve only if the gap still allows it.

    One conditional UPDATE: the database checks the gap and adds the hold in the same statement,
    so two donors taking the last 100,000원 at once cannot both succeed (the second sees the first's
    row after its lock is released, and the WHERE no longer matches).
    """
    db.session.flush()  # pending rows go first, so the lock below is the transaction's last step
    result = db.session.execute(
        update(Need)
        .where(Need.id == need_id, Need.status == NeedStatus.OPEN,
               Need.target - Need.reserved - Need.confirmed >= amount)
        .values(reserved=Need.reserved + amount)
        .execution_options(synchronize_session=False))
    if result.rowcount == 1:
        return None
    status, gap = db.session.execute(select(Need.status, Need.target - Need.reserved - Need.confirmed)
                                     .where(Need.id == need_id)).one()
    return Refused(still_open=status == NeedStatus.OPEN, gap=int(gap))


def _forget_need(need_id: int) -> None:
    """The need's row changed behind the ORM's back: a copy the session holds reads it afresh."""
    need = db.session.identity_map.get(db.session.identity_key(Need, need_id))
    if need is not None:
        db.session.expire(need, ["reserved", "updated_at"])
