"""The need lifecycle table: every (status, action) pair either moves to the expected status or is refused."""
from datetime import date

import pytest

from kindcity.domain.needs import (Contribution, ContributionKind, DeadlinePassed, EditorApproval, NeedAction,
                                   NeedStatus, NotEditable, ReasonRequired, SelfApproval, SubmitterApproval,
                                   TransitionNotAllowed, allowed_actions, approval_bar, check_approval,
                                   check_cancel_reason, check_editable, is_overdue, next_status,
                                   target_from_units)

S, A = NeedStatus, NeedAction
EXPECTED = {
    (S.DRAFT, A.SUBMIT): S.AWAITING_APPROVAL,
    (S.DRAFT, A.CANCEL): S.CANCELLED,
    (S.AWAITING_APPROVAL, A.APPROVE): S.OPEN,
    (S.AWAITING_APPROVAL, A.RETURN): S.DRAFT,
    (S.AWAITING_APPROVAL, A.CANCEL): S.CANCELLED,
    (S.OPEN, A.CANCEL): S.CANCELLED,
    (S.OPEN, A.EXPIRE): S.EXPIRED,
    (S.OPEN, A.FUND): S.FUNDED,
    (S.FUNDED, A.UNFUND): S.OPEN,
    (S.FUNDED, A.CANCEL): S.CANCELLED,
    (S.FUNDED, A.START_DELIVERY): S.DELIVERING,
    (S.DELIVERING, A.COMPLETE): S.COMPLETED,
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(A))
def test_every_pair(status, action):
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(TransitionNotAllowed) as raised:
            next_status(status, action)
        assert raised.value.code == "transition_not_allowed"
        assert raised.value.status == status and raised.value.action == action
    else:
        assert next_status(status, action) == expected


def test_terminal_states_allow_nothing():
    for status in (S.COMPLETED, S.CANCELLED, S.EXPIRED):
        assert allowed_actions(status) == []


def test_strings_are_accepted():
    assert next_status("draft", "submit") == S.AWAITING_APPROVAL


def _by(user_id, version, kind):
    return Contribution(user_id, version, ContributionKind(kind))


def test_approval_must_be_by_a_colleague():
    written = [_by(7, 1, "create")]
    with pytest.raises(SelfApproval) as raised:
        check_approval(7, written, 1, date(2026, 12, 1), date(2026, 11, 29))
    assert raised.value.code == "self_approval"
    check_approval(8, written, 1, date(2026, 12, 1), date(2026, 11, 29))


# who did what, and at which version the need now stands -> who may not approve it, and why
FOUR_EYES = [
    # a colleague rewrote the draft and submitted it: neither they nor the author may approve
    ([_by(1, 1, "create"), _by(2, 2, "edit"), _by(2, 2, "submit")], 2, {1: "create", 2: "edit", 3: None}),
    # the author wrote it, a colleague only submitted it: the submitter may not approve
    ([_by(1, 1, "create"), _by(2, 1, "submit")], 1, {1: "create", 2: "submit", 3: None}),
    # an edit at an earlier version still shapes the text being approved
    ([_by(1, 1, "create"), _by(3, 2, "edit"), _by(1, 3, "edit"), _by(1, 3, "submit")], 3,
     {3: "edit", 4: None}),
    # submitted version 1, sent back, changed by the author and submitted again: the first submitter did
    # not write or submit version 2, so may check it
    ([_by(1, 1, "create"), _by(2, 1, "submit"), _by(1, 2, "edit"), _by(1, 2, "submit")], 2,
     {1: "create", 2: None}),
    # submitted, sent back unchanged and submitted again by someone else: both submitted this version
    ([_by(1, 1, "create"), _by(2, 1, "submit"), _by(3, 1, "submit")], 1, {2: "submit", 3: "submit", 4: None}),
]


@pytest.mark.parametrize("history, version, expected", FOUR_EYES)
def test_nobody_who_wrote_or_submitted_the_version_approves_it(history, version, expected):
    errors = {"create": SelfApproval, "edit": EditorApproval, "submit": SubmitterApproval}
    for approver, bar in expected.items():
        found = approval_bar(approver, history, version)
        assert (found.value if found else None) == bar, approver
        if bar is None:
            check_approval(approver, history, version, date(2026, 12, 1), date(2026, 11, 29))
        else:
            with pytest.raises(errors[bar]) as raised:
                check_approval(approver, history, version, date(2026, 12, 1), date(2026, 11, 29))
            assert type(raised.value) is errors[bar]


def test_only_a_draft_can_be_edited():
    check_editable("draft")
    for status in set(S) - {S.DRAFT}:
        with pytest.raises(NotEditable) as raised:
            check_editable(status)
        assert raised.value.code == "need_not_editable"


def test_approval_refused_after_deadline():
    with pytest.raises(DeadlinePassed):
        check_approval(2, [_by(1, 1, "create")], 1, date(2026, 11, 28), date(2026, 11, 29))
    check_approval(2, [_by(1, 1, "create")], 1, date(2026, 11, 29), date(2026, 11, 29))  # the deadline day itself is still open


def test_cancel_needs_reason():
    with pytest.raises(ReasonRequired):
        check_cancel_reason("   ")
    assert check_cancel_reason("  예산 확보 ") == "예산 확보"


def test_overdue_is_after_the_deadline_day():
    assert not is_overdue(date(2026, 11, 29), date(2026, 11, 29))
    assert is_overdue(date(2026, 11, 29), date(2026, 11, 30))


def test_unit_target():
    assert target_from_units(150_000, 40) == 6_000_000
    with pytest.raises(ValueError):
        target_from_units(0, 40)
