"""The text line's pure rules: numbers, masking, the case lifecycle, urgency, one automatic answer a day,
the limit per sender, the night-time rule for advertising."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from kindcity.domain import texts as rules
from kindcity.domain.texts import CaseAction, CaseStatus


@pytest.mark.parametrize("raw, expected", [
    ("010-1234-5678", "01012345678"), ("+82 10 1234 5678", "01012345678"), ("82-10-1234-5678", "01012345678"),
    ("(062) 360-7114", "0623607114"), ("01612345678", "01612345678"),
])
def test_numbers_are_normalised_to_the_domestic_form(raw, expected):
    assert rules.normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "12345", "010-12ab-5678", "+1 415 555 0100", "0101234567890123"])
def test_what_is_not_a_korean_number_is_refused(raw):
    with pytest.raises(rules.TextRuleError) as error:
        rules.normalise_phone(raw)
    assert error.value.code == "text_phone_invalid"


def test_a_masked_number_hides_all_but_the_prefix_and_last_two_digits():
    assert rules.mask_phone("01012345678") == "010-****-**78"
    assert "1234" not in rules.mask_phone("01012345678") and "5678" not in rules.mask_phone("01012345678")
    assert rules.mask_phone("") == "—"


TABLE = [
    (CaseStatus.NEW, CaseAction.REPLY, CaseStatus.OPEN),
    (CaseStatus.OPEN, CaseAction.REPLY, CaseStatus.OPEN),
    (CaseStatus.NEW, CaseAction.ASSIGN, CaseStatus.OPEN),
    (CaseStatus.OPEN, CaseAction.REFER, CaseStatus.CLOSED),
    (CaseStatus.NEW, CaseAction.NOT_FOR_SITE, CaseStatus.CLOSED),
    (CaseStatus.OPEN, CaseAction.CLOSE, CaseStatus.CLOSED),
    (CaseStatus.CLOSED, CaseAction.REOPEN, CaseStatus.OPEN),
    (CaseStatus.CLOSED, CaseAction.REPLY, None),
    (CaseStatus.CLOSED, CaseAction.REFER, None),
    (CaseStatus.NEW, CaseAction.REOPEN, None),
]


@pytest.mark.parametrize("status, action, expected", TABLE)
def test_case_steps_follow_the_table(status, action, expected):
    if expected is None:
        with pytest.raises(rules.CaseStepNotAllowed):
            rules.check_step(status, action, purged=False)
        assert action not in rules.allowed_steps(status, purged=False)
    else:
        assert rules.check_step(status, action, purged=False) == expected
        assert action in rules.allowed_steps(status, purged=False)


def test_an_erased_case_allows_nothing_and_unknown_steps_are_refused():
    assert rules.allowed_steps(CaseStatus.CLOSED, purged=True) == []
    with pytest.raises(rules.CasePurged):
        rules.check_step(CaseStatus.CLOSED, "reopen", purged=True)
    with pytest.raises(rules.TextRuleError) as error:
        rules.check_step(CaseStatus.NEW, "delete", purged=False)
    assert error.value.code == "text_action_unknown"


@pytest.mark.parametrize("text", ["할머니가 쓰러져 계세요", "보일러 고장으로 집이 얼어요", "죽 고 싶 어 요", "HELP ME please",
                                  "가스 냄새가 나요", "긴급합니다",
                                  "할머니 댁 보일러가 고장나서 추워요"])
def test_words_of_danger_make_a_text_urgent(text):
    assert rules.is_urgent(text)


@pytest.mark.parametrize("text", ["안녕하세요 반찬 나눔 문의드립니다", "도로에 구멍이 났어요", ""])
def test_ordinary_texts_are_not_urgent(text):
    assert not rules.is_urgent(text)


def test_one_automatic_answer_per_sender_per_seoul_day():
    # 23:30 UTC on 1 March is 08:30 on 2 March in Seoul.
    late = datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)
    assert rules.auto_answer_due(None, late)
    assert rules.auto_answer_due(date(2026, 3, 1), late)
    assert not rules.auto_answer_due(date(2026, 3, 2), late)


def test_the_first_texts_of_an_hour_are_kept_and_the_rest_only_counted():
    assert [rules.keeps_words(n, 3) for n in range(5)] == [True, True, True, False, False]


@pytest.mark.parametrize("hour_utc, night", [(11, False), (12, True), (22, True), (23, False), (0, False), (3, False)])
def test_the_advertising_night_is_21_to_8_in_seoul(hour_utc, night):
    # Seoul is UTC+9: 12:00 UTC is 21:00, 22:00 UTC is 07:00, 23:00 UTC is 08:00.
    assert rules.is_ad_night(datetime(2026, 3, 1, hour_utc, 0, tzinfo=timezone.utc)) is night


def test_replies_and_where_to_go_are_checked():
    assert rules.check_reply("  네, 내일 방문하겠습니다. ") == "네, 내일 방문하겠습니다."
    for bad, code in (("   ", "text_reply_empty"), ("가" * 1001, "text_reply_too_long")):
        with pytest.raises(rules.TextRuleError) as error:
            rules.check_reply(bad)
        assert error.value.code == code
    with pytest.raises(rules.TextRuleError) as error:
        rules.check_where("구청")
    assert error.value.code == "text_where_required"


def test_sms_up_to_90_bytes_and_lms_above():
    assert rules.message_kind("가" * 45) == "SMS"
    assert rules.message_kind("가" * 46) == "LMS"
    assert rules.message_kind("a" * 90) == "SMS"


def test_text_is_chosen_only_with_a_verified_number_and_mail_is_the_fallback():
    assert rules.check_channel("text", phone_verified=True) == rules.Channel.TEXT
    for channel in ("text", "both"):
        with pytest.raises(rules.TextRuleError) as error:
            rules.check_channel(channel, phone_verified=False)
        assert error.value.code == "contact_phone_not_verified"
    assert rules.check_channel("email", phone_verified=False) == rules.Channel.EMAIL
    assert rules.routes("text", phone_verified=True) == (False, True)
    assert rules.routes("both", phone_verified=True) == (True, True)
    assert rules.routes("text", phone_verified=False) == (True, False)
    assert rules.routes(None, phone_verified=True) == (True, False)


def test_a_code_is_refused_when_absent_locked_expired_or_wrong():
    now = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    later = now.replace(minute=5)
    cases = [
        (dict(expires_at=None, attempts=0, matches=True), "contact_code_none"),
        (dict(expires_at=later, attempts=5, matches=True), "contact_code_locked"),
        (dict(expires_at=now.replace(hour=8), attempts=0, matches=True), "contact_code_expired"),
        (dict(expires_at=later, attempts=0, matches=False), "contact_code_wrong"),
    ]
    for kwargs, code in cases:
        with pytest.raises(rules.TextRuleError) as error:
            rules.check_code_attempt(entered="123456", now=now, **kwargs)
        assert error.value.code == code
    rules.check_code_attempt(entered="123456", expires_at=later, attempts=4, matches=True, now=now)
    assert rules.new_code(lambda n: 7) == "777777"
