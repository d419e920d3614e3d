"""Pledges, payments, refunds, imported bank rows, and the append-only double-entry journal."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (JSON, DDL, BigInteger, CheckConstraint, ForeignKey, Index, String, Text,
                        UniqueConstraint, event, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.pledges import PledgeStatus
from ..domain.time import utcnow
from ..extensions import db
from .accounts import User
from .needs import Need
from .types import UTCDateTime

_PLEDGE_STATUSES = ",".join(f"'{s.value}'" for s in PledgeStatus)


_FUND_AWAITING = "kind IN ('pooled', 'match') AND status IN ('awaiting_payment', 'partly_paid')"


class Pledge(db.Model):
    __tablename__ = "pledges"
    __table_args__ = (
        CheckConstraint(f"status IN ({_PLEDGE_STATUSES})", name="status"),
        CheckConstraint("kind IN ('direct','pooled','match')", name="kind"),
        CheckConstraint("method IN ('bank','card','portone')", name="method"),
        CheckConstraint("display IN ('name','organisation','anonymous')", name="display"),
        CheckConstraint("on_cancel IN ('refund','pool','similar')", name="on_cancel"),
        CheckConstraint("amount >= 1000", name="amount_minimum"),
        CheckConstraint("paid >= 0 AND held >= 0 AND held <= amount", name="money_bounds"),
        Index("ix_pledges_status_hold", "status", "hold_expires_at"),
        Index("ix_pledges_donor_created", "donor_id", "created_at", "id"),  # /me/ newest first, the CSV
        Index("ix_pledges_need_status", "need_id", "status"),
        Index("ix_pledges_on_cancel_status", "on_cancel", "status"),  # money to move to a similar need
        # The soonest hold to expire is part of every public page's upkeep horizon (web/caching.py):
        # one index entry, where (status, hold_expires_at) walks every unpaid pledge for two statuses.
        Index("ix_pledges_holding_expiry", "hold_expires_at",
              postgresql_where=text("status IN ('awaiting_payment', 'partly_paid')"),
              sqlite_where=text("status IN ('awaiting_payment', 'partly_paid')")),
        # `reconcile --since` finds the pledges made since a day.
        Index("ix_pledges_created_at", "created_at"),
        # /staff/matching: the pooled funds' and offers' pledges awaiting a transfer, oldest first.
        Index("ix_pledges_fund_awaiting", "created_at",
              postgresql_where=text(_FUND_AWAITING), sqlite_where=text(_FUND_AWAITING)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    donor: Mapped[User] = relationship()
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id"))
    need: Mapped[Need | None] = relationship()
    kind: Mapped[str] = mapped_column(String(10), default="direct")
    amount: Mapped[int] = mapped_column(BigInteger)
    units: Mapped[int | None] = mapped_column()
    method: Mapped[str] = mapped_column(String(10), default="bank")
    display: Mapped[str] = mapped_column(String(15), default="anonymous")
    message: Mapped[str] = mapped_column(String(300), default="")
    on_cancel: Mapped[str] = mapped_column(String(10), default="refund")
    status: Mapped[str] = mapped_column(String(20), default=PledgeStatus.AWAITING_PAYMENT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Caches of the journal (kindcity reconcile proves they agree): money received, and the part
    # of the need's gap this pledge still reserves while unpaid.
    paid: Mapped[int] = mapped_column(BigInteger, default=0)
    held: Mapped[int] = mapped_column(BigInteger, default=0)
    flagged: Mapped[str | None] = mapped_column(String(200))
    # The card checkout started for this pledge (one per pledge: its idempotency key is fixed).
    checkout_session_id: Mapped[str | None] = mapped_column(String(128), unique=True)

    @property
    def owed(self) -> int:
        return max(0, self.amount - self.paid)


class Payment(db.Model):
    """Money that arrived. (source, external_id) is unique, so one bank row or card charge is
    recorded once however often it is reported."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_payments_source_external_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("source IN ('manual','statement','stripe','demo','portone','demo_kr')", name="source"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), index=True)
    pledge: Mapped[Pledge] = relationship(backref="payments")
    amount: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(12))
    external_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(300), default="")
    # The bank statement line that shows this money arrived: set on import, or when a transfer that
    # staff confirmed by hand is later seen on a statement (so it is never counted twice).
    bank_fingerprint: Mapped[str | None] = mapped_column(String(64), unique=True)


class Refund(db.Model):
    """Money owed back to a donor ('due') and, once sent, how it went back ('done')."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('due','pending','done')", name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), index=True)
    pledge: Mapped[Pledge] = relationship(backref="refunds")
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="due")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Why the card provider could not send it back; such a refund stays 'due' for staff to pay by bank.
    failure: Mapped[str | None] = mapped_column(String(200))


class BankTransaction(db.Model):
    """A deposit line from an imported bank statement, remembered by its fingerprint."""

    __tablename__ = "bank_transactions"
    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    amount: Mapped[int] = mapped_column(BigInteger)
    memo: Mapped[str] = mapped_column(String(300))
    reference: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(15))
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("statement_imports.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StatementImport(db.Model):
    """An uploaded statement: previewed first, applied when staff confirm."""

    __tablename__ = "statement_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    encoding: Mapped[str] = mapped_column(String(20))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class LedgerTransaction(db.Model):
    __tablename__ = "ledger_transactions"
    __table_args__ = (
        # A pledge's transactions, their ids in the index: /me/impact joins a donor's 1,000 pledges to
        # their journal lines without reading this table (PostgreSQL scanned all of it otherwise).
        Index("ix_ledger_transactions_pledge_id_id", "pledge_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    entry: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"))
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    memo: Mapped[str] = mapped_column(Text, default="")
    lines: Mapped[list["LedgerLine"]] = relationship(back_populates="transaction", order_by="LedgerLine.id")


class LedgerLine(db.Model):
    __tablename__ = "ledger_lines"
    __table_args__ = (
        CheckConstraint("amount != 0", name="amount_not_zero"),
        Index("ix_ledger_lines_account", "account"),
        # A transaction's lines with what they say: a donor's journal (/me/impact) from the index alone.
        Index("ix_ledger_lines_transaction_account_amount", "transaction_id", "account", "amount"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    transaction: Mapped[LedgerTransaction] = relationship(back_populates="lines")
    account: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)


# Append-only, enforced by the database itself: no UPDATE or DELETE ever reaches journal rows.
APPEND_ONLY_TABLES = ("ledger_transactions", "ledger_lines")


def append_only_ddl(table: str) -> tuple[DDL, DDL, DDL]:
    sqlite = DDL(
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN "
        f"SELECT RAISE(ABORT, 'the ledger is append-only'); END;"
        f"\nCREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN "
        f"SELECT RAISE(ABORT, 'the ledger is append-only'); END;"
    )
    pg_function = DDL(
        "CREATE OR REPLACE FUNCTION kindcity_append_only() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'the ledger is append-only'; END; $$ LANGUAGE plpgsql"
    )
    pg_trigger = DDL(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION kindcity_append_only()"
    )
    return sqlite, pg_function, pg_trigger


def _split_sqlite(ddl: DDL):
    return [DDL(statement) for statement in ddl.statement.split("\n")]


for _table in (LedgerTransaction.__table__, LedgerLine.__table__):
    _sqlite, _function, _trigger = append_only_ddl(_table.name)
    for _statement in _split_sqlite(_sqlite):
        event.listen(_table, "after_create", _statement.execute_if(dialect="sqlite"))
    event.listen(_table, "after_create", _function.execute_if(dialect="postgresql"))
    event.listen(_table, "after_create", _trigger.execute_if(dialect="postgresql"))
