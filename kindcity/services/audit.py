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
