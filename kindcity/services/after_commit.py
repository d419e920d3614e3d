"""Work a transaction leaves for after its commit, remembered on the session as it happens.

A service notes, say, a pledge that ended (a card provider must hear of it) or a need that closed (its
donors get mail). Whoever commits hands the notes over afterwards (kindcity/web/after_commit.py); the
receiver reads the state afresh, because after a rollback a note may name something that did not change
after all. Keeping the notes costs a dict entry; nothing is queried.
"""
from __future__ import annotations

from typing import Hashable

from ..extensions import db

_PREFIX = "kindcity.after_commit."


def remember(kind: str, item: Hashable) -> None:
    db.session.info.setdefault(_PREFIX + kind, set()).add(item)


def any_remembered() -> bool:
    return any(key.startswith(_PREFIX) and value for key, value in db.session.info.items())


def take(kind: str) -> list:
    """What was remembered of ``kind``, in order, forgotten as it is handed over."""
    return sorted(db.session.info.pop(_PREFIX + kind, ()))
