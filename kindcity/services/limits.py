"""Limits per account, e-mail or network address that hold however many workers answer at once.

Each limit counts the rows of its own log in a sliding window (login_attempts, password_reset_requests,
referrals) and then writes one. Counting and writing in two statements is a race: twelve requests
arriving together all count four, all pass a limit of five, and all write. So a request first takes
a lock on each of its keys (``login-account:<e-mail>``, ``referral-address:<address>``...) that lasts
until its transaction ends, counts, writes, and commits; the next request with the same key waits for
that commit and then counts the row it wrote.

On PostgreSQL the lock is a transaction-level advisory lock on a 64-bit hash of the key (a collision
only makes two keys wait for each other). On SQLite there is nothing to take: every transaction holds
the database's write lock from its BEGIN IMMEDIATE (kindcity/db_setup.py), so writers already go one
at a time. No table is written for the locks, so they hold no addresses or e-mails to erase.
"""
from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from ..extensions import db


def lock_id(key: str) -> int:
    """The advisory lock's number for ``key``: a signed 64-bit integer, the same in every process."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def hold(*keys: str) -> None:
    """Make every other transaction that holds one of ``keys`` wait until this one commits or rolls back.

    Call it before counting. The locks are taken in one order (by number), so two requests with the
    same two keys (an e-mail and an address) never wait for each other in a circle."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for number in sorted({lock_id(key) for key in keys}):
        db.session.execute(select(func.pg_advisory_xact_lock(number)))
