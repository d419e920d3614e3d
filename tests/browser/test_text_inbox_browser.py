"""A staff member of the district office answers a resident's text in a real browser, in Korean, on a
360 px phone: from the staff page to the text inbox (the number masked, the words not shown), the case
(the number and the thread), a reply by text that lands in the outbox folder, then a referral made from
the case. axe finds nothing serious on each page, and no page scrolls sideways."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kindcity.extensions import db

from .conftest import log_in, no_horizontal_scroll
from .test_accessibility import assert_accessible
from .test_phone_layout import NARROW

pytestmark = pytest.mark.browser

NUMBER = "01036925814"
WORDS = "혼자 사시는 아버지가 어제부터 전화를 안 받으세요. 서창동입니다."


def _incoming(live_server, number: str = NUMBER) -> int:
    from kindcity.domain.time import utcnow
    from kindcity.jobs import run_committed
    from kindcity.services import texts as service
    from kindcity.sms import IncomingText

    with live_server.app.app_context():
        case = service.receive(IncomingText(provider_id=f"browser-{number}", sender=number, body=WORDS,
                                            received_at=utcnow()), max_per_hour=20).case
        case_id = case.id
        db.session.commit()
        run_committed()
    return case_id


def _texts_to(live_server, number: str) -> list[str]:
    folder = Path(live_server.app.config["KINDCITY_OUTBOX"])
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.sms.txt"))
            if f"To: {number}" in p.read_text(encoding="utf-8")]


def test_staff_answer_a_text_and_make_a_referral_on_a_360px_phone(live_server, new_context):
    t = live_server.t
    staff = live_server.make_user("staff", centre_code="district-welfare", name="복지정책과 주무관")
    case_id = _incoming(live_server)
    assert len(_texts_to(live_server, NUMBER)) == 1   # the automatic first answer

    page = new_context(phone=True).new_page()
    page.set_viewport_size(NARROW)
    log_in(page, staff)
    page.goto("/staff/")
    page.get_by_role("link", name=re.compile("^" + re.escape(t("Text inbox")))).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("문자함")
    main = page.locator("main")
    expect(main).to_contain_text("010-****-**14")
    expect(main).not_to_contain_text(NUMBER)
    expect(main).not_to_contain_text(WORDS)
    no_horizontal_scroll(page, NARROW["width"])
    assert_accessible(page)

    page.get_by_role("link", name=t("Case %(num)s", num=case_id)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Case %(num)s", num=case_id))
    expect(main).to_contain_text(NUMBER)
    expect(main).to_contain_text(WORDS)
    expect(main).to_contain_text(t("Automatic answer"))
    no_horizontal_scroll(page, NARROW["width"])
    assert_accessible(page)

    page.get_by_role("button", name=t("Send the answer")).click()   # nothing written: refused, nothing sent
    expect(page.locator(".flash-error")).to_have_text(t("Please write the answer."))
    page.get_by_label(t("Your answer (sent by text)")).fill("오늘 오후에 동 주민센터에서 찾아뵙겠습니다.")
    page.get_by_role("button", name=t("Send the answer")).click()
    expect(page.locator(".flash-success")).to_have_text(t("Your answer is being sent by text."))
    expect(main.locator("ol.thread")).to_contain_text("오늘 오후에 동 주민센터에서 찾아뵙겠습니다.")
    sent = _texts_to(live_server, NUMBER)
    assert len(sent) == 2 and "찾아뵙겠습니다" in sent[-1]
    no_horizontal_scroll(page, NARROW["width"])
    assert_accessible(page)

    refer = page.locator("form", has=page.get_by_role("button", name=t("Make the referral")))
    refer.get_by_label(t("Dong"), exact=True).select_option("seochang")
    refer.get_by_label(t("Urgent: help needed today")).check()
    refer.get_by_role("button", name=t("Make the referral")).click()
    expect(page.locator(".flash-success")).to_have_text(t("A referral was made from this case."))
    expect(main).to_contain_text(WORDS)   # the referral's own page holds the resident's words
    assert "/staff/referrals/" in page.url
    no_horizontal_scroll(page, NARROW["width"])

    page.goto(f"/staff/texts/{case_id}")
    expect(main.locator("dl.facts")).to_contain_text(t("Made a referral"))
    expect(main.get_by_role("link", name=re.compile("^RF"))).to_be_visible()
    expect(page.get_by_role("button", name=t("Send the answer"))).to_have_count(0)
    assert_accessible(page)


def test_the_counts_page_fits_a_360px_phone(live_server, new_context):
    staff = live_server.make_user("staff", centre_code="district-welfare")
    _incoming(live_server, "01036925800")
    page = new_context(phone=True).new_page()
    page.set_viewport_size(NARROW)
    log_in(page, staff)
    page.goto("/staff/texts/counts")
    expect(page.get_by_role("heading", level=1)).to_have_text("문자 창구 집계")
    expect(page.locator("main")).not_to_contain_text("01036925800")
    no_horizontal_scroll(page, NARROW["width"])
    assert_accessible(page)
