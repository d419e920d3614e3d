"""Delivery and impact: starting delivery, spending, returning leftovers, writing, checking and
publishing the report; and the public figures built from it (per need, district, donor wall, donor).

Lock order, as everywhere: the need row first, then pledge rows in id order. Money moves only
through the journal; ``Need.confirmed`` stays = disbursed + held, and decreases by what is returned.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, literal, select, true, union_all
from sqlalchemy.orm import joinedload, lazyload

from ..domain import impact as impact_rules
from ..domain import ledger as ledger_rules
from ..domain.impact import DeliveryFacts, ReportAction, ReportStatus
from ..domain.matching import DISTRICT_POOL_ID
from ..domain.needs import NeedAction, NeedStatus
from ..domain.needs import next_status as next_need_status
from ..domain.personal_data import FieldFinding
from ..domain.time import SEOUL, utcnow
from ..extensions import db
from ..models import (Category, Disbursement, Dong, ImpactReport, LedgerLine, LedgerTransaction,
                      LeftoverReturn, Need, Organisation, Payment, Pledge, Refund, ReportPhoto, User)
from ..models.types import seoul_month
from . import Actor, Forbidden, NotFound, ServiceError
from . import effects, journal, notices
from . import ledger as ledger_reads
from . import matching as matching_service
from . import photos as photo_files
from .audit import record
from .bulk import among
from .needs import staff_can_see
from .pledges import follow_donor_choice, lock_need
from .public_text import PersonalDataFound, personal_data_in, refuse_personal_data

MAX_CAPTION = 200
MAX_DESCRIPTION = 200


class ImpactError(ServiceError):
    """A refusal of the impact service (codes: need_not_delivering, report_locked, no_leftover, ...)."""

    code = "impact"


# --- who may act ----------------------------------------------------------------------------

def _staff(actor: Actor) -> User:
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden()
    return actor.user


def _visible(actor: Actor, need: Need) -> User:
    user = _staff(actor)
    if not staff_can_see(user, need):
        raise NotFound()
    return user


def report_for(need_id: int) -> ImpactReport | None:
    return db.session.scalar(select(ImpactReport).where(ImpactReport.need_id == need_id))


def _editable_report(need: Need) -> ImpactReport:
    report = report_for(need.id)
    if report is None:
        raise ImpactError("no_report")
    if ReportStatus(report.status) not in impact_rules.EDITABLE:
        raise ImpactError("report_locked")
    return report


# --- money of a need, from the journal ------------------------------------------------------

@dataclass(frozen=True)
class NeedMoney:
    money_in: int        # placed on the need, all told
    taken_back: int      # taken back off it (leftovers returned, or a cancelled need's money)
    spent: int           # disbursed
    returned_leftover: int

    @property
    def placed(self) -> int:
        return self.money_in - self.taken_back

    @property
    def held(self) -> int:
        return self.placed - self.spent


def need_money(need_id: int, *, returned: int | None = None) -> NeedMoney:
    """From the journal, in one query (and one more for leftovers returned, unless given)."""
    account, spent_account = ledger_rules.need_account(need_id), ledger_rules.spent_account(need_id)
    on_need = LedgerLine.account == account
    money_in, taken_back, spent = db.session.execute(
        select(func.coalesce(func.sum(case((and_(on_need, LedgerLine.amount < 0), -LedgerLine.amount), else_=0)), 0),
               func.coalesce(func.sum(case((and_(on_need, LedgerLine.amount > 0), LedgerLine.amount), else_=0)), 0),
               func.coalesce(func.sum(case((LedgerLine.account == spent_account, LedgerLine.amount), else_=0)), 0))
        .where(LedgerLine.account.in_([account, spent_account]))).one()
    if returned is None:
        returned = db.session.scalar(select(func.coalesce(func.sum(LeftoverReturn.amount), 0))
                                     .where(LeftoverReturn.need_id == need_id))
    return NeedMoney(int(money_in), int(taken_back), int(spent), int(returned))


def placed_by_pledges(need_id: int) -> dict[int, int]:
    """What each pledge has on this need now (placed minus taken back), from the journal."""
    placed = ledger_reads.placed_on_need_by_pledge(need_id)
    rows = db.session.execute(select(placed.c.pledge_id, placed.c.placed)).all()
    return {pledge_id: int(total) for pledge_id, total in rows if int(total) > 0}


def _placed_with_fund(need_id: int) -> dict[int, int]:
    """What each pledge has on this need, and the district's fund under ``DISTRICT_POOL_ID``."""
    placed = placed_by_pledges(need_id)
    fund = matching_service.fund_on_need(need_id)
    if fund > 0:
        placed[DISTRICT_POOL_ID] = fund
    return placed


# --- delivery ---------------------------------------------------------------------------------

def _set_need_status(actor: Actor, need: Need, action: NeedAction) -> None:
    before = need.status
    need.status = next_need_status(need.status, action)
    record(actor, f"need.{action.value}", "need", need.id, before={"status": before},
           after={"status": need.status, "confirmed": need.confirmed})


def start_delivery(actor: Actor, need: Need, *, report_due: date, today: date) -> ImpactReport:
    """A funded need starts being delivered; its report opens as a draft, due on ``report_due``."""
    user = _visible(actor, need)
    need = lock_need(need.id)
    next_need_status(need.status, NeedAction.START_DELIVERY)
    if report_due < today:
        raise ImpactError("report_due_in_past")
    _set_need_status(actor, need, NeedAction.START_DELIVERY)
    report = ImpactReport(need_id=need.id, status=ReportStatus.DRAFT, report_due=report_due,
                          unit_name=need.unit_name, units_planned=need.units or need.beneficiary_count,
                          started_by_id=user.id, story="")
    db.session.add(report)
    db.session.flush()
    record(actor, "impact.start", "need", need.id, after={"report_due": report_due.isoformat(),
                                                           "units_planned": report.units_planned})
    return report


def record_disbursement(actor: Actor, need: Need, *, amount: int, spent_on: date, description: str,
                        today: date) -> Disbursement:
    """Money spent for the need: Dr spent:<need>, Cr cash. ``Need.confirmed`` does not change."""
    user = _visible(actor, need)
    need = lock_need(need.id)
    if need.status != NeedStatus.DELIVERING:
        raise ImpactError("need_not_delivering")
    _editable_report(need)
    cleaned = (description or "").strip()
    if not cleaned:
        raise ImpactError("description_required")
    if len(cleaned) > MAX_DESCRIPTION:
        raise ImpactError("description_too_long", maximum=MAX_DESCRIPTION)
    refuse_personal_data({"description": cleaned})
    impact_rules.check_disbursement(amount, held=need_money(need.id).held, spent_on=spent_on, today=today,
                             since=need.created_at.astimezone(SEOUL).date())
    transaction = journal.post(ledger_rules.disbursed(need.id, amount, memo=cleaned), actor)
    item = Disbursement(need_id=need.id, amount=amount, spent_on=spent_on, description=cleaned,
                        transaction=transaction, recorded_by_id=user.id)
    db.session.add(item)
    db.session.flush()
    record(actor, "impact.disburse", "need", need.id, after={"amount": amount, "spent_on": spent_on.isoformat()})
    return item


def preview_leftovers(need: Need) -> dict[int, int]:
    """How the money still held on the need would go back, pledge by pledge (nothing is written)."""
    held = need_money(need.id).held
    return impact_rules.split_leftover(held, _placed_with_fund(need.id)) if held > 0 else {}


def return_leftovers(actor: Actor, need: Need) -> list[LeftoverReturn]:
    """Give back what the need did not spend, split in proportion to what each pledge placed on it;
    each part then follows its donor's choice (pooled fund, refund, or a similar need)."""
    user = _visible(actor, need)
    need = lock_need(need.id)
    if need.status != NeedStatus.DELIVERING:
        raise ImpactError("need_not_delivering")
    _editable_report(need)
    money = need_money(need.id)
    if money.spent <= 0:  # nothing spent yet: returning now would hand back the whole need's money
        raise ImpactError("nothing_spent")
    held = money.held
    if held <= 0:
        raise ImpactError("no_leftover")
    parts = impact_rules.split_leftover(held, _placed_with_fund(need.id))
    pledges = {p.id: p for p in db.session.scalars(
        select(Pledge).where(Pledge.id.in_(sorted(parts))).order_by(Pledge.id).with_for_update()
        .execution_options(populate_existing=True))}
    returns = []
    to_fund = parts.pop(DISTRICT_POOL_ID, 0)
    if to_fund:  # the district's fund's share goes back to the fund, to be placed again
        matching_service.return_to_fund(actor, need, to_fund, "leftover")
    for pledge_id, amount in parts.items():
        pledge = pledges[pledge_id]
        transaction = journal.post(ledger_rules.unallocated(pledge.id, need.id, amount, memo="leftover"), actor)
        need.confirmed -= amount
        follow_donor_choice(actor, pledge, amount, reason="leftover")
        item = LeftoverReturn(need_id=need.id, pledge_id=pledge.id, amount=amount, destination=pledge.on_cancel,
                              transaction=transaction, recorded_by_id=user.id)
        db.session.add(item)
        returns.append(item)
    db.session.flush()
    record(actor, "impact.leftovers", "need", need.id, after={"returned": held, "pledges": len(parts),
                                                               "confirmed": need.confirmed})
    if to_fund or any(pledges[pledge_id].on_cancel == "pool" for pledge_id in parts):
        effects.pool_received(actor)
    return returns


# --- the report -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportInput:
    units_delivered: int | None
    beneficiaries_reached: int | None
    delivered_from: date | None
    delivered_to: date | None
    story: str


def _facts(report: ImpactReport, data: ReportInput | None = None) -> DeliveryFacts:
    source = data or report
    return DeliveryFacts(units_planned=report.units_planned, units_delivered=source.units_delivered,
                         beneficiaries_reached=source.beneficiaries_reached, delivered_from=source.delivered_from,
                         delivered_to=source.delivered_to, story=source.story or "")


def save_report(actor: Actor, need: Need, data: ReportInput, today: date) -> ImpactReport:
    _visible(actor, need)
    report = _editable_report(need)
    story = (data.story or "").strip()
    data = ReportInput(data.units_delivered, data.beneficiaries_reached, data.delivered_from, data.delivered_to, story)
    impact_rules.check_delivery_values(_facts(report, data), today)
    report.units_delivered, report.beneficiaries_reached = data.units_delivered, data.beneficiaries_reached
    report.delivered_from, report.delivered_to, report.story = data.delivered_from, data.delivered_to, story
    record(actor, "impact.update", "need", need.id, after={"units_delivered": report.units_delivered})
    return report


def add_photo(actor: Actor, need: Need, *, data: bytes, filename: str | None, caption: str, consent: bool,
              folder) -> ReportPhoto:
    """Check, re-encode and store a photo for the draft report. The file is written before the row;
    the caller removes it (:func:`photos.discard`) if the transaction is rolled back."""
    user = _visible(actor, need)
    report = _editable_report(need)
    if not consent:
        raise ImpactError("consent_required")
    cleaned = (caption or "").strip()
    if not cleaned:
        raise ImpactError("caption_required")
    if len(cleaned) > MAX_CAPTION:
        raise ImpactError("caption_too_long", maximum=MAX_CAPTION)
    refuse_personal_data({"caption": cleaned})
    processed = photo_files.process_photo(data, filename)
    name = photo_files.random_name(processed.extension)
    photo_files.store(folder, name, processed.data)
    photo = ReportPhoto(report_id=report.id, filename=name, content_type=processed.content_type,
                        width=processed.width, height=processed.height, size_bytes=len(processed.data),
                        caption=cleaned, consent=True, uploaded_by_id=user.id)
    db.session.add(photo)
    try:
        db.session.flush()
    except Exception:
        photo_files.discard(folder, name)
        raise
    record(actor, "impact.photo_add", "need", need.id, after={"photo": photo.id, "bytes": len(processed.data)})
    return photo


def remove_photo(actor: Actor, photo: ReportPhoto) -> str:
    """Remove a photo from a draft report; returns the file name for the caller to delete after commit."""
    need = photo.report.need
    _visible(actor, need)
    _editable_report(need)
    name = photo.filename
    db.session.delete(photo)
    record(actor, "impact.photo_remove", "need", need.id, after={"photo": photo.id})
    return name


def report_text_findings(report: ImpactReport) -> list[FieldFinding]:
    """What the guard finds in the report's public text (story, photo captions); a draft is saved
    anyway, with a warning."""
    findings = personal_data_in({"story": report.story})
    for photo in report.photos:
        findings += personal_data_in({"caption": photo.caption})
    return findings


def _check_report_text(report: ImpactReport) -> None:
    findings = report_text_findings(report)
    if findings:
        raise PersonalDataFound(findings)


def _transition(actor: Actor, report: ImpactReport, action: ReportAction) -> None:
    before = report.status
    report.status = impact_rules.next_status(report.status, action)
    record(actor, f"impact.{action.value}", "need", report.need_id, before={"report": before},
           after={"report": report.status})


def submit_report(actor: Actor, need: Need, today: date) -> ImpactReport:
    user = _visible(actor, need)
    report = report_for(need.id)
    if report is None:
        raise ImpactError("no_report")
    impact_rules.next_status(report.status, ReportAction.SUBMIT)
    money = need_money(need.id)
    impact_rules.check_ready_to_submit(_facts(report), held=money.held, spent=money.spent, today=today)
    _check_report_text(report)
    _transition(actor, report, ReportAction.SUBMIT)
    report.submitted_by_id, report.submitted_at = user.id, utcnow()
    return report


def return_report(actor: Actor, need: Need) -> ImpactReport:
    _visible(actor, need)
    report = report_for(need.id)
    if report is None:
        raise ImpactError("no_report")
    _transition(actor, report, ReportAction.RETURN)
    return report


def approve_report(actor: Actor, need: Need, today: date) -> ImpactReport:
    """A colleague publishes the report; the need is then completed."""
    user = _visible(actor, need)
    need = lock_need(need.id)
    report = report_for(need.id)
    if report is None:
        raise ImpactError("no_report")
    impact_rules.next_status(report.status, ReportAction.APPROVE)
    impact_rules.check_approver(report.submitted_by_id, user.id)
    money = need_money(need.id)
    impact_rules.check_ready_to_submit(_facts(report), held=money.held, spent=money.spent, today=today)
    _check_report_text(report)  # the text cannot change after submission, but the guard may have grown
    next_need_status(need.status, NeedAction.COMPLETE)
    _transition(actor, report, ReportAction.APPROVE)
    report.approved_by_id, report.published_at = user.id, utcnow()
    _set_need_status(actor, need, NeedAction.COMPLETE)
    notices.remember(notices.IMPACT, need.id)  # its donors hear what their gift did, after the commit
    return report


# --- staff lists ------------------------------------------------------------------------------

def staff_reports(user: User, today: date) -> dict[str, list]:
    """The staff impact overview: funded needs to start, reports in progress, to approve, overdue."""
    from .needs import staff_scope

    funded = db.session.scalars(staff_scope(user, select(Need)).where(Need.status == NeedStatus.FUNDED)
                                .order_by(Need.deadline, Need.id)).all()
    visible = staff_scope(user, select(Need.id))
    reports = db.session.scalars(select(ImpactReport).where(ImpactReport.need_id.in_(visible),
                                                            ImpactReport.status != ReportStatus.PUBLISHED)
                                 .order_by(ImpactReport.report_due, ImpactReport.id)).all()
    overdue = [r for r in reports if impact_rules.is_report_overdue(r.report_due, today, r.status)]
    to_approve = [r for r in reports if r.status == ReportStatus.AWAITING_APPROVAL and r.submitted_by_id != user.id]
    return {"funded": list(funded), "in_progress": list(reports), "overdue": overdue, "to_approve": to_approve}


# --- public: one need -------------------------------------------------------------------------

@dataclass(frozen=True)
class Contributor:
    name: str | None          # None: anonymous
    amount: int
    kind: str                 # direct, pooled, match
    message: str = ""


# Names shown come from the donor and their organisation: loaded with the pledges, not one by one.
_WITH_NAMES = joinedload(Pledge.donor).joinedload(User.organisation)


def shown_name(display: str, display_name: str, organisation: str | None) -> str | None:
    """The name a gift is shown under, as its donor chose: their organisation's, their own, or none."""
    if display == "organisation" and organisation is not None:
        return organisation
    if display == "name":
        return display_name
    return None


def _shown_name(pledge: Pledge) -> str | None:
    organisation = pledge.donor.organisation
    return shown_name(pledge.display, pledge.donor.display_name, organisation.name if organisation else None)


def contributors(need_id: int) -> list[Contributor]:
    """Every pledge with money on the need now, largest first; names only where donors chose them.

    One query of the columns shown: the sums per pledge (placed_by_pledges' grouping) joined to the
    pledge, its donor and their organisation, not the pledges and donors as ORM objects (a popular
    need has hundreds)."""
    placed = ledger_reads.placed_on_need_by_pledge(need_id)
    rows = db.session.execute(
        select(Pledge.kind, Pledge.display, Pledge.message, User.display_name, Organisation.name.label("organisation"),
               placed.c.placed)
        .join(placed, placed.c.pledge_id == Pledge.id)
        .join(User, User.id == Pledge.donor_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(placed.c.placed > 0)).all()
    people = []
    for row in rows:
        name = shown_name(row.display, row.display_name, row.organisation)
        people.append(Contributor(name, int(row.placed), row.kind, row.message if name else ""))
    people.sort(key=lambda c: (-c.amount, c.name or ""))
    return people


@dataclass
class NeedImpact:
    need: Need
    money: NeedMoney
    report: ImpactReport | None               # only when published
    disbursements: list[Disbursement]
    leftovers: dict[str, int]                 # destination -> won
    shown: list[Contributor]
    anonymous_count: int
    anonymous_amount: int
    match_offers: list[Contributor]

    @property
    def delivered_percent(self) -> int:
        from ..domain.money import percent_of
        if self.report is None or self.report.units_delivered is None:
            return 0
        return percent_of(self.report.units_delivered, self.report.units_planned)


def need_impact(need: Need) -> NeedImpact:
    report = report_for(need.id)
    people = contributors(need.id)
    leftovers: dict[str, int] = {}
    for destination, amount in db.session.execute(
            select(LeftoverReturn.destination, func.sum(LeftoverReturn.amount))
            .where(LeftoverReturn.need_id == need.id).group_by(LeftoverReturn.destination)):
        leftovers[destination] = int(amount)
    direct = [c for c in people if c.kind != "match"]
    return NeedImpact(
        need=need, money=need_money(need.id, returned=sum(leftovers.values())), report=report if report is not None and report.is_published else None,
        disbursements=list(db.session.scalars(select(Disbursement).where(Disbursement.need_id == need.id)
                                              .order_by(Disbursement.spent_on, Disbursement.id))),
        leftovers=leftovers, shown=[c for c in direct if c.name], anonymous_count=sum(1 for c in direct if not c.name),
        anonymous_amount=sum(c.amount for c in direct if not c.name),
        match_offers=[c for c in people if c.kind == "match"])


@dataclass(frozen=True)
class LedgerRow:
    day: str           # YYYY-MM-DD, or YYYY-MM for anonymous gifts added up per month
    entry: str         # in, spent, returned
    amount: int
    donor: str         # a name the donor chose to show, 'anonymous', 'pooled fund', or '' for spending
    gifts: int | None
    note: str          # what spending paid for; where returned money went


def public_ledger(need: Need) -> list[LedgerRow]:
    """The need's public ledger: money in, spent, returned; anonymous donors added up per month,
    no personal data (donor names only where the donor chose to be shown)."""
    account, spent_account = ledger_rules.need_account(need.id), ledger_rules.spent_account(need.id)
    rows = db.session.execute(
        select(LedgerTransaction.id, LedgerTransaction.created_at, LedgerTransaction.pledge_id, LedgerLine.account,
               LedgerLine.amount)
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.need_id == need.id, LedgerLine.account.in_([account, spent_account]))
        .order_by(LedgerTransaction.id)).all()
    pledge_ids = {r.pledge_id for r in rows if r.pledge_id is not None}
    pledges = {p.id: p for p in db.session.scalars(select(Pledge).where(Pledge.id.in_(pledge_ids))
                                                   .options(_WITH_NAMES))} if pledge_ids else {}
    spending = {d.transaction_id: d for d in db.session.scalars(
        select(Disbursement).where(Disbursement.need_id == need.id))}
    destinations = {r.transaction_id: r.destination for r in db.session.scalars(
        select(LeftoverReturn).where(LeftoverReturn.need_id == need.id))}
    out: list[LedgerRow] = []
    anonymous: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for row in rows:
        day = row.created_at.astimezone(SEOUL).date()
        if row.account == spent_account:
            item = spending.get(row.id)
            out.append(LedgerRow((item.spent_on if item else day).isoformat(), "spent", row.amount, "", None,
                                 item.description if item else ""))
            continue
        entry = "in" if row.amount < 0 else "returned"
        note = destinations.get(row.id, "") if entry == "returned" else ""
        pledge = pledges.get(row.pledge_id)
        name = _shown_name(pledge) if pledge is not None else "pooled fund"
        if name is None:
            anonymous[(impact_rules.month_key(day), entry, note)].append(abs(row.amount))
        else:
            out.append(LedgerRow(day.isoformat(), entry, abs(row.amount), name, 1, note))
    for (month, entry, note), amounts in anonymous.items():
        out.append(LedgerRow(month, entry, sum(amounts), "anonymous", len(amounts), note))
    order = {"in": 0, "spent": 1, "returned": 2}
    out.sort(key=lambda r: (r.day, order[r.entry], r.donor, -r.amount))
    return out


# --- public: the district ---------------------------------------------------------------------

def _utc_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    to_dt = lambda d: datetime.combine(d, time.min, SEOUL) if d else None  # noqa: E731
    return to_dt(start), to_dt(end)


def _in_range(column, start, end):
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    return and_(*conditions) if conditions else true()


@dataclass(frozen=True)
class Label:
    """A category's or dong's code and names, as plain values: a summary may outlive its session."""

    code: str
    name_ko: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_ko


@dataclass
class Breakdown:
    ref: Label
    placed: int
    completed: int


@dataclass
class DistrictImpact:
    period: str
    start: date | None
    end: date | None           # exclusive
    received: int
    refunded: int
    spent: int
    needs_completed: int
    beneficiaries_reached: int
    donors: int
    by_category: list[Breakdown] = field(default_factory=list)
    by_dong: list[Breakdown] = field(default_factory=list)
    by_month: list[tuple[str, int]] = field(default_factory=list)
    computed_at: datetime | None = None
    # The district's pooled fund (구 나눔 기금) now, whatever the period: left to it, and waiting in it.
    fund_received: int = 0
    fund_balance: int = 0

    @property
    def fund_placed(self) -> int:
        return self.fund_received - self.fund_balance


def district_impact(period: str, today: date) -> DistrictImpact:
    """The district's figures for a period, in six aggregate queries whatever the data size (each
    scans its table once; nothing per row comes back to Python)."""
    period = period if period in impact_rules.PERIODS else "all"
    start, end = impact_rules.period_range(period, today)
    start_at, end_at = _utc_bounds(start, end)
    received, donors = db.session.execute(
        select(func.coalesce(func.sum(Payment.amount), 0), func.count(func.distinct(Pledge.donor_id)))
        .select_from(Payment).join(Pledge, Pledge.id == Payment.pledge_id)
        .where(_in_range(Payment.received_at, start_at, end_at))).one()
    pool_lines = (select(func.coalesce(func.sum(LedgerLine.amount), 0))
                  .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
                  .where(LedgerLine.account == ledger_rules.POOL))
    refunded, spent, fund_in, fund_total = db.session.execute(select(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.status == "done", _in_range(Refund.refunded_at, start_at, end_at)).scalar_subquery(),
        select(func.coalesce(func.sum(Disbursement.amount), 0))
        .where(_in_range(Disbursement.spent_on, start, end)).scalar_subquery(),
        pool_lines.where(LedgerTransaction.pledge_id.is_not(None)).scalar_subquery(),
        pool_lines.scalar_subquery())).one()
    summary = DistrictImpact(period, start, end, int(received), int(refunded), int(spent), 0, 0, int(donors),
                             computed_at=utcnow(), fund_received=-int(fund_in), fund_balance=-int(fund_total))
    _add_breakdowns(summary, start_at, end_at)
    summary.by_month = _months(start, end, start_at, end_at, today)
    return summary


def _add_breakdowns(summary: DistrictImpact, start_at, end_at) -> None:
    """Money placed on needs and reports published, per category and per dong, and the totals of
    reports: grouped by category and dong at once (the pairs are few), summed up here."""
    placed = db.session.execute(
        select(Need.category_id, Need.dong_id, -func.sum(LedgerLine.amount))
        .select_from(LedgerLine)
        .join(LedgerTransaction, LedgerLine.transaction_id == LedgerTransaction.id)
        .join(Need, Need.id == LedgerTransaction.need_id)
        .where(LedgerLine.account.startswith("need:"), _in_range(LedgerTransaction.created_at, start_at, end_at))
        .group_by(Need.category_id, Need.dong_id)).all()
    reports = db.session.execute(
        select(Need.category_id, Need.dong_id, func.count(ImpactReport.id),
               func.coalesce(func.sum(ImpactReport.beneficiaries_reached), 0))
        .join(Need, Need.id == ImpactReport.need_id)
        .where(ImpactReport.status == ReportStatus.PUBLISHED,
               _in_range(ImpactReport.published_at, start_at, end_at))
        .group_by(Need.category_id, Need.dong_id)).all()
    sums: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for category_id, dong_id, amount in placed:
        sums[("category", category_id)][0] += int(amount or 0)
        sums[("dong", dong_id)][0] += int(amount or 0)
    for category_id, dong_id, count, reached in reports:
        sums[("category", category_id)][1] += int(count)
        sums[("dong", dong_id)][1] += int(count)
        summary.needs_completed += int(count)
        summary.beneficiaries_reached += int(reached)
    labels = union_all(*(select(literal(kind).label("kind"), model.id, model.code, model.name_ko, model.name_en,
                                model.sort.label("sort"))
                         for kind, model in (("category", Category), ("dong", Dong)))).subquery()
    rows = {"category": [], "dong": []}
    for kind, row_id, code, name_ko, name_en, _sort in db.session.execute(
            select(labels).order_by(labels.c.kind, labels.c.sort, labels.c.id)):
        rows[kind].append(Breakdown(Label(code, name_ko, name_en), *sums.get((kind, row_id), (0, 0))))
    summary.by_category, summary.by_dong = rows["category"], rows["dong"]


def _months(start, end, start_at, end_at, today) -> list[tuple[str, int]]:
    month = seoul_month(Payment.received_at)
    rows = db.session.execute(select(month, func.sum(Payment.amount))
                              .where(_in_range(Payment.received_at, start_at, end_at))
                              .group_by(month)).all()
    firsts = [(date(int(key[:4]), int(key[5:7]), 1), int(amount)) for key, amount in rows]
    first = start or min((d for d, _ in firsts), default=today)
    last = min(end - timedelta(days=1), today) if end else max([today] + [d for d, _ in firsts])
    return impact_rules.month_series(firsts, first, last)


# --- public: the donor wall -------------------------------------------------------------------

def donor_wall() -> dict[impact_rules.WallGroup, list[impact_rules.WallEntry]]:
    """Only donors who chose to be shown, and only the gifts they chose to show; organisations only
    once verified. Giving counts what was paid, minus what was (or is to be) refunded."""
    refunds = (select(Refund.pledge_id, func.sum(Refund.amount).label("refunded"))
               .group_by(Refund.pledge_id).subquery())
    rows = db.session.execute(
        select(Pledge.display, Pledge.paid, func.coalesce(refunds.c.refunded, 0), User.id, User.display_name,
               Organisation.id, Organisation.name, Organisation.kind, Organisation.verified_at)
        .join(User, User.id == Pledge.donor_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .outerjoin(refunds, refunds.c.pledge_id == Pledge.id)
        .where(Pledge.display.in_(["name", "organisation"]), Pledge.paid > 0)).all()
    gifts = []
    for display, paid, refunded, user_id, user_name, org_id, org_name, org_kind, verified_at in rows:
        given = int(paid) - int(refunded)
        if display == "organisation":
            if org_id is None or verified_at is None:
                continue
            gifts.append(impact_rules.RecognisedGift(f"org:{org_id}", org_name, display, org_kind, given))
        else:
            gifts.append(impact_rules.RecognisedGift(f"user:{user_id}", user_name, display, None, given))
    return impact_rules.build_wall(gifts)


# --- the donor's own impact -------------------------------------------------------------------

@dataclass
class DonorNeedImpact:
    need: Need
    placed: int                 # the donor's money on the need now
    report: ImpactReport | None
    spent: int                  # the need's total spending (published reports)
    units_tenths: int           # delivered units this donor's money paid for, in tenths
    returned: int               # leftovers given back from this need


@dataclass
class DonorImpact:
    given: int                  # paid, minus refunds
    items: list[DonorNeedImpact]  # the page's needs (all of them when not paged)
    pooled: int                 # moved to the pooled fund
    refunded: int
    needs: int = 0              # needs supported, on every page
    page: int = 1
    pages: int = 1


class PageNotFound(LookupError):
    """A page after the last one."""


def donor_impact(donor: User, page: int = 1, per_page: int | None = None) -> DonorImpact:
    """A fixed number of queries, however many pledges the donor has: their pledges are a subquery,
    the sums per need are grouped queries, and only the needs of the page asked for (``per_page`` of
    them, reported needs first, then the most money, then the newest) are loaded with their reports and spending.
    A page after the last raises :class:`PageNotFound`; the first page of nothing is empty."""
    ids = select(Pledge.id).where(Pledge.donor_id == donor.id).scalar_subquery()
    count, paid = db.session.execute(select(func.count(Pledge.id), func.coalesce(func.sum(Pledge.paid), 0))
                                     .where(Pledge.donor_id == donor.id)).one()
    if not count:
        if page > 1:
            raise PageNotFound(page)
        return DonorImpact(0, [], 0, 0)
    per_need: dict[int, int] = defaultdict(int)
    for account, amount in db.session.execute(
            select(LedgerLine.account, func.sum(LedgerLine.amount))
            .join(LedgerTransaction, LedgerLine.transaction_id == LedgerTransaction.id)
            .where(LedgerTransaction.pledge_id.in_(ids), LedgerLine.account.startswith("need:"))
            .group_by(LedgerLine.account)):
        per_need[int(account.split(":", 1)[1])] -= int(amount)
    pooled = -int(db.session.scalar(
        select(func.coalesce(func.sum(LedgerLine.amount), 0)).join(LedgerTransaction)
        .where(LedgerTransaction.pledge_id.in_(ids), LedgerLine.account == ledger_rules.POOL)))
    refunded = int(db.session.scalar(select(func.coalesce(func.sum(Refund.amount), 0))
                                     .where(Refund.pledge_id.in_(ids))))
    returned = dict(db.session.execute(select(LeftoverReturn.need_id, func.sum(LeftoverReturn.amount))
                                       .where(LeftoverReturn.pledge_id.in_(ids)).group_by(LeftoverReturn.need_id)).all())
    shown = [need_id for need_id, placed in per_need.items() if placed > 0 or returned.get(need_id)]
    reported = set(db.session.scalars(
        select(ImpactReport.need_id).where(among(ImpactReport.need_id, shown),
                                           ImpactReport.status == ReportStatus.PUBLISHED))) if shown else set()
    shown.sort(key=lambda need_id: (need_id not in reported, -per_need[need_id], -need_id))
    size = per_page or max(1, len(shown))
    pages = max(1, -(-len(shown) // size))
    if page > pages:
        raise PageNotFound(page)
    on_page = shown[(page - 1) * size:page * size]
    # The page's needs without their joined category, place, group, organisation and centre (the page
    # shows none of them; each is still there, lazily, for whoever asks): a 6-way join to plan otherwise.
    needs = {n.id: n for n in db.session.scalars(select(Need).where(Need.id.in_(on_page))
                                                 .options(lazyload("*")))} if on_page else {}
    reports = {r.need_id: r for r in db.session.scalars(
        select(ImpactReport).where(ImpactReport.need_id.in_([i for i in on_page if i in reported]),
                                   ImpactReport.status == ReportStatus.PUBLISHED))} if reported & set(on_page) else {}
    spent_by_need = {int(account.split(":", 1)[1]): int(total) for account, total in db.session.execute(
        select(LedgerLine.account, func.sum(LedgerLine.amount))
        .where(LedgerLine.account.in_([ledger_rules.spent_account(need_id) for need_id in reports]))
        .group_by(LedgerLine.account))} if reports else {}
    items = []
    for need_id in on_page:
        placed = per_need[need_id]
        report = reports.get(need_id)
        spent = spent_by_need.get(need_id, 0) if report else 0
        tenths = impact_rules.units_paid_for_tenths(placed, spent, report.units_delivered or 0) if report else 0
        items.append(DonorNeedImpact(needs[need_id], placed, report, spent, tenths, int(returned.get(need_id, 0))))
    given = int(paid) - refunded
    return DonorImpact(given, items, pooled, refunded, len(shown), page, pages)
