"""Referrals (사각지대 제보): a resident tells welfare staff about a neighbour who may need help.

A referral holds personal data by nature (who, where, what is wrong), so it is never public: only the
staff of the centre it is routed to (and the district office) read it, and its words are erased once it
has been closed for the retention period. What stays after that is only what counts: dong, urgency,
dates, outcome.

Pure: the lifecycle as a transition table with typed errors, the checks on what a resident sends, the
receipt code and the retention rule. No Flask, no SQLAlchemy.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import DomainError
from .pledges import new_reference


class ReferralStatus(StrEnum):
    NEW = "new"                # received, nobody has taken it up yet
    IN_REVIEW = "in_review"    # a staff member is looking into it
    CLOSED = "closed"          # with an outcome


class ReferralAction(StrEnum):
    TAKE_UP = "take_up"        # a staff member takes it on (and becomes its contact)
    CLOSE = "close"            # with an outcome
    REOPEN = "reopen"          # closed too early: back to review


class Outcome(StrEnum):
    SUPPORTED = "supported"              # linked to support (a benefit, a service, a need posted)
    REFERRED = "referred_elsewhere"      # passed to another body better placed to help
    NO_NEED = "no_need"                  # looked into: no help needed now
    UNREACHABLE = "unreachable"          # the person could not be reached
    DUPLICATE = "duplicate"              # already known from another referral


class Urgency(StrEnum):
    URGENT = "urgent"    # help needed today (no heating in winter, no food, an unsafe home)
    NORMAL = "normal"


S, A = ReferralStatus, ReferralAction

TRANSITIONS: dict[tuple[ReferralStatus, ReferralAction], ReferralStatus] = {
    (S.NEW, A.TAKE_UP): S.IN_REVIEW,
    (S.NEW, A.CLOSE): S.CLOSED,           # e.g. a duplicate, closed at once
    (S.IN_REVIEW, A.TAKE_UP): S.IN_REVIEW,  # a colleague takes it over
    (S.IN_REVIEW, A.CLOSE): S.CLOSED,
    (S.CLOSED, A.REOPEN): S.IN_REVIEW,
}

OPEN_STATUSES = frozenset({S.NEW, S.IN_REVIEW})

SITUATION_MIN = 10
SITUATION_MAX = 2000
CONTACT_MAX = 100
CODE_LENGTH = 8


class ReferralRuleError(DomainError):
    """Base of every refusal about referrals. ``code`` is stable for tests and translation."""

    code = "referral_rule"


class ReferralTransitionNotAllowed(ReferralRuleError):
    """``details``: ``status`` and ``action``."""

    code = "referral_transition_not_allowed"

    def __str__(self) -> str:
        return f"cannot {self.action} a referral that is {self.status}"


class ReferralInputError(ReferralRuleError):
    """What a resident sent cannot be taken as it is; ``field`` names the form field, ``details`` the
    limits (``minimum``, ``maximum``) for the message."""

    code = "referral_input"

    def __init__(self, code: str | None = None, field: str = "", **details):
        super().__init__(code, **details)
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.code}"


def next_status(status: ReferralStatus | str, action: ReferralAction | str) -> ReferralStatus:
    status, action = ReferralStatus(status), ReferralAction(action)
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise ReferralTransitionNotAllowed(status=status, action=action) from None


def allowed_actions(status: ReferralStatus | str, *, is_assignee: bool = False,
                    purged: bool = False) -> list[ReferralAction]:
    """What a staff member may do with a referral now: nothing once its words are erased (a note added
    then would never be erased), and not take up again what is already theirs."""
    if purged:
        return []
    status = ReferralStatus(status)
    return [action for (start, action) in TRANSITIONS
            if start == status and not (action == ReferralAction.TAKE_UP and is_assignee)]


class ReferralNotAllowedNow(ReferralRuleError):
    """An action the table allows, refused for this referral: it is purged, or already the actor's
    (``details``: ``action``)."""

    code = "referral_transition_not_allowed"


def check_action(status: ReferralStatus | str, action: str, *, is_assignee: bool, purged: bool) -> ReferralStatus:
    """The status after ``action``, or a typed refusal: unknown action, not allowed in this status, or
    not allowed for this referral now (purged, or taking up one's own)."""
    try:
        action = ReferralAction(action)
    except ValueError:
        raise ReferralRuleError("referral_action_unknown") from None
    if purged:
        raise ReferralPurged()
    status_after = next_status(status, action)
    if action not in allowed_actions(status, is_assignee=is_assignee):
        raise ReferralNotAllowedNow(action=action)
    return status_after


class ReferralPurged(ReferralRuleError):
    code = "referral_purged"


def check_closing(outcome: str | None) -> Outcome:
    """Closing needs an outcome, so the district can count what referrals led to."""
    try:
        return Outcome(outcome or "")
    except ValueError:
        raise ReferralInputError("referral_outcome_required", "outcome") from None


@dataclass(frozen=True)
class ReferralText:
    situation: str
    contact: str | None


class ReferralInputProblems(ReferralInputError):
    """Everything wrong with what a resident sent, in the order of the form, so that they can mend it
    all at once. It reads as its first problem (``code``, ``field``, ``details``)."""

    def __init__(self, problems: list[ReferralInputError]):
        first = problems[0]
        super().__init__(first.code, first.field, **first.details)
        self.problems = problems

    def __str__(self) -> str:
        return "; ".join(map(str, self.problems))


def check_submission(situation: str, contact: str | None, urgency: str, consent: bool, *,
                     dong_known: bool = True) -> ReferralText:
    """The checks on what a resident sends. Unlike public text, personal data is expected here: it is
    what lets staff find the person. Every problem is reported, in the order the form shows its fields."""
    problems: list[ReferralInputError] = []
    if not dong_known:
        problems.append(ReferralInputError("referral_dong_unknown", "dong"))
    if urgency not in {u.value for u in Urgency}:
        problems.append(ReferralInputError("referral_urgency_invalid", "urgency"))
    situation = (situation or "").strip()
    if len(situation) < SITUATION_MIN:
        problems.append(ReferralInputError("referral_situation_too_short", "situation", minimum=SITUATION_MIN))
    elif len(situation) > SITUATION_MAX:
        problems.append(ReferralInputError("referral_situation_too_long", "situation", maximum=SITUATION_MAX))
    contact = (contact or "").strip() or None
    if contact is not None and len(contact) > CONTACT_MAX:
        problems.append(ReferralInputError("referral_contact_too_long", "contact", maximum=CONTACT_MAX))
    if not consent:
        problems.append(ReferralInputError("referral_consent_required", "consent"))
    if problems:
        raise ReferralInputProblems(problems)
    return ReferralText(situation, contact)


def new_code(randbelow=secrets.randbelow) -> str:
    """A receipt code the resident keeps to see how far their referral has got: unguessable (30^8),
    no letters that read alike."""
    return new_reference(randbelow, prefix="RF", length=CODE_LENGTH)


def normalise_code(text: str) -> str:
    return "".join((text or "").split()).upper()


def purge_cutoff(now: datetime, retention_days: int) -> datetime:
    """A closed referral's words are erased once it was closed at or before this moment."""
    return now - timedelta(days=retention_days)


SENDER_ADDRESS_KEPT = timedelta(days=1)
"""A sender's network address is kept only as long as the limit per address needs it (an hour),
with a margin; after that it is blanked, open referral or not."""
