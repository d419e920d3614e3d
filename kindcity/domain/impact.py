"""Impact (성과 보고): the report lifecycle, spending and leftovers, recognition tiers, and aggregates.

Pure: plain values in, plain values out; no framework, no I/O. Money is ``int`` won.

The report of a need moves through :data:`TRANSITIONS`: a staff member writes it (draft), submits it
for approval, and a *different* staff member approves it, which publishes it and completes the need.
Before a report can be submitted, every won placed on the need is accounted for: spent
(disbursed) or returned to the donors, each part following that donor's choice.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .errors import DomainError
from .dates import DateRefused, check_day_happened


class ReportStatus(StrEnum):
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    PUBLISHED = "published"


class ReportAction(StrEnum):
    SUBMIT = "submit"      # the writer asks a colleague to check it
    RETURN = "return"      # back to draft for changes
    APPROVE = "approve"    # a different staff member publishes it; the need is then completed


S, A = ReportStatus, ReportAction

TRANSITIONS: dict[tuple[ReportStatus, ReportAction], ReportStatus] = {
    (S.DRAFT, A.SUBMIT): S.AWAITING_APPROVAL,
    (S.AWAITING_APPROVAL, A.RETURN): S.DRAFT,
    (S.AWAITING_APPROVAL, A.APPROVE): S.PUBLISHED,
}

EDITABLE = frozenset({S.DRAFT})
LEFTOVER_DESTINATIONS = ("pool", "refund", "similar")
MAX_UNITS = 1_000_000
MAX_STORY = 20_000


class ImpactRuleError(DomainError):
    """Base of every refusal of the impact rules. ``code`` is stable for tests and translation."""

    code = "impact_rule"


class ReportTransitionNotAllowed(ImpactRuleError):
    code = "report_transition_not_allowed"


class ReportSelfApproval(ImpactRuleError):
    code = "report_self_approval"


class ReportIncomplete(ImpactRuleError):
    """The report lacks something it needs before a colleague can check it; ``missing`` says what."""

    code = "report_incomplete"


class MoneyNotSettled(ImpactRuleError):
    """Money is still held on the need: spend it or return it before reporting."""

    code = "money_not_settled"


class SpendingRefused(ImpactRuleError):
    code = "spending_refused"


def next_status(status: ReportStatus | str, action: ReportAction | str) -> ReportStatus:
    key = (ReportStatus(status), ReportAction(action))
    if key not in TRANSITIONS:
        raise ReportTransitionNotAllowed(status=key[0].value, action=key[1].value)
    return TRANSITIONS[key]


def allowed_actions(status: ReportStatus | str) -> list[ReportAction]:
    status = ReportStatus(status)
    return [action for (state, action) in TRANSITIONS if state == status]


def check_approver(submitted_by: int | None, approver: int) -> None:
    """The four-eyes rule: whoever submitted the report cannot also publish it."""
    if submitted_by is None or submitted_by == approver:
        raise ReportSelfApproval()


# --- delivery and money ----------------------------------------------------------------------

@dataclass(frozen=True)
class DeliveryFacts:
    """What staff record about the delivery; ``None`` means not filled in yet."""

    units_planned: int
    units_delivered: int | None
    beneficiaries_reached: int | None
    delivered_from: date | None
    delivered_to: date | None
    story: str


def check_delivery_values(facts: DeliveryFacts, today: date) -> None:
    """Refuse values that can never be right, whatever else is missing (checked on every save)."""
    if not 0 < facts.units_planned <= MAX_UNITS:
        raise ReportIncomplete("units_planned_invalid")
    if facts.units_delivered is not None and not 0 <= facts.units_delivered <= MAX_UNITS:
        raise ReportIncomplete("units_delivered_invalid")
    if facts.beneficiaries_reached is not None and not 0 <= facts.beneficiaries_reached <= MAX_UNITS:
        raise ReportIncomplete("beneficiaries_invalid")
    if facts.delivered_from and facts.delivered_to and facts.delivered_from > facts.delivered_to:
        raise ReportIncomplete("dates_reversed")
    if facts.delivered_to and facts.delivered_to > today:
        raise ReportIncomplete("dates_in_future")
    if len(facts.story) > MAX_STORY:
        raise ReportIncomplete("story_too_long", maximum=MAX_STORY)


def missing_for_submission(facts: DeliveryFacts) -> list[str]:
    """Which parts a complete report still lacks (empty: nothing)."""
    missing = []
    if facts.units_delivered is None:
        missing.append("units_delivered")
    if facts.beneficiaries_reached is None:
        missing.append("beneficiaries_reached")
    if facts.delivered_from is None or facts.delivered_to is None:
        missing.append("dates")
    if not facts.story.strip():
        missing.append("story")
    return missing


def check_ready_to_submit(facts: DeliveryFacts, *, held: int, spent: int, today: date) -> None:
    """A report goes to a colleague only when it is complete and every won is spent or returned."""
    check_delivery_values(facts, today)
    missing = missing_for_submission(facts)
    if missing:
        raise ReportIncomplete("report_incomplete", missing=missing)
    if held != 0:
        raise MoneyNotSettled(held=held)
    if spent <= 0:
        raise MoneyNotSettled("nothing_spent")


def check_disbursement(amount: int, *, held: int, spent_on: date, today: date, since: date | None = None) -> None:
    """Spending comes out of money held on the need, in whole won, on a day that has happened since
    the need was posted (``since``; the site's rule for days, kindcity/domain/dates.py)."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise SpendingRefused("disbursement_not_positive")
    if amount > held:
        raise SpendingRefused("disbursement_exceeds_held", available=held)
    try:
        check_day_happened(spent_on, today, since=since)
    except DateRefused as refused:
        if refused.code == "date_in_future":
            raise SpendingRefused("disbursement_in_future") from None
        raise SpendingRefused("disbursement_too_early", earliest=refused.earliest.isoformat()) from None


def split_leftover(leftover: int, placed: Mapping[int, int]) -> dict[int, int]:
    """Divide ``leftover`` won between pledges in proportion to what each placed on the need.

    Largest remainder, in whole won: every pledge first gets the floor of its exact share; the won
    still to give go one each to the largest remainders, ties broken by the larger placed amount,
    then the smaller pledge id. The parts always add up to ``leftover`` exactly, no part exceeds
    what its pledge placed, and the same input always gives the same output.
    """
    if isinstance(leftover, bool) or not isinstance(leftover, int) or leftover < 0:
        raise SpendingRefused("leftover_invalid")
    shares = {pid: amount for pid, amount in placed.items() if amount > 0}
    if any(not isinstance(a, int) or isinstance(a, bool) for a in shares.values()):
        raise SpendingRefused("leftover_invalid")
    total = sum(shares.values())
    if leftover == 0:
        return {}
    if leftover > total:
        raise SpendingRefused("leftover_unattributed", leftover=leftover, placed=total)
    floors = {pid: leftover * amount // total for pid, amount in shares.items()}
    remainders = {pid: leftover * amount % total for pid, amount in shares.items()}
    short = leftover - sum(floors.values())
    order = sorted(shares, key=lambda pid: (-remainders[pid], -shares[pid], pid))
    for pid in order[:short]:
        floors[pid] += 1
    return {pid: part for pid, part in sorted(floors.items()) if part > 0}


def units_paid_for_tenths(given: int, spent: int, units_delivered: int) -> int:
    """How many delivered units a donor's money paid for, in tenths of a unit (rounded half up).

    ``given`` is what the donor's money left spent on the need; the delivered units are shared out
    in proportion to the money spent. 300,000 of 5,700,000 won spent for 38 trips -> 20 (2.0 trips).
    """
    if spent <= 0 or given <= 0 or units_delivered <= 0:
        return 0
    given = min(given, spent)
    return (units_delivered * given * 20 + spent) // (2 * spent)


def format_tenths(tenths: int) -> str:
    """20 -> '2', 19 -> '1.9' (units are not money; shown with at most one decimal)."""
    whole, tenth = divmod(tenths, 10)
    return str(whole) if tenth == 0 else f"{whole}.{tenth}"


def is_report_overdue(report_due: date, today: date, status: ReportStatus | str) -> bool:
    """Late once the due day has passed (Korea time) and the report is not published."""
    return ReportStatus(status) != ReportStatus.PUBLISHED and today > report_due


# --- recognition -------------------------------------------------------------------------------

class WallGroup(StrEnum):
    GOOD_SHOPS = "good_shops"          # 착한 가게
    GOOD_COMPANIES = "good_companies"  # 착한 기업
    CHURCHES_AND_CIVIC = "churches_and_civic"
    RESIDENTS = "residents"


WALL_GROUP_ORDER = (WallGroup.GOOD_SHOPS, WallGroup.GOOD_COMPANIES, WallGroup.CHURCHES_AND_CIVIC,
                    WallGroup.RESIDENTS)
_GROUP_FOR_KIND = {"good_shop": WallGroup.GOOD_SHOPS, "business": WallGroup.GOOD_COMPANIES,
                   "church": WallGroup.CHURCHES_AND_CIVIC, "civic": WallGroup.CHURCHES_AND_CIVIC}


class Tier(StrEnum):
    LEADING = "leading"
    STEADY = "steady"
    NEIGHBOUR = "neighbour"


# Lowest cumulative giving (won) for each tier, highest first.
TIER_FLOORS: tuple[tuple[int, Tier], ...] = ((10_000_000, Tier.LEADING), (1_000_000, Tier.STEADY),
                                            (1, Tier.NEIGHBOUR))


def tier_for(total: int) -> Tier | None:
    for floor, tier in TIER_FLOORS:
        if total >= floor:
            return tier
    return None


def wall_group(display: str, organisation_kind: str | None) -> WallGroup | None:
    """Where a gift shown on the wall belongs; ``None``: it is not shown (anonymous, or no such kind)."""
    if display == "name":
        return WallGroup.RESIDENTS
    if display == "organisation" and organisation_kind:
        return _GROUP_FOR_KIND.get(organisation_kind)
    return None


@dataclass(frozen=True)
class RecognisedGift:
    """One pledge whose donor chose to be shown: who, how, and what it gave (net of refunds)."""

    key: str                 # who is recognised: 'org:<id>' or 'user:<id>'
    name: str
    display: str
    organisation_kind: str | None
    given: int


@dataclass(frozen=True)
class WallEntry:
    name: str
    group: WallGroup
    tier: Tier
    total: int


def build_wall(gifts: Iterable[RecognisedGift]) -> dict[WallGroup, list[WallEntry]]:
    """Group recognised gifts by who they recognise; tiers by cumulative giving; larger first, then name."""
    totals: dict[str, int] = {}
    first: dict[str, RecognisedGift] = {}
    for gift in gifts:
        if gift.given <= 0 or wall_group(gift.display, gift.organisation_kind) is None:
            continue
        totals[gift.key] = totals.get(gift.key, 0) + gift.given
        first.setdefault(gift.key, gift)
    wall: dict[WallGroup, list[WallEntry]] = {group: [] for group in WALL_GROUP_ORDER}
    for key, total in totals.items():
        gift = first[key]
        tier = tier_for(total)
        group = wall_group(gift.display, gift.organisation_kind)
        if tier is not None and group is not None:
            wall[group].append(WallEntry(gift.name, group, tier, total))
    for entries in wall.values():
        entries.sort(key=lambda e: (-e.total, e.name))
    return wall


# --- aggregates ---------------------------------------------------------------------------------

PERIODS = ("all", "12m", "this_year", "last_year")


def period_range(period: str, today: date) -> tuple[date | None, date | None]:
    """[start, end) in Korea dates for a dashboard period; ``None`` is open-ended. Unknown: all time."""
    if period == "this_year":
        return date(today.year, 1, 1), date(today.year + 1, 1, 1)
    if period == "last_year":
        return date(today.year - 1, 1, 1), date(today.year, 1, 1)
    if period == "12m":
        first = add_months(date(today.year, today.month, 1), -11)
        return first, add_months(date(today.year, today.month, 1), 1)
    return None, None


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_series(amounts: Iterable[tuple[date, int]], first: date, last: date,
                 max_months: int = 36) -> list[tuple[str, int]]:
    """Sum ``(day, won)`` pairs per month from ``first``'s month to ``last``'s, months without money
    included as 0; at most the last ``max_months`` months."""
    totals: dict[str, int] = {}
    for day, amount in amounts:
        key = month_key(day)
        totals[key] = totals.get(key, 0) + amount
    start, end = date(first.year, first.month, 1), date(last.year, last.month, 1)
    if start > end:
        return []
    months = []
    cursor = start
    while cursor <= end:
        months.append(month_key(cursor))
        cursor = add_months(cursor, 1)
    months = months[-max_months:]
    return [(key, totals.get(key, 0)) for key in months]


def bar_lengths(values: Iterable[int], full: int) -> list[int]:
    """Integer bar lengths for a chart: the largest value gets ``full``; any value above 0 at least 1."""
    values = list(values)
    top = max(values, default=0)
    if top <= 0:
        return [0 for _ in values]
    return [max(1, value * full // top) if value > 0 else 0 for value in values]
