"""A donor with more pledges than one page holds reads /me/ page by page: the pager is a navigation
landmark of its own, 이전/다음 (Previous/Next) go where they say, and axe finds nothing blocking on
either page. Korean first, then English."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kindcity.extensions import db
from kindcity.models import User

from .conftest import log_in
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def many(live_server):
    """A donor with 32 pledges (8 of each of four kinds): two pages of /me/ (25, then 7)."""
    from tests.web.test_query_counts import add_donor_pledges

    author, donor = live_server.make_user("staff"), live_server.make_user("donor")
    with live_server.app.app_context():
        add_donor_pledges(db.session, db.session.get(User, donor.id), db.session.get(User, author.id), 8)
    return donor


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_my_pledges_page_by_page(page, live_server, many, lang):
    log_in(page, many)
    page.goto(f"/me/?lang={lang}")
    pager = page.get_by_role("navigation", name=live_server.t("Pages of my pledges", lang))
    expect(pager).to_contain_text(live_server.t("Page %(page)s of %(pages)s", lang, page=1, pages=2))
    expect(page.locator("main tbody tr")).to_have_count(25)
    expect(pager.get_by_role("link", name=live_server.t("Previous", lang))).to_have_count(0)
    assert_accessible(page)
    pager.get_by_role("link", name=live_server.t("Next", lang)).click()
    expect(page).to_have_url(re.compile(r"/me/\?.*page=2"))
    expect(page.locator("main tbody tr")).to_have_count(7)
    expect(pager).to_contain_text(live_server.t("Page %(page)s of %(pages)s", lang, page=2, pages=2))
    expect(pager.get_by_role("link", name=live_server.t("Next", lang))).to_have_count(0)
    assert_accessible(page)
    pager.get_by_role("link", name=live_server.t("Previous", lang)).click()
    expect(page.locator("main tbody tr")).to_have_count(25)
