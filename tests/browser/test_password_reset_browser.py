"""A resident who forgot the password gets back in on a phone: the login page's link, the mail, a new password."""
from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, no_horizontal_scroll
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser


def _mails(live_server) -> set[Path]:
    folder = Path(live_server.app.config["KINDCITY_OUTBOX"])
    return set(folder.glob("*.eml")) if folder.exists() else set()


def test_a_donor_who_forgot_the_password_sets_a_new_one_from_the_mail(live_server, new_context):
    donor = live_server.make_user("donor", name="박순자")
    page = new_context(phone=True).new_page()
    page.goto("/account/login")
    page.get_by_role("link", name=live_server.t("Forgot your password?")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(live_server.t("Forgot your password?"))
    no_horizontal_scroll(page, PHONE["width"])
    assert_accessible(page)
    before = _mails(live_server)
    page.get_by_label(live_server.t("E-mail")).fill(donor.email)
    page.get_by_role("button", name=live_server.t("Send me a link")).click()
    page.wait_for_url(re.compile(r"/account/login$"))
    expect(page.locator(".flash-info")).to_contain_text(donor.email)

    [sent] = _mails(live_server) - before
    body = email.message_from_bytes(sent.read_bytes(), policy=policy.default).get_content()
    link = re.search(r"https?://\S+/account/reset/\S+", body).group(0)
    page.goto(urlsplit(link).path)
    expect(page.get_by_role("heading", level=1)).to_have_text(live_server.t("Set a new password"))
    assert_accessible(page)
    page.get_by_label(live_server.t("New password (at least 10 characters)")).fill("a-brand-new-password")
    page.get_by_label(live_server.t("New password again")).fill("a-brand-new-password")
    page.get_by_role("button", name=live_server.t("Set my new password")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(live_server.t("My giving"))
    expect(page.locator(".flash-success")).to_contain_text(
        live_server.t("Your new password is set, and you are logged in. Other devices are logged out."))

    page.goto(urlsplit(link).path)  # the link is spent
    expect(page.locator("[role=alert]")).to_have_text(live_server.t(
        "This link does not work any more: it was already used, or the password was changed since it was sent. "
        "Please ask for a new one."))
    expect(page.get_by_role("link", name=live_server.t("Ask for a new link"))).to_be_visible()
    assert_accessible(page)
