"""Needs: posting, editing, approval by a colleague, cancellation, expiry, and finding them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import lazyload

from ..domain import needs as need_rules
from ..domain.money import MAX_WON
from ..domain.needs import Contribution, ContributionKind, NeedAction, NeedStatus
from ..domain.personal_data import FieldFinding
from ..domain.time import seoul_today, utcnow
from ..extensions import db
from ..models import (BeneficiaryGroup, Category, Dong, Need, NeedContribution, Organisation, ReceivingOrganisation,
                      User)
from . import SYSTEM, Actor, Forbidden, NotFound, ServiceError
from . import effects, notices
from .audit import record
from .public_text import PersonalDataFound, personal_data_in, refuse_personal_data

MIN_TARGET = 10_000
# Every free-text field of a need that the public reads (the page, the open-data API).
PUBLIC_TEXT_FIELDS = ("title", "summary", "description", "unit_name")  # the receiving organisation is a record now


class NeedInputError(ServiceError):
    code = "need_input"


@dataclass(frozen=True)
class NeedInput:
    title: str
    summary: str
    description: str
    category_id: int
    dong_id: int
    group_id: int
    beneficiary_count: int
    deadline: date
    receiving_org_id: int
    target: int | None = None
    unit_name: str | None = None
    unit_cost: int | None = None
    units: int | None = None


def _snapshot(need: Need) -> dict[str, Any]:
    return {"status": need.status, "title": need.title, "target": need.target, "version": need.version,
            "deadline": need.deadline.isoformat(), "reserved": need.reserved, "confirmed": need.confirmed}


def _contributed(need: Need, user: User, kind: ContributionKind) -> None:
    db.session.add(NeedContribution(need_id=need.id, version=need.version, user_id=user.id, kind=kind.value))


def contributions(need: Need) -> list[Contribution]:
    """Everyone who wrote or submitted a version of ``need``. The author always counts (needs made
    before contributions were recorded have only that), and so does the open request's submitter."""
    rows = db.session.execute(select(NeedContribution.user_id, NeedContribution.version, NeedContribution.kind)
                              .where(NeedContribution.need_id == need.id)).all()
    found = [Contribution(row.user_id, row.version, ContributionKind(row.kind)) for row in rows]
    found.append(Contribution(need.author_id, 1, ContributionKind.CREATE))
    if need.submitted_by_id is not None:
        found.append(Contribution(need.submitted_by_id, need.version, ContributionKind.SUBMIT))
    return found


def approval_bar(user: User, need: Need) -> ContributionKind | None:
    """Why ``user`` may not approve ``need`` as it stands (``None``: they may), for the staff pages."""
    return need_rules.approval_bar(user.id, contributions(need), need.version)


def barred_from_approving(user_id: int):
    """A WHERE clause on Need: ``user_id`` wrote or submitted the version awaiting approval."""
    wrote = (select(NeedContribution.id)
             .where(NeedContribution.need_id == Need.id, NeedContribution.user_id == user_id,
                    or_(NeedContribution.kind.in_([ContributionKind.CREATE.value, ContributionKind.EDIT.value]),
                        NeedContribution.version == Need.version)).exists())
    submitted = and_(Need.submitted_by_id.is_not(None), Need.submitted_by_id == user_id)  # never NULL: NOT works
    return or_(Need.author_id == user_id, submitted, wrote)


def _lock(need: Need) -> Need:
    """Lock the need's row (not its joined reference data) and read it afresh: no edit, approval or
    payment slips in between the checks and the change."""
    return db.session.scalar(select(Need).where(Need.id == need.id).with_for_update(of=Need)
                             .execution_options(populate_existing=True))


def _apply_input(need: Need, data: NeedInput, today: date) -> None:
    if not data.title.strip() or not data.summary.strip():
        raise NeedInputError("title_summary_required")
    if data.deadline < today:
        raise NeedInputError("deadline_in_past")
    if data.beneficiary_count <= 0:
        raise NeedInputError("beneficiary_count_invalid")
    for model, key in ((Category, data.category_id), (Dong, data.dong_id), (BeneficiaryGroup, data.group_id)):
        if db.session.get(model, key) is None:
            raise NeedInputError("reference_unknown")
    org = db.session.get(ReceivingOrganisation, data.receiving_org_id)
    if org is None or (not org.active and org.id != need.receiving_org_id):
        raise NeedInputError("receiving_org_unknown")
    if data.unit_cost is not None or data.units is not None:
        if not data.unit_name or not data.unit_cost or not data.units:
            raise NeedInputError("unit_pricing_incomplete")
        target = need_rules.target_from_units(data.unit_cost, data.units)
        if data.target is not None and data.target != target:
            raise NeedInputError("target_not_units_product", expected=target)
        need.unit_name, need.unit_cost, need.units = data.unit_name.strip(), data.unit_cost, data.units
    else:
        if data.target is None:
            raise NeedInputError("target_required")
        target = data.target
        need.unit_name = need.unit_cost = need.units = None
    if target < MIN_TARGET:
        raise NeedInputError("target_too_small", minimum=MIN_TARGET)
    if target > MAX_WON:  # unit pricing can multiply past what any amount of the site may be
        raise NeedInputError("target_too_large", largest=MAX_WON)
    need.target = target
    need.title, need.summary = data.title.strip(), data.summary.strip()
    need.description = data.description.strip()
    need.category_id, need.dong_id, need.group_id = data.category_id, data.dong_id, data.group_id
    need.beneficiary_count = data.beneficiary_count
    need.deadline = data.deadline
    need.receiving_org_id = org.id


def _require_staff(actor: Actor) -> User:
    user = actor.user
    if user is None or not user.is_staff:
        raise Forbidden()
    return user


def staff_can_see(user: User, need: Need) -> bool:
    if user.sees_all_centres:
        return True
    return need.centre_id == user.centre_id


def staff_scope(user: User, query: Select) -> Select:
    """Restrict a query on Need to what this staff member may see. The one place that decides it."""
    if user.sees_all_centres:
        return query
    return query.where(Need.centre_id == user.centre_id)


def staff_pledge_scope(user: User, query: Select) -> Select:
    """Restrict a query on Pledge to pledges on needs this staff member may see (``staff_scope``'s
    rule). Staff who see every centre get every pledge on a need, without the needs table joined into
    the query (the money queue's counts took 15 ms with it and 5 without, for 25,000 awaiting pledges)."""
    from ..models import Pledge

    if user.sees_all_centres:
        return query.where(Pledge.need_id.is_not(None))
    return query.where(Pledge.need_id.in_(staff_scope(user, select(Need.id))))


def get_for_staff(user: User, need_id: int) -> Need:
    need = db.session.get(Need, need_id)
    if need is None or not staff_can_see(user, need):
        raise NotFound()  # 404, not 403: do not reveal other centres' drafts
    return need


def create_need(actor: Actor, data: NeedInput, today: date, *, referral_id: int | None = None) -> Need:
    """A draft need; ``referral_id`` links it to the referral it was posted from (one the staff member
    may see: NotFound otherwise), so staff can follow the referral to the help it led to."""
    user = _require_staff(actor)
    if referral_id is not None:
        from . import referrals as referral_service
        referral_service.get_for_staff(user, referral_id)
    need = Need(status=NeedStatus.DRAFT, author_id=user.id, centre_id=user.centre_id,
                reserved=0, confirmed=0, referral_id=referral_id)
    _apply_input(need, data, today)
    db.session.add(need)
    db.session.flush()
    _contributed(need, user, ContributionKind.CREATE)
    record(actor, "need.create", "need", need.id,
           after={**_snapshot(need), **({"referral": referral_id} if referral_id is not None else {})})
    return need


ARRANGED = (NeedStatus.OPEN, NeedStatus.FUNDED, NeedStatus.DELIVERING, NeedStatus.COMPLETED)


def help_arranged(referral_id: int) -> bool:
    """Whether a need posted from this referral went ahead (published, funded, delivered): all that a
    resident's receipt page may say about it."""
    return db.session.scalar(select(Need.id).where(Need.referral_id == referral_id,
                                                   Need.status.in_([s.value for s in ARRANGED])).limit(1)) is not None


def needs_from_referral(user, referral_id: int) -> list[Need]:
    """Needs posted from this referral that this staff member may see, oldest first."""
    return list(db.session.scalars(staff_scope(user, select(Need).where(Need.referral_id == referral_id))
                                   .order_by(Need.id)))


def update_need(actor: Actor, need: Need, data: NeedInput, today: date) -> Need:
    user = _require_staff(actor)
    if not staff_can_see(user, need):
        raise NotFound()
    need_rules.check_editable(need.status)
    _lock(need)
    need_rules.check_editable(need.status)
    before = _snapshot(need)
    _apply_input(need, data, today)
    need.version += 1
    _contributed(need, user, ContributionKind.EDIT)
    record(actor, "need.update", "need", need.id, before=before, after=_snapshot(need))
    return need


def public_text_findings(need: Need) -> list[FieldFinding]:
    """What the guard finds in the need's public text; a draft is saved anyway, with a warning."""
    return personal_data_in({field: getattr(need, field) for field in PUBLIC_TEXT_FIELDS})


def check_public_text(need: Need) -> None:
    findings = public_text_findings(need)
    if findings:
        raise PersonalDataFound(findings)


def _transition(actor: Actor, need: Need, action: NeedAction, **extra: Any) -> None:
    before = _snapshot(need)
    need.status = need_rules.next_status(need.status, action)
    after = _snapshot(need) | extra
    record(actor, f"need.{action.value}", "need", need.id, before=before, after=after)


def submit(actor: Actor, need: Need, today: date) -> None:
    user = _require_staff(actor)
    if not staff_can_see(user, need):
        raise NotFound()
    need_rules.next_status(need.status, NeedAction.SUBMIT)
    _lock(need)
    need_rules.next_status(need.status, NeedAction.SUBMIT)
    if need_rules.is_overdue(need.deadline, today):
        raise need_rules.DeadlinePassed(deadline=need.deadline)
    check_public_text(need)
    _transition(actor, need, NeedAction.SUBMIT)
    need.submitted_by_id, need.submitted_at = user.id, utcnow()
    _contributed(need, user, ContributionKind.SUBMIT)


def approve(actor: Actor, need: Need, today: date) -> None:
    user = _require_staff(actor)
    if not staff_can_see(user, need):
        raise NotFound()
    need_rules.next_status(need.status, NeedAction.APPROVE)
    _lock(need)
    need_rules.next_status(need.status, NeedAction.APPROVE)
    need_rules.check_approval(user.id, contributions(need), need.version, need.deadline, today)
    check_public_text(need)  # text may not change after submission, but the guard may have grown
    _transition(actor, need, NeedAction.APPROVE)
    need.approved_by_id = user.id
    need.approved_at = utcnow()
    effects.need_opened(actor, need)


def send_back(actor: Actor, need: Need) -> None:
    """Back to draft for changes; the approval request is withdrawn, so it must be submitted again."""
    user = _require_staff(actor)
    if not staff_can_see(user, need):
        raise NotFound()
    need_rules.next_status(need.status, NeedAction.RETURN)
    _lock(need)
    _transition(actor, need, NeedAction.RETURN)
    need.submitted_by_id = need.submitted_at = None


def cancel(actor: Actor, need: Need, reason: str | None) -> None:
    user = _require_staff(actor)
    if not staff_can_see(user, need):
        raise NotFound()
    need_rules.next_status(need.status, NeedAction.CANCEL)
    cleaned = need_rules.check_cancel_reason(reason)
    refuse_personal_data({"cancel_reason": cleaned})  # the public page shows the reason
    # Lock the row (only the needs row, not its joined reference data): no payment lands meanwhile.
    db.session.scalar(select(Need).where(Need.id == need.id).with_for_update(of=Need)
                      .execution_options(populate_existing=True))
    need_rules.next_status(need.status, NeedAction.CANCEL)
    need.cancel_reason = cleaned
    _transition(actor, need, NeedAction.CANCEL, reason=cleaned)
    effects.need_closed(actor, need)
    notices.remember(notices.CLOSED, need.id)  # its donors hear where their money went, after the commit


def expire_overdue(today: date, actor: Actor = SYSTEM) -> list[int]:
    """Expire every open need whose deadline has passed (Korea time). Idempotent."""
    overdue = db.session.scalars(
        select(Need).where(Need.status == NeedStatus.OPEN, Need.deadline < today).order_by(Need.id)
        .with_for_update(of=Need)
    ).all()
    for need in overdue:
        _transition(actor, need, NeedAction.EXPIRE)
        effects.need_closed(actor, need)
        notices.remember(notices.CLOSED, need.id)
    return [need.id for need in overdue]


# --- finding needs -------------------------------------------------------------------------

SORTS = {
    "deadline": (Need.deadline.asc(), Need.id.asc()),
    "newest": (Need.approved_at.desc(), Need.id.desc()),
    # The smallest share of the target still missing first (per mille, whole numbers on both databases),
    # then the smallest gap: a large need at 95% is nearer its goal than a small one at 0%.
    "nearly_funded": (((Need.target - Need.confirmed - Need.reserved) * 1000 / Need.target).asc(),
                      (Need.target - Need.confirmed - Need.reserved).asc(), Need.id.asc()),
    "largest": (Need.target.desc(), Need.id.asc()),
}
NEARLY_THERE_PERCENT = 50  # "목표 달성 임박": half the target paid in, and some still open to pledges
PUBLIC_FILTER_STATUSES = ("open", "funded", "delivering", "completed", "expired", "cancelled")


@dataclass(frozen=True)
class NeedFilters:
    q: str = ""
    category: str = ""
    dong: str = ""
    group: str = ""
    status: str = "open"
    closing_within_days: int | None = None
    sort: str = "deadline"
    page: int = 1
    per_page: int = 12
    given_to: bool = False   # only needs someone has given or promised money to
    nearly_there: bool = False  # the home's "nearly funded": at least NEARLY_THERE_PERCENT paid in, not all promised


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def shown_as(status: str, today: date):
    """Needs that read as ``status`` today (``Need.shown_status``), written so that the (status, deadline)
    index serves it: past its deadline an open need reads as expired, before the upkeep records it."""
    if status == NeedStatus.OPEN:
        return and_(Need.status == NeedStatus.OPEN.value, Need.deadline >= today)
    if status == NeedStatus.EXPIRED:
        return or_(Need.status == NeedStatus.EXPIRED.value,
                   and_(Need.status == NeedStatus.OPEN.value, Need.deadline < today))
    return Need.status == status


def public_needs_query(filters: NeedFilters, today: date) -> Select:
    query = select(Need)
    if filters.status in PUBLIC_FILTER_STATUSES:
        query = query.where(shown_as(filters.status, today))
    else:
        query = query.where(Need.status.in_([s.value for s in need_rules.PUBLIC_STATUSES]))
    if filters.category:
        query = query.where(Need.category_id == select(Category.id).where(Category.code == filters.category)
                            .scalar_subquery())
    if filters.dong:
        query = query.where(Need.dong_id == select(Dong.id).where(Dong.code == filters.dong).scalar_subquery())
    if filters.group:
        query = query.where(Need.group_id == select(BeneficiaryGroup.id)
                            .where(BeneficiaryGroup.code == filters.group).scalar_subquery())
    if filters.closing_within_days is not None:
        query = query.where(Need.deadline <= today + timedelta(days=filters.closing_within_days),
                            Need.deadline >= today)
    if filters.given_to:
        query = query.where(Need.confirmed + Need.reserved > 0)
    if filters.nearly_there:  # by the money in, as the progress bar shows it; fully promised needs take no more
        query = query.where(Need.confirmed * 100 >= Need.target * NEARLY_THERE_PERCENT,
                            Need.confirmed + Need.reserved < Need.target)
    words = [w for w in filters.q.split() if w][:5]
    for word in words:
        # Substring match works for Korean, which has no word stemming to speak of; lower() for Latin.
        pattern = f"%{_escape_like(word.lower())}%"
        query = query.where(or_(func.lower(Need.title).like(pattern, escape="\\"),
                                func.lower(Need.summary).like(pattern, escape="\\"),
                                func.lower(Need.description).like(pattern, escape="\\")))
    return query


# Lists of needs read the needs alone: joining the five reference tables (lazy="joined" on the model)
# cost PostgreSQL about 2 ms of planning a query, more than running it. A card names its category,
# dong and group from the district's reference data each process keeps (services/reference.py); the
# relations load only if something asks for them.
WITHOUT_REFERENCE_JOINS = tuple(lazyload(relation) for relation in (
    Need.category, Need.dong, Need.group, Need.receiving_org, Need.centre))


def search_public_needs(filters: NeedFilters, today: date, *, with_total: bool = True,
                        with_relations: bool = False,
                        count_up_to: int | None = None) -> tuple[list[Need], int | None]:
    """A page of needs and how many match (``None`` when ``with_total`` is off: counting is a scan).
    ``with_relations`` joins the five reference rows in (the API prints them all). ``count_up_to``
    stops counting past that many (the total is then ``count_up_to + 1``): a word in thousands of needs
    costs what a word in a thousand does."""
    query = counted = public_needs_query(filters, today)
    if not with_relations:
        query = query.options(*WITHOUT_REFERENCE_JOINS)
    if count_up_to is not None:
        counted = counted.with_only_columns(Need.id).limit(count_up_to + 1)
    total = db.session.scalar(select(func.count()).select_from(counted.subquery())) if with_total else None
    order = SORTS.get(filters.sort, SORTS["deadline"])
    page = max(1, filters.page)
    items = db.session.scalars(query.order_by(*order).offset((page - 1) * filters.per_page)
                               .limit(filters.per_page)).all()
    return list(items), total


def get_public_need(need_id: int) -> Need:
    need = db.session.get(Need, need_id)
    if need is None or NeedStatus(need.status) not in need_rules.PUBLIC_STATUSES:
        raise NotFound()
    return need


def district_totals(today: date | None = None) -> dict[str, int]:
    """One pass over the public needs (the home page asks on every render)."""
    funded = [NeedStatus.FUNDED, NeedStatus.DELIVERING, NeedStatus.COMPLETED]
    row = db.session.execute(
        select(func.count(Need.id), func.coalesce(func.sum(Need.confirmed), 0),
               func.coalesce(func.sum(Need.target), 0),
               func.count(Need.id).filter(shown_as(NeedStatus.OPEN, today or seoul_today())),
               func.count(Need.id).filter(Need.status.in_(funded)))
        .where(Need.status.in_([s.value for s in need_rules.PUBLIC_STATUSES if s != NeedStatus.CANCELLED]))
    ).one()
    return {"needs": row[0], "received": int(row[1]), "target": int(row[2]), "open": row[3], "funded": row[4]}


def supporters(need_id: int, limit: int = 30) -> dict:
    """Who gave to this need, as each donor chose to be shown, with what their gift put on the need
    (not money later refunded or pooled); anonymous gifts are only counted."""
    from ..models import Pledge
    from .ledger import placed_on_need_by_pledge

    placed = placed_on_need_by_pledge(need_id)
    # Only the columns shown, with the donor's and organisation's names joined in: one query, not one
    # per supporter, and no ORM objects for the hundreds of rows a popular need has.
    rows = db.session.execute(
        select(Pledge.display, Pledge.message, User.display_name, Organisation.name.label("organisation"),
               placed.c.placed)
        .join(placed, placed.c.pledge_id == Pledge.id)
        .join(User, User.id == Pledge.donor_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(placed.c.placed > 0).order_by(Pledge.created_at.desc()).limit(500)).all()
    shown = [{"name": row.organisation if row.display == "organisation" and row.organisation else row.display_name,
              "amount": int(row.placed), "message": row.message}
             for row in rows if row.display in ("name", "organisation")]
    return {"shown": shown[:limit], "anonymous": sum(1 for row in rows if row.display == "anonymous"),
            "count": len(rows)}
