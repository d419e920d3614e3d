"""Lazy upkeep on read: an open need past its deadline expires the moment anyone looks."""
from __future__ import annotations

from ..domain.time import seoul_today
from ..extensions import db
from ..services import needs as need_service


def expire_due_needs() -> None:
    """Expire overdue needs and release overdue holds, so what is shown is never stale."""
    from ..services.pledges import release_expired

    changed = need_service.expire_overdue(seoul_today())
    changed += release_expired()
    if changed:
        db.session.commit()
