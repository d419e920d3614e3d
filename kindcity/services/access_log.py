"""Recording reads of personal data (접속기록): one call from any place that shows or exports it.

    record_access(actor, "sms_case", case.id, "view")

The row holds who (the account and its centre at that moment), when, from where (the actor's
address), whose record (kind and id, never the data itself) and what was done. Nothing here updates
or deletes a row. The reading, filters and the monthly report of unusual access are in
``kindcity.services.access_review``.
"""
from __future__ import annotations

from ..extensions import db
from ..models import AccessRecord
from . import Actor

SUBJECT_KINDS = ("referral", "donor", "sms_case")
ACTIONS = ("view", "export", "rrn_export")


def record_access(actor: Actor, subject_kind: str, subject_id: int, action: str = "view", *,
                  subject_centre_id: int | None = None) -> None:
    if subject_kind not in SUBJECT_KINDS or action not in ACTIONS:
        raise ValueError(f"unknown access {subject_kind}/{action}")
    user = actor.user
    db.session.add(AccessRecord(actor_id=actor.user_id, actor_centre_id=user.centre_id if user else None,
                                address=actor.address, subject_kind=subject_kind, subject_id=subject_id,
                                subject_centre_id=subject_centre_id, action=action))
