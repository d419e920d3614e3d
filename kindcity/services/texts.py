"""The district's text line (문자): incoming texts become cases in the text inbox; staff answer by text,
pass a case to a dong centre, turn it into a referral, or tell the resident where to go instead.

The sender's number is personal data. It is stored on the case, shown in full only on the case's own
page (to staff), masked in lists, never written to the audit log, and erased with the case's words
after the retention period (:func:`purge_closed`). The district office's staff and administrators read
every case; a centre's staff read the cases passed to their centre (:func:`staff_scope`, the one place
that decides it).

Outgoing texts are rows written in the caller's transaction with an SMS job asked for beside them
(kindcity/sms/jobs.py): a rolled-back step sends nothing.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, case as when, delete, func, select, update
from sqlalchemy.orm import joinedload, selectinload

from ..domain import texts as text_rules
from ..domain.referrals import ReferralStatus, Urgency
from ..domain.time import SEOUL, utcnow
from ..extensions import db
from ..models import Centre, Dong, Referral, Role, TextCase, TextMessage, TextSender, User, WebhookNonce
from ..sms import IncomingText
from ..sms.jobs import ask_send
from . import SYSTEM, Actor, NotFound, ServiceError
from .audit import record
from .reference import district_brand

RESIDENT_LOCALE = "ko"   # texts to residents are in Korean, plain and short


class TextError(ServiceError):
    code = "text"


@dataclass(frozen=True)
class Received:
    case: TextCase | None
    message: TextMessage | None
    kept: bool              # False: over the hourly limit, counted only
    duplicate: bool = False


# --- incoming -------------------------------------------------------------------------------------

def receive(incoming: IncomingText, *, max_per_hour: int, now: datetime | None = None) -> Received:
    """Store an incoming text in its sender's open case (a new case if none is open). The first
    ``max_per_hour`` texts of an hour from one number are kept in full; the rest are counted without their
    words, raise no alert and get no answer. A text the provider delivers twice is stored once."""
    now = now or utcnow()
    if db.session.scalar(select(TextMessage.id).where(TextMessage.provider_id == incoming.provider_id)) is not None:
        return Received(None, None, kept=False, duplicate=True)
    case = db.session.scalar(select(TextCase).where(
        TextCase.phone == incoming.sender, TextCase.status.in_([s.value for s in text_rules.OPEN_STATUSES]))
        .order_by(TextCase.id.desc()).limit(1))
    is_new = case is None
    if is_new:
        case = TextCase(phone=incoming.sender, status=text_rules.CaseStatus.NEW, created_at=now, last_in_at=now)
        db.session.add(case)
        db.session.flush()
    this_hour = db.session.scalar(select(func.count(TextMessage.id)).join(TextCase).where(
        TextCase.phone == incoming.sender, TextMessage.direction == "in",
        TextMessage.at >= now - text_rules.SENDER_WINDOW))
    kept = text_rules.keeps_words(this_hour, max_per_hour)
    urgent = kept and text_rules.is_urgent(incoming.body)
    message = TextMessage(case=case, direction="in", body=incoming.body if kept else None,
                          provider_id=incoming.provider_id, urgent=urgent, at=now)
    db.session.add(message)
    case.last_in_at = now
    if not kept:
        case.counted_only = (case.counted_only or 0) + 1
        db.session.flush()
        return Received(case, message, kept=False)
    db.session.flush()
    if is_new:
        # The audit log keeps no trace of the sender: neither the number nor the words.
        record(SYSTEM, "text.receive", "text_case", case.id, after={"urgent": urgent})
    if urgent and not case.urgent:
        case.urgent = True
        record(SYSTEM, "text.urgent", "text_case", case.id, after={"urgent": True})
        from ..mail.texts import ask_urgent_notice

        ask_urgent_notice(case.id)
    _auto_answer(case, now)
    return Received(case, message, kept=True)


def first_answer_text() -> str:
    """The automatic first answer: received, when they will hear back, the emergency numbers."""
    with force_locale(RESIDENT_LOCALE):
        return _("[%(brand)s] We got your text. A staff member will answer within one working day. "
                 "In danger now: call 119 (fire, ambulance) or 112 (police). Welfare help any time: 129.",
                 brand=district_brand())


def _auto_answer(case: TextCase, now: datetime) -> None:
    sender = db.session.get(TextSender, case.phone)
    if sender is None:
        sender = TextSender(phone=case.phone)
        db.session.add(sender)
    if not text_rules.auto_answer_due(sender.last_auto_answer_on, now):
        return
    sender.last_auto_answer_on = now.astimezone(SEOUL).date()
    _send(case, first_answer_text(), author=None, automatic=True, now=now)


def _send(case: TextCase, body: str, *, author: User | None, automatic: bool, now: datetime | None = None) -> TextMessage:
    message = TextMessage(case=case, direction="out", body=body, author_id=author.id if author else None,
                          automatic=automatic, at=now or utcnow())
    db.session.add(message)
    db.session.flush()
    ask_send(message.id)
    return message


def remember_webhook_salt(salt: str, *, tolerance_seconds: int, now: datetime | None = None) -> bool:
    """True the first time a verified webhook's salt is seen; False for a replay. Salts older than twice
    the signature's tolerance are forgotten (a request that old is refused by its date anyway)."""
    now = now or utcnow()
    db.session.execute(delete(WebhookNonce).where(WebhookNonce.at < now - timedelta(seconds=2 * tolerance_seconds)))
    if db.session.get(WebhookNonce, salt) is not None:
        return False
    db.session.add(WebhookNonce(salt=salt, at=now))
    db.session.flush()
    return True


# --- staff ----------------------------------------------------------------------------------------

def staff_scope(user: User, query: Select) -> Select:
    """Restrict a query on TextCase to what this staff member may read. The one place that decides it."""
    if not user.is_staff:
        return query.where(False)
    if user.sees_all_centres:
        return query
    return query.where(TextCase.centre_id == user.centre_id)


def get_for_staff(user: User, case_id: int) -> TextCase:
    item = db.session.scalar(staff_scope(user, select(TextCase).where(TextCase.id == case_id))
                             .options(selectinload(TextCase.messages).joinedload(TextMessage.author),
                                      joinedload(TextCase.centre), joinedload(TextCase.referral)))
    if item is None:
        raise NotFound()
    return item


def inbox(user: User, *, closed: bool = False, limit: int = 200) -> list[TextCase]:
    """Open cases, urgent first, then the longest waiting; or the latest closed ones."""
    query = staff_scope(user, select(TextCase).options(joinedload(TextCase.centre)))
    if closed:
        query = query.where(TextCase.status == text_rules.CaseStatus.CLOSED).order_by(TextCase.closed_at.desc(),
                                                                                 TextCase.id.desc())
    else:
        query = query.where(TextCase.status.in_([s.value for s in text_rules.OPEN_STATUSES])).order_by(
            when((TextCase.urgent.is_(True), 0), else_=1), TextCase.last_in_at, TextCase.id)
    return list(db.session.scalars(query.limit(limit)))


def open_counts(user: User) -> dict[str, int]:
    row = db.session.execute(staff_scope(user, select(
        func.count(TextCase.id).filter(TextCase.status == text_rules.CaseStatus.NEW),
        func.count(TextCase.id).filter(TextCase.status.in_([s.value for s in text_rules.OPEN_STATUSES]),
                                       TextCase.urgent.is_(True))))).one()
    return {"new": row[0], "urgent": row[1]}


def _staff(actor: Actor) -> User:
    user = actor.user
    if user is None or not user.is_staff:
        raise NotFound()
    return user


def _step(actor: Actor, case_id: int, action: text_rules.CaseAction) -> tuple[User, TextCase, dict]:
    user = _staff(actor)
    item = get_for_staff(user, case_id)
    status = text_rules.check_step(item.status, action, purged=item.purged_at is not None)
    before = {"status": item.status, "outcome": item.outcome, "centre_id": item.centre_id}
    item.status = status
    if status == text_rules.CaseStatus.CLOSED:
        item.outcome = text_rules.OUTCOME_OF[action].value
        item.closed_at = utcnow()
    elif action == text_rules.CaseAction.REOPEN:
        item.outcome, item.closed_at = None, None
    if action != text_rules.CaseAction.REOPEN:
        item.assignee_id = user.id
    return user, item, before


def _audit(actor: Actor, action: text_rules.CaseAction, item: TextCase, before: dict) -> None:
    # Status, outcome and centre only: never the number, never the words.
    record(actor, f"text.{action.value}", "text_case", item.id, before=before,
           after={"status": item.status, "outcome": item.outcome, "centre_id": item.centre_id,
                  "referral_id": item.referral_id})


def reply(actor: Actor, case_id: int, body: str) -> TextMessage:
    """Answer the resident by text, from the district's registered number."""
    text = text_rules.check_reply(body)
    user, item, before = _step(actor, case_id, text_rules.CaseAction.REPLY)
    if item.first_answer_at is None:
        item.first_answer_at = utcnow()
    message = _send(item, text, author=user, automatic=False)
    _audit(actor, text_rules.CaseAction.REPLY, item, before)
    return message


def _dong(code: str) -> Dong:
    dong = db.session.scalar(select(Dong).where(Dong.code == code))
    if dong is None:
        raise TextError("text_dong_unknown")
    return dong


def assign(actor: Actor, case_id: int, dong_code: str) -> TextCase:
    """Pass the case to the welfare centre of a dong, whose staff then read it too."""
    from .referrals import centre_for

    dong = _dong(dong_code)
    user, item, before = _step(actor, case_id, text_rules.CaseAction.ASSIGN)
    item.centre = centre_for(dong)
    db.session.flush()
    _audit(actor, text_rules.CaseAction.ASSIGN, item, before)
    return item


def refer(actor: Actor, case_id: int, dong_code: str, urgent: bool) -> Referral:
    """Turn the case into a referral (사각지대 제보) of a dong, keeping the link both ways: the referral holds
    the resident's texts and number (personal data, in a private place, erased with the referral), the
    case names the referral and is closed with that outcome."""
    from ..mail.referrals import ask_urgent_notice
    from ..domain.referrals import SITUATION_MAX, new_code
    from .referrals import centre_for

    dong = _dong(dong_code)
    user, item, before = _step(actor, case_id, text_rules.CaseAction.REFER)
    words = "\n".join(m.body for m in item.messages if m.direction == "in" and m.body) or "-"
    referral = Referral(code=_unused_referral_code(new_code), dong=dong, centre=centre_for(dong),
                        urgency=Urgency.URGENT if urgent else Urgency.NORMAL, situation=words[:SITUATION_MAX],
                        contact=item.phone, status=ReferralStatus.NEW, address="")
    db.session.add(referral)
    db.session.flush()
    item.referral_id = referral.id
    record(actor, "referral.receive", "referral", referral.id,
           after={"dong": dong.code, "urgency": referral.urgency, "centre": referral.centre.code, "from_text_case": item.id})
    if urgent:
        ask_urgent_notice(referral.id)
    _audit(actor, text_rules.CaseAction.REFER, item, before)
    return referral


def _unused_referral_code(new_code) -> str:
    while True:
        code = new_code()
        if db.session.scalar(select(Referral.id).where(Referral.code == code)) is None:
            return code


def not_for_site(actor: Actor, case_id: int, where: str) -> TextCase:
    """Not something the welfare line handles (a pothole, a parking fine): the resident is told where to go,
    by text, and the case is closed with that outcome."""
    place = text_rules.check_where(where)
    user, item, before = _step(actor, case_id, text_rules.CaseAction.NOT_FOR_SITE)
    item.where_to_go = place
    with force_locale(RESIDENT_LOCALE):
        body = _("[%(brand)s] This line is for welfare help. For your question, please contact: %(where)s",
                 brand=district_brand(), where=place)
    if item.first_answer_at is None:
        item.first_answer_at = utcnow()
    _send(item, body, author=user, automatic=False)
    _audit(actor, text_rules.CaseAction.NOT_FOR_SITE, item, before)
    return item


def close(actor: Actor, case_id: int) -> TextCase:
    user, item, before = _step(actor, case_id, text_rules.CaseAction.CLOSE)
    _audit(actor, text_rules.CaseAction.CLOSE, item, before)
    return item


def reopen(actor: Actor, case_id: int) -> TextCase:
    user, item, before = _step(actor, case_id, text_rules.CaseAction.REOPEN)
    _audit(actor, text_rules.CaseAction.REOPEN, item, before)
    return item


def duty_staff(item: TextCase) -> list[User]:
    """Who hears of an urgent text at once: the active staff of the district office, and of the case's
    centre when it was passed to one."""
    staff = select(User).where(User.role == Role.STAFF, User.active.is_(True)).order_by(User.id)
    office = list(db.session.scalars(staff.join(Centre, Centre.id == User.centre_id)
                                     .where(Centre.is_district_office.is_(True))))
    centre = list(db.session.scalars(staff.where(User.centre_id == item.centre_id))) if item.centre_id else []
    seen, people = set(), []
    for person in office + centre:
        if person.id not in seen:
            seen.add(person.id)
            people.append(person)
    return people


# --- counts for the district ---------------------------------------------------------------------

@dataclass
class MonthCounts:
    month: str                          # YYYY-MM, Seoul
    texts_in: int = 0
    texts_out: int = 0
    cases: int = 0
    answered_cases: int = 0
    median_first_answer_minutes: int | None = None
    outcomes: dict[str, int] = field(default_factory=dict)


def _month(at: datetime) -> str:
    return at.astimezone(SEOUL).strftime("%Y-%m")


def daily_counts(user: User, since: datetime) -> list[tuple[str, int]]:
    """Texts received per day (Seoul) since ``since``: counts only."""
    stamps = db.session.scalars(staff_scope(user, select(TextMessage.at).join(TextCase)).where(
        TextMessage.direction == "in", TextMessage.at >= since))
    days = Counter(at.astimezone(SEOUL).date().isoformat() for at in stamps)
    return sorted(days.items())


def monthly_counts(user: User, since: datetime) -> list[MonthCounts]:
    """By month (Seoul): texts each way, cases opened, the median time to a person's first answer, and
    cases by outcome. Counts only: they identify nobody and stay after the words are erased."""
    months: dict[str, MonthCounts] = {}

    def month(key: str) -> MonthCounts:
        return months.setdefault(key, MonthCounts(key, outcomes={o.value: 0 for o in text_rules.CaseOutcome}))

    for direction, at in db.session.execute(staff_scope(user, select(TextMessage.direction, TextMessage.at)
                                                        .join(TextCase)).where(TextMessage.at >= since)):
        row = month(_month(at))
        if direction == "in":
            row.texts_in += 1
        else:
            row.texts_out += 1
    waits: dict[str, list[float]] = defaultdict(list)
    for created, first, outcome in db.session.execute(staff_scope(user, select(
            TextCase.created_at, TextCase.first_answer_at, TextCase.outcome)).where(TextCase.created_at >= since)):
        row = month(_month(created))
        row.cases += 1
        if first is not None:
            row.answered_cases += 1
            waits[row.month].append((first - created).total_seconds() / 60)
        if outcome:
            row.outcomes[outcome] = row.outcomes.get(outcome, 0) + 1
    for key, values in waits.items():
        months[key].median_first_answer_minutes = round(median(values))
    return [months[key] for key in sorted(months)]


# --- retention ------------------------------------------------------------------------------------

def purge_closed(retention_days: int, now: datetime | None = None) -> list[int]:
    """Erase the number, the words and 'where to go' of cases closed ``retention_days`` ago or more, and the
    automatic-answer day of numbers left with no case. What stays counts without identifying anyone:
    dates, outcome, urgency, centre. Idempotent."""
    now = now or utcnow()
    cutoff = text_rules.purge_cutoff(now, retention_days)
    due = list(db.session.scalars(select(TextCase.id).where(
        TextCase.status == text_rules.CaseStatus.CLOSED, TextCase.purged_at.is_(None), TextCase.closed_at <= cutoff)
        .order_by(TextCase.id)))
    if due:
        db.session.execute(update(TextCase).where(TextCase.id.in_(due)).values(phone="", where_to_go=None, purged_at=now)
                           .execution_options(synchronize_session=False))
        db.session.execute(update(TextMessage).where(TextMessage.case_id.in_(due)).values(body=None)
                           .execution_options(synchronize_session=False))
        for case_id in due:
            record(SYSTEM, "text.purge", "text_case", case_id, after={"retention_days": retention_days})
    still_known = select(TextCase.phone).where(TextCase.phone != "")
    db.session.execute(delete(TextSender).where(TextSender.phone.not_in(still_known))
                       .execution_options(synchronize_session=False))
    db.session.expire_all()
    return due
