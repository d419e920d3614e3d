"""Donors choose how they hear from the site: e-mail, text or both, with their mobile number verified once
by a code sent by text. Pledge instructions and need notices go the chosen way; mail is the fallback."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from kindcity.domain.time import seoul_today, utcnow
from kindcity.models import AuditEntry, DonorContact
from kindcity.services import pledges as pledge_service
from tests import factories as f

NUMBER = "01045671234"


def texts_to(app, number: str = NUMBER) -> list[str]:
    folder = Path(app.config["KINDCITY_OUTBOX"])
    found = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.sms.txt"))] if folder.exists() else []
    return [text for text in found if f"To: {number}" in text]


def last_code(app, number: str = NUMBER) -> str:
    return re.search(r"\b(\d{6})\b", texts_to(app, number)[-1].split("\n\n", 1)[1]).group(1)


def verified_donor(app, client, session):
    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    assert client.post("/me/contact/phone", data={"phone-phone": "010-4567-1234"}).status_code == 303
    response = client.post("/me/contact/code", data={"code-code": last_code(app)}, follow_redirects=True)
    assert "인증되었습니다" in response.get_data(as_text=True)
    return donor


def test_a_donor_verifies_their_number_with_a_texted_code(app, client, session):
    before = len(texts_to(app))
    donor = verified_donor(app, client, session)
    assert len(texts_to(app)) == before + 1
    contact = session.get(DonorContact, donor.id)
    assert contact.phone == NUMBER and contact.verified_at is not None and contact.pending_phone is None
    assert contact.code_hash is None, "the code is not kept once used"
    page = client.get("/me/contact").get_data(as_text=True)
    assert "010-****-**34" in page and NUMBER not in page
    for entry in session.scalars(select(AuditEntry).where(AuditEntry.entity == "user", AuditEntry.entity_id == donor.id)):
        assert NUMBER not in f"{entry.before} {entry.after}"


def test_the_code_is_stored_only_as_a_hash_and_never_in_the_job(app, client, session):
    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    client.post("/me/contact/phone", data={"phone-phone": "010-4567-1234"})
    code = last_code(app)
    contact = session.get(DonorContact, donor.id)
    assert contact.code_hash and code not in contact.code_hash and contact.phone is None


def test_wrong_codes_are_counted_and_lock_after_five(app, client, session):
    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    client.post("/me/contact/phone", data={"phone-phone": "010-4567-1234"})
    code = last_code(app)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post("/me/contact/code", data={"code-code": wrong})
    assert session.get(DonorContact, donor.id).code_attempts == 5
    response = client.post("/me/contact/code", data={"code-code": code}, follow_redirects=True)
    assert "너무 많이 틀렸습니다" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(DonorContact, donor.id).verified_at is None


def test_an_expired_code_is_refused_and_codes_are_limited_per_hour(app, client, session):
    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    client.post("/me/contact/phone", data={"phone-phone": "010-4567-1234"})
    contact = session.get(DonorContact, donor.id)
    contact.code_expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    response = client.post("/me/contact/code", data={"code-code": last_code(app)}, follow_redirects=True)
    assert "만료" in response.get_data(as_text=True)
    for _ in range(2):
        client.post("/me/contact/phone", data={"phone-phone": "010-4567-1234"})
    before = len(texts_to(app))
    response = client.post("/me/contact/phone", data={"phone-phone": "010-4567-1234"}, follow_redirects=True)
    assert "한 시간 뒤에" in response.get_data(as_text=True) and len(texts_to(app)) == before


def test_text_needs_a_verified_mobile_number(app, client, session):
    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    response = client.post("/me/contact/channel", data={"channel-channel": "text"}, follow_redirects=True)
    assert "먼저 휴대전화 번호를 인증해 주세요" in response.get_data(as_text=True)
    response = client.post("/me/contact/phone", data={"phone-phone": "062-360-7114"}, follow_redirects=True)
    assert "휴대전화 번호" in response.get_data(as_text=True)
    assert texts_to(app, "0623607114") == []


def test_pledge_instructions_go_by_text_only_when_the_donor_chose_text(app, client, session):
    donor = verified_donor(app, client, session)
    client.post("/me/contact/channel", data={"channel-channel": "text"})
    need = f.need(target=500_000)
    session.commit()
    mail_before, texts_before = f.outbox(app), len(texts_to(app))
    response = client.post(f"/me/needs/{need.id}/pledge", data={"amount": "30000", "display": "anonymous",
                                                                "on_cancel": "refund", "method": "bank"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    pledge = session.scalars(select(pledge_service.Pledge).where(pledge_service.Pledge.donor_id == donor.id)).one()
    sent = texts_to(app)[texts_before:]
    assert len(sent) == 1 and pledge.reference in sent[0] and "30,000원" in sent[0]
    assert not any(donor.email in p.read_bytes().decode("latin-1") for p in f.outbox(app) - mail_before)


def test_both_sends_mail_and_text_and_a_removed_number_falls_back_to_mail(app, client, session):
    donor = verified_donor(app, client, session)
    client.post("/me/contact/channel", data={"channel-channel": "both"})
    from kindcity.jobs import run_committed
    from kindcity.services.contact import notify

    mail_before, texts_before = f.outbox(app), len(texts_to(app))
    assert notify(donor.id, donor.email, key="test-both", subject="s", body="b", text="문자 본문") == (True, True)
    session.commit()
    run_committed()
    assert len(texts_to(app)) == texts_before + 1 and len(f.outbox(app) - mail_before) == 1
    client.post("/me/contact/forget")
    session.expire_all()
    assert notify(donor.id, donor.email, key="test-forgot", subject="s", body="b", text="t") == (True, False)
    assert session.get(DonorContact, donor.id).channel == "email"


def test_a_payment_received_is_thanked_by_text_when_the_donor_chose_text(app, client, session):
    donor = verified_donor(app, client, session)
    client.post("/me/contact/channel", data={"channel-channel": "text"})
    staff = f.user("staff")
    need = f.need(author=staff, target=500_000)
    session.commit()
    client.post(f"/me/needs/{need.id}/pledge", data={"amount": "30000", "display": "anonymous",
                                                     "on_cancel": "refund", "method": "bank"})
    pledge = session.scalars(select(pledge_service.Pledge).where(pledge_service.Pledge.donor_id == donor.id)).one()
    desk = app.test_client()
    f.login(desk, staff)
    mail_before, texts_before = f.outbox(app), len(texts_to(app))
    response = desk.post(f"/staff/pledges/{pledge.id}/payments",
                         data={"amount": "30,000", "received_on": seoul_today().isoformat(), "token": "sms-thanks"})
    assert response.status_code == 303
    [thanks] = texts_to(app)[texts_before:]
    assert pledge.reference in thanks and "30,000원" in thanks and "/me/receipts/" in thanks
    assert not any(donor.email in p.read_bytes().decode("latin-1") for p in f.outbox(app) - mail_before)
