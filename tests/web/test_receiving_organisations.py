"""Receiving organisations as records: admins keep them (audited), a need picks one, and its receipts
carry its registration number, address, representative and seal. Korean and English pages."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from kindcity.models import AuditEntry, Need, ReceivingOrganisation
from kindcity.services import Actor
from kindcity.services import pledges as pledge_service
from kindcity.domain.time import utcnow
from tests import factories as f


def seal_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def org_form(**changes):
    data = {"code": "sarang-church", "name_ko": "서구 사랑나눔교회", "name_en": "Sarang Sharing Church",
            "registration_number": "408 82 12345", "address": "광주광역시 서구 화정로 1", "representative": "박은혜",
            "gift_type": "religious", "contact": "062-000-0000", "active": "y"}
    data.update(changes)
    return data


@pytest.fixture
def admin_client(client, session):
    admin = f.user("admin", name="관리자")
    session.commit()
    f.login(client, admin)
    return client, admin


@pytest.mark.parametrize("lang, heading", [("ko", "기부금 단체"), ("en", "Receiving organisations")])
def test_the_admin_page_lists_the_district_and_adds_an_organisation(admin_client, session, lang, heading):
    client, admin = admin_client
    page = client.get(f"/admin/receiving-organisations?lang={lang}").get_data(as_text=True)
    assert heading in page and "000-83-00000" in page
    response = client.post("/admin/receiving-organisations", data={
        **org_form(), "seal": (io.BytesIO(seal_png()), "seal.png")}, content_type="multipart/form-data")
    assert response.status_code == 303
    org = session.scalar(select(ReceivingOrganisation).where(ReceivingOrganisation.code == "sarang-church"))
    assert org.registration_number == "408-82-12345" and org.gift_type == "religious"
    assert org.seal_png and org.seal_png.startswith(b"\x89PNG")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "receiving_org.save",
                                                    AuditEntry.entity_id == org.id))
    assert entry.actor_id == admin.id and entry.before is None
    assert entry.after["registration_number"] == "408-82-12345" and entry.after["seal_bytes"] == len(org.seal_png)
    seal = client.get(f"/admin/receiving-organisations/{org.id}/seal.png")
    assert seal.mimetype == "image/png" and seal.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("changes, message", [
    ({"registration_number": "12-34"}, "123-45-67890"),
    ({"gift_type": "made-up"}, "Not a valid choice"),
    ({"seal": (io.BytesIO(b"GIF89a not a png"), "seal.gif")}, "PNG"),
])
def test_a_wrong_organisation_is_refused_in_english(admin_client, session, changes, message):
    client, _admin = admin_client
    response = client.post("/admin/receiving-organisations?lang=en", data=org_form(**changes),
                           content_type="multipart/form-data")
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert session.scalar(select(ReceivingOrganisation).where(ReceivingOrganisation.code == "sarang-church")) is None


def test_the_pooled_money_organisation_stays_until_another_takes_over(admin_client, session):
    client, _admin = admin_client
    district = session.scalar(select(ReceivingOrganisation).where(ReceivingOrganisation.is_default))
    kept = {key: getattr(district, key) for key in ("name_ko", "registration_number", "address", "representative",
                                                    "gift_type", "contact")}
    response = client.post(f"/admin/receiving-organisations/{district.id}", data={**kept, "active": "y"},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and "나눔 기금" in response.get_data(as_text=True)
    client.post("/admin/receiving-organisations", data={**org_form(), "is_default": "y"},
                content_type="multipart/form-data")
    session.expire_all()
    assert [org.code for org in session.scalars(select(ReceivingOrganisation)
                                                .where(ReceivingOrganisation.is_default))] == ["sarang-church"]


def test_staff_pick_the_organisation_and_its_receipt_carries_the_seal(client, app, session):
    org = ReceivingOrganisation(code="sarang-church", name_ko="서구 사랑나눔교회", registration_number="408-82-12345",
                                address="광주광역시 서구 화정로 1", representative="박은혜", gift_type="religious",
                                contact="062-000-0000", seal_png=seal_png())
    retired = ReceivingOrganisation(code="closed", name_ko="문 닫은 단체", gift_type="general", active=False)
    session.add_all([org, retired])
    staff = f.user("staff")
    session.commit()
    f.login(client, staff)
    form_page = client.get("/staff/needs/new").get_data(as_text=True)
    assert "서구 사랑나눔교회" in form_page and "문 닫은 단체" not in form_page
    need = f.need(author=staff, title="교회와 함께하는 겨울 이불")
    need.receiving_org = org
    donor = f.user("donor", name="김후원")
    session.commit()
    pledge = pledge_service.create_direct_pledge(
        Actor(donor, "test"), pledge_service.PledgeRequest(need_id=need.id, amount=50_000, units=None,
                                                           display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    payment = pledge_service.record_payment(Actor(staff, "test"), pledge.id, 50_000, source="manual",
                                            external_id="seal-1", received_at=utcnow()).payment
    session.commit()
    donor_client = app.test_client()
    f.login(donor_client, donor)
    response = donor_client.get(f"/me/receipts/{payment.id}.pdf")
    reader = PdfReader(io.BytesIO(response.get_data()))
    text = reader.pages[0].extract_text()
    assert "서구 사랑나눔교회" in text and "408-82-12345" in text and "화정로 1" in text and "박은혜" in text
    assert len(reader.pages[0].images) == 1          # the seal
    public = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "서구 사랑나눔교회" in public and "408-82-12345" not in public
    assert session.get(Need, need.id).receiving_org_id == org.id
