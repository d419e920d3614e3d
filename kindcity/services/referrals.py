"""Referrals (사각지대 제보): taking them in, routing them to a centre, staff triage, erasing their words.

Staff see only the referrals of their own centre (the district office and administrators see all);
the one place that decides it is :func:`staff_scope`. The audit log records who changed a referral's
status and when, never its words.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, case, func, select, update
from sqlalchemy.orm import joinedload, selectinload

from ..domain import referrals as referral_rules
from ..domain.referrals import OPEN_STATUSES, ReferralAction, ReferralStatus
from ..domain.time import utcnow
from ..extensions import db
from ..models import Centre, Dong, Referral, ReferralNote, Role, User
from . import SYSTEM, Actor, NotFound, ServiceError, limits
from .audit import record

NOTE_MAX = 2000


class ReferralError(ServiceError):
    code = "referral"


@dataclass(frozen=True)
class ReferralRequest:
    dong: str          # the dong's code
    urgency: str
    situation: str
    contact: str | None
    consent: bool


def centre_for(dong: Dong) -> Centre:
    """The dong's welfare centre; the district office when the dong has none of its own."""
    centre = db.session.scalar(select(Centre).where(Centre.dong_id == dong.id, Centre.is_district_office.is_(False))
                               .order_by(Centre.id).limit(1))
    if centre is None:
        centre = db.session.scalar(select(Centre).where(Centre.is_district_office.is_(True)).order_by(Centre.id)
                                   .limit(1))
    if centre is None:
        raise ReferralError("referral_no_centre")
    return centre


def submit(address: str, request: ReferralRequest, *, max_per_address: int = 5, window_minutes: int = 60) -> Referral:
    """Take a referral in. Anyone may send one, signed in or not; a few per hour per network address."""
    dong = db.session.scalar(select(Dong).where(Dong.code == request.dong))
    text = referral_rules.check_submission(request.situation, request.contact, request.urgency, request.consent,
                                  dong_known=dong is not None)
    limits.hold(f"referral-address:{address}")  # counted and written one at a time (services/limits.py)
    since = utcnow() - timedelta(minutes=window_minutes)
    recent = db.session.scalar(select(func.count(Referral.id)).where(Referral.address == address,
                                                                       Referral.created_at >= since))
    if recent >= max_per_address:
        raise ReferralError("referral_rate_limited", minutes=window_minutes)
    referral = Referral(code=_unused_code(), dong=dong, centre=centre_for(dong), urgency=request.urgency,
                        situation=text.situation, contact=text.contact, status=ReferralStatus.NEW,
                        address=address[:64])
    db.session.add(referral)
    db.session.flush()
    # The audit log, which staff read, keeps no trace of the sender (not even the network address).
    record(Actor(None, None), "referral.receive", "referral", referral.id,
           after={"dong": dong.code, "urgency": request.urgency, "centre": referral.centre.code})
    return referral


def _unused_code() -> str:
    while True:
        code = referral_rules.new_code()
        if db.session.scalar(select(Referral.id).where(Referral.code == code)) is None:
            return code


def status_of(code: str) -> Referral:
    """A referral by its receipt code, for the resident who sent it: the caller shows its status only."""
    referral = db.session.scalar(select(Referral).where(Referral.code == referral_rules.normalise_code(code)))
    if referral is None:
        raise NotFound()
    return referral


# --- staff ----------------------------------------------------------------------------------------

def staff_scope(user: User, query: Select) -> Select:
    """Restrict a query on Referral to what this staff member may read. The one place that decides it."""
    if not user.is_staff:
        return query.where(False)
    if user.sees_all_centres:
        return query
    return query.where(Referral.centre_id == user.centre_id)


def get_for_staff(user: User, referral_id: int) -> Referral:
    referral = db.session.scalar(staff_scope(user, select(Referral).where(Referral.id == referral_id))
                                 .options(selectinload(Referral.notes).joinedload(ReferralNote.author)))
    if referral is None:
        raise NotFound()  # 404, not 403: another centre's referrals are not even acknowledged
    return referral


def _queue_where(closed: bool):
    return (Referral.status == ReferralStatus.CLOSED if closed
            else Referral.status.in_([s.value for s in OPEN_STATUSES]))


def queue(user: User, *, closed: bool = False, limit: int = 200, offset: int = 0) -> list[Referral]:
    """Open referrals, urgent first, then oldest first; or the latest closed ones: ``limit`` of them
    from ``offset``."""
    query = staff_scope(user, select(Referral).options(joinedload(Referral.dong), joinedload(Referral.assignee)))
    if closed:
        query = query.where(_queue_where(True)).order_by(Referral.closed_at.desc(), Referral.id.desc())
    else:
        urgent_first = case((Referral.urgency == referral_rules.Urgency.URGENT, 0), else_=1)
        query = query.where(_queue_where(False)).order_by(urgent_first, Referral.created_at, Referral.id)
    return list(db.session.scalars(query.limit(limit).offset(offset)))


def queue_size(user: User, *, closed: bool = False) -> int:
    """How many referrals :func:`queue` pages through."""
    return db.session.scalar(staff_scope(user, select(func.count(Referral.id)).where(_queue_where(closed))))


def open_counts(user: User) -> dict[str, int]:
    """How many referrals wait: new ones, and urgent ones still open (for the staff dashboard)."""
    row = db.session.execute(staff_scope(user, select(
        func.count(Referral.id).filter(Referral.status == ReferralStatus.NEW),
        func.count(Referral.id).filter(Referral.status.in_([s.value for s in OPEN_STATUSES]),
                                       Referral.urgency == referral_rules.Urgency.URGENT)))).one()
    return {"new": row[0], "urgent": row[1]}


@dataclass(frozen=True)
class ReferralSummary:
    received: int
    urgent: int
    still_open: int
    outcomes: dict[str, int]   # outcome -> how many of the period's referrals were closed with it


def summary(user: User, since: datetime) -> ReferralSummary:
    """What the referrals received since ``since`` (in this staff member's scope) came to, in two grouped
    queries: counts only, which identify nobody and survive the erasing of the words."""
    in_period = Referral.created_at >= since
    row = db.session.execute(staff_scope(user, select(
        func.count(Referral.id), func.count(Referral.id).filter(Referral.urgency == referral_rules.Urgency.URGENT),
        func.count(Referral.id).filter(Referral.status.in_([s.value for s in OPEN_STATUSES])))).where(in_period)).one()
    outcomes = dict(db.session.execute(staff_scope(user, select(Referral.outcome, func.count(Referral.id)))
                                       .where(in_period, Referral.outcome.is_not(None))
                                       .group_by(Referral.outcome)).all())
    return ReferralSummary(row[0], row[1], row[2], {o.value: outcomes.get(o.value, 0) for o in referral_rules.Outcome})


def act(actor: Actor, referral_id: int, action: str, *, outcome: str | None = None, note: str = "") -> Referral:
    """Take up, close (with an outcome) or reopen a referral, with an optional note."""
    user = _staff(actor)
    referral = get_for_staff(user, referral_id)
    status = referral_rules.check_action(referral.status, action, is_assignee=referral.assignee_id == user.id,
                                purged=referral.purged_at is not None)
    action = ReferralAction(action)
    before = {"status": referral.status, "outcome": referral.outcome,
              "assignee_id": referral.assignee_id}
    text = _note_text(note)
    if action == ReferralAction.CLOSE:
        referral.outcome = referral_rules.check_closing(outcome).value
        referral.closed_at = utcnow()
    elif action == ReferralAction.REOPEN:
        referral.outcome, referral.closed_at = None, None
    if action in (ReferralAction.TAKE_UP, ReferralAction.REOPEN):
        referral.assignee_id = user.id
    referral.status = status
    db.session.add(ReferralNote(referral=referral, author_id=user.id, action=action.value, text=text))
    record(actor, f"referral.{action.value}", "referral", referral.id, before=before,
           after={"status": referral.status, "outcome": referral.outcome, "assignee_id": referral.assignee_id})
    return referral


def add_note(actor: Actor, referral_id: int, note: str) -> ReferralNote:
    user = _staff(actor)
    referral = get_for_staff(user, referral_id)
    if referral.purged_at is not None:
        raise referral_rules.ReferralPurged()  # a note added now would never be erased
    text = _note_text(note)
    if not text:
        raise referral_rules.ReferralInputError("referral_note_empty", "note")
    entry = ReferralNote(referral=referral, author_id=user.id, action=None, text=text)
    db.session.add(entry)
    db.session.flush()
    return entry


def _note_text(note: str) -> str | None:
    text = (note or "").strip()
    if len(text) > NOTE_MAX:
        raise referral_rules.ReferralInputError("referral_note_too_long", "note", maximum=NOTE_MAX)
    return text or None


def _staff(actor: Actor) -> User:
    user = actor.user
    if user is None or not user.is_staff:
        raise NotFound()
    return user


def urgent_recipients(referral: Referral) -> list[User]:
    """Who hears of an urgent referral at once: the active staff of its centre; the district office's
    when the centre has none (an urgent referral must reach someone)."""
    staff = select(User).where(User.role == Role.STAFF, User.active.is_(True)).order_by(User.id)
    people = list(db.session.scalars(staff.where(User.centre_id == referral.centre_id)))
    if not people:
        people = list(db.session.scalars(staff.join(Centre, Centre.id == User.centre_id)
                                         .where(Centre.is_district_office.is_(True))))
    return people


# --- retention ------------------------------------------------------------------------------------

def purge_closed(retention_days: int, now: datetime | None = None) -> list[int]:
    """Erase the words (situation, contact, notes) of referrals closed ``retention_days`` ago or more.
    What is left counts without identifying anyone: dong, centre, urgency, dates, outcome. Idempotent."""
    now = now or utcnow()
    cutoff = referral_rules.purge_cutoff(now, retention_days)
    # Senders' network addresses are needed only for the limit per address: blank them after a day.
    db.session.execute(update(Referral).where(Referral.created_at <= now - referral_rules.SENDER_ADDRESS_KEPT,
                                              Referral.address != "").values(address="")
                       .execution_options(synchronize_session=False))
    due = list(db.session.scalars(select(Referral.id).where(
        Referral.status == ReferralStatus.CLOSED, Referral.purged_at.is_(None), Referral.closed_at <= cutoff)
        .order_by(Referral.id)))
    if not due:
        return []
    db.session.execute(update(Referral).where(Referral.id.in_(due)).values(situation=None, contact=None,
                                                                           address="", purged_at=now)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(ReferralNote).where(ReferralNote.referral_id.in_(due)).values(text=None)
                       .execution_options(synchronize_session=False))
    for referral_id in due:
        record(SYSTEM, "referral.purge", "referral", referral_id, after={"retention_days": retention_days})
    db.session.expire_all()
    return due
