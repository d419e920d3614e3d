"""The guard reads public text as the reader sees it: kindcity.text.reader_text renders it as the site
does, and services.public_text checks both views (issue 12, item 3)."""
from __future__ import annotations

import pytest

from kindcity.domain.personal_data import check_fields, find_personal_data
from kindcity.services.public_text import PersonalDataFound, personal_data_in, refuse_personal_data
from kindcity.text import reader_text

# Typed without personal data in the guard's eyes, shown on the page with it.
HIDDEN_IN_MARKUP = [
    ("&#48;10-1234-5678", "phone"),
    ("9001&#48;1-1234567", "rrn"),
    ("kim&#64;example.com", "email"),
    ("010-**1234**-5678", "phone"),
    ("010-*1234*-5678", "phone"),
    ("010&#x2D;1234&#45;5678", "phone"),
    ("kim&commat;example.com", "email"),
    ("010\\-1234\\-5678", "phone"),
    ("[연락처](mailto:kim&#64;example.com)", "email"),
    ("[메일](mailto:kim%40example.com)", "email"),
    ("<kim&#64;example.com>", "email"),
]


@pytest.mark.parametrize(("typed", "kind"), HIDDEN_IN_MARKUP)
def test_markup_hides_personal_data_from_the_typed_text_only(typed, kind):
    assert [f for f in find_personal_data(typed) if f.kind == kind] == []  # why the reader view is needed
    [finding] = personal_data_in({"description": typed})
    assert finding.field == "description" and finding.finding.kind == kind and finding.as_shown


def test_reader_text_is_the_page_without_markup():
    assert reader_text("**고맙습니다.** 40회 &amp; 12명").strip() == "고맙습니다. 40회 & 12명"
    assert reader_text("- 첫째\n- 둘째").split() == ["첫째", "둘째"]
    assert reader_text(None).strip() == ""


def test_an_escaped_reference_stays_as_the_reader_sees_it():
    # "&amp;#48;" is shown as the five characters "&#48;", not as a digit.
    assert "&#48;10-1234-5678" in reader_text("&amp;#48;10-1234-5678")
    assert personal_data_in({"title": "&amp;#48;10-1234-5678"}) == []


def test_raw_html_is_shown_as_text_so_its_digits_stay_apart():
    # Raw HTML is off in the renderer: a comment is shown literally and splits the number for the reader too.
    assert personal_data_in({"description": "010-1234-56<!-- -->78"}) == []


def test_invisible_and_full_width_characters_in_the_shown_text():
    [finding] = personal_data_in({"message": "０１０\u200b-1234-\u20605678"})
    assert finding.finding.kind == "phone"


def test_found_in_both_views_is_reported_once():
    findings = personal_data_in({"description": "**연락처** 010-1234-5678, 화정로 123"})
    assert [(f.finding.kind, f.as_shown) for f in findings] == [("phone", False), ("address", False)]


def test_check_fields_without_a_shown_text_checks_the_typed_text_only():
    assert check_fields({"description": "&#48;10-1234-5678"}) == []
    [finding] = check_fields({"description": "&#48;10-1234-5678"}, shown={"description": "010-1234-5678"})
    assert finding.as_shown and finding.finding.masked == "010-****-5678"


def test_refusal_carries_the_findings():
    with pytest.raises(PersonalDataFound) as raised:
        refuse_personal_data({"title": "도움", "summary": "kim&#64;example.com"})
    assert [(f.field, f.finding.kind) for f in raised.value.findings] == [("summary", "email")]
    refuse_personal_data({"title": "2026년 11월 29일 40회 1,500,000원"})  # clean text passes
