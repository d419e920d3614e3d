"""The referral lifecycle and checks, pure: a transition table, typed errors, the receipt code, retention."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kindcity.domain import referrals as r
from kindcity.domain.pledges import REFERENCE_ALPHABET

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("status, action, expected", [
    ("new", "take_up", "in_review"), ("new", "close", "closed"), ("in_review", "take_up", "in_review"),
    ("in_review", "close", "closed"), ("closed", "reopen", "in_review"),
])
def test_allowed_transitions(status, action, expected):
    assert r.next_status(status, action) == expected


@pytest.mark.parametrize("status, action", [("new", "reopen"), ("in_review", "reopen"), ("closed", "close"),
                                            ("closed", "take_up")])
def test_other_transitions_are_refused_by_name(status, action):
    with pytest.raises(r.ReferralTransitionNotAllowed) as refused:
        r.next_status(status, action)
    assert refused.value.code == "referral_transition_not_allowed" and action in str(refused.value)


def test_the_actions_offered_follow_the_table():
    assert r.allowed_actions("new") == [r.ReferralAction.TAKE_UP, r.ReferralAction.CLOSE]
    assert r.allowed_actions("closed") == [r.ReferralAction.REOPEN]


def test_closing_needs_a_known_outcome():
    assert r.check_closing("supported") == r.Outcome.SUPPORTED
    for bad in (None, "", "fixed"):
        with pytest.raises(r.ReferralInputError) as refused:
            r.check_closing(bad)
        assert (refused.value.code, refused.value.field) == ("referral_outcome_required", "outcome")


def test_what_a_resident_sends_is_trimmed_and_checked_in_order():
    text = r.check_submission("  할머니가 며칠째 안 보이세요. 2층 끝집.  ", "  ", "urgent", True)
    assert text == r.ReferralText("할머니가 며칠째 안 보이세요. 2층 끝집.", None)
    with pytest.raises(r.ReferralInputError) as refused:
        r.check_submission("짧음", None, "urgent", False)  # the first problem in form order is named
    assert refused.value.field == "situation" and refused.value.details == {"minimum": r.SITUATION_MIN}
    with pytest.raises(r.ReferralInputError) as refused:
        r.check_submission("가" * r.SITUATION_MAX, "연락처 " * 30, "normal", True)
    assert (refused.value.code, refused.value.details) == ("referral_contact_too_long", {"maximum": r.CONTACT_MAX})


def test_receipt_codes_are_long_unambiguous_and_read_back_however_typed():
    codes = {r.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert code.startswith("RF") and len(code) == 2 + r.CODE_LENGTH
        assert set(code[2:]) <= set(REFERENCE_ALPHABET)
    assert r.normalise_code(" rf23 45abcd ") == "RF2345ABCD"


def test_words_are_erased_once_closed_for_the_retention_period():
    assert r.purge_cutoff(NOW, 180) == NOW - timedelta(days=180)


def test_a_purged_referral_or_ones_own_takes_no_further_step():
    assert r.allowed_actions("closed", purged=True) == []
    assert r.allowed_actions("in_review", is_assignee=True) == [r.ReferralAction.CLOSE]
    assert r.check_action("in_review", "take_up", is_assignee=False, purged=False) == "in_review"  # taking over
    with pytest.raises(r.ReferralRuleError) as refused:
        r.check_action("in_review", "take_up", is_assignee=True, purged=False)
    assert refused.value.code == "referral_transition_not_allowed"
    with pytest.raises(r.ReferralRuleError) as refused:
        r.check_action("closed", "reopen", is_assignee=False, purged=True)
    assert refused.value.code == "referral_purged"
    with pytest.raises(r.ReferralRuleError) as refused:
        r.check_action("new", "delete", is_assignee=False, purged=False)
    assert refused.value.code == "referral_action_unknown"
