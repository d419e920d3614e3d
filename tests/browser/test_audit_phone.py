"""The audit log on a 360 px phone: each entry a card of labelled lines, not seven columns squeezed to
one character each (the page was 46,000 px tall); Hangul values readable; the filters usable."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import log_in, no_horizontal_scroll
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

NARROW = {"width": 360, "height": 740}
ENTRIES = 50  # one full page of the log


@pytest.fixture
def admin_with_log(live_server):
    from sqlalchemy import insert

    from kindcity.domain.time import utcnow
    from kindcity.extensions import db
    from kindcity.models import AuditEntry

    admin = live_server.make_user("admin")
    need = live_server.make_need(title="암 환자 서울 병원 교통비 지원")
    with live_server.app.app_context():
        db.session.execute(insert(AuditEntry), [
            {"at": utcnow(), "actor_id": admin.id, "action": "categories.save", "entity": "categories",
             "entity_id": 3, "before": {"name_ko": "홀몸 어르신 돌봄"},
             "after": {"name_ko": "홀로 사는 어르신 돌봄", "name_en": "Older people living alone"}}
            for _ in range(ENTRIES - 1)] + [
            {"at": utcnow(), "actor_id": admin.id, "action": "impact.approve", "entity": "need",
             "entity_id": need.id, "before": {"report": "awaiting_approval"}, "after": {"report": "published"}}])
        db.session.commit()
    return admin, need


def test_the_audit_log_is_cards_on_a_phone(live_server, new_context, admin_with_log):
    admin, need = admin_with_log
    page = new_context(phone=True).new_page()
    page.set_viewport_size(NARROW)
    log_in(page, admin)
    page.goto("/staff/audit")
    rows = page.locator(".audit-log tbody tr")
    expect(rows).to_have_count(ENTRIES)
    no_horizontal_scroll(page, NARROW["width"])
    # every cell as wide as the card, never a one-character column
    widths = page.locator(".audit-log tbody td").evaluate_all(
        "cells => cells.filter(c => c.getClientRects().length).map(c => c.getBoundingClientRect().width)")
    assert widths and min(widths) >= 250, f"a cell is only {min(widths):.0f}px wide"
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 500 * ENTRIES  # a card is about 400px; the squeezed table was 46,000px in all, f"the page is {height}px tall for {ENTRIES} entries"
    first = rows.first
    expect(first).to_contain_text(live_server.t("Impact report published"))
    expect(first.get_by_role("link", name=need.title)).to_be_visible()
    expect(rows.nth(1)).to_contain_text("홀로 사는 어르신 돌봄")
    assert "\\u" not in page.locator(".audit-log").inner_text()
    assert_accessible(page)


def test_the_filters_narrow_the_log_in_english(live_server, new_context, admin_with_log):
    admin, need = admin_with_log
    page = new_context(phone=True).new_page()
    page.set_viewport_size(NARROW)
    log_in(page, admin)
    page.goto("/staff/audit?lang=en")
    page.get_by_label("What was done").select_option("impact.approve")
    page.get_by_label("Record number").fill(str(need.id))
    page.get_by_role("button", name="Filter").click()
    rows = page.locator(".audit-log tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Impact report published")
    no_horizontal_scroll(page, NARROW["width"])
