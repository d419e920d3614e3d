"""Writing the journal (append-only) and reading balances from it. Balances are always sums."""
from __future__ import annotations

from sqlalchemy import func, insert, select

from ..domain.ledger import Posting, check_balanced
from ..extensions import db
from ..models import LedgerLine, LedgerTransaction
from . import Actor, bulk


def post(posting: Posting, actor: Actor | None = None) -> LedgerTransaction:
    check_balanced(posting.lines)
    transaction = LedgerTransaction(entry=posting.entry.value, pledge_id=posting.pledge_id,
                                    need_id=posting.need_id, memo=posting.memo,
                                    actor_id=actor.user_id if actor else None)
    # Lines hang off the transaction, so many postings go to the database in one flush.
    transaction.lines = [LedgerLine(account=line.account, amount=line.amount) for line in posting.lines]
    db.session.add(transaction)
    return transaction


def post_now(posting: Posting, actor: Actor | None, at) -> int:
    """The same posting written at once with two statements and no ORM objects (hot paths)."""
    check_balanced(posting.lines)
    transaction_id = db.session.execute(insert(LedgerTransaction).values(
        entry=posting.entry.value, pledge_id=posting.pledge_id, need_id=posting.need_id, memo=posting.memo,
        actor_id=actor.user_id if actor else None, created_at=at).returning(LedgerTransaction.id)).scalar_one()
    db.session.execute(insert(LedgerLine), [
        {"transaction_id": transaction_id, "account": line.account, "amount": line.amount} for line in posting.lines])
    return transaction_id


def post_many(postings, actor: Actor | None, at) -> None:
    """Many postings at once (bulk imports): the transactions, then all their lines. On PostgreSQL
    the transactions' ids come from their sequence and both tables are filled by COPY
    (kindcity/services/bulk.py); elsewhere by batched INSERTs."""
    rows = [{"entry": p.entry.value, "pledge_id": p.pledge_id, "need_id": p.need_id, "memo": p.memo,
             "actor_id": actor.user_id if actor else None, "created_at": at} for p in postings]
    ids = bulk.allocate_ids(LedgerTransaction.__table__, len(rows))
    if ids is not None:
        bulk.insert_rows(LedgerTransaction.__table__, [{"id": i, **row} for i, row in zip(ids, rows)])
    else:
        # RETURNING makes SQLAlchemy send multi-row VALUES batches instead of one INSERT per row.
        ids = db.session.scalars(insert(LedgerTransaction).returning(LedgerTransaction.id,
                                                                     sort_by_parameter_order=True), rows).all()
    bulk.insert_rows(LedgerLine.__table__, [
        (transaction_id, account, amount) for transaction_id, posting in zip(ids, postings)
        for account, amount in posting.lines], columns=("transaction_id", "account", "amount"))


def balance(account: str) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerLine.amount), 0))
                                 .where(LedgerLine.account == account)))


def balances(prefix: str) -> dict[str, int]:
    """Every account starting with ``prefix`` (e.g. 'need:') and its balance."""
    rows = db.session.execute(select(LedgerLine.account, func.sum(LedgerLine.amount))
                              .where(LedgerLine.account.startswith(prefix, autoescape=True))
                              .group_by(LedgerLine.account)).all()
    return {account: int(total) for account, total in rows}


def entry_totals_by_pledge(entry: str, account_prefix: str) -> dict[int, int]:
    """Sum of lines on accounts with ``account_prefix`` for transactions of one entry kind, per pledge."""
    rows = db.session.execute(
        select(LedgerTransaction.pledge_id, func.sum(LedgerLine.amount))
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.entry == entry, LedgerLine.account.startswith(account_prefix, autoescape=True))
        .group_by(LedgerTransaction.pledge_id)).all()
    return {pledge_id: int(total) for pledge_id, total in rows if pledge_id is not None}


def placed_by_pledge_on_need(pledge_id: int, need_id: int) -> int:
    """What this pledge currently has on this need (credits minus debits on need:<id> by its transactions)."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(LedgerLine.amount), 0))
        .join(LedgerTransaction, LedgerLine.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.pledge_id == pledge_id, LedgerLine.account == f"need:{need_id}"))
    return -int(total)


def lines_for(*, pledge_id: int | None = None, need_id: int | None = None) -> list[LedgerTransaction]:
    query = select(LedgerTransaction).order_by(LedgerTransaction.id)
    if pledge_id is not None:
        query = query.where(LedgerTransaction.pledge_id == pledge_id)
    if need_id is not None:
        query = query.where(LedgerTransaction.need_id == need_id)
    return list(db.session.scalars(query).all())
