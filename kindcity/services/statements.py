"""Bank statement imports: preview what each deposit would do, then apply it once."""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timezone

from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import defer

from ..domain.pledges import PledgeStatus
from ..domain.statements import Match, StatementError, check_booked_day, classify, decode, parse_statement
from ..domain.time import SEOUL, seoul_today, utcnow
from ..extensions import db
from .. import jobs
from ..models import BankTransaction, Need, Payment, Pledge, StatementImport
from . import Actor, Forbidden, NotFound, bulk, effects
from .audit import record
from .needs import staff_can_see
from .pledges import (PaymentBatch, apply_payment, apply_unassigned_payment, lock_needs_and_pledges, place_fund_money,
                      record_payment)


def _rows(query):
    """Plain rows straight from the connection: the ORM's result machinery costs three times as much
    for the ten thousand rows of a large statement, and nothing here needs ORM objects."""
    db.session.flush()
    return db.session.connection().execute(query)


def _known_fingerprints(fingerprints) -> set[str]:
    known: set[str] = set()
    for chunk in bulk.chunks(fingerprints):
        known |= set(_rows(select(BankTransaction.fingerprint)
                           .where(bulk.among(BankTransaction.fingerprint, chunk))).scalars())
    return known


def _pledges_by_reference(references) -> dict[str, SimpleNamespace]:
    """What the preview needs of each pledge (id, status, what it still owes), without ORM objects."""
    found: dict[str, SimpleNamespace] = {}
    for chunk in bulk.chunks(set(references)):
        for pledge_id, reference, status, amount, paid in _rows(
                select(Pledge.id, Pledge.reference, Pledge.status, Pledge.amount, Pledge.paid)
                .where(bulk.among(Pledge.reference, chunk))):
            found[reference] = SimpleNamespace(id=pledge_id, status=status, owed=max(0, amount - paid))
    return found


def _unlinked_manual_payments(pledge_ids) -> dict[int, list[Payment]]:
    """Hand-recorded payments not yet seen on any statement, per pledge, oldest first."""
    found: dict[int, list[Payment]] = {}
    for chunk in bulk.chunks(set(pledge_ids)):
        for payment in db.session.scalars(select(Payment).where(
                bulk.among(Payment.pledge_id, chunk), Payment.source == "manual", Payment.bank_fingerprint.is_(None))
                .order_by(Payment.id)):
            found.setdefault(payment.pledge_id, []).append(payment)
    return found


def _take_manual(manual: dict[int, list[Payment]], pledge_id: int, amount: int) -> Payment | None:
    for payment in manual.get(pledge_id, []):
        if payment.amount == amount:
            manual[pledge_id].remove(payment)
            return payment
    return None


def _require_money_staff(actor: Actor) -> None:
    """Statements and deposits without a known reference name donors of every centre: only staff who
    handle the district's bank account (an administrator gives the permission) work with them."""
    if actor.user is None or not actor.user.handles_bank_account:
        raise Forbidden()


def preview_statement(actor: Actor, filename: str, data: bytes) -> StatementImport:
    """Parse and classify; nothing about money changes yet. Raises StatementError for a bad file."""
    _require_money_staff(actor)
    _, encoding = decode(data)
    rows = parse_statement(data, today=seoul_today())
    known = _known_fingerprints(r.fingerprint for r in rows)
    pledges = _pledges_by_reference(r.reference for r in rows if r.reference)
    manual = _unlinked_manual_payments(p.id for p in pledges.values())
    owed_running: dict[int, int] = {}
    preview = []
    for row in rows:
        pledge = pledges.get(row.reference) if row.reference else None
        owed = None
        if pledge is not None:
            # A cancelled or closed pledge expects nothing: its money will follow the donor's choice.
            expects = 0 if pledge.status in (PledgeStatus.CANCELLED, PledgeStatus.CLOSED) else pledge.owed
            owed = owed_running.get(pledge.id, expects)
        by_hand = (pledge is not None and row.fingerprint not in known
                   and _take_manual(manual, pledge.id, row.amount) is not None)
        outcome = classify(row, owed, row.fingerprint in known, by_hand)
        if pledge is not None and outcome not in (Match.DUPLICATE, Match.CONFIRMED_BY_HAND):
            owed_running[pledge.id] = max(0, (owed or 0) - row.amount)
        preview.append({"line": row.line, "booked_at": row.booked_at.isoformat(), "amount": row.amount,
                        "memo": row.memo[:300], "reference": row.reference, "fingerprint": row.fingerprint,
                        "pledge_id": pledge.id if pledge else None, "owed": owed, "outcome": outcome.value})
    statement = StatementImport(filename=filename[:200], encoding=encoding, uploaded_by_id=actor.user_id,
                                rows=preview)
    db.session.add(statement)
    db.session.flush()
    return statement


# The rows of the statements previewed lately, parsed, per process: a 10,000-row statement is 2.9 MB of
# JSON, 30 ms to parse again for every look at its preview (and PostgreSQL parses it no faster).
# An import's rows never change after its preview (commit reads them; discard deletes the import), so
# the parsed list stays right; the key adds the moment of the upload and the database to the id, so a
# reused id (SQLite after a discard) or another database of the same process is never served them.
_PARSED_ROWS: OrderedDict[tuple, list[dict]] = OrderedDict()
_PARSED_KEPT = 4
_PARSED_LOCK = threading.Lock()


def previewed(import_id: int) -> tuple[StatementImport, list[dict]] | None:
    """The import (its rows not loaded with it) and its rows, parsed once per process; None if none.
    Read only: never change the list returned."""
    statement = db.session.get(StatementImport, import_id, options=[defer(StatementImport.rows)])
    if statement is None:
        return None
    key = (str(db.session.get_bind().engine.url), statement.id, statement.uploaded_at)
    with _PARSED_LOCK:
        rows = _PARSED_ROWS.get(key)
        if rows is not None:
            _PARSED_ROWS.move_to_end(key)
            return statement, rows
    rows = db.session.scalar(select(StatementImport.rows).where(StatementImport.id == import_id))
    with _PARSED_LOCK:
        _PARSED_ROWS[key] = rows
        while len(_PARSED_ROWS) > _PARSED_KEPT:
            _PARSED_ROWS.popitem(last=False)
    return statement, rows


def commit_statement(actor: Actor, import_id: int) -> dict[str, int]:
    """Apply a previewed statement. Safe to repeat: rows already imported are skipped."""
    _require_money_staff(actor)
    statement = db.session.scalar(select(StatementImport).where(StatementImport.id == import_id).with_for_update())
    if statement is None:
        raise NotFound()
    counts = {"applied": 0, "linked": 0, "unmatched": 0, "skipped": 0}
    if statement.committed_at is not None:
        counts["skipped"] = len(statement.rows)
        return counts
    rows, statement_id, now = statement.rows, statement.id, utcnow()
    today = seoul_today(now)
    for row in rows:  # a preview made before the date rule may hold a day like 0001-01-01: say which row
        check_booked_day(datetime.fromisoformat(row["booked_at"]), row["line"], today)
    pledge_ids = {r["pledge_id"] for r in rows if r["pledge_id"]}
    needs, pledges = _lock_plain(pledge_ids)
    known = _known_fingerprints(r["fingerprint"] for r in rows)
    manual = _unlinked_manual_payments(pledge_ids)
    batch = PaymentBatch(actor, now)
    bank_rows = []
    unassigned: set[int] = set()
    for row in rows:
        if row["fingerprint"] in known:
            counts["skipped"] += 1
            continue
        known.add(row["fingerprint"])
        booked_at = datetime.fromisoformat(row["booked_at"]).replace(tzinfo=SEOUL).astimezone(timezone.utc)
        pledge = pledges.get(row["pledge_id"]) if row["pledge_id"] else None
        outcome = "unmatched"
        by_hand = _take_manual(manual, pledge.id, row["amount"]) if pledge is not None else None
        if by_hand is not None:
            by_hand.bank_fingerprint = row["fingerprint"]  # the statement confirms it; no new money
            outcome = "linked"
        elif pledge is not None and pledge.need_id is None:  # pooled pledge or match offer: the engine places it
            apply_unassigned_payment(actor, pledge, row["amount"], source="statement", external_id=row["fingerprint"],
                                     received_at=booked_at, note=row["memo"], batch=batch,
                                     bank_fingerprint=row["fingerprint"])
            unassigned.add(pledge.id)
            outcome = "applied"
        elif pledge is not None:
            apply_payment(actor, needs[pledge.need_id], pledge, row["amount"], source="statement",
                          external_id=row["fingerprint"], received_at=booked_at, note=row["memo"],
                          batch=batch, bank_fingerprint=row["fingerprint"])
            outcome = "applied"
        bank_rows.append(dict(fingerprint=row["fingerprint"], booked_at=booked_at, amount=row["amount"],
                              memo=row["memo"], reference=row["reference"], outcome=outcome,
                              pledge_id=pledge.id if pledge else None, import_id=statement_id, imported_at=now))
        counts[outcome] += 1
    batch.write()
    _write_back(needs, pledges)
    bulk.insert_rows(BankTransaction.__table__, bank_rows)
    statement.committed_at = now
    record(actor, "statement.commit", "statement", statement_id, after=counts)
    if unassigned:
        effects.unassigned_received(actor, sorted(unassigned))
    place_fund_money(actor)  # money beyond what needs could take, that donors left to the district's fund
    if counts.get("applied"):
        jobs.defer("mail.statement_thanks", statement_id=statement_id)  # a thank-you and receipt link per payment
    return counts


_NEED_FIELDS = ("id", "status", "target", "reserved", "confirmed")
_PLEDGE_FIELDS = ("id", "need_id", "status", "amount", "paid", "held", "on_cancel", "kind", "donor_id", "method")


def discard_statement(actor: Actor, import_id: int) -> None:
    """Staff drop a previewed statement that was never applied (a wrong file, or one that cannot be
    applied): nothing about money changes, and the audit log keeps what it was."""
    if actor.user is None or not actor.user.handles_bank_account:
        raise Forbidden()
    statement = db.session.scalar(select(StatementImport).where(StatementImport.id == import_id).with_for_update())
    if statement is None:
        raise NotFound()
    if statement.committed_at is not None:
        raise StatementError("already_applied")
    record(actor, "statement.discard", "statement", statement.id,
           before={"filename": statement.filename, "rows": len(statement.rows),
                   "uploaded_by": statement.uploaded_by_id, "uploaded_at": statement.uploaded_at.isoformat()})
    db.session.delete(statement)
    db.session.flush()


def _lock_plain(pledge_ids) -> tuple[dict[int, SimpleNamespace], dict[int, SimpleNamespace]]:
    """Lock the pledges and their needs (needs first, in id order) and read them as plain objects:
    thousands of rows are applied in memory and written back in one statement per table."""
    pledges: dict[int, SimpleNamespace] = {}
    need_ids: set[int] = set()
    for chunk in bulk.chunks(sorted(pledge_ids)):
        for row in _rows(select(Pledge.need_id).where(bulk.among(Pledge.id, chunk))):
            if row.need_id is not None:  # pooled pledges and match offers have no need to lock
                need_ids.add(row.need_id)
    needs: dict[int, SimpleNamespace] = {}
    for chunk in bulk.chunks(sorted(need_ids)):
        for row in _rows(select(*(getattr(Need, f) for f in _NEED_FIELDS))
                         .where(bulk.among(Need.id, chunk)).order_by(Need.id).with_for_update()):
            needs[row[0]] = SimpleNamespace(**dict(zip(_NEED_FIELDS, row)))
    for chunk in bulk.chunks(sorted(pledge_ids)):
        for row in _rows(select(*(getattr(Pledge, f) for f in _PLEDGE_FIELDS))
                         .where(bulk.among(Pledge.id, chunk)).order_by(Pledge.id).with_for_update()):
            pledges[row[0]] = SimpleNamespace(**dict(zip(_PLEDGE_FIELDS, row)))
    for item in list(needs.values()) + list(pledges.values()):
        item._original = dict(vars(item))
    return needs, pledges


def _write_back(needs, pledges) -> None:
    db.session.flush()  # ORM changes made on the way (linked payments, refunds, audit) go first
    for model, items, fields in ((Need, needs, ("status", "reserved", "confirmed")),
                                 (Pledge, pledges, ("status", "paid", "held"))):
        changed = [{"id": item.id, **{f: getattr(item, f) for f in fields}} for item in items.values()
                   if any(getattr(item, f) != item._original[f] for f in fields)]
        bulk.update_rows(model.__table__, changed, fields=fields)
    # Needs and pledges the session holds as ORM objects are stale now; the rest (the statement
    # itself, with its ten thousand rows of JSON) is not, and is not read again.
    for item in list(db.session.identity_map.values()):
        if isinstance(item, (Need, Pledge)):
            db.session.expire(item)


def unmatched_rows(limit: int = 200) -> list[BankTransaction]:
    return list(db.session.scalars(select(BankTransaction).where(BankTransaction.outcome == "unmatched")
                                   .order_by(BankTransaction.booked_at.desc()).limit(limit)))


def match_bank_row(actor: Actor, bank_row_id: int, reference: str) -> BankTransaction:
    """Staff match a deposit that carried no usable reference to the pledge it belongs to."""
    _require_money_staff(actor)
    row = db.session.scalar(select(BankTransaction).where(BankTransaction.id == bank_row_id).with_for_update())
    if row is None:
        raise NotFound()
    if row.outcome != "unmatched":
        return row
    pledge = db.session.scalar(select(Pledge).where(Pledge.reference == reference.strip().upper()))
    if pledge is not None and pledge.need_id is None:  # pooled pledge or match offer: not a centre's money
        outcome = record_payment(actor, pledge.id, row.amount, source="statement", external_id=row.fingerprint,
                                 received_at=row.booked_at, note=row.memo)
        outcome.payment.bank_fingerprint = row.fingerprint
        row.outcome, row.pledge_id = "applied", pledge.id
        record(actor, "statement.match", "bank_transaction", row.id, after={"pledge": pledge.id})
        return row
    if pledge is None or pledge.need is None or not staff_can_see(actor.user, pledge.need):
        raise StatementError("unknown_reference", value=reference)
    needs, pledges = lock_needs_and_pledges([pledge.need_id], [pledge.id])
    outcome = apply_payment(actor, needs[pledge.need_id], pledges[pledge.id], row.amount, source="statement",
                            external_id=row.fingerprint, received_at=row.booked_at, note=row.memo)
    outcome.payment.bank_fingerprint = row.fingerprint
    row.outcome, row.pledge_id = "applied", pledge.id
    record(actor, "statement.match", "bank_transaction", row.id, after={"pledge": pledge.id})
    return row


__all__ = ["PledgeStatus", "StatementError", "commit_statement", "discard_statement", "match_bank_row",
           "preview_statement", "unmatched_rows"]
