"""The need lifecycle as a transition table with typed errors.

Every status change of a need goes through :func:`next_status`; nothing else assigns a status.
The table is the whole truth: (current status, action) -> new status.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .errors import DomainError


class NeedStatus(StrEnum):
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    OPEN = "open"
    FUNDED = "funded"
    DELIVERING = "delivering"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


def shown_status(status: str, deadline, today) -> str:
    """What a need is, as every page and query says it: an open need whose deadline (Korea-time day) has
    passed is closed at once, before the scheduled upkeep records its expiry."""
    if status == NeedStatus.OPEN and deadline < today:
        return NeedStatus.EXPIRED.value
    return str(status)


class NeedAction(StrEnum):
    SUBMIT = "submit"          # author asks a colleague to approve
    RETURN = "return"          # approver (or author) sends it back to draft for changes
    APPROVE = "approve"        # a different staff member publishes it
    CANCEL = "cancel"          # with a reason; paid money then follows each donor's choice
    EXPIRE = "expire"          # deadline passed while still open
    FUND = "fund"              # confirmed money reached the target
    UNFUND = "unfund"          # a refund or chargeback took it back under target
    START_DELIVERY = "start_delivery"
    COMPLETE = "complete"      # impact report published


S, A = NeedStatus, NeedAction

TRANSITIONS: dict[tuple[NeedStatus, NeedAction], NeedStatus] = {
    (S.DRAFT, A.SUBMIT): S.AWAITING_APPROVAL,
    (S.DRAFT, A.CANCEL): S.CANCELLED,
    (S.AWAITING_APPROVAL, A.RETURN): S.DRAFT,
    (S.AWAITING_APPROVAL, A.APPROVE): S.OPEN,
    (S.AWAITING_APPROVAL, A.CANCEL): S.CANCELLED,
    (S.OPEN, A.CANCEL): S.CANCELLED,
    (S.OPEN, A.EXPIRE): S.EXPIRED,
    (S.OPEN, A.FUND): S.FUNDED,
    (S.FUNDED, A.UNFUND): S.OPEN,
    (S.FUNDED, A.CANCEL): S.CANCELLED,
    (S.FUNDED, A.START_DELIVERY): S.DELIVERING,
    (S.DELIVERING, A.COMPLETE): S.COMPLETED,
}

PUBLIC_STATUSES = frozenset({S.OPEN, S.FUNDED, S.DELIVERING, S.COMPLETED, S.EXPIRED, S.CANCELLED})
PLEDGEABLE_STATUSES = frozenset({S.OPEN})
EDITABLE_STATUSES = frozenset({S.DRAFT})


class NeedRuleError(DomainError):
    """Base of every refusal the lifecycle can give. ``code`` is stable for tests and translation."""

    code = "need_rule"


class TransitionNotAllowed(NeedRuleError):
    """``details``: ``status`` and ``action``."""

    code = "transition_not_allowed"

    def __str__(self) -> str:
        return f"cannot {self.action} a need that is {self.status}"


class SelfApproval(NeedRuleError):
    """The approver wrote the need. Its subclasses: the approver edited or submitted this version."""

    code = "self_approval"

    def __str__(self) -> str:
        return "a need must be approved by a colleague, not by its author"


class EditorApproval(SelfApproval):
    code = "editor_approval"

    def __str__(self) -> str:
        return "a need must be approved by a colleague who did not edit it"


class SubmitterApproval(SelfApproval):
    code = "submitter_approval"

    def __str__(self) -> str:
        return "a need must be approved by a colleague who did not submit it"


class NotEditable(NeedRuleError):
    """Only a draft can be changed: a need awaiting approval goes back to draft first (``status``)."""

    code = "need_not_editable"

    def __str__(self) -> str:
        return f"a need that is {self.status} cannot be edited; send it back to draft first"


class ReasonRequired(NeedRuleError):
    code = "reason_required"

    def __str__(self) -> str:
        return "a cancellation needs a reason"


class NotYetDue(NeedRuleError):
    """``details``: ``deadline``."""

    code = "not_yet_due"

    def __str__(self) -> str:
        return f"the deadline {self.deadline} has not passed"


class DeadlinePassed(NeedRuleError):
    """``details``: ``deadline``."""

    code = "deadline_passed"

    def __str__(self) -> str:
        return f"the deadline {self.deadline} has already passed"


def next_status(status: NeedStatus | str, action: NeedAction | str) -> NeedStatus:
    """The status after ``action``, or :class:`TransitionNotAllowed`."""
    status, action = NeedStatus(status), NeedAction(action)
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise TransitionNotAllowed(status=status, action=action) from None


class ContributionKind(StrEnum):
    CREATE = "create"   # wrote the first version
    EDIT = "edit"       # made a new version
    SUBMIT = "submit"   # asked for approval of a version


@dataclass(frozen=True)
class Contribution:
    """Who did what to which version of a need (versions count up from 1 with every edit)."""

    user_id: int
    version: int
    kind: ContributionKind


_BAR_ORDER = {ContributionKind.CREATE: SelfApproval, ContributionKind.EDIT: EditorApproval,
              ContributionKind.SUBMIT: SubmitterApproval}


def approval_bar(approver_id: int, contributions: Iterable[Contribution], version: int) -> ContributionKind | None:
    """Why ``approver_id`` may not approve ``version`` (``None``: they may).

    Barred: whoever wrote any part of the text being approved (created it, or edited it at this
    version or an earlier one: later edits build on earlier ones), and whoever submitted this
    version. Someone who submitted an earlier version that was then changed by others did not.
    """
    bars = {c.kind for c in contributions if c.user_id == approver_id and (
        (c.kind in (ContributionKind.CREATE, ContributionKind.EDIT) and c.version <= version)
        or (c.kind == ContributionKind.SUBMIT and c.version == version))}
    return next((kind for kind in _BAR_ORDER if kind in bars), None)


def check_approval(approver_id: int, contributions: Iterable[Contribution], version: int,
                   deadline: date, today: date) -> None:
    """Approval rules beyond the table: four eyes that cannot be walked around, and only in time."""
    bar = approval_bar(approver_id, contributions, version)
    if bar is not None:
        raise _BAR_ORDER[bar]()
    if deadline < today:
        raise DeadlinePassed(deadline=deadline)


def check_editable(status: NeedStatus | str) -> None:
    """Text can change only in a draft, so what a colleague approves is what its submitter sent."""
    status = NeedStatus(status)
    if status not in EDITABLE_STATUSES:
        raise NotEditable(status=status)


def check_cancel_reason(reason: str | None) -> str:
    cleaned = (reason or "").strip()
    if not cleaned:
        raise ReasonRequired()
    return cleaned


def is_overdue(deadline: date, today: date) -> bool:
    """Open until the end of the deadline day, Korea time."""
    return today > deadline


def allowed_actions(status: NeedStatus | str) -> list[NeedAction]:
    status = NeedStatus(status)
    return [action for (state, action) in TRANSITIONS if state == status]


def target_from_units(unit_cost: int, units: int) -> int:
    """The target of a unit-priced need is exactly unit cost x units."""
    if unit_cost <= 0 or units <= 0:
        raise ValueError("unit cost and units must be positive")
    return unit_cost * units
