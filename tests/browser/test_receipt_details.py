"""In a real browser: a donor gives a postal address and asks for year-end reporting with the separate
consent; the number is shown masked and never filled back in; the admin page of receiving
organisations. axe-core on each, in Korean and English."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kindcity.rrn_keys import new_key

from .conftest import log_in
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture
def rrn_keys(live_server):
    config = live_server.app.config
    before = config.get("KINDCITY_RRN_KEYS"), config.get("KINDCITY_RRN_KEY_ID")
    config["KINDCITY_RRN_KEYS"], config["KINDCITY_RRN_KEY_ID"] = f"b1:{new_key()}", "b1"
    yield
    config["KINDCITY_RRN_KEYS"], config["KINDCITY_RRN_KEY_ID"] = before


def test_a_donor_asks_for_reporting_and_sees_the_number_masked(live_server, rrn_keys, page):
    donor = live_server.make_user("donor", name="박기부")
    log_in(page, donor)
    page.goto("/me/")
    page.get_by_role("link", name="영수증 주소와 연말정산 간소화 자료 제출").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("기부금 영수증 정보")
    assert_accessible(page)
    page.get_by_label("영수증에 적을 주소 (선택, 내 영수증에만 표시)").fill("광주광역시 서구 상무대로 1")
    page.get_by_role("button", name="저장").click()
    expect(page.get_by_label("영수증에 적을 주소 (선택, 내 영수증에만 표시)")).to_have_value("광주광역시 서구 상무대로 1")
    number = page.get_by_label("주민등록번호 (13자리)")
    number.fill("900101-1234567")
    page.get_by_role("button", name="기부 내역 제출 신청").click()
    expect(page.locator(".error").first).to_contain_text("동의해 주세요")
    expect(page.get_by_label("주민등록번호 (13자리)")).to_have_value("")   # never filled back in
    assert "1234567" not in page.content()
    assert_accessible(page)
    page.get_by_label("주민등록번호 (13자리)").fill("900101-1234567")
    page.get_by_label("위 내용대로 기부 내역을 국세청에 제출하기 위해 주민등록번호를 수집·이용하는 데 동의합니다.").check()
    page.get_by_role("button", name="기부 내역 제출 신청").click()
    expect(page.get_by_text("900101-1******")).to_be_visible()
    assert "1234567" not in page.content()
    page.goto("/me/receipts/details?lang=en")
    expect(page.get_by_role("button", name="Stop reporting my gifts")).to_be_visible()
    assert_accessible(page)


def test_the_receiving_organisations_page(live_server, page):
    admin = live_server.make_user("admin", name="관리자")
    log_in(page, admin)
    page.goto("/admin/receiving-organisations")
    expect(page.get_by_role("heading", level=1)).to_have_text("기부금 단체")
    expect(page.get_by_role("cell", name="000-83-00000")).to_be_visible()
    assert_accessible(page)
    page.goto("/admin/access-log?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Access record of personal data")
    assert_accessible(page)
