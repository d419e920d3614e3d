"""The share button of a need's page in a real browser: where the browser has no Web Share API (as
desktop Chromium on Linux), a click copies the link and a visible status line says so; with the API
the phone's share sheet gets the title and address; without JavaScript there is no button at all."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture
def need(live_server):
    return live_server.make_need(title="홀몸 어르신 겨울 이불 지원", target=800_000)


def test_the_fallback_copies_the_link_and_says_so(live_server, new_context, need):
    context = new_context(phone=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.add_init_script("delete Navigator.prototype.share; delete navigator.share;")
    page.goto(f"/needs/{need.id}")
    button = page.get_by_role("button", name=live_server.t("Share this need"))
    expect(button).to_be_visible()
    button.click()
    address = f"{live_server.url}/needs/{need.id}"
    status = page.get_by_role("status").filter(has_text=address)
    expect(status).to_have_text(live_server.t("Link copied: %(url)s", url=address))
    expect(status).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == address
    assert_accessible(page)


def test_the_web_share_api_gets_the_title_and_address(live_server, new_context, need):
    page = new_context(phone=True).new_page()
    page.add_init_script("""navigator.share = async (data) => { window.__shared = data; };""")
    page.goto(f"/needs/{need.id}?lang=en")
    page.get_by_role("button", name="Share this need").click()
    page.wait_for_function("window.__shared !== undefined")
    shared = page.evaluate("window.__shared")
    assert shared == {"title": need.title, "url": f"{live_server.url}/needs/{need.id}"}
    expect(page.locator(".share-status")).to_be_hidden()  # nothing copied, nothing to say


def test_without_javascript_there_is_no_share_button(live_server, new_context, need):
    page = new_context(phone=True, java_script_enabled=False).new_page()
    page.goto(f"/needs/{need.id}")
    expect(page.get_by_role("heading", name=need.title)).to_be_visible()
    expect(page.get_by_role("button", name=live_server.t("Share this need"))).to_have_count(0)
