"""A resident on a phone tells the welfare staff about a neighbour: from the footer link to the receipt code,
in whatever language the site speaks, accessible (axe) with and without errors, never scrolling sideways;
and the same without JavaScript."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kindcity.extensions import db
from kindcity.models import Referral

from .conftest import PHONE, no_horizontal_scroll
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

SITUATION = "쌍촌로 12 끝집 할아버지가 사흘째 보이지 않고 보일러 소리도 나지 않습니다."


def _stored(live_server, code: str) -> tuple[str, str, str | None]:
    with live_server.app.app_context():
        referral = db.session.scalar(select(Referral).where(Referral.code == code))
        return referral.centre.code, referral.situation, referral.contact


def test_a_resident_on_a_phone_sends_a_referral_from_the_footer_and_keeps_the_code(live_server, new_context):
    t = live_server.t
    page = new_context(phone=True).new_page()
    page.goto("/")
    page.locator("footer").get_by_role("link", name=t("Tell us about a neighbour in need")).click()
    expect(page).to_have_url(re.compile(r"/refer$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Tell us about a neighbour in need"))
    expect(page.get_by_role("link", name="119", exact=True)).to_have_attribute("href", "tel:119")
    no_horizontal_scroll(page, PHONE["width"])
    assert_accessible(page)

    send = page.get_by_role("button", name=t("Send to the welfare staff"))
    send.click()  # nothing filled in: the first thing missing is named on its field
    dong = page.get_by_label(t("Dong where the person lives"))
    expect(dong).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#dong-error")).to_have_text(t("Please choose the dong where the person lives."))
    no_horizontal_scroll(page, PHONE["width"])
    assert_accessible(page)

    dong.select_option("hwajeong1")
    page.get_by_label(t("Urgent: help is needed today"), exact=True).check()
    page.get_by_label(t("What did you see?")).fill(SITUATION)
    page.get_by_label(t("How can staff reach you? (optional)")).fill("010-2468-1357")
    send.click()  # everything but the consent
    consent = page.get_by_label(t("I agree to the collection and use of this information as described above."))
    expect(consent).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#consent-error")).to_have_text(
        t("Please agree to how we use this information, or we cannot take it."))
    expect(page.get_by_label(t("What did you see?"))).to_have_value(SITUATION)  # nothing typed was lost
    expect(page.get_by_label(t("Urgent: help is needed today"), exact=True)).to_be_checked()
    no_horizontal_scroll(page, PHONE["width"])
    assert_accessible(page)

    consent.check()
    send.click()
    page.wait_for_url(re.compile(r"/refer/RF[0-9A-Z]{8}$"))
    code = page.url.rsplit("/", 1)[1]
    expect(page.locator(".reference")).to_have_text(code)
    expect(page.locator(".flash-success")).to_have_text(
        t("Thank you. What you told us has been sent to the welfare staff."))
    expect(page.locator("dl.facts")).to_contain_text(t("Received, not looked at yet"))
    expect(page.locator("dl.facts")).to_contain_text("화정1동 행정복지센터")
    expect(page.locator("main")).not_to_contain_text("보일러")
    no_horizontal_scroll(page, PHONE["width"])
    assert_accessible(page)
    assert _stored(live_server, code) == ("centre-hwajeong1", SITUATION, "010-2468-1357")

    page.goto("/refer/status")  # later: looking the code up, typed as people type it
    assert_accessible(page)
    page.get_by_label(t("Receipt code")).fill(code.lower())
    page.get_by_role("button", name=t("Look it up")).click()
    expect(page).to_have_url(re.compile(rf"/refer/{code}$"))
    expect(page.locator(".reference")).to_have_text(code)


def test_the_form_works_without_javascript(live_server, new_context):
    t = live_server.t
    page = new_context(phone=True, java_script_enabled=False).new_page()
    page.goto("/refer?lang=en")
    page.get_by_label(t("Dong where the person lives", lang="en")).select_option("yang")
    page.get_by_label(t("Not urgent: help is needed, but not today", lang="en"), exact=True).check()
    page.get_by_label(t("What did you see?", lang="en")).fill("The lady on the 2nd floor skips meals lately.")
    page.get_by_label(t("I agree to the collection and use of this information as described above.",
                        lang="en")).check()
    page.get_by_role("button", name=t("Send to the welfare staff", lang="en")).click()
    page.wait_for_url(re.compile(r"/refer/RF[0-9A-Z]{8}$"))
    expect(page.locator("dl.facts")).to_contain_text("Yang-dong Community Service Centre")
    code = page.url.rsplit("/", 1)[1]
    assert _stored(live_server, code)[0] == "centre-yang"
