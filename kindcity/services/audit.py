"""Writing the audit log."""
from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import AuditEntry
from . import Actor


def record(actor: Actor, action: str, entity: str, entity_id: int,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> AuditEntry:
    entry = AuditEntry(actor_id=actor.user_id, address=actor.address, action=action,
                       entity=entity, entity_id=entity_id, before=before, after=after)
    db.session.add(entry)
    return entry


def record_now(actor: Actor, action: str, entity: str, entity_id: int, *, after: dict[str, Any] | None = None,
               at=None) -> None:
    """The same entry written at once, without an ORM object (hot paths)."""
    from sqlalchemy import insert

    from ..domain.time import utcnow

    db.session.execute(insert(AuditEntry).values(actor_id=actor.user_id, address=actor.address, action=action,
                                                 entity=entity, entity_id=entity_id, before=None, after=after,
                                                 at=at or utcnow()))
