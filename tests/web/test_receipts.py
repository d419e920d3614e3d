"""Donation receipts as PDF: the text is extracted with pypdf and the form's fields are found in it.

Runs on SQLite and on PostgreSQL (KINDCITY_TEST_DATABASE_URL).
"""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from kindcity.domain.receipts import receipt_serial
from kindcity.domain.time import SEOUL, seoul_today, utcnow
from kindcity.models import Organisation, ReceivingOrganisation, Refund
from kindcity.services import Actor
from kindcity.services import needs as need_service
from kindcity.services import pledges as pledge_service
from tests import factories as f


def pdf_text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    return "\n".join(page.extract_text() for page in reader.pages)


def korean(app, msgid: str) -> str:
    """The Korean wording a receipt uses for ``msgid`` (the catalogue's, else the form's own)."""
    from flask_babel import force_locale

    from kindcity.receipts import _

    with app.test_request_context("/"), force_locale("ko"):
        text = _(msgid)
    assert re.search(r"[\uac00-\ud7a3]", text), (msgid, text)
    return text


def pay(session, staff, donor, need, amount, *, received_at=None, on_cancel="refund"):
    pledge = pledge_service.create_direct_pledge(
        Actor(donor, "test"), pledge_service.PledgeRequest(need_id=need.id, amount=amount, units=None,
                                                           display="anonymous", message="", on_cancel=on_cancel),
        hold_for=timedelta(days=7))
    outcome = pledge_service.record_payment(Actor(staff, "test"), pledge.id, amount, source="manual",
                                            external_id=f"test-{pledge.id}", received_at=received_at or utcnow())
    session.commit()
    return pledge, outcome.payment


@pytest.fixture
def scene(session):
    staff = f.user("staff")
    need = f.need(author=staff, title="암 환자 서울 병원 이동", target=5_000_000)
    donor = f.user("donor", name="김후원")
    session.commit()
    return staff, need, donor


def test_a_payment_receipt_in_korean_has_the_fields_of_the_form(app, client, session, scene):
    staff, need, donor = scene
    _pledge, payment = pay(session, staff, donor, need, 100_000)
    f.login(client, donor)
    text = pdf_text(client.get(f"/me/receipts/{payment.id}.pdf"))
    serial = receipt_serial(payment.id, payment.received_at)
    assert re.fullmatch(r"KC-\d{4}-\d{6,}", serial) and serial.endswith(f"{payment.id:06d}")
    assert serial in text
    assert "김후원" in text
    assert "100,000" in text
    # The issuer is the need's receiving organisation record, with what the form asks of it.
    assert "광주광역시 서구청" in text and "000-83-00000" in text
    assert "광주광역시 서구 경열로 33" in text and "광주광역시 서구청장" in text and "062-360-7114" in text
    assert "암 환자 서울 병원 이동" in text                 # the purpose
    assert payment.received_at.astimezone(SEOUL).date().isoformat() in text
    assert seoul_today().isoformat() in text               # issued on
    assert korean(app, "Money") in text                    # kind of donation (금전)
    assert "특례기부금" in text and "코드 10" in text        # a local government's type and NTS code, as data
    assert "소득세법 제34조 제2항" in text
    # A person who gave no resident registration number gets a statement of giving, titled as such.
    assert korean(app, "Statement of giving (not a tax receipt)") in text
    assert "주민등록번호" in text and korean(app, "Not given") in text


def test_a_statement_of_giving_in_english_says_it_is_not_a_tax_receipt(client, session, scene):
    staff, need, donor = scene
    _pledge, payment = pay(session, staff, donor, need, 100_000)
    f.login(client, donor)
    text = pdf_text(client.get(f"/me/receipts/{payment.id}.pdf?lang=en"))
    assert "Statement of giving (not a tax receipt)" in text
    assert "Special donation (code 10)" in text and "Seo-gu District Office, Gwangju" in text
    assert "000-83-00000" in text and "Postal address" in text


def test_a_payment_receipt_in_english(client, session, scene):
    staff, need, donor = scene
    _pledge, payment = pay(session, staff, donor, need, 250_000)
    f.login(client, donor)
    response = client.get(f"/me/receipts/{payment.id}.pdf?lang=en")
    text = pdf_text(response)
    assert "Statement of giving" in text and "기부금" not in text
    assert "₩250,000" in text and "김후원" in text
    assert receipt_serial(payment.id, payment.received_at) in text
    assert response.headers["Cache-Control"] == "private, no-store"
    assert receipt_serial(payment.id, payment.received_at) in response.headers["Content-Disposition"]


def test_an_organisation_is_named_with_its_business_number(client, session, scene):
    staff, need, _donor = scene
    org = Organisation(name="빛고을엘리베이터(주)", kind="business", business_number="409-81-23456")
    session.add(org)
    donor = f.user("donor", name="이정훈 대표", organisation=org)
    session.commit()
    _pledge, payment = pay(session, staff, donor, need, 1_000_000)
    f.login(client, donor)
    text = pdf_text(client.get(f"/me/receipts/{payment.id}.pdf"))
    assert "빛고을엘리베이터(주)" in text and "409-81-23456" in text and "사업자등록번호" in text
    assert "이정훈 대표" in text and "1,000,000" in text
    # An organisation named by its business number gets a tax receipt, with no resident number row.
    assert text.startswith("소득세법 시행규칙 [별지 제45호의2서식] 기부금 영수증") and "주민등록번호" not in text


def test_someone_elses_payment_is_not_found(app, client, session, scene):
    staff, need, donor = scene
    _pledge, payment = pay(session, staff, donor, need, 100_000)
    other = f.user("donor", name="다른 후원자")
    session.commit()
    f.login(client, other)
    assert client.get(f"/me/receipts/{payment.id}.pdf").status_code == 404
    assert client.get("/me/receipts/999999.pdf").status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(f"/me/receipts/{payment.id}.pdf").status_code == 302  # to the login page
    staff_client = app.test_client()
    f.login(staff_client, staff)
    assert staff_client.get(f"/me/receipts/{payment.id}.pdf").status_code == 403


def _total(text: str) -> str:
    match = re.search(r"합계\s*(-?[\d,]+)원", text)
    assert match, text
    return match.group(1)


def test_the_statement_sums_a_korea_time_date_range_less_refunds(app, client, session, scene):
    staff, need, donor = scene
    year = seoul_today().year
    late_last_year = datetime(year - 1, 12, 31, 23, 30, tzinfo=SEOUL)   # 14:30 UTC on 31 December
    first_minutes = datetime(year, 1, 1, 0, 30, tzinfo=SEOUL)          # still 31 December in UTC
    pay(session, staff, donor, need, 70_000, received_at=late_last_year)
    pay(session, staff, donor, need, 100_000, received_at=first_minutes)
    pay(session, staff, donor, need, 30_000, received_at=utcnow())
    # Another need is cancelled: the donor's 50,000 goes back to them.
    other_need = f.need(author=staff, title="취소될 수요", target=1_000_000)
    session.commit()
    pledge, _payment = pay(session, staff, donor, other_need, 50_000)
    need_service.cancel(Actor(staff, "test"), other_need, "중복 등록")
    session.commit()
    refund = session.scalars(select(Refund).where(Refund.pledge_id == pledge.id)).one()
    pledge_service.record_bank_refund(Actor(staff, "test"), refund.id, refunded_at=utcnow(), bank_reference="반환-1")
    session.commit()
    f.login(client, donor)

    this_year = pdf_text(client.get(f"/me/receipts/statement.pdf?from={year}-01-01&to={year}-12-31"))
    assert korean(app, "Statement of giving for a period (not a tax receipt)") in this_year
    assert f"KC-{year}0101-{year}1231-D{donor.id:06d}" in this_year
    assert f"{year}-01-01 ~ {year}-12-31" in this_year
    assert "70,000" not in this_year
    assert korean(app, "Refund") in this_year and "-50,000" in this_year
    assert _total(this_year) == "130,000"   # 100,000 + 30,000 + 50,000 - 50,000

    last_day_only = pdf_text(client.get(f"/me/receipts/statement.pdf?from={year - 1}-12-31&to={year - 1}-12-31"))
    assert _total(last_day_only) == "70,000" and "100,000" not in last_day_only

    default = pdf_text(client.get("/me/receipts/statement.pdf"))
    assert f"KC-{year}0101-{year}1231-D{donor.id:06d}" in default and _total(default) == "130,000"


def test_a_statement_has_one_receipt_per_receiving_organisation(client, session, scene):
    staff, need, donor = scene
    church_need = f.need(author=staff, title="교회와 함께하는 나눔")
    church_need.receiving_org = ReceivingOrganisation(
        code="sarang", name_ko="서구 사랑나눔교회", registration_number="408-82-12345", address="광주광역시 서구 화정로 1",
        representative="박은혜", gift_type="religious", contact="062-000-0000")
    session.commit()
    pay(session, staff, donor, need, 10_000)
    pay(session, staff, donor, church_need, 20_000)
    f.login(client, donor)
    response = client.get("/me/receipts/statement.pdf")
    text = pdf_text(response)
    year = seoul_today().year
    serial = f"KC-{year}0101-{year}1231-D{donor.id:06d}"
    assert f"{serial}-1" in text and f"{serial}-2" in text
    assert "서구 사랑나눔교회" in text and "광주광역시 서구청" in text
    assert "408-82-12345" in text and "일반기부금 (종교단체)(코드 41)" in text and "특례기부금(코드 10)" in text
    assert len(PdfReader(io.BytesIO(response.get_data())).pages) == 2


def test_a_period_without_donations_still_answers(app, client, session, scene):
    _staff, _need, donor = scene
    f.login(client, donor)
    text = pdf_text(client.get("/me/receipts/statement.pdf?from=2001-01-01&to=2001-12-31"))
    assert korean(app, "No donations in this period.") in text and "김후원" in text


@pytest.mark.parametrize("query", ["from=2026-12-31&to=2026-01-01", "from=yesterday", "to=2026-02-30",
                                   "from=1990-01-01&to=2026-12-31"])
def test_a_bad_period_is_refused(client, session, scene, query):
    _staff, _need, donor = scene
    f.login(client, donor)
    assert client.get(f"/me/receipts/statement.pdf?{query}").status_code == 400


def test_the_pledge_page_links_each_receipt_and_the_dashboard_offers_the_statement(client, session, scene):
    staff, need, donor = scene
    pledge = pledge_service.create_direct_pledge(
        Actor(donor, "test"), pledge_service.PledgeRequest(need_id=need.id, amount=100_000, units=None,
                                                           display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    session.commit()
    f.login(client, donor)
    assert "/me/receipts/" not in client.get(f"/me/pledges/{pledge.id}").get_data(as_text=True)  # nothing paid yet
    first = pledge_service.record_payment(Actor(staff, "test"), pledge.id, 40_000, source="manual",
                                          external_id="part-1", received_at=utcnow()).payment
    second = pledge_service.record_payment(Actor(staff, "test"), pledge.id, 60_000, source="manual",
                                           external_id="part-2", received_at=utcnow()).payment
    session.commit()
    page = client.get(f"/me/pledges/{pledge.id}").get_data(as_text=True)
    assert f"/me/receipts/{first.id}.pdf" in page and f"/me/receipts/{second.id}.pdf" in page
    dashboard = client.get("/me/").get_data(as_text=True)
    assert 'action="/me/receipts/statement.pdf"' in dashboard
    assert 'name="from"' in dashboard and 'name="to"' in dashboard
