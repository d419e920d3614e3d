"""The journal's one writer: every line reaches ``ledger_transactions`` and ``ledger_lines`` through here.

Services never decide how lines are written. They take postings from the ledger's rules
(kindcity/domain/ledger.py) and hand them over in one of three shapes:

- ``post(posting, actor)``: one posting, as ORM rows of the session's unit of work (most operations);
- ``read_need`` then ``write_pledge``: a new direct pledge's whole change (the need's reservation,
  the pledge, its posting and its audit entry), the hottest write of the site;
- ``write_batch(postings, actor, at)``: thousands of postings at once (bank statement imports).

How the last two reach the database is chosen once per app, on first use, by its dialect:
PostgreSQL (``postgresql.py``) writes a pledge in one statement and a batch by COPY; any other
database (``generic.py``: SQLite) by ordinary INSERTs. What holds on both: every posting balances,
and a pledge's reservation and rows are one transaction, written with the need's row locked as
briefly as possible.
"""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app

from ...domain.ledger import Posting
from ...extensions import db
from ...models import LedgerTransaction
from .. import Actor
from .generic import GenericWriter, NeedReading, NewPledge, Refused, Written
from .postgresql import PostgreSQLWriter

__all__ = ["NeedReading", "NewPledge", "Refused", "Written", "post", "read_need", "write_batch", "write_pledge"]

_WRITERS: dict[str, type[GenericWriter]] = {"postgresql": PostgreSQLWriter}
_KEY = "kindcity.journal"


def _writer() -> GenericWriter:
    """The app's writer, chosen by its database's dialect the first time the journal is written."""
    extensions = current_app.extensions
    writer = extensions.get(_KEY)
    if writer is None:
        writer = extensions[_KEY] = _WRITERS.get(db.engine.dialect.name, GenericWriter)()
    return writer


def post(posting: Posting, actor: Actor | None = None) -> LedgerTransaction:
    """One posting, added to the session (written at its next flush, with whatever else is pending)."""
    return _writer().post(posting, actor)


def read_need(need_id: int) -> NeedReading | None:
    """What the pledge rules need of a need, read for ``write_pledge`` (None if there is no such need)."""
    return _writer().read_need(need_id)


def write_pledge(actor: Actor, need: NeedReading, pledge: NewPledge, *, now: datetime, today: date,
                 draw_reference) -> Written | Refused:
    """Reserve the pledge's amount of the need's gap and write the pledge, its posting and its audit
    entry, as one change. ``draw_reference()`` gives another code if the one in the pledge's values
    is taken. Refused: the gap (or the need) no longer allows it, and the caller must roll back."""
    return _writer().write_pledge(actor, need, pledge, now=now, today=today, draw_reference=draw_reference)


def write_batch(postings: list[Posting], actor: Actor | None, at: datetime) -> None:
    """Many balanced postings at once, in a handful of statements (bulk imports)."""
    _writer().write_batch(postings, actor, at)
