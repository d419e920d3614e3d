"""The need lifecycle table: every (status, action) pair either moves to the expected status or is refused."""
from datetime import date

import pytest

from kindcity.domain.needs import (DeadlinePassed, NeedAction, NeedStatus, ReasonRequired, SelfApproval,
                                   TransitionNotAllowed, allowed_actions, check_approval, check_cancel_reason,
                                   is_overdue, next_status, target_from_units)

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


def test_approval_must_be_by_a_colleague():
    with pytest.raises(SelfApproval):
        check_approval(7, 7, date(2026, 12, 1), date(2026, 11, 29))
    check_approval(7, 8, date(2026, 12, 1), date(2026, 11, 29))


def test_approval_refused_after_deadline():
    with pytest.raises(DeadlinePassed):
        check_approval(1, 2, date(2026, 11, 28), date(2026, 11, 29))
    check_approval(1, 2, date(2026, 11, 29), date(2026, 11, 29))  # the deadline day itself is still open


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
