"""Reading the access record (admins only): filtered lists and the monthly report of unusual access
(kindcity/domain/access_review.py). Reads only."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from ..domain.access_review import Access, Finding, unusual
from ..domain.time import SEOUL
from ..extensions import db
from ..models import AccessRecord, Centre, User

PAGE = 200


@dataclass(frozen=True)
class Filters:
    actor_id: int | None = None
    subject_kind: str | None = None
    subject_id: int | None = None
    action: str | None = None
    since: date | None = None      # Korea-time days, both included
    until: date | None = None


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, SEOUL)


def search(filters: Filters, *, before_id: int | None = None) -> list[AccessRecord]:
    """Newest first, at most PAGE rows; ``before_id`` pages on."""
    query = select(AccessRecord).order_by(AccessRecord.id.desc()).limit(PAGE)
    if filters.actor_id is not None:
        query = query.where(AccessRecord.actor_id == filters.actor_id)
    if filters.subject_kind:
        query = query.where(AccessRecord.subject_kind == filters.subject_kind)
    if filters.subject_id is not None:
        query = query.where(AccessRecord.subject_id == filters.subject_id)
    if filters.action:
        query = query.where(AccessRecord.action == filters.action)
    if filters.since is not None:
        query = query.where(AccessRecord.at >= _start(filters.since))
    if filters.until is not None:
        query = query.where(AccessRecord.at < _start(filters.until + timedelta(days=1)))
    if before_id is not None:
        query = query.where(AccessRecord.id < before_id)
    return list(db.session.scalars(query))


def month_bounds(month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    following = first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)
    return _start(first), _start(following)


def monthly_report(month: date) -> list[Finding]:
    since, until = month_bounds(month)
    rows = db.session.execute(
        select(AccessRecord.id, AccessRecord.at, AccessRecord.actor_id, AccessRecord.actor_centre_id,
               AccessRecord.subject_kind, AccessRecord.subject_id, AccessRecord.subject_centre_id,
               User.role, Centre.is_district_office)
        .outerjoin(User, User.id == AccessRecord.actor_id)
        .outerjoin(Centre, Centre.id == AccessRecord.actor_centre_id)
        .where(AccessRecord.at >= since, AccessRecord.at < until)).all()
    return unusual([Access(id=row.id, at=row.at, actor_id=row.actor_id, actor_centre_id=row.actor_centre_id,
                           actor_sees_all=row.role == "admin" or bool(row.is_district_office),
                           subject=(row.subject_kind, row.subject_id), subject_centre_id=row.subject_centre_id)
                    for row in rows])


def people(ids: set[int | None]) -> dict[int, User]:
    wanted = [i for i in ids if i is not None]
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(wanted)))} if wanted else {}
