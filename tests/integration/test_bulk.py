"""Bulk writes (statement imports): COPY on PostgreSQL, executemany elsewhere, land rows exactly as
an INSERT through SQLAlchemy would, defaults and awkward text included. Runs on both databases."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from kindcity.extensions import db
from kindcity.models import LedgerLine, LedgerTransaction, Need, StatementImport
from kindcity.services import bulk
from tests import factories as f

AWKWARD = "tab\there, new\nline, back\\slash, \\N, 한글 메모, carriage\rreturn"


def test_rows_with_ids_from_the_sequence_defaults_and_awkward_text_round_trip(session):
    before = session.scalar(select(db.func.max(LedgerTransaction.id))) or 0
    ids = bulk.allocate_ids(LedgerTransaction.__table__, 3)
    if ids is None:  # no sequence (SQLite): the journal's generic writer takes ids from RETURNING
        assert session.get_bind().dialect.name != "postgresql"
        ids = [before + 1, before + 2, before + 3]
    assert len(set(ids)) == 3 and min(ids) > before
    at = datetime(2026, 11, 30, 1, 2, 3, tzinfo=timezone.utc)
    bulk.insert_rows(LedgerTransaction.__table__, [
        {"id": i, "entry": "received", "pledge_id": None, "need_id": None, "memo": AWKWARD if n == 0 else "",
         "actor_id": None, "created_at": at} for n, i in enumerate(ids)])
    bulk.insert_rows(LedgerLine.__table__, [  # as tuples in the order of the columns named
        (i, account, amount) for i in ids for account, amount in (("cash", 5_000), (f"pledge:{i}", -5_000))],
        columns=("transaction_id", "account", "amount"))
    session.expire_all()
    written = session.scalars(select(LedgerTransaction).where(LedgerTransaction.id.in_(ids))
                              .order_by(LedgerTransaction.id)).all()
    assert [t.id for t in written] == sorted(ids)
    assert written[0].memo == AWKWARD and written[0].created_at == at
    assert [(line.account, line.amount) for line in written[1].lines] == [("cash", 5_000),
                                                                         (f"pledge:{written[1].id}", -5_000)]


def test_update_rows_sets_only_the_fields_named(session):
    needs = [f.need(target=1_000_000), f.need(target=2_000_000)]
    session.flush()
    bulk.update_rows(Need.__table__, [{"id": needs[0].id, "reserved": 30_000, "confirmed": 40_000},
                                      {"id": needs[1].id, "reserved": 0, "confirmed": 70_000}],
                     fields=("reserved", "confirmed"))
    session.expire_all()
    assert [(n.target, n.reserved, n.confirmed) for n in needs] == [(1_000_000, 30_000, 40_000),
                                                                   (2_000_000, 0, 70_000)]


def test_among_matches_many_values_in_one_piece_on_postgresql(session):
    needs = [f.need(target=1_000_000 + n) for n in range(3)]
    session.flush()
    wanted = [needs[0].id, needs[2].id, 10**9]
    pieces = bulk.chunks(wanted * 400)  # 1,200 values
    assert len(pieces) == (1 if session.get_bind().dialect.name == "postgresql" else 2)
    found = set()
    for piece in pieces:
        found |= set(session.scalars(select(Need.id).where(bulk.among(Need.id, piece))))
    assert found == {needs[0].id, needs[2].id}


def test_update_rows_stamps_columns_that_change_on_update(session):
    """Needs' updated_at moves with a bulk write back, as with an ORM update: public pages' data
    version follows it."""
    need = f.need(target=1_000_000)
    session.flush()
    session.execute(Need.__table__.update().where(Need.id == need.id)
                    .values(updated_at=datetime(2020, 1, 1, tzinfo=timezone.utc)))
    bulk.update_rows(Need.__table__, [{"id": need.id, "reserved": 10_000}], fields=("reserved",))
    session.expire_all()
    assert need.reserved == 10_000 and need.updated_at > datetime(2025, 1, 1, tzinfo=timezone.utc)


def test_binary_copy_only_for_columns_with_a_plain_binary_form():
    assert bulk._binary_copy_types(LedgerTransaction.__table__, ["id", "entry", "created_at", "memo"]) == [
        "int4", "varchar", "timestamptz", "text"]
    assert bulk._binary_copy_types(LedgerLine.__table__, ["amount"]) == ["int8"]
    # JSON (a statement's previewed rows) has no plain binary form here: such tables are copied as text
    assert bulk._binary_copy_types(StatementImport.__table__, ["filename", "rows"]) is None


def test_a_table_copied_as_text_keeps_json_and_fills_defaults(session):
    staff = f.user("staff")
    session.flush()
    rows = [{"memo": AWKWARD, "amount": 20_000}]
    bulk.insert_rows(StatementImport.__table__, [
        {"filename": f"statement-{n}.csv", "encoding": "cp949", "uploaded_by_id": staff.id, "rows": rows}
        for n in range(2)])
    session.expire_all()
    written = session.scalars(select(StatementImport).where(StatementImport.uploaded_by_id == staff.id)
                              .order_by(StatementImport.filename)).all()
    assert [s.filename for s in written] == ["statement-0.csv", "statement-1.csv"]
    assert all(s.rows == rows and s.uploaded_at is not None and s.uploaded_at.tzinfo for s in written)


def test_copy_fills_the_defaults_sqlalchemy_would_and_refuses_one_only_the_database_computes():
    from sqlalchemy import Column, Integer, MetaData, String, Table, func
    from sqlalchemy.dialects import postgresql

    from kindcity.models import Payment

    dialect = postgresql.dialect()
    given = ["pledge_id", "amount", "source", "external_id", "received_at", "recorded_by_id", "note"]
    filled = bulk._defaults(Payment.__table__, given, dialect)
    assert list(filled) == ["recorded_at"]  # not the id (the sequence's), not the note (given)
    assert filled["recorded_at"](None).tzinfo is not None
    assert bulk._defaults(Payment.__table__, [n for n in given if n != "note"], dialect)["note"](None) == ""
    table = Table("copied", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(10)),
                  Column("stamp", Integer, default=func.random()))
    try:
        bulk._defaults(table, ["name"], dialect)
    except ValueError as refused:
        assert "copied: COPY cannot compute the default of stamp" in str(refused)
    else:
        raise AssertionError("a SQL default was left out of the COPY")
