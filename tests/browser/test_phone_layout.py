"""What a person sees on a narrow phone (360x740, the audit's viewport): data tables keep readable
columns and scroll inside their wrapper, never the page; number, file and checkbox inputs are full-size
touch targets; buttons that follow each other do not touch; the staff dashboard's links are a list of
touch targets; account numbers and reference codes stay on one line; the site has a favicon.

Every number here is measured in the browser (bounding boxes, rendered text lines), not read from CSS.
axe-core runs at this width too: a table that scrolls must be reachable by keyboard
(scrollable-region-focusable), so only tables holding a link or control are given room to scroll."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, log_in, no_horizontal_scroll
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

NARROW = {"width": 360, "height": 740}  # the narrowest common phone, as in the layout audit
TOUCH = 44  # px: the smallest comfortable touch target
GAP = 12  # px: the least space between two buttons or forms that follow each other

# How many lines of text the element shows (its own text nodes, or only ``text`` inside them).
LINES_JS = """(el, text) => {
  const rects = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const range = document.createRange();
    if (text) {
      const at = node.textContent.indexOf(text);
      if (at < 0) continue;
      range.setStart(node, at); range.setEnd(node, at + text.length);
    } else {
      range.selectNodeContents(node);
    }
    for (const box of range.getClientRects()) if (box.width > 0 && box.height > 0) rects.push(box);
  }
  if (!rects.length) return 0;
  rects.sort((a, b) => a.top - b.top);
  let lines = 0, bottom = -Infinity;
  for (const box of rects) {
    if (box.top >= bottom - 1) { lines += 1; bottom = box.bottom; } else { bottom = Math.max(bottom, box.bottom); }
  }
  return lines;
}"""


def lines(locator, text: str | None = None) -> int:
    return locator.evaluate(LINES_JS, text)


def box(locator) -> dict:
    expect(locator).to_be_visible()
    found = locator.bounding_box()
    assert found is not None
    return found


def gap_between(first: dict, second: dict) -> float:
    """The free space between two boxes, whichever way they sit (below or beside): negative if they overlap."""
    below = second["y"] - (first["y"] + first["height"])
    beside = max(second["x"] - (first["x"] + first["width"]), first["x"] - (second["x"] + second["width"]))
    return max(below, beside)


def font_px(locator) -> float:
    return float(locator.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))


@pytest.fixture
def phone(new_context):
    """A fresh phone page (Korean, device scale 2), narrowed to 360x740."""
    assert PHONE["width"] >= NARROW["width"]
    page = new_context(phone=True, device_scale_factor=2).new_page()
    page.set_viewport_size(NARROW)
    return page


@pytest.fixture(scope="module")
def pledged(live_server, browser):
    """A donor's bank pledge made through the real form on a phone, and staff of the district office
    who can run the matching engine. Returns plain values."""
    staff = live_server.make_user("staff", centre_code="district-welfare", money_staff=True)
    donor = live_server.make_user("donor")
    need = live_server.make_need(author=staff, title="홀몸 어르신 겨울 난방비와 이불 지원", target=600_000)
    unit_need = live_server.make_need(author=staff, title="학교 밖 청소년 진로 체험 (휴대폰)",
                                      unit_cost=35_000, units=20)
    context = browser.new_context(viewport=NARROW, locale="ko-KR", base_url=live_server.url)
    try:
        page = context.new_page()
        log_in(page, donor)
        page.goto(f"/me/needs/{need.id}/pledge")
        page.locator("#amount").fill("200,000")
        page.get_by_role("button", name=live_server.t("Pledge"), exact=True).click()
        page.wait_for_url(re.compile(r"/me/pledges/\d+$"))
        reference = page.locator(".reference").inner_text()
        pledge_path = page.url.removeprefix(live_server.url)
    finally:
        context.close()
    from kindcity.extensions import db
    from kindcity.models import Pledge
    from kindcity.models.places import District
    with live_server.app.app_context():
        pledge_id = db.session.execute(db.select(Pledge.id).filter_by(reference=reference)).scalar_one()
        account = db.session.execute(db.select(District.bank_account)).scalars().first()
    assert account, "the seeded district has a bank account"
    return {"staff": staff, "donor": donor, "need": need, "unit_need": unit_need, "reference": reference,
            "pledge_path": pledge_path, "pledge_id": pledge_id, "account": account}


def assert_readable_title(cell, where: str) -> None:
    """A need's title in a table cell is a readable column: wide enough, at most three lines."""
    found = box(cell)
    assert found["width"] >= 80, f"{where}: the need title is squeezed to {found['width']:.0f}px wide"
    assert 1 <= lines(cell) <= 3, f"{where}: the need title wraps onto {lines(cell)} lines ({found['height']:.0f}px tall)"


def assert_one_line(locator, where: str, text: str | None = None) -> None:
    shown = lines(locator, text)
    assert shown == 1, f"{where}: {text or locator.inner_text()!r} wraps onto {shown} lines"


def test_donor_table_keeps_readable_columns_and_scrolls_inside_its_wrapper(live_server, pledged, phone):
    log_in(phone, pledged["donor"])
    phone.goto("/me/")
    row = phone.locator(".table-wrap tr", has_text=pledged["reference"])
    assert_readable_title(row.get_by_role("link", name=pledged["need"].title, exact=True), "/me/")
    assert_one_line(row.locator("code"), "/me/ reference code")
    no_horizontal_scroll(phone, NARROW["width"])
    assert_accessible(phone)


def test_staff_tables_keep_readable_columns_and_scroll_inside_their_wrapper(live_server, pledged, phone):
    log_in(phone, pledged["staff"])
    expect(phone).to_have_url(re.compile(r"/staff/$"))
    assert_readable_title(phone.get_by_role("link", name=pledged["need"].title, exact=True), "/staff/")
    no_horizontal_scroll(phone, NARROW["width"])
    assert_accessible(phone)

    phone.goto("/staff/pledges")
    row = phone.locator(".table-wrap tr", has_text=pledged["reference"])
    assert_one_line(row.get_by_role("link", name=pledged["reference"]), "/staff/pledges reference code")
    assert_readable_title(row.locator("td", has_text=pledged["need"].title), "/staff/pledges")
    no_horizontal_scroll(phone, NARROW["width"])

    assert_accessible(phone)

    # The ledger on the staff pledge page has nothing to focus: it fits the screen rather than scroll.
    phone.goto(f"/staff/pledges/{pledged['pledge_id']}")
    expect(phone.locator(".table-wrap td code").first).to_be_visible()
    no_horizontal_scroll(phone, NARROW["width"])
    assert_accessible(phone)


@pytest.mark.parametrize("path, selector, who", [
    ("/me/needs/{unit_need}/pledge", "#units", "donor"),
    ("/me/pooled/new", "#cap_percent", "donor"),
    ("/staff/statements", "#statement", "staff"),
], ids=["units-number", "cap-percent-number", "statement-file"])
def test_number_and_file_inputs_are_full_size(live_server, pledged, phone, path, selector, who):
    log_in(phone, pledged[who])
    phone.goto(path.format(unit_need=pledged["unit_need"].id))
    field = phone.locator(selector)
    found = box(field)
    assert found["height"] >= TOUCH, f"{selector} on {path} is {found['height']:.0f}px tall"
    body = font_px(phone.locator("body"))
    assert font_px(field) == pytest.approx(body, abs=0.5), f"{selector} text is {font_px(field)}px, the site's is {body}px"
    no_horizontal_scroll(phone, NARROW["width"])


def assert_big_checkbox(checkbox, where: str) -> None:
    found = box(checkbox)
    assert found["width"] >= 24 and found["height"] >= 24, \
        f"{where}: the checkbox is {found['width']:.0f}x{found['height']:.0f}px"
    row = box(checkbox.locator("xpath=ancestor::label[1]"))
    assert row["height"] >= TOUCH, f"{where}: the checkbox's label row is {row['height']:.0f}px tall"


def test_checkboxes_are_large_with_touch_height_rows(live_server, pledged, phone):
    phone.goto("/account/login")
    assert_big_checkbox(phone.locator("#remember"), "/account/login")
    no_horizontal_scroll(phone, NARROW["width"])

    log_in(phone, pledged["donor"])
    phone.goto("/me/pooled/new")
    checkboxes = phone.locator("main input[type=checkbox]")
    assert checkboxes.count() > 20
    for i in range(checkboxes.count()):
        assert_big_checkbox(checkboxes.nth(i), f"/me/pooled/new checkbox {i}")
    no_horizontal_scroll(phone, NARROW["width"])


def test_cancel_stands_apart_from_the_payment_box(live_server, pledged, phone):
    log_in(phone, pledged["donor"])
    phone.goto(pledged["pledge_path"])
    payment = box(phone.locator("section.notice", has=phone.locator(".reference")))
    cancel = box(phone.get_by_role("link", name=live_server.t("Cancel this pledge")))
    assert gap_between(payment, cancel) >= GAP, \
        f"the cancel button is {gap_between(payment, cancel):.0f}px from the payment box"
    no_horizontal_scroll(phone, NARROW["width"])
    assert_accessible(phone)


def test_account_number_and_reference_stay_on_one_line(live_server, pledged, phone):
    log_in(phone, pledged["donor"])
    phone.goto(pledged["pledge_path"])
    notice = phone.locator("section.notice", has=phone.locator(".reference"))
    expect(notice).to_contain_text(pledged["account"])
    assert_one_line(notice, "the payment box", text=pledged["account"])
    assert_one_line(notice.locator(".reference"), "the payment box")
    no_horizontal_scroll(phone, NARROW["width"])


def test_donor_dashboard_buttons_do_not_touch(live_server, pledged, phone):
    t = live_server.t
    log_in(phone, pledged["donor"])
    phone.goto("/me/")
    names = [t("Find a need to support"), t("Give to a pooled fund"), t("Offer to match residents' gifts")]
    buttons = [box(phone.get_by_role("link", name=name, exact=True)) for name in names]
    for first, second in zip(buttons, buttons[1:]):
        assert gap_between(first, second) >= GAP, f"two buttons on /me/ are {gap_between(first, second):.0f}px apart"
    # The plain link that follows sits below the buttons, not squeezed beside the last one.
    link = box(phone.get_by_role("link", name=t("What my giving did"), exact=True))
    assert link["y"] >= max(b["y"] + b["height"] for b in buttons), "the link wraps beside the buttons"
    no_horizontal_scroll(phone, NARROW["width"])


def test_matching_engine_buttons_do_not_touch(live_server, pledged, phone):
    t = live_server.t
    log_in(phone, pledged["staff"])
    phone.goto("/staff/matching")
    section = phone.locator("section", has=phone.locator("#setting-h"))
    toggle = box(section.get_by_role("button", name=re.compile(
        "|".join(re.escape(t(m)) for m in ("Turn automatic application off", "Turn automatic application on")))))
    run = box(section.get_by_role("button", name=t("Run the engine now")))
    assert gap_between(toggle, run) >= GAP, f"the matching engine's buttons are {gap_between(toggle, run):.0f}px apart"
    no_horizontal_scroll(phone, NARROW["width"])
    assert_accessible(phone)


def test_staff_dashboard_links_are_a_list_of_touch_targets(live_server, pledged, phone):
    t = live_server.t
    log_in(phone, pledged["staff"])
    expect(phone).to_have_url(re.compile(r"/staff/$"))
    nav = phone.get_by_role("navigation", name=t("Staff"), exact=True)
    names = [t("Referrals"), t("Text inbox"), t("Pledges and transfers"), t("Import a bank statement"), t("Matching engine"),
             t("Delivery and impact reports"), t("Audit log"), t("Year-end reporting to the NTS"), t("Change password")]
    expect(nav.get_by_role("listitem")).to_have_count(len(names))
    for name in names:
        # The referrals and text inbox links carry their counts after their names ("Referrals 2 new").
        link = nav.get_by_role("link", name=re.compile("^" + re.escape(name))).first
        found = box(link)
        assert found["height"] >= TOUCH, f"{name!r} is {found['height']:.0f}px tall"
        assert_one_line(link, "the staff dashboard")
    no_horizontal_scroll(phone, NARROW["width"])


def test_the_site_has_an_icon_that_needs_no_request(live_server, phone):
    errors = []
    phone.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    icon_requests = []
    phone.on("request", lambda request: icon_requests.append(request.url) if "favicon" in request.url else None)
    phone.goto("/")
    icon = phone.locator("head link[rel=icon]")
    expect(icon).to_have_count(1)
    href = icon.get_attribute("href")
    assert href.startswith("data:image/svg+xml,%3Csvg ") and href.endswith("%3C/svg%3E")
    # The page's Content-Security-Policy lets it show (img-src data:), and the browser asks for nothing more.
    csp = phone.request.get("/").headers["content-security-policy"]
    assert re.search(r"img-src 'self' data:", csp)
    phone.reload()
    phone.wait_for_load_state("networkidle")
    assert errors == [], f"console errors on /: {errors}"
    assert icon_requests == []  # no /favicon.ico, no /static/favicon.svg
