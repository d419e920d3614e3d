"""A donor pays a pledge on the Korean rails in a real browser, with the demo provider (no PortOne settings):
domestic card, easy pay and 가상계좌, and, without JavaScript, the way out to bank transfer."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import log_in
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser
# The live server's database is shared by the session: these needs keep out of the other tests' pooled
# pledges' criteria, so money those place never lands here (and this file's open gaps never draw theirs).
APART = {"dong": "pungam", "category": "care"}


def _pledge(page, live_server, need, method: str, amount: str = "40,000"):
    t = live_server.t
    page.goto(f"/me/needs/{need.id}/pledge")
    form = page.locator("main form")
    form.get_by_label(t("Amount in won (at least 1,000 won)")).fill(amount)
    form.get_by_label(t("How will you pay?")).select_option(value=f"kr_{method}")
    expect(form).to_contain_text(t("Payment on this site is a demonstration: no money moves."))
    form.get_by_role("button", name=t("Pledge"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/me/pledges/\d+/kr/{method}$"))
    heading = t("Pay pledge %(reference)s", reference="KC_REF").split("KC_REF")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(
        re.escape(heading[0]) + r"KC\w+" + re.escape(heading[1])))


def test_card_and_easy_pay_through_the_demo_window(live_server, page):
    t = live_server.t
    donor = live_server.make_user("donor")
    need = live_server.make_need(title="서울 병원 이송", target=200_000, **APART)
    log_in(page, donor)

    _pledge(page, live_server, need, "card")
    assert_accessible(page)
    page.get_by_role("button", name=t("Open the payment window")).click()
    expect(page).to_have_url(re.compile(r"/demo-kr/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Demonstration payment window"))
    assert_accessible(page)
    page.locator("button[value=fail]").click()
    expect(page.locator(".flash-info")).to_contain_text(
        t("The payment was not completed and nothing was charged. You can try again from this page."))
    page.get_by_role("link", name=t("Card (Korean cards)")).click()
    page.get_by_role("button", name=t("Open the payment window")).click()
    page.locator("button[value=pay]").click()
    expect(page).to_have_url(re.compile(r"/me/pledges/\d+$"))
    expect(page.locator(".flash-success")).to_contain_text(t("Thank you! Your payment is confirmed."))

    _pledge(page, live_server, need, "easy_pay", amount="10,000")
    page.get_by_role("button", name="카카오페이").click()
    expect(page).to_have_url(re.compile(r"/demo-kr/\d+$"))
    page.locator("button[value=pay]").click()
    expect(page.locator(".flash-success")).to_contain_text(t("Thank you! Your payment is confirmed."))

    page.goto(f"/needs/{need.id}")
    expect(page.locator(".progress").first.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "25")


def test_a_virtual_account_is_issued_then_deposited(live_server, page):
    t = live_server.t
    donor = live_server.make_user("donor")
    need = live_server.make_need(title="돌봄이웃 겨울 난방비", target=100_000, **APART)
    log_in(page, donor)

    _pledge(page, live_server, need, "virtual_account", amount="30,000")
    page.get_by_role("button", name=t("Open the payment window")).click()
    page.locator("button[value=issue]").click()

    expect(page).to_have_url(re.compile(r"/me/pledges/\d+$"))
    expect(page.locator(".flash-success")).to_contain_text(
        t("Your virtual account is ready. Please deposit the amount into it before the time shown."))
    section = page.locator("section", has=page.get_by_role("heading", name=t("Your virtual account")))
    expect(section.locator(".account-number")).to_have_text("0000-DEMO-0000")
    assert_accessible(page)
    section.get_by_role("link", name=t("Demonstration: make the deposit")).click()
    page.locator("button[value=deposit]").click()
    expect(page.locator(".flash-success")).to_contain_text(t("Thank you! Your payment is confirmed."))
    expect(page.get_by_role("heading", name=t("Your virtual account"))).to_have_count(0)


def test_without_javascript_the_page_offers_bank_transfer(live_server, new_context):
    t = live_server.t
    donor = live_server.make_user("donor")
    need = live_server.make_need(title="학교 밖 청소년 수학여행", target=200_000, **APART)
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, donor)

    _pledge(page, live_server, need, "card")
    expect(page.get_by_role("button", name=t("Open the payment window"))).to_be_hidden()
    expect(page.get_by_role("heading", name=t("This payment needs JavaScript"))).to_be_visible()
    page.get_by_role("button", name=t("Pay by bank transfer instead")).click()

    expect(page).to_have_url(re.compile(r"/me/pledges/\d+$"))
    expect(page.locator(".flash-success")).to_contain_text(
        t("Your pledge is now paid by bank transfer. Please transfer the money with the reference code below."))
    expect(page.get_by_role("heading", name=t("How to pay"))).to_be_visible()
    expect(page.locator(".reference")).to_be_visible()
