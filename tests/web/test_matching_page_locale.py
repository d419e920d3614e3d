"""/matching shows the policy in the visitor's language only (Korean by default, English with ?lang=en),
links to the other language's version, and its Korean text reads as Korean: no raw reason codes, no
English example sentences. Runs on the real policy, kindcity/domain/matching/README.md.
"""
from __future__ import annotations

import html
import re

from kindcity.web.public import matching as public_matching

ENGLISH_LINK = re.compile(r'<a href="/matching\?lang=en" lang="en" hreflang="en">English</a>')
KOREAN_LINK = re.compile(r'<a href="/matching\?lang=ko" lang="ko" hreflang="ko">한국어</a>')
RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")
# Four or more English words in a row: a sentence (or most of one), not a product name or a gloss.
ENGLISH_RUN = re.compile(r"[A-Za-z]+(?:[ ,;:'-]+[A-Za-z]+){3,}")


def _markdown_section(heading: str) -> str:
    return public_matching._section(public_matching.POLICY.read_text(encoding="utf-8"), heading)


def _headings(markdown: str) -> list[str]:
    return [line[4:].strip() for line in markdown.splitlines() if line.startswith("### ")]


def _main(response) -> str:
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def _visible(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def _page_headings(fragment: str) -> list[str]:
    return [_visible(h).strip() for h in re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", fragment, re.DOTALL)]


def test_korean_page_shows_only_the_korean_policy(client):
    korean, english = _headings(_markdown_section("한국어")), _headings(_markdown_section("English"))
    assert len(korean) >= 5 and len(english) >= 5
    response = client.get("/matching")
    main = _main(response)
    headings = _page_headings(main)
    assert all(title in headings for title in korean)
    assert not any(title in headings for title in english)
    link = ENGLISH_LINK.search(main)
    assert link and 'lang="en"' not in main.replace(link.group(0), "")  # no English part besides the link
    # One h1 and the Korean section's headings, nothing else (before: both languages' and two more).
    assert len(headings) == 1 + len(korean)
    # Everything but the Korean policy weighs less than half of the English policy alone: the English
    # policy is not hiding in the page. Before: the whole English section was in it (24.6 kB page).
    korean_html = str(public_matching.policy_section("ko"))
    english_html = str(public_matching.policy_section("en"))
    assert korean_html in response.get_data(as_text=True)
    assert len(response.get_data(as_text=True)) - len(korean_html) < len(english_html) / 2


def test_english_page_shows_only_the_english_policy(client):
    korean, english = _headings(_markdown_section("한국어")), _headings(_markdown_section("English"))
    main = _main(client.get("/matching?lang=en"))
    headings = _page_headings(main)
    assert all(title in headings for title in english)
    assert not any(title in headings for title in korean)
    assert len(headings) == 1 + len(english)
    assert "나눔 기금은 어떻게 배분되나요?" not in main and "엔진이 추구하는 것" not in main
    assert "completes the need" in main and RAW_CODE.findall(_visible(main)) == []  # reasons in words


def test_each_language_links_to_the_other(client):
    main = _main(client.get("/matching"))
    assert ENGLISH_LINK.search(main) and not KOREAN_LINK.search(main)
    assert 'href="#policy-en"' not in main  # not a jump to a copy further down the page
    main = _main(client.get("/matching?lang=en"))
    assert KOREAN_LINK.search(main) and not ENGLISH_LINK.search(main)


def test_the_language_link_keeps_the_choice(client):
    client.get("/matching?lang=en")
    assert "What the engine aims for" in _main(client.get("/matching"))
    assert "엔진이 추구하는 것" in _main(client.get("/matching?lang=ko"))


def test_korean_policy_has_no_reason_codes_nor_english_sentences(client):
    text = _visible(str(public_matching.policy_section("ko")))
    assert "배분 사유" in text and "이 배분으로 목표 금액이 채워집니다" in text
    assert RAW_CODE.findall(text) == []
    assert ENGLISH_RUN.findall(text) == []
    # ... and the page shows it as rendered here (no code sneaks in around it).
    main = _visible(_main(client.get("/matching")))
    assert RAW_CODE.findall(main) == []


def test_korean_reasons_are_the_words_the_site_shows(app):
    """The table's examples are what a Korean donor reads on their pledge page, word for word."""
    from types import SimpleNamespace

    from kindcity.domain.matching import REASON_COMPLETES, REASON_COMPLETES_URGENT, REASON_PARTIAL
    from kindcity.web.donor.pooled import reason_text

    terms = {
        "category_dong": SimpleNamespace(categories=["food"], dongs=["yang"], groups=[]),
        "any": SimpleNamespace(categories=[], dongs=[], groups=[]),
        "dong": SimpleNamespace(categories=[], dongs=["yang"], groups=[]),
    }
    with app.test_request_context("/?lang=ko"):
        shown = [reason_text(REASON_COMPLETES_URGENT, reason="", days_left=3, terms=terms["category_dong"]),
                 reason_text(REASON_COMPLETES, reason="", days_left=40, terms=terms["any"]),
                 reason_text(REASON_PARTIAL, reason="", days_left=2, terms=terms["dong"])]
    text = _visible(str(public_matching.policy_section("ko")))
    for line in shown:
        assert line in text
