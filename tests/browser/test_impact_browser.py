"""Impact in a real browser: staff publish a report with a photo, a colleague approves, a visitor reads it;
axe-core finds no serious or critical violation on any impact page."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import ExifTags, Image
from playwright.sync_api import expect

from kindcity.domain.time import seoul_today, utcnow
from kindcity.extensions import db
from kindcity.models import Need, Organisation, User
from kindcity.services import Actor
from kindcity.services import pledges as pledge_service
from tests import factories

from .conftest import UserInfo, log_in, no_horizontal_scroll
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

TITLE = "암 환자 서울 병원 이동 지원 (브라우저)"


@pytest.fixture(scope="module")
def uploads(live_server, tmp_path_factory):
    """Photos of the live server go to a temporary folder for this module."""
    folder = tmp_path_factory.mktemp("uploads")
    before = live_server.app.config.get("KINDCITY_UPLOAD_DIR")
    live_server.app.config["KINDCITY_UPLOAD_DIR"] = str(folder)
    yield folder
    live_server.app.config["KINDCITY_UPLOAD_DIR"] = before


@pytest.fixture(scope="module")
def photo_file(tmp_path_factory):
    exif = Image.Exif()
    exif[ExifTags.Base.GPSInfo] = {1: "N", 2: (35.0, 9.0, 0.0), 3: "E", 4: (126.0, 52.0, 0.0)}
    path = tmp_path_factory.mktemp("photo") / "ktx.jpg"
    out = io.BytesIO()
    Image.new("RGB", (640, 360), (11, 93, 59)).save(out, "JPEG", exif=exif)
    path.write_bytes(out.getvalue())
    return path


@pytest.fixture(scope="module")
def funded(live_server, uploads):
    """A funded need (40 trips x 150,000) paid by a named church and a resident who chose recognition."""
    author = live_server.make_user("staff", centre_code="centre-hwajeong1")
    colleague = live_server.make_user("staff", centre_code="district-welfare")
    with live_server.app.app_context():
        need = factories.need(author=db.session.get(User, author.id), title=TITLE, unit_cost=150_000, units=40)
        church = Organisation(name="빛고을 사랑교회", kind="church", verified_at=utcnow())
        givers = [(factories.user("donor", organisation=church), 4_000_000, "organisation", "pool"),
                  (factories.user("donor", name="이웃 박선영"), 2_000_000, "name", "refund")]
        donor_ids = []
        for donor, amount, display, on_cancel in givers:
            pledge = pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
                need_id=need.id, amount=amount, units=None, display=display, message="", on_cancel=on_cancel),
                hold_for=timedelta(days=7))
            pledge_service.record_payment(Actor(None), pledge.id, amount, source="manual",
                                          external_id=f"browser:{pledge.id}", received_at=utcnow())
            donor_ids.append(donor.id)
        db.session.commit()
        need_id = need.id
        assert db.session.get(Need, need_id).status == "funded"
        resident = db.session.get(User, donor_ids[1])
        resident_info = UserInfo(id=resident.id, email=resident.email, name=resident.display_name)
    return {"need_id": need_id, "author": author, "colleague": colleague, "resident": resident_info}


def test_staff_publish_a_report_with_a_photo_and_a_visitor_reads_it(live_server, new_context, funded, photo_file,
                                                                     uploads):
    t = live_server.t
    need_id = funded["need_id"]
    today = seoul_today()

    staff = new_context().new_page()
    log_in(staff, funded["author"])
    staff.goto(f"/staff/needs/{need_id}")
    staff.get_by_role("link", name=t("Delivery and impact report")).click()
    expect(staff).to_have_url(re.compile(rf"/staff/needs/{need_id}/impact$"))
    assert_accessible(staff)  # before delivery starts
    staff.get_by_role("button", name=t("Start delivery")).click()
    expect(staff.locator("#report-status")).to_have_text(t("Report in draft"))

    spend = staff.locator("form[action$='/impact/disbursements']")
    spend.get_by_label(t("Amount spent in won")).fill("5,700,000")
    spend.get_by_label(t("Date of spending")).fill(today.isoformat())
    spend.get_by_label(t("What it paid for (public; no personal details)")).fill("KTX·택시 왕복 38회")
    spend.get_by_role("button", name=t("Record spending")).click()
    expect(staff.locator("#held")).to_have_text("300,000원")
    staff.get_by_role("link", name=re.compile("300,000원")).click()  # one question first, then the money goes
    staff.get_by_role("button", name=re.compile("300,000원")).click()
    expect(staff.locator("#held")).to_have_text("0원")

    report = staff.locator("form[action$='/impact/report']")
    report.get_by_label(t("Units delivered")).fill("38")
    report.get_by_label(t("People reached")).fill("11")
    report.get_by_label(t("Delivered from")).fill((today - timedelta(days=30)).isoformat())
    report.get_by_label(t("Delivered until")).fill(today.isoformat())
    report.get_by_label(t("Story (Markdown; public; no names, phone numbers or addresses)")).fill(
        "석 달 동안 **38번** 서울 병원을 오갔습니다.")
    report.get_by_role("button", name=t("Save the report")).click()
    expect(staff.locator(".flash-success")).to_contain_text(t("The report is saved."))

    upload = staff.locator("form[action$='/impact/photos']")
    upload.get_by_label(t("Photo (JPEG, PNG or WebP, at most 8 MB)")).set_input_files(str(photo_file))
    upload.get_by_label(t("Description of the photo, for people who cannot see it (public)")).fill("KTX 승차권과 기차")
    upload.get_by_label(t("The people shown in this photo agreed to its publication")).check()
    upload.get_by_role("button", name=t("Add photo")).click()
    expect(staff.locator(".flash-success")).to_contain_text(
        t("The photo is added. Its metadata (camera, time, location) was removed."))
    thumb = staff.get_by_role("img", name="KTX 승차권과 기차")
    expect(thumb).to_be_visible()
    assert staff.evaluate("img => img.naturalWidth", thumb.element_handle()) == 640
    stored = list(uploads.iterdir())
    assert len(stored) == 1 and b"GPS" not in stored[0].read_bytes()
    assert_accessible(staff)  # the workspace with every form and table

    staff.get_by_role("button", name=t("Submit the report for approval")).click()
    expect(staff.locator("#report-status")).to_have_text(t("Report awaiting approval"))
    expect(staff.get_by_role("button", name=t("Approve and publish the report"))).to_have_count(0)
    expect(staff.get_by_text(t("A colleague must approve this report; you cannot approve your own."))).to_be_visible()

    # The photo is not public yet.
    visitor = new_context().new_page()
    photo_url = thumb.get_attribute("src")
    assert visitor.request.get(live_server.url + photo_url).status == 404

    colleague = new_context().new_page()
    log_in(colleague, funded["colleague"])
    colleague.goto("/staff/impact")
    expect(colleague.get_by_role("heading", level=1)).to_have_text(t("Delivery and impact reports"))
    assert_accessible(colleague)
    colleague.locator("section").filter(has=colleague.get_by_role(
        "heading", name=re.compile(re.escape(t("Reports waiting for your approval"))))).get_by_role(
        "link", name=TITLE).click()
    colleague.get_by_role("button", name=t("Approve and publish the report")).click()
    expect(colleague.locator("#report-status")).to_have_text(t("Report published"))
    expect(colleague.locator(".badge").first).to_have_text(t("Completed"))

    # A visitor reads the need's impact on a phone.
    phone = new_context(phone=True).new_page()
    phone.goto(f"/needs/{need_id}")
    phone.get_by_role("link", name=t("Where the money went and what it did")).click()
    expect(phone).to_have_url(re.compile(rf"/needs/{need_id}/impact$"))
    expect(phone.locator(".progress .amounts")).to_contain_text(
        t("%(delivered)s of %(planned)s delivered", delivered=38, planned=40))
    photo = phone.get_by_role("img", name="KTX 승차권과 기차")
    photo.scroll_into_view_if_needed()
    expect(photo).to_be_visible()
    phone.wait_for_function("img => img.complete && img.naturalWidth === 640", arg=photo.element_handle())
    expect(phone.locator("main")).to_contain_text("빛고을 사랑교회")
    expect(phone.locator("main")).to_contain_text("이웃 박선영")
    no_horizontal_scroll(phone, 390)
    assert_accessible(phone)


def test_visitor_reads_the_dashboard_and_filters_by_period(live_server, new_context, funded):
    t = live_server.t
    page = new_context().new_page()
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name=t("Impact"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/impact$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("What our giving achieved"))
    charts = page.locator("svg[role=img]")
    expect(charts).to_have_count(3)
    category = page.get_by_role("img", name=t("Money placed on needs, by category"))
    expect(category).to_be_visible()
    table = page.locator("table").filter(has=page.locator("caption", has_text=t("Money placed on needs, by category")))
    expect(table.locator("tbody tr").first).to_be_visible()
    assert table.locator("tbody tr").count() == 8  # every category, with or without money
    assert_accessible(page)

    page.get_by_label(t("Period"), exact=True).select_option("this_year")
    page.get_by_role("button", name=t("Show")).click()
    expect(page).to_have_url(re.compile(r"[?&]period=this_year(&|$)"))
    expect(page.get_by_label(t("Period"), exact=True)).to_have_value("this_year")
    expect(page.locator("table").filter(has=page.locator("caption", has_text=t("Money received, by month")))
           .locator("tbody tr")).to_have_count(seoul_today().month)

    phone = new_context(phone=True, java_script_enabled=False).new_page()
    phone.goto("/impact?period=12m")
    expect(phone.locator("svg[role=img]")).to_have_count(3)
    no_horizontal_scroll(phone, 390)


def test_wall_and_donor_impact_pages_are_accessible(live_server, new_context, funded):
    t = live_server.t
    page = new_context().new_page()
    page.goto("/donors")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Donor wall"))
    assert_accessible(page)
    page.goto("/donors?group=residents")  # a group's own page, as linked when it has more than 50
    expect(page.get_by_role("heading", level=1)).to_contain_text(t("Residents"))
    expect(page.locator("#main").get_by_role("link", name=t("Donor wall"), exact=True)).to_be_visible()
    assert_accessible(page)
    page.goto("/impact?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_accessible(page)

    donor = new_context().new_page()
    log_in(donor, funded["resident"])
    donor.get_by_role("link", name=t("What my giving did")).click()
    expect(donor).to_have_url(re.compile(r"/me/impact$"))
    expect(donor.get_by_role("heading", level=1)).to_have_text(t("What my giving did"))
    assert_accessible(donor)
