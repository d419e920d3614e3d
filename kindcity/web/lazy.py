"""Lazy upkeep on read: an open need past its deadline expires the moment anyone looks."""
from __future__ import annotations

from flask import has_request_context, request

from ..domain.time import seoul_today
from ..extensions import db
from ..services import needs as need_service

_DONE = "kindcity.upkeep_done"


def expire_due_needs() -> None:
    """Expire overdue needs and release overdue holds, so what is shown is never stale.

    Once per request: public pages run it before computing their cache validators
    (``caching.current_data_version``), and the view's own call then has nothing left to do.
    """
    if has_request_context():
        if request.environ.get(_DONE):
            return
        request.environ[_DONE] = True
    from ..services.pledges import release_expired

    changed = need_service.expire_overdue(seoul_today())
    changed += release_expired()
    if changed:
        db.session.commit()


def mark_upkeep_done() -> None:
    """This request needs no upkeep (the caller proved nothing is due)."""
    request.environ[_DONE] = True
