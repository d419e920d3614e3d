"""The public site needs no JavaScript: with it switched off, a visitor can still filter and read needs."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_filter_the_needs_list_and_open_a_need_without_javascript(live_server, new_context):
    t = live_server.t
    wanted = live_server.make_need(title="서창동 어르신 문화 나들이", dong="seochang", category="culture",
                                   group="elderly-alone", unit_cost=25_000, units=30)
    other = live_server.make_need(title="서창동 아동 급식 지원", dong="seochang", category="food", group="children")

    page = new_context(phone=True, java_script_enabled=False).new_page()
    page.goto("/needs")
    filters = page.get_by_role("search")
    expect(filters.get_by_label(t("Dong"), exact=True)).to_be_hidden()  # folded away until asked for
    filters.get_by_text(t("More filters"), exact=True).click()
    filters.get_by_label(t("Dong"), exact=True).select_option(label="서창동")
    filters.get_by_label(t("Category"), exact=True).select_option(label="문화·여가")
    filters.get_by_role("button", name=t("Search")).click()

    expect(page).to_have_url(re.compile(r"[?&]dong=seochang(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]category=culture(&|$)"))
    expect(page.get_by_role("link", name=wanted.title)).to_be_visible()
    expect(page.get_by_role("link", name=other.title)).to_have_count(0)
    expect(filters.get_by_label(t("Dong"), exact=True)).to_have_value("seochang")  # the form keeps the choice

    page.get_by_role("link", name=wanted.title).click()
    expect(page).to_have_url(re.compile(rf"/needs/{wanted.id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(wanted.title)
    expect(page.locator("dl.facts")).to_contain_text("750,000원")
