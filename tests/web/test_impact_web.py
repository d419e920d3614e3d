"""Impact on the web: staff deliver, spend, return leftovers and publish a report with photos; the public
reads the need's impact, the district dashboard and the donor wall; open data matches its OpenAPI document.

Runs on SQLite and on PostgreSQL (KINDCITY_TEST_DATABASE_URL). Texts are checked in English (?lang=en).
"""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from openapi_schema_validator import OAS30Validator, validate
from PIL import ExifTags, Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from kindcity.domain.impact import ReportStatus
from kindcity.domain.needs import NeedStatus
from kindcity.domain.time import seoul_today, utcnow
from kindcity.models import Disbursement, ImpactReport, Organisation, ReportPhoto
from kindcity.services import Actor
from kindcity.services import impact as impact_service
from kindcity.services import pledges as pledge_service
from kindcity.services.reconcile import reconcile
from tests import factories as f
from tests.conftest import _FreshRequestClient

TODAY = seoul_today()


# --- helpers ----------------------------------------------------------------------------------------

def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _jpeg_with_gps(size=(320, 240)) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.GPSInfo] = {1: "N", 2: (35.0, 9.0, 0.0), 3: "E", 4: (126.0, 52.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", size, "orange").save(out, "JPEG", exif=exif)
    return out.getvalue()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 100), "navy").save(out, "PNG")
    return out.getvalue()


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (20, 20)).save(out, "GIF")
    return out.getvalue()


def _give(need, amount, *, on_cancel="refund", display="anonymous", donor=None):
    donor = donor or f.user("donor")
    pledge = pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
        need_id=need.id, amount=amount, units=None, display=display, message="", on_cancel=on_cancel),
        hold_for=timedelta(days=7))
    pledge_service.record_payment(Actor(None), pledge.id, amount, source="manual", external_id=f"w:{pledge.id}",
                                  received_at=utcnow())
    return pledge


@pytest.fixture
def uploads(app, tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "KINDCITY_UPLOAD_DIR", str(folder))
    return folder


@pytest.fixture
def scene(session, uploads):
    """A funded unit-priced need (40 trips x 150,000) with a named organisation, a named resident and an
    anonymous donor; its author and a colleague at the district office."""
    author = f.user("staff", name="정하늘")
    colleague = f.user("staff", centre_code="district-welfare", name="오세진")
    need = f.need(author=author, unit_cost=150_000, units=40, title="암 환자 서울 병원 이동 지원")
    church = Organisation(name="서구 사랑나눔교회", kind="church", verified_at=utcnow())
    church_donor = f.user("donor", organisation=church, email="pastor@church.example")
    resident = f.user("donor", name="김서연", email="seoyeon@resident.example")
    pledges = {
        "church": _give(need, 3_000_000, on_cancel="pool", display="organisation", donor=church_donor),
        "resident": _give(need, 2_100_000, on_cancel="refund", display="name", donor=resident),
        "anonymous": _give(need, 900_000, on_cancel="similar", donor=f.user("donor", email="quiet@anon.example")),
    }
    session.commit()
    session.refresh(need)
    assert need.status == NeedStatus.FUNDED
    return {"need": need, "author": author, "colleague": colleague, "pledges": pledges, "resident": resident,
            "church_donor": church_donor}


def _client(app, user):
    app.test_client_class = _FreshRequestClient  # each request sees a fresh `g` (logged-in user, locale)
    other = app.test_client()
    f.login(other, user)
    return other


def _start(staff_client, need, due=None):
    return staff_client.post(f"/staff/needs/{need.id}/impact/start?lang=en",
                             data={"report_due": (due or TODAY + timedelta(days=30)).isoformat()})


def _spend(staff_client, need, amount="5,700,000", description="KTX 왕복 38회", spent_on=None):
    return staff_client.post(f"/staff/needs/{need.id}/impact/disbursements?lang=en", data={
        "amount": amount, "spent_on": (spent_on or TODAY).isoformat(), "description": description})


def _save(staff_client, need, **changes):
    data = {"units_delivered": "38", "beneficiaries_reached": "11",
            "delivered_from": (TODAY - timedelta(days=20)).isoformat(), "delivered_to": TODAY.isoformat(),
            "story": "38번의 서울 병원 왕복을 지원했습니다.\n\n**고맙습니다.**"}
    data.update(changes)
    return staff_client.post(f"/staff/needs/{need.id}/impact/report?lang=en", data=data)


def _upload(staff_client, need, data: bytes, name: str, *, caption="KTX 승차권", consent=True):
    form = {"photo": FileStorage(io.BytesIO(data), filename=name), "caption": caption}
    if consent:
        form["consent"] = "y"
    # Encoded in memory: the test client would otherwise spool a large body to a temporary file it never closes.
    boundary, body = encode_multipart(form)
    return staff_client.post(f"/staff/needs/{need.id}/impact/photos?lang=en", data=body,
                             content_type=f"multipart/form-data; boundary={boundary}")


def _act(staff_client, need, action):
    return staff_client.post(f"/staff/needs/{need.id}/impact/{action}?lang=en", follow_redirects=True)


def _delivered(app, scene, *, photo=True):
    """Delivery through the staff screens up to a submitted report; returns the author's client."""
    need, author = scene["need"], scene["author"]
    staff = _client(app, author)
    assert _start(staff, need).status_code == 303
    assert _spend(staff, need).status_code == 303
    assert staff.post(f"/staff/needs/{need.id}/impact/leftovers").status_code == 303
    assert _save(staff, need).status_code == 303
    if photo:
        assert _upload(staff, need, _jpeg_with_gps(), "trip.jpg").status_code == 303
    page = _act(staff, need, "submit")
    assert "Submitted. A colleague can now check and publish the report." in _text(page)
    return staff


def _published(app, scene, **kwargs):
    staff = _delivered(app, scene, **kwargs)
    colleague = _client(app, scene["colleague"])
    page = _act(colleague, scene["need"], "approve")
    assert "Published. The need is completed and its impact is public." in _text(page)
    return staff, colleague


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").json


def _validate(instance, spec, name):
    validate(instance, {"$ref": f"#/components/schemas/{name}", "components": spec["components"]},
             cls=OAS30Validator)


# --- staff: the whole flow ------------------------------------------------------------------------

def test_staff_deliver_spend_return_report_and_a_colleague_publishes(app, session, scene, uploads):
    need, author = scene["need"], scene["author"]
    staff = _client(app, author)
    page = _text(staff.get(f"/staff/needs/{need.id}/impact?lang=en"))
    assert "Start delivery" in page and "Impact report due by" in page

    assert _start(staff, need).status_code == 303
    session.refresh(need)
    assert need.status == NeedStatus.DELIVERING
    page = _text(staff.get(f"/staff/needs/{need.id}/impact?lang=en"))
    assert "Record spending" in page and "Report in draft" in page

    assert _spend(staff, need).status_code == 303
    page = _text(staff.get(f"/staff/needs/{need.id}/impact?lang=en"))
    assert "KTX 왕복 38회" in page and "Leftover to return" in page
    assert re.search(r"Return .*300,000.* to the donors", page)

    response = staff.post(f"/staff/needs/{need.id}/impact/leftovers?lang=en", follow_redirects=True)
    assert "returned to 3 pledges, each as its donor chose" in _text(response)
    session.refresh(need)
    assert need.confirmed == 5_700_000

    assert _save(staff, need).status_code == 303
    assert _upload(staff, need, _jpeg_with_gps(), "trip.jpg").status_code == 303
    page = _act(staff, need, "submit")
    assert "Report awaiting approval" in _text(page)
    assert "Approve and publish the report" not in _text(page)  # not for the author
    refused = _act(staff, need, "approve")
    assert "approved by a colleague, not by the person who submitted it" in _text(refused)
    session.refresh(need)
    assert need.status == NeedStatus.DELIVERING

    colleague = _client(app, scene["colleague"])
    page = _text(colleague.get(f"/staff/needs/{need.id}/impact?lang=en"))
    assert "Approve and publish the report" in page
    published = _act(colleague, need, "approve")
    assert "Report published" in _text(published)
    session.refresh(need)
    report = session.scalars(select(ImpactReport).where(ImpactReport.need_id == need.id)).one()
    assert need.status == NeedStatus.COMPLETED and report.status == ReportStatus.PUBLISHED
    assert report.approved_by_id == scene["colleague"].id
    assert reconcile() == []


@pytest.mark.parametrize(("typed", "kind"), [
    ("&#48;10-1234-5678", "phone number"),
    ("9001&#48;1-1234567", "resident registration number"),
    ("kim&#64;example.com", "e-mail address"),
    ("010-**1234**-5678", "phone number"),
])
def test_a_story_the_page_would_show_with_personal_data_is_saved_with_a_warning_and_not_submitted(
        app, session, scene, typed, kind):
    need = scene["need"]
    staff = _client(app, scene["author"])
    _start(staff, need)
    _spend(staff, need)
    staff.post(f"/staff/needs/{need.id}/impact/leftovers")
    assert _save(staff, need, story=f"도와주신 분께 감사드립니다. 연락: {typed}").status_code == 303
    saved = _text(staff.get(f"/staff/needs/{need.id}/impact?lang=en"))
    flashes = saved.split('<div class="flashes"')[1].split("</div>")[0]
    assert "The report is saved." in flashes and "cannot be submitted yet" in flashes
    assert f"Story: possible {kind}" in flashes and "as the page would show it" in flashes
    report = session.scalars(select(ImpactReport).where(ImpactReport.need_id == need.id)).one()
    assert typed in report.story  # saved as typed
    refused = _text(_act(staff, need, "submit"))
    assert f"Story: possible {kind}" in refused
    session.refresh(report)
    assert report.status == ReportStatus.DRAFT


def test_staff_errors_are_shown_on_the_form(app, session, scene):
    need = scene["need"]
    staff = _client(app, scene["author"])
    _start(staff, need)
    too_much = _text(_spend(staff, need, amount="6,000,001"))
    assert "Only 6,000,000 won is still held on this need." in too_much
    personal = _text(_spend(staff, need, amount="10,000", description="환자 연락처 010-1234-5678 택시비"))
    assert "What it paid for: possible phone number" in personal
    future = _text(_spend(staff, need, amount="10,000", spent_on=TODAY + timedelta(days=2)))
    assert "The date of spending cannot be in the future." in future
    reversed_dates = _text(_save(staff, need, delivered_from=TODAY.isoformat(),
                                 delivered_to=(TODAY - timedelta(days=3)).isoformat()))
    assert "The delivery cannot end before it starts." in reversed_dates
    early = _text(_act(staff, need, "submit"))
    assert "The report is not complete yet. Missing:" in early
    assert session.scalar(select(Disbursement.id).where(Disbursement.need_id == need.id)) is None
    _spend(staff, need, amount="5,000,000")
    _save(staff, need)
    held = _text(_act(staff, need, "submit"))
    assert "1,000,000 won is still held on this need" in held
    assert reconcile() == []


def test_start_delivery_is_refused_for_a_need_that_is_not_funded(app, session, scene):
    open_need = f.need(author=scene["author"])
    session.commit()
    staff = _client(app, scene["author"])
    page = _text(staff.get(f"/staff/needs/{open_need.id}/impact?lang=en"))
    assert "Delivery can start once the need is funded." in page
    response = _start(staff, open_need)
    assert response.status_code == 303
    assert "not possible in the need's current state" in _text(staff.get(response.headers["Location"]))
    past = staff.post(f"/staff/needs/{scene['need'].id}/impact/start?lang=en",
                      data={"report_due": (TODAY - timedelta(days=1)).isoformat()}, follow_redirects=True)
    assert "The report date must be today or later." in _text(past)
    session.refresh(scene["need"])
    assert scene["need"].status == NeedStatus.FUNDED


def test_staff_impact_pages_are_staff_only_and_scoped(app, client, session, scene):
    need = scene["need"]
    assert client.get(f"/staff/needs/{need.id}/impact").status_code == 302  # to the login page
    donor = _client(app, scene["resident"])
    assert donor.get(f"/staff/needs/{need.id}/impact").status_code == 403
    assert donor.get("/staff/impact").status_code == 403
    elsewhere = _client(app, f.user("staff", centre_code="centre-pungam"))
    session.commit()
    assert elsewhere.get(f"/staff/needs/{need.id}/impact").status_code == 404
    assert _start(elsewhere, need).status_code == 404


def test_overdue_reports_show_on_the_staff_overview(app, session, scene):
    need = scene["need"]
    impact_service.start_delivery(Actor(scene["author"]), need, report_due=TODAY, today=TODAY)
    report = impact_service.report_for(need.id)
    report.report_due = TODAY - timedelta(days=3)  # as if the due day had passed
    session.commit()
    staff = _client(app, scene["author"])
    page = _text(staff.get("/staff/impact?lang=en"))
    overdue = page.split("Overdue reports")[1].split("Reports waiting for your approval")[0]
    assert "(1)" in overdue and need.title in overdue
    assert "The report was due on" in _text(staff.get(f"/staff/needs/{need.id}/impact?lang=en"))
    assert "Delivery and impact reports" in _text(staff.get("/staff/?lang=en"))  # linked from the dashboard
    assert f"/staff/needs/{need.id}/impact" in _text(staff.get(f"/staff/needs/{need.id}?lang=en"))


# --- photos ---------------------------------------------------------------------------------------

def test_photo_is_stripped_of_gps_stored_outside_static_and_private_until_published(app, client, session, scene,
                                                                                      uploads):
    need = scene["need"]
    staff = _client(app, scene["author"])
    _start(staff, need)
    assert _upload(staff, need, _jpeg_with_gps(), "IMG_0001.JPG").status_code == 303
    photo = session.scalars(select(ReportPhoto)).one()
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", photo.filename) and photo.consent
    stored = uploads / photo.filename
    assert stored.exists() and "static" not in stored.parts
    with Image.open(stored) as image:
        assert dict(image.getexif()) == {} and image.format == "JPEG"
    assert b"SecretCam" not in stored.read_bytes()
    url = f"/impact/photos/{photo.filename}"
    with staff.get(url) as served:
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert served.headers["Cache-Control"] == "private, no-store"
        assert Image.open(io.BytesIO(served.data)).size == (320, 240)
    assert client.get(url).status_code == 404  # the public cannot see a draft report's photo
    assert _client(app, scene["resident"]).get(url).status_code == 404


def test_png_named_jpg_is_kept_as_png(app, session, scene, uploads):
    staff = _client(app, scene["author"])
    _start(staff, scene["need"])
    assert _upload(staff, scene["need"], _png(), "looks-like.jpg").status_code == 303
    photo = session.scalars(select(ReportPhoto)).one()
    assert photo.filename.endswith(".png") and photo.content_type == "image/png"
    assert (photo.width, photo.height) == (200, 100)


@pytest.mark.parametrize("data, name, message", [
    (b"just some text, not a picture", "photo.jpg",
     "This file is named like an image (.jpg) but its content is not an image."),
    (b"name,phone\n", "people.csv", "This file is not an image. Please upload a JPEG, PNG or WebP photo."),
    (b"\xff\xd8" + b"0" * (8 * 1024 * 1024), "huge.jpg", "The photo is too large: at most 8 MB."),
    (None, "anim.gif", "This is a GIF image; only JPEG, PNG or WebP photos are accepted."),
])
def test_uploads_that_are_refused_say_why(app, session, scene, uploads, data, name, message):
    staff = _client(app, scene["author"])
    _start(staff, scene["need"])
    response = _upload(staff, scene["need"], _gif() if data is None else data, name)
    assert response.status_code == 200 and message in _text(response)
    assert session.scalars(select(ReportPhoto)).all() == []
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_consent_and_description_are_required(app, session, scene, uploads):
    staff = _client(app, scene["author"])
    _start(staff, scene["need"])
    no_consent = _upload(staff, scene["need"], _png(), "a.png", consent=False)
    assert "Please confirm that the people shown agreed" in _text(no_consent)
    personal = _upload(staff, scene["need"], _png(), "a.png", caption="김철수 님 댁 (010-9876-5432)")
    assert "Photo description: possible phone number" in _text(personal)
    assert session.scalars(select(ReportPhoto)).all() == []
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_a_photo_can_be_removed_from_a_draft(app, session, scene, uploads):
    staff = _client(app, scene["author"])
    _start(staff, scene["need"])
    _upload(staff, scene["need"], _png(), "a.png")
    photo = session.scalars(select(ReportPhoto)).one()
    response = staff.post(f"/staff/needs/{scene['need'].id}/impact/photos/{photo.id}/delete")
    assert response.status_code == 303
    assert session.scalars(select(ReportPhoto)).all() == [] and list(uploads.iterdir()) == []


def test_photo_route_refuses_odd_names(client, session):
    for name in ("../../etc/passwd", "abc.jpg", "0" * 32 + ".gif", "0" * 32 + ".jpg"):
        assert client.get(f"/impact/photos/{name}").status_code == 404


# --- public pages ---------------------------------------------------------------------------------

def test_need_impact_page_names_the_largest_gifts_and_adds_up_the_rest(client, session, scene, monkeypatch):
    """A popular need has hundreds of named gifts: the page names the SHOWN_BY_NAME largest and adds
    up the rest; the open-data API still lists every name."""
    from kindcity.web.public import impact as impact_view

    need = scene["need"]
    page = _text(client.get(f"/needs/{need.id}/impact?lang=en"))
    assert "서구 사랑나눔교회" in page and "김서연" in page and "more gift" not in page

    monkeypatch.setattr(impact_view, "SHOWN_BY_NAME", 1)
    page = _text(client.get(f"/needs/{need.id}/impact?lang=en"))
    assert "서구 사랑나눔교회" in page and "김서연" not in page  # the larger gift is named, the smaller counted
    assert "and 1 more gift by name (₩2,100,000)" in page and "and 1 anonymous gift" in page
    api = client.get(f"/api/v1/needs/{need.id}/impact").get_json()
    assert {s["name"] for s in api["supporters"]["shown"]} == {"서구 사랑나눔교회", "김서연"}


def test_need_impact_page_after_publication(app, client, session, scene):
    _published(app, scene)
    need = scene["need"]
    page = _text(client.get(f"/needs/{need.id}/impact?lang=en"))
    assert "38 of 40 delivered" in page
    assert "5,700,000" in page and "6,000,000" in page and "300,000" in page
    assert "38번의 서울 병원 왕복을 지원했습니다." in page and "<strong>고맙습니다.</strong>" in page
    assert "서구 사랑나눔교회" in page and "김서연" in page and "and 1 anonymous gift" in page
    assert "pastor@church.example" not in page and "quiet@anon.example" not in page
    assert "to the district's pooled fund" in page and "refunded to donors" in page
    photo = session.scalars(select(ReportPhoto)).one()
    assert f'src="/impact/photos/{photo.filename}"' in page and 'alt="KTX 승차권"' in page
    with client.get(f"/impact/photos/{photo.filename}") as served:
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert "no-store" not in served.headers.get("Cache-Control", "")
    assert "Where the money went and what it did" in _text(client.get(f"/needs/{need.id}?lang=en"))


def test_need_impact_page_before_any_report(client, session):
    need = f.need(title="진행 중인 수요")
    session.commit()
    page = _text(client.get(f"/needs/{need.id}/impact?lang=en"))
    assert "No impact report has been published for this need yet." in page and "진행 중인 수요" in page
    draft = f.need(status=NeedStatus.DRAFT)
    session.commit()
    assert client.get(f"/needs/{draft.id}/impact").status_code == 404


def test_a_submitted_report_is_not_public_before_approval(app, client, session, scene):
    _delivered(app, scene)
    page = _text(client.get(f"/needs/{scene['need'].id}/impact?lang=en"))
    assert "38번의 서울 병원 왕복" not in page and "The help is being delivered." in page


@pytest.mark.parametrize("period", ["all", "12m", "this_year", "last_year", "nonsense"])
def test_dashboard_draws_charts_with_tables_for_every_period(app, client, session, scene, period):
    _published(app, scene, photo=False)
    response = client.get(f"/impact?lang=en&period={period}")
    assert response.status_code == 200
    page = _text(response)
    assert page.count('role="img"') == 3 and page.count("<title id=") == 3 and page.count("<desc id=") == 3
    assert page.count("<table>") == 3 and "<script" not in page and " style=" not in page
    assert "Money placed on needs, by category" in page and "Money received, by month" in page
    if period in ("all", "12m", "this_year"):
        totals = page.split('class="totals"')[1].split("</dl>")[0]
        assert "6,000,000" in totals and "5,700,000" in totals
        assert re.search(r"<dt>Needs completed</dt><dd>1</dd>", totals)
        assert re.search(r"<dt>People reached</dt><dd>11</dd>", totals)
        assert re.search(r"<dt>Donors</dt><dd>3</dd>", totals)
        assert re.search(r"<th scope=\"row\">Medical care and hospital transport</th><td class=\"num\">"
                         r"[^<]*5,700,000[^<]*</td><td class=\"num\">1</td>", page)
    elif period == "last_year":
        assert re.search(r"<dt>Needs completed</dt><dd>0</dd>", page)
    selected = period if period != "nonsense" else "all"
    assert f'<option selected value="{selected}">' in page


def test_donor_wall_shows_only_those_who_chose_recognition(app, client, session, scene):
    company = Organisation(name="빛고을엘리베이터(주)", kind="business", verified_at=utcnow())
    _give(f.need(target=20_000_000), 12_000_000, display="organisation", donor=f.user("donor", organisation=company))
    session.commit()
    page = _text(client.get("/donors?lang=en"))
    assert "Donor wall" in page
    assert re.search(r"빛고을엘리베이터\(주\)</span> <span class=\"tier tier-leading\">Leading giver", page)
    assert re.search(r"서구 사랑나눔교회</span> <span class=\"tier tier-steady\">Steady giver", page)
    assert re.search(r"김서연</span> <span class=\"tier tier-steady\">Steady giver", page)
    churches = page.split("Churches and civic groups")[1].split("Residents")[0]
    assert "서구 사랑나눔교회" in churches and "김서연" not in churches
    anonymous_donor = scene["pledges"]["anonymous"].donor
    assert anonymous_donor.display_name not in page and scene["church_donor"].display_name not in page


def test_donor_sees_what_their_gift_paid_for(app, session, scene):
    _published(app, scene, photo=False)
    donor = _client(app, scene["resident"])
    assert "What my giving did" in _text(donor.get("/me/?lang=en"))
    page = _text(donor.get("/me/impact?lang=en"))
    # 2,100,000 placed, 105,000 of the 300,000 leftover refunded: 1,995,000 of 5,700,000 spent for 38 trips
    assert "1,995,000" in page and "13.3 × 회" in page
    assert "105,000" in page and "went back as you chose" in page
    assert f"/needs/{scene['need'].id}/impact" in page


def test_donor_impact_before_anything_arrived(app, session):
    donor = f.user("donor")
    session.commit()
    page = _text(_client(app, donor).get("/me/impact?lang=en"))
    assert "Once your gifts arrive, you will see here what they did." in page


def test_nav_links_to_impact_and_the_wall(client, session):
    page = _text(client.get("/?lang=en"))
    assert 'href="/impact"' in page and 'href="/donors"' in page


# --- open data --------------------------------------------------------------------------------------

def test_public_ledger_csv_has_no_personal_data_and_adds_up_anonymous_gifts(app, client, session, scene):
    _published(app, scene, photo=False)
    need = scene["need"]
    response = client.get(f"/api/v1/needs/{need.id}/ledger.csv?lang=en")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f"kindcity-need-{need.id}-ledger.csv" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert list(rows[0]) == ["Date", "What", "Amount (won)", "Donor", "Gifts", "Note"]  # words, not codes
    money_in = [r for r in rows if r["What"] == "Money in"]
    assert sum(int(r["Amount (won)"]) for r in money_in) == 6_000_000
    assert {r["Donor"] for r in money_in} == {"서구 사랑나눔교회", "김서연", "Anonymous"}
    anonymous = [r for r in money_in if r["Donor"] == "Anonymous"]
    assert len(anonymous) == 1 and anonymous[0]["Gifts"] == "1" and re.fullmatch(r"\d{4}-\d{2}", anonymous[0]["Date"])
    assert [(r["Amount (won)"], r["Note"]) for r in rows if r["What"] == "Spent"] == [("5700000", "KTX 왕복 38회")]
    returned = {r["Donor"]: (int(r["Amount (won)"]), r["Note"]) for r in rows if r["What"] == "Returned"}
    assert returned == {"서구 사랑나눔교회": (150_000, "To the pooled fund"), "김서연": (105_000, "Refund"),
                        "Anonymous": (45_000, "Staff move it to a similar need")}
    for private in ("@", "pastor", "quiet", scene["church_donor"].display_name):
        assert private not in body
    korean = client.get(f"/api/v1/needs/{need.id}/ledger.csv?lang=ko").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(korean)))
    assert list(rows[0]) == ["날짜", "처리 내용", "금액(원)", "후원자", "건수", "메모"]
    assert {r["처리 내용"] for r in rows} == {"들어온 금액", "집행 금액", "돌려준 금액"}
    assert "익명" in {r["후원자"] for r in rows} and "환불" in {r["메모"] for r in rows}
    for code in ("anonymous", "refund", "similar", ",pool", ",in,", "returned"):
        assert code not in korean


def test_csv_neutralises_spreadsheet_formulas(app, client, session, scene):
    need = scene["need"]
    impact_service.start_delivery(Actor(scene["author"]), need, report_due=TODAY, today=TODAY)
    impact_service.record_disbursement(Actor(scene["author"]), need, amount=1_000, spent_on=TODAY,
                                       description="=HYPERLINK(\"http://x\")", today=TODAY)
    session.commit()
    body = client.get(f"/api/v1/needs/{need.id}/ledger.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body


def test_impact_api_matches_its_openapi_document(app, client, session, scene, spec):
    _published(app, scene)
    need = scene["need"]
    detail = client.get(f"/api/v1/needs/{need.id}/impact").json
    _validate(detail, spec, "NeedImpact")
    assert detail["money"] == {"received_won": 6_000_000, "spent_won": 5_700_000, "returned_won": 300_000,
                               "held_won": 0}
    assert detail["leftovers"] == {"pool_won": 150_000, "refund_won": 105_000, "similar_won": 45_000}
    assert detail["report"]["units_delivered"] == 38 and detail["report"]["units_planned"] == 40
    assert detail["report"]["photos"][0]["url"].startswith("http://kindcity.test/impact/photos/")
    assert detail["supporters"]["anonymous_count"] == 1 and detail["supporters"]["anonymous_won"] == 855_000
    assert {s["name"] for s in detail["supporters"]["shown"]} == {"서구 사랑나눔교회", "김서연"}
    for period in ("all", "12m", "this_year", "last_year"):
        summary = client.get(f"/api/v1/impact?period={period}&lang=en").json
        _validate(summary, spec, "DistrictImpact")
        assert summary["period"] == period
    summary = client.get("/api/v1/impact?period=this_year").json
    assert summary["received_won"] == 6_000_000 and summary["needs_completed"] == 1
    assert summary["from"] == f"{TODAY.year}-01-01" and summary["to"] == f"{TODAY.year}-12-31"
    assert any(row["code"] == "medical-transport" and row["placed_won"] == 5_700_000 for row in summary["by_category"])


def test_impact_api_before_a_report_and_for_unknown_needs(client, session, spec):
    need = f.need()
    session.commit()
    detail = client.get(f"/api/v1/needs/{need.id}/impact").json
    _validate(detail, spec, "NeedImpact")
    assert detail["report"] is None and detail["money"]["received_won"] == 0
    for path in ("/api/v1/needs/987654/impact", "/api/v1/needs/987654/ledger.csv"):
        response = client.get(path)
        assert response.status_code == 404
        _validate(response.json, spec, "Error")
    draft = f.need(status=NeedStatus.DRAFT)
    session.commit()
    assert client.get(f"/api/v1/needs/{draft.id}/impact").status_code == 404


def test_openapi_documents_the_impact_endpoints(spec):
    assert {"/api/v1/impact", "/api/v1/needs/{id}/impact", "/api/v1/needs/{id}/ledger.csv"} <= set(spec["paths"])
    assert "text/csv" in spec["paths"]["/api/v1/needs/{id}/ledger.csv"]["get"]["responses"]["200"]["content"]


def test_returning_leftovers_waits_for_spending_and_asks_first(app, session, scene):
    need, pledges = scene["need"], scene["pledges"]
    staff = _client(app, scene["author"])
    assert _start(staff, need).status_code == 303
    page = _text(staff.get(f"/staff/needs/{need.id}/impact?lang=en"))
    assert "to the donors" not in page and "Leftovers can be returned once the spending is recorded." in page
    refused = _text(staff.post(f"/staff/needs/{need.id}/impact/leftovers?lang=en", follow_redirects=True))
    assert "Record what was spent first" in refused
    session.refresh(need)
    assert need.confirmed == 6_000_000  # nothing went back before any spending

    assert _spend(staff, need).status_code == 303
    page = _text(staff.get(f"/staff/needs/{need.id}/impact?lang=en"))
    assert f'href="/staff/needs/{need.id}/impact/leftovers"' in page  # a link to the question, not a one-tap form
    assert f'action="/staff/needs/{need.id}/impact/leftovers"' not in page
    question = _text(staff.get(f"/staff/needs/{need.id}/impact/leftovers?lang=en"))
    parts = question.split('id="leftover-parts"')[1].split("</table>")[0]
    assert pledges["church"].reference in parts and "To the pooled fund" in parts and "150,000" in parts
    assert pledges["resident"].reference in parts and "Refund" in parts and "105,000" in parts
    assert pledges["anonymous"].reference in parts and "Staff move it to a similar need" in parts
    assert re.search(r"Yes, return .*300,000", question) and "This cannot be undone." in question
    korean = _text(staff.get(f"/staff/needs/{need.id}/impact/leftovers?lang=ko"))
    assert "후원자가 고른 방법" in korean and "네, 300,000원을 돌려 드립니다" in korean
    session.refresh(need)
    assert need.confirmed == 6_000_000  # asking changes nothing
    done = _text(staff.post(f"/staff/needs/{need.id}/impact/leftovers?lang=en", follow_redirects=True))
    assert "returned to 3 pledges, each as its donor chose" in done
