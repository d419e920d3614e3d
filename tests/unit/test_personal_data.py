"""The personal-data guard (docs/domain.md, invariant 5): a corpus of positives and negatives,
offsets into the original text, masking, check_fields, and property tests."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kindcity.domain.personal_data import (
    KIND_LABELS,
    KINDS,
    FieldFinding,
    Finding,
    check_fields,
    find_personal_data,
)


def fw(s: str) -> str:
    """Full-width form of the ASCII characters in s (what some Korean IMEs type)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


# (text, kind, the exact substring of text that must be found)
POSITIVES: list[tuple[str, str, str]] = [
    # --- resident registration numbers ---
    ("주민등록번호 900101-1234567 확인 바랍니다.", "rrn", "900101-1234567"),
    ("주민번호는 9001011234567 입니다", "rrn", "9001011234567"),
    ("번호: 900101 - 2345678", "rrn", "900101 - 2345678"),
    ("900101 2345678", "rrn", "900101 2345678"),
    (f"주민번호 {fw('900101-1234567')} 입니다", "rrn", fw("900101-1234567")),
    ("마스킹된 번호 900101-1****** 도 안 됩니다", "rrn", "900101-1******"),
    ("외국인등록번호 850315-5123456", "rrn", "850315-5123456"),
    ("2005년생 050505-3123456", "rrn", "050505-3123456"),
    ("생년월일 000229-4******", "rrn", "000229-4******"),
    ("900101-*******", "rrn", "900101-*******"),
    # --- phone numbers ---
    ("연락처 010-1234-5678 로 문자 주세요", "phone", "010-1234-5678"),
    ("휴대폰01012345678입니다", "phone", "01012345678"),
    ("010 1234 5678", "phone", "010 1234 5678"),
    ("010.1234.5678", "phone", "010.1234.5678"),
    ("(010) 1234-5678", "phone", "(010) 1234-5678"),
    ("문의는 010 - 1234 - 5678 로", "phone", "010 - 1234 - 5678"),
    ("call +82 10-1234-5678 please", "phone", "+82 10-1234-5678"),
    ("+82-10-1234-5678", "phone", "+82-10-1234-5678"),
    ("+821012345678", "phone", "+821012345678"),
    ("82-10-1234-5678", "phone", "82-10-1234-5678"),
    ("+82 (0)10 1234 5678", "phone", "+82 (0)10 1234 5678"),
    (f"할머니 번호는 {fw('010-1234-5678')}입니다", "phone", fw("010-1234-5678")),
    ("011-123-4567", "phone", "011-123-4567"),
    ("아드님 017-987-6543", "phone", "017-987-6543"),
    ("집 전화 02-123-4567", "phone", "02-123-4567"),
    ("(02) 1234-5678", "phone", "(02) 1234-5678"),
    ("02)123-4567", "phone", "02)123-4567"),
    ("062-123-4567로 연락", "phone", "062-123-4567"),
    ("031.123.4567", "phone", "031.123.4567"),
    ("070-1234-5678", "phone", "070-1234-5678"),
    ("+82 62 123 4567", "phone", "+82 62 123 4567"),
    ("안심번호 0505-123-4567", "phone", "0505-123-4567"),
    ("010\u20101234\u20105678", "phone", "010\u20101234\u20105678"),  # U+2010 hyphens
    ("010\u200b1234\u200b5678", "phone", "010\u200b1234\u200b5678"),  # zero-width spaces
    # --- e-mail addresses ---
    ("메일 hong@example.com 으로", "email", "hong@example.com"),
    (f"연락: {fw('hong@example.com')}", "email", fw("hong@example.com")),
    ("hong.gildong+kind@mail.co.kr", "email", "hong.gildong+kind@mail.co.kr"),
    ("hong\uff20naver.com", "email", "hong\uff20naver.com"),  # full-width @ only
    ("연락은 kim_1990@daum.net으로 주세요", "email", "kim_1990@daum.net"),
    # --- bank account numbers ---
    ("후원 계좌 110-123-456789", "bank_account", "110-123-456789"),
    ("1002-123-456789 (우리)", "bank_account", "1002-123-456789"),
    ("123-456789-01-001", "bank_account", "123-456789-01-001"),
    ("카카오뱅크 3333-01-1234567", "bank_account", "3333-01-1234567"),
    ("농협 356-1234-5678-13", "bank_account", "356-1234-5678-13"),
    ("계좌 1234567890123 으로 보내주세요", "bank_account", "1234567890123"),
    ("국민은행 12345678901234", "bank_account", "12345678901234"),
    ("신한 110123456789", "bank_account", "110123456789"),
    ("카카오뱅크 3333011234567", "bank_account", "3333011234567"),
    ("토스뱅크 1000-1234-5678", "bank_account", "1000-1234-5678"),
    ("우리은행 1002123456789", "bank_account", "1002123456789"),  # starts like a birth date
    ("하나은행(예금주 홍길동) 123-456789-01234", "bank_account", "123-456789-01234"),
    ("평생계좌번호: 010-1234-5678", "bank_account", "010-1234-5678"),
    (f"계좌 {fw('110-123-456789')}", "bank_account", fw("110-123-456789")),
    ("기업 079-123456-01-011", "bank_account", "079-123456-01-011"),
    ("신한 110 123 456789", "bank_account", "110 123 456789"),
    # --- detailed addresses ---
    ("양동 123번지에 사십니다", "address", "양동 123번지"),
    ("123번지", "address", "123번지"),
    ("산 12-3번지 단독주택", "address", "산 12-3번지"),
    ("그린아파트 101동 1203호", "address", "101동 1203호"),
    ("그린아파트101동 1203호", "address", "101동 1203호"),
    ("상가 3층 302호", "address", "3층 302호"),
    ("빌라 B동 201호", "address", "B동 201호"),
    ("서구 화정로 123에 사는 어르신", "address", "화정로 123"),
    ("상무대로 45-6", "address", "상무대로 45-6"),
    ("풍암길 12번길 7 다세대주택", "address", "풍암길 12번길 7"),
    ("농성동 123-4 거주", "address", "농성동 123-4"),
    ("쌍촌동 123", "address", "쌍촌동 123"),
    ("농성동 산 12-3", "address", "농성동 산 12-3"),
    ("무지개아파트 101-1203호", "address", "101-1203호"),
    ("Hwajeong-ro 123, Seo-gu", "address", "Hwajeong-ro 123"),
    (f"{fw('101')}동 {fw('1203')}호", "address", f"{fw('101')}동 {fw('1203')}호"),
    # --- classes added with the corpus (tests/unit/personal_data_corpus.jsonl) ---
    ("주민번호 앞자리 770812, 뒷자리 1234567", "rrn", "770812, 뒷자리 1234567"),
    ("주민번호 770812-1●●●●●● 어르신", "rrn", "770812-1●●●●●●"),
    ("신분증은 770812-1 까지만 보입니다", "rrn", "770812-1"),
    ("사진은 kim at naver dot com 으로", "email", "kim at naver dot com"),
    ("메일 jung(at)daum.net 입니다", "email", "jung(at)daum.net"),
    ("홍길동@한국.kr 로 보내 주세요", "email", "홍길동@한국.kr"),
    ("반지하 B02호에 사십니다", "address", "B02호"),
    ("다세대주택 B동 B101호", "address", "B동 B101호"),
    ("상무대로 1123 가정에 전달", "address", "상무대로 1123 가정"),
]

NEGATIVES: list[str] = [
    # dates
    "2026-11-29",
    "2026.11.29",
    "2026. 11. 29.",
    "2026년 11월 29일",
    "11/29",
    "2026/11/29",
    "20261129",
    "마감일 2026-12-31까지 모집합니다",
    "기간: 2026.11.29~2026.12.31",
    # amounts
    "1,500,000원",
    "150000원",
    "150,000 won",
    "5천만 원",
    "3억 5천만 원",
    "₩1,500,000",
    "목표 금액 12,000,000원",
    "100,000~200,000원",
    # phone-like strings that are really amounts with commas
    "1,010,123,456원",
    "31,200,000원",
    "010,1234,5678원",
    # years, counts, percentages, times, ratios
    "2026년",
    "2025년부터 2026년까지",
    "40회",
    "아동 12명",
    "38 of 40 trips",
    "5년간 40회 왕복",
    "달성률 95.0%",
    "85%",
    "14:30",
    "오후 2시 30분",
    "02:30에 출발",
    "1:1 매칭",
    "매칭 비율 2:1",
    # unit pricing and prose
    "150,000원 x 40회",
    "1회 150,000원 × 40회 = 6,000,000원",
    "서울 병원까지 왕복 40회, 1인당 150,000원을 지원합니다.",
    "서울로 40회 왕복했습니다",
    "택시로 12명 이동",
    "계획대로 38 of 40 trips",
    "현금으로 1,500,000원",
    "그대로 2026년에도",
    "활동 12회",
    "우리 동네 12가구",
    "국민 여러분 2026년",
    "3.14",
    "1호점",
    "3호선",
    "3층 건물",
    "버스 12-1번",
    "영수증 번호 2026-000123",
    "이용 시간 09:00-18:00",
    "2026-11-29 10:00 ~ 12:00",
    "11.29 토요일",
    "집으로 12 가구 방문",
    "TV 1대, 냉장고 2대",
    "1004호 천사",
    "매칭률 1:2, 12개월",
    "0.5% 수수료",
    # public places: dongs, district, city
    "농성동에서 12년 살았습니다",
    "상무1동 1,200가구",
    "서구 화정로 123번길",  # a road name alone, no building number
    "화정1동",
    "농성2동 주민 12명",
    "광주광역시 서구 화정1동",
    "서구 상무1동 행정복지센터",
    "화정1동 201호",  # admin dong + 호: no building number of its own
    "충장로1가에서 12명",
    # postcodes
    "61945",
    "502831",
    "우편번호 61945",
    # organisation numbers: public for organisations, deliberately not flagged.
    # 사업자등록번호 (3-2-5) identifies a business, not a beneficiary; the same goes for
    # 대표번호 (15xx/16xx/18xx), which only businesses can hold.
    "사업자등록번호 123-45-67890",
    "기업 123-45-67890",
    "고객센터 1588-1234",
    "법인등록번호 110111-1234567",
    # numbers that are neither
    "서구 공고 제2026-123호",
    "ISBN 978-89-1234-567-8",
    "우리은행 1500000000원 기부",
    "기업 후원금 1,500,000원",
    # document numbers, barcodes of donated goods, toll-free lines, meeting rooms, counts
    "접수번호 2024-0717-0032",
    "바코드 8801234567893",
    "수신자 부담 080-123-4567",
    "3층 301호 회의실",
    "행정복지센터 2층 205호에서 다음 주 특강",
    "센터로 12가구가 신청했습니다",
]


def _find(text: str, kind: str, value: str) -> Finding:
    findings = find_personal_data(text)
    for f in findings:
        if f.kind == kind and text[f.offset : f.offset + f.length] == value:
            return f
    raise AssertionError(f"{kind} {value!r} not found in {text!r}: {findings}")


def test_corpus_sizes():
    assert len(POSITIVES) >= 40
    assert len(NEGATIVES) >= 40
    assert {kind for _, kind, _ in POSITIVES} == set(KINDS)


@pytest.mark.parametrize(("text", "kind", "value"), POSITIVES)
def test_positive_is_found_with_kind_and_original_offsets(text, kind, value):
    assert value in text  # the corpus itself is consistent
    finding = _find(text, kind, value)
    assert finding.offset == text.index(value)
    assert finding.length == len(value)


@pytest.mark.parametrize(("text", "kind", "value"), POSITIVES)
def test_masked_never_contains_the_full_value(text, kind, value):
    finding = _find(text, kind, value)
    normalised = unicodedata.normalize("NFKC", value)
    assert "*" in finding.masked
    assert value not in finding.masked
    assert normalised not in finding.masked
    # not hidden in the digits either (separators changed, etc.)
    digits = re.sub(r"\D", "", normalised)
    if digits:
        assert digits not in re.sub(r"\D", "", finding.masked)


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative_is_not_flagged(text):
    assert find_personal_data(text) == []


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("010-1234-5678", "010-****-5678"),
        ("900101-1234567", "9001**-*******"),
        ("hong@example.com", "ho***@example.com"),
        ("110-123-456789", "110-***-***789"),
        ("101동 1203호", "101동 ****호"),
        (fw("010-1234-5678"), "010-****-5678"),
        ("a@example.com", "a***@example.com"),
        ("화정로 123", "화정로 ***"),
        ("770812-1●●●●●●", "7708**-*******"),
        ("kim at naver dot com", "ki***@naver.com"),
        ("홍길동@한국.kr", "홍***@한국.kr"),
        ("B동 B101호", "B동 B***호"),
    ],
)
def test_masking_keeps_the_ends(text, masked):
    [finding] = find_personal_data(text)
    assert finding.masked == masked


def test_several_findings_sorted_and_non_overlapping():
    text = (
        "어르신 주소는 광주광역시 서구 화정로 123, 101동 1203호이고 연락처는 010-1234-5678, "
        "메일 hong@example.com, 후원 계좌 국민 123-456789-01-001 입니다."
    )
    findings = find_personal_data(text)
    assert [f.kind for f in findings] == ["address", "address", "phone", "email", "bank_account"]
    offsets = [f.offset for f in findings]
    assert offsets == sorted(offsets)
    for a, b in zip(findings, findings[1:]):
        assert a.offset + a.length <= b.offset


def test_full_width_offsets_point_at_the_original_text():
    text = f"가나다 {fw('010-1234-5678')} 라마바 {fw('hong@example.com')}"
    phone, email = find_personal_data(text)
    assert text[phone.offset : phone.offset + phone.length] == fw("010-1234-5678")
    assert text[email.offset : email.offset + email.length] == fw("hong@example.com")


def test_expanding_characters_before_a_match_keep_offsets_right():
    # "①" and "㈜" become several characters under NFKC; offsets must still be original.
    text = "① ㈜착한기업 담당 010-1234-5678"
    [finding] = find_personal_data(text)
    assert text[finding.offset : finding.offset + finding.length] == "010-1234-5678"


def test_email_wins_over_the_phone_number_inside_it():
    [finding] = find_personal_data("01012345678@naver.com")
    assert finding.kind == "email"


def test_rrn_wins_over_bank_account():
    # After a bank word a 6-7 digit number could be an account, but it is a valid RRN shape.
    [finding] = find_personal_data("계좌 900101-1234567")
    assert finding.kind == "rrn"


def test_bank_account_wins_over_phone_after_a_clear_bank_word():
    [finding] = find_personal_data("입금계좌 010-1234-5678")
    assert finding.kind == "bank_account"


def test_everyday_bank_words_do_not_turn_phones_into_accounts():
    # 우리 = "our", 하나 = "one", 기업 = "company": the number stays a phone.
    for text in ("우리 010-1234-5678", "착한 기업 062-123-4567", "하나 010 1234 5678"):
        [finding] = find_personal_data(text)
        assert finding.kind == "phone", text


def test_invalid_birth_date_is_not_an_rrn():
    assert find_personal_data("901301-1234567") == []  # month 13
    assert find_personal_data("900230-1234567") == []  # 30 February
    assert find_personal_data("900101-9234567") == []  # 7th digit 9


def test_empty_text():
    assert find_personal_data("") == []


def test_check_fields_names_the_field_in_order():
    fields = {
        "title": "서울 병원 교통비 40회 지원",
        "summary": None,
        "description": "연락처 010-1234-5678, 화정로 123",
        "story": "",
        "donor_message": "hong@example.com 으로 영수증 주세요",
    }
    result = check_fields(fields)
    assert all(isinstance(r, FieldFinding) for r in result)
    assert [(r.field, r.finding.kind) for r in result] == [
        ("description", "phone"),
        ("description", "address"),
        ("donor_message", "email"),
    ]
    description = fields["description"]
    f = result[0].finding
    assert description[f.offset : f.offset + f.length] == "010-1234-5678"


def test_check_fields_clean():
    assert check_fields({"title": "2026년 11월 29일 40회 1,500,000원", "x": None}) == []


def test_kinds_and_labels():
    assert KINDS == ("rrn", "phone", "email", "bank_account", "address")
    assert set(KIND_LABELS) == set(KINDS)
    assert KIND_LABELS["rrn"] == "resident registration number"
    assert all(label.isascii() for label in KIND_LABELS.values())


def test_finding_is_frozen():
    finding = Finding(kind="phone", masked="010-****-5678", offset=0, length=13)
    with pytest.raises(AttributeError):
        finding.offset = 1  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

_PROSE = st.sampled_from(
    ["", "목표 금액 ", "우리 동네 ", "국민 여러분, ", "기업 후원금 ", "화정로 ", "농성동 ", "계좌 이체로 ",
     "서울로 ", "총 ", "1회 ", "착한 가게에서 "]
)


@given(
    amount=st.integers(min_value=0, max_value=10**13),
    prefix=_PROSE,
    template=st.sampled_from(["{:,}원", "{:,} 원", "{:,} won", "₩{:,}", "{:,}원 x 40회", "{}원"]),
)
def test_amounts_never_flagged(amount, prefix, template):
    text = prefix + template.format(amount)
    assert find_personal_data(text) == [], text


_DATE_FORMATS = [
    "{d.year}-{d.month:02d}-{d.day:02d}",
    "{d.year}.{d.month:02d}.{d.day:02d}",
    "{d.year}. {d.month}. {d.day}.",
    "{d.year}/{d.month:02d}/{d.day:02d}",
    "{d.year}{d.month:02d}{d.day:02d}",
    "{d.year}년 {d.month}월 {d.day}일",
    "{d.month}/{d.day}",
    "{d.month:02d}.{d.day:02d}",
    "{d.year}-{d.month:02d}-{d.day:02d} 14:30",
    "{d.year}.{d.month:02d}.{d.day:02d}~{d.year}.{d.month:02d}.{d.day:02d}",
]


@given(
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    fmt=st.sampled_from(_DATE_FORMATS),
    prefix=_PROSE,
)
def test_dates_never_flagged(day, fmt, prefix):
    text = prefix + fmt.format(d=day) + "까지"
    assert find_personal_data(text) == [], text


@given(
    area=st.sampled_from(["010", "011", "016", "017", "018", "019"]),
    mid=st.integers(min_value=1000, max_value=9999),
    last=st.integers(min_value=0, max_value=9999),
    sep=st.sampled_from(["-", " ", ".", "", " - "]),
    full_width=st.booleans(),
    prefix=st.sampled_from(["", "연락처 ", "휴대폰:", "할머니 번호는 "]),
)
def test_any_mobile_number_is_found_at_its_original_place(area, mid, last, sep, full_width, prefix):
    number = f"{area}{sep}{mid}{sep}{last:04d}"
    if full_width:
        number = fw(number)
    text = f"{prefix}{number} 로 연락 주세요"
    [finding] = find_personal_data(text)
    assert finding.kind == "phone"
    assert text[finding.offset : finding.offset + finding.length] == number
    assert finding.masked == f"{area}{sep}****{sep}{last:04d}"
