"""A donor pledges and sees the reference code; staff import the bank statement; the need page moves."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_donor_pledges_staff_import_statement_need_page_moves(live_server, new_context, tmp_path):
    staff = live_server.make_user("staff", centre_code="district-welfare", money_staff=True)
    donor = live_server.make_user("donor")
    need = live_server.make_need(title="홀몸 어르신 겨울 난방비 (브라우저)", target=600_000)

    # The donor pledges 200,000원 on a phone, in Korean.
    donor_page = new_context(phone=True).new_page()
    log_in(donor_page, donor)
    donor_page.goto(f"/needs/{need.id}")
    donor_page.get_by_role("link", name=live_server.t("Pledge to this need")).click()
    donor_page.locator("#amount").fill("200,000")
    donor_page.get_by_role("button", name=live_server.t("Pledge")).click()
    reference_box = donor_page.locator(".reference")
    expect(reference_box).to_have_text(re.compile(r"^KC[2-9A-Z]{6}$"))
    reference = reference_box.inner_text()
    expect(donor_page.locator("main")).to_contain_text("광주은행")
    expect(donor_page.locator("main")).to_contain_text("200,000원")

    # Staff upload the bank's CP949 export, preview it, and record it.
    statement = tmp_path / "statement.csv"
    statement.write_bytes(("거래내역조회\n계좌번호: 000-000-000000\n\n"
                           "거래일시,적요,출금액,입금액,입금자명,잔액\n"
                           f"2026-11-29 10:12:00,타행이체,,\"200,000\",김후원 {reference},\"200,000\"\n"
                           "2026-11-29 11:00:00,이자,,\"35\",이자,\"200,035\"\n").encode("cp949"))
    staff_page = new_context().new_page()
    log_in(staff_page, staff)
    staff_page.goto("/staff/statements?lang=en")
    staff_page.locator("#statement").set_input_files(str(statement))
    staff_page.get_by_role("button", name="Preview").click()
    expect(staff_page.locator("ul.summary")).to_contain_text("Matched: 1")
    expect(staff_page.locator("ul.summary")).to_contain_text("Unmatched: 1")
    staff_page.get_by_role("button", name="Record these payments").click()
    expect(staff_page.locator(".flashes")).to_contain_text("1 payments recorded")

    # Anyone now sees the progress on the need page: 200,000 of 600,000 (33%).
    visitor = new_context().new_page()
    visitor.goto(f"/needs/{need.id}")
    expect(visitor.locator(".progress .amounts")).to_contain_text("200,000원")
    expect(visitor.locator(".progress .amounts")).to_contain_text("33%")
    expect(visitor.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "33")

    # And the donor's pledge page says it is paid.
    donor_page.reload()
    expect(donor_page.locator("main")).to_contain_text(live_server.t("Paid"))
