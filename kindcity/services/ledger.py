"""Reading balances from the journal. Balances are always sums; lines are written by the journal's
one writer (kindcity/services/journal/)."""
from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import LedgerLine, LedgerTransaction


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


def placed_on_need_by_pledge(need_id: int):
    """A subquery (pledge_id, placed): what each pledge has on this need now, placed minus taken back,
    from the journal. Pages that name a need's givers join it to the pledges."""
    from ..domain.ledger import need_account

    return (select(LedgerTransaction.pledge_id, (-func.sum(LedgerLine.amount)).label("placed"))
            .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
            .where(LedgerLine.account == need_account(need_id), LedgerTransaction.pledge_id.is_not(None))
            .group_by(LedgerTransaction.pledge_id).subquery())


def lines_for(*, pledge_id: int | None = None, need_id: int | None = None) -> list[LedgerTransaction]:
    query = select(LedgerTransaction).order_by(LedgerTransaction.id)
    if pledge_id is not None:
        query = query.where(LedgerTransaction.pledge_id == pledge_id)
    if need_id is not None:
        query = query.where(LedgerTransaction.need_id == need_id)
    return list(db.session.scalars(query).all())


def cash_by_memo(entry, prefix: str) -> dict[str, int]:
    """Cash moved by each ``entry`` (a domain.ledger.Entry) transaction whose memo starts with
    ``prefix`` (a provider's ``source:``), by memo: what reconciliation compares with the provider."""
    from ..domain.ledger import CASH

    rows = db.session.execute(
        select(LedgerTransaction.memo, func.sum(LedgerLine.amount))
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.entry == entry.value, LedgerLine.account == CASH,
               LedgerTransaction.memo.startswith(prefix, autoescape=True))
        .group_by(LedgerTransaction.memo))
    return {memo: abs(int(total)) for memo, total in rows}
