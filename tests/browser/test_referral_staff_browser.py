"""A welfare worker triages a referral (사각지대 제보) in a real browser: from the dashboard to the queue,
the urgent one first, take it up, close it with an outcome. The queue never shows the resident's words;
axe finds nothing serious on the queue and the referral page, on a desktop and on a phone, and a phone
never scrolls sideways."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from kindcity.extensions import db

from .conftest import PHONE, log_in, no_horizontal_scroll
from .test_accessibility import assert_accessible
from .test_phone_layout import NARROW, TOUCH, assert_one_line, box

pytestmark = pytest.mark.browser

SITUATION = "서창동 한 빌라 1층에 사시는 어르신이 며칠째 보이지 않습니다. 집 앞에 우편물이 쌓여 있어요."
CONTACT = "이웃 최민수 010-2222-3333"


@dataclass(frozen=True)
class ReferralInfo:
    id: int
    code: str


def _referral(live_server, urgency: str, address: str, situation: str = SITUATION) -> ReferralInfo:
    from kindcity.services import referrals as service
    with live_server.app.app_context():
        referral = service.submit(address, service.ReferralRequest(
            dong="seochang", urgency=urgency, situation=situation, contact=CONTACT, consent=True))
        info = ReferralInfo(referral.id, referral.code)
        db.session.commit()
    return info


def test_staff_take_up_and_close_an_urgent_referral(live_server, new_context):
    t = live_server.t
    staff = live_server.make_user("staff", centre_code="centre-seochang", name="서창 주무관")
    normal = _referral(live_server, "normal", "192.0.2.71", "오래 전부터 혼자 지내시는 분의 식사가 걱정됩니다.")
    urgent = _referral(live_server, "urgent", "192.0.2.72")

    page = new_context().new_page()
    log_in(page, staff)
    page.goto("/staff/")
    page.get_by_role("link", name=re.compile("^" + re.escape(t("Referrals")))).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Referrals"))
    rows = page.locator("main table tbody tr")
    codes = [code.strip() for code in rows.locator("td:first-child").all_inner_texts()]
    assert codes.index(urgent.code) < codes.index(normal.code)  # urgent first, though it came later
    expect(rows.filter(has_text=urgent.code).locator(".urgent")).to_have_text(t("Urgent"))
    expect(page.locator("main")).not_to_contain_text(SITUATION)
    expect(page.locator("main")).not_to_contain_text(CONTACT)
    assert_accessible(page)

    page.get_by_role("link", name=urgent.code).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Referral %(code)s", code=urgent.code))
    expect(page.locator("main")).to_contain_text(SITUATION)
    expect(page.locator("main")).to_contain_text(CONTACT)
    assert_accessible(page)

    page.locator("#take_up-note").fill("오늘 오후 방문")
    page.get_by_role("button", name=t("Take it up")).click()
    expect(page.locator(".flash-success")).to_have_text(t("You have taken up this referral."))
    expect(page.locator("main")).to_contain_text("오늘 오후 방문")
    expect(page.get_by_role("button", name=t("Take it up"))).to_have_count(0)

    page.get_by_role("button", name=t("Close the referral")).click()  # no outcome yet: refused
    expect(page.locator(".flash-error")).to_have_text(t("Please choose the outcome before closing the referral."))
    page.get_by_label(t("Outcome"), exact=True).select_option("supported")
    page.locator("#close-note").fill("긴급 난방비 지원 연계")
    page.get_by_role("button", name=t("Close the referral")).click()
    expect(page.locator(".flash-success")).to_have_text(t("The referral is closed."))
    expect(page.locator("main dl.facts")).to_contain_text(t("Linked to support"))
    expect(page.get_by_role("button", name=t("Reopen the referral"))).to_be_visible()
    assert_accessible(page)

    page.goto("/staff/referrals?closed=1")
    expect(page.locator("main table")).to_contain_text(urgent.code)
    expect(page.locator("main")).not_to_contain_text(SITUATION)


def test_the_queue_and_a_referral_fit_a_phone(live_server, new_context):
    t = live_server.t
    staff = live_server.make_user("staff", centre_code="centre-seochang")
    urgent = _referral(live_server, "urgent", "192.0.2.73")
    page = new_context(phone=True).new_page()
    log_in(page, staff)
    for path in ("/staff/", "/staff/referrals", f"/staff/referrals/{urgent.id}"):
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        no_horizontal_scroll(page, PHONE["width"])
        if path != "/staff/":
            assert_accessible(page)

    page.set_viewport_size(NARROW)  # the dashboard link with its counts stays one touch target on one line
    page.goto("/staff/")
    link = page.get_by_role("navigation", name=t("Staff"), exact=True).get_by_role(
        "link", name=re.compile("^" + re.escape(t("Referrals"))))
    expect(link.locator(".urgent")).to_be_visible()
    assert box(link)["height"] >= TOUCH
    assert_one_line(link, "the staff dashboard's referral link")
    no_horizontal_scroll(page, NARROW["width"])
