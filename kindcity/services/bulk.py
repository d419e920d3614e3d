"""Writing thousands of rows at once (bank statement imports): COPY on PostgreSQL, executemany elsewhere.

A 10,000-row statement writes ~10,000 payments, bank rows and journal transactions and ~40,000
journal lines. As INSERT ... VALUES batches, PostgreSQL's driver spends most of the time parsing the
huge statements; COPY streams the rows instead. COPY knows nothing of SQLAlchemy's Python-side
defaults and types, so ``insert_rows`` asks SQLAlchemy's compiler which defaults an INSERT would fill
(taken from the table's metadata, ``_defaults``) and applies each column's bind processing (UTC
timestamps, JSON): the rows land exactly as an INSERT through SQLAlchemy would write them.

Rows that others must point at (journal transactions, whose lines carry their id) get their ids
from the table's sequence first (``allocate_ids``), so nothing needs RETURNING.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import (ARRAY, BigInteger, Boolean, DateTime, Integer, SmallInteger, String, Table, Text, any_,
                        bindparam, cast, func, insert, select, text)
from sqlalchemy.types import TypeDecorator

from ..extensions import db


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


_SQLITE_CHUNK = 900  # stay under SQLite's bound-parameter limit


def chunks(values) -> list[list]:
    """``values`` in pieces small enough for one ``among`` each: all at once on PostgreSQL."""
    values = list(values)
    if is_postgresql():
        return [values] if values else []
    return [values[start:start + _SQLITE_CHUNK] for start in range(0, len(values), _SQLITE_CHUNK)]


def among(column, values: list):
    """``column IN values``; on PostgreSQL ``column = ANY(:array)``, one parameter however many
    values (the driver parses no statement with thousands of placeholders)."""
    if is_postgresql():
        if isinstance(column.type, Integer):
            # Whole numbers as one text parameter split by the server: the driver adapts a list of
            # 1,000 ints one by one (3-6 ms), the joined text in microseconds (a donor's 950 needs).
            joined = ",".join(str(int(value)) for value in values)
            return column == any_(cast(func.string_to_array(bindparam(None, joined, type_=Text), ","),
                                       ARRAY(column.type)))
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def allocate_ids(table: Table, count: int) -> list[int] | None:
    """``count`` fresh ids from the table's sequence (PostgreSQL), or None where there is none."""
    if count == 0:
        return []
    if not is_postgresql():
        return None
    sequence = func.nextval(func.pg_get_serial_sequence(table.name, "id"))
    return list(db.session.connection().scalars(select(sequence).select_from(func.generate_series(1, count))))


def _defaults(table: Table, present: list[str], dialect) -> dict[str, Any]:
    """The Python-side defaults of the columns a row leaves out, single-sourced from SQLAlchemy: its
    compiler names the columns it would fill for an INSERT of ``present`` (the statement's prefetch
    list), and each column's own default (the table's metadata) gives a callable to call per row.
    A default only the database can compute (a SQL expression, a sequence) cannot go through COPY:
    refused, rather than silently left out."""
    filled: dict[str, Any] = {}
    for column in insert(table).compile(dialect=dialect, column_keys=present).insert_prefetch:
        default = column.default
        if default.is_callable:  # SQLAlchemy's wrapper: takes the execution context (none here)
            filled[column.name] = default.arg
        elif default.is_scalar:
            filled[column.name] = (lambda value: lambda _context: value)(default.arg)
    computed_by_sql = [column.name for column in table.columns if column.default is not None
                       and column.name not in filled and column.name not in present]
    if computed_by_sql:  # SQLAlchemy renders these into the INSERT itself (a SQL expression, a sequence)
        raise ValueError(f"{table.name}: COPY cannot compute the default of {', '.join(computed_by_sql)}")
    return filled


# SQLAlchemy type -> PostgreSQL's name for it, for the column types COPY may send in binary form
# (nothing to print as text and parse back). Subclasses before their bases: BigInteger is an Integer.
_BINARY_COPY_TYPES = ((BigInteger, "int8"), (SmallInteger, "int2"), (Integer, "int4"), (Text, "text"),
                      (String, "varchar"), (Boolean, "bool"))


def _binary_copy_types(table: Table, names: list[str]) -> list[str] | None:
    """The PostgreSQL type of each column for a binary COPY, or None if any column is of a type
    without a plain binary form here (JSON, enums...): those tables are copied as text."""
    found = []
    for name in names:
        kind = table.c[name].type
        if isinstance(kind, TypeDecorator):
            kind = kind.impl_instance
        if isinstance(kind, DateTime):
            found.append("timestamptz" if kind.timezone else "timestamp")
            continue
        pg = next((pg for sa_type, pg in _BINARY_COPY_TYPES if isinstance(kind, sa_type)), None)
        if pg is None:
            return None
        found.append(pg)
    return found


def insert_rows(table: Table, rows: list, *, columns: tuple[str, ...] | None = None) -> None:
    """Insert ``rows`` into ``table`` in the session's transaction: dicts with the same keys, or
    tuples in the order of ``columns`` (cheaper for the tens of thousands of journal lines)."""
    if not rows:
        return
    db.session.flush()
    if not is_postgresql():
        if columns is not None:
            rows = [dict(zip(columns, row)) for row in rows]
        db.session.execute(insert(table), rows)  # executemany: one prepared statement, many rows
        return
    keys = list(columns) if columns is not None else list(rows[0])
    dialect = db.session.get_bind().dialect
    defaults = _defaults(table, keys, dialect)
    names = keys + list(defaults)
    processors = [(n, process) for n, process in
                  enumerate(table.c[name].type.bind_processor(dialect) for name in names) if process is not None]
    makers = list(defaults.values())
    quote = dialect.identifier_preparer.quote
    binary = _binary_copy_types(table, names)
    cursor = db.session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {quote(table.name)} ({', '.join(quote(name) for name in names)}) FROM STDIN"
                     + (" (FORMAT BINARY)" if binary else "")) as copy:
        if binary:
            copy.set_types(binary)
        if columns is not None and not makers and not processors:
            for row in rows:  # nothing to fill in or convert: the tuples go as they are
                copy.write_row(row)
            return
        for row in rows:
            values = list(row) if columns is not None else [row[key] for key in keys]
            values += [make(None) for make in makers]
            for n, process in processors:  # only the columns whose type converts (UTC times, JSON)
                if values[n] is not None:
                    values[n] = process(values[n])
            copy.write_row(values)


def update_rows(table: Table, rows: list[dict[str, Any]], *, fields: tuple[str, ...]) -> None:
    """Set ``fields`` of each row found by its ``id``: one UPDATE ... FROM unnest(arrays) on
    PostgreSQL, executemany elsewhere. Columns with an ``onupdate`` (needs' ``updated_at``, which
    the data version of public pages follows) are set too, as an ORM update would."""
    if not rows:
        return
    db.session.flush()
    stamped = {column.name: column.onupdate.arg(None) for column in table.columns
               if column.onupdate is not None and column.onupdate.is_callable and column.name not in fields}
    if stamped:
        fields = tuple(fields) + tuple(stamped)
        rows = [{**row, **stamped} for row in rows]
    if not is_postgresql():
        db.session.connection().execute(
            table.update().where(table.c.id == bindparam("_id")).values({f: bindparam(f) for f in fields}),
            [{"_id": row["id"], **{f: row[f] for f in fields}} for row in rows])
        return
    dialect = db.session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    casts = ["bigint"] + [table.c[f].type.compile(dialect=dialect) for f in fields]
    arrays = ", ".join(f"CAST(:a{n} AS {cast}[])" for n, cast in enumerate(casts))
    names = ", ".join(["id"] + [quote(f) for f in fields])
    assignments = ", ".join(f"{quote(f)} = v.{quote(f)}" for f in fields)
    statement = text(f"UPDATE {quote(table.name)} AS t SET {assignments} FROM unnest({arrays}) AS v({names}) "
                     f"WHERE t.id = v.id")
    params = {"a0": [row["id"] for row in rows]}
    for n, f in enumerate(fields, start=1):
        process = table.c[f].type.bind_processor(dialect)
        params[f"a{n}"] = [row[f] if process is None or row[f] is None else process(row[f]) for row in rows]
    db.session.connection().execute(statement, params)
