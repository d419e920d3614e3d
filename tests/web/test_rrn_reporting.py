"""Year-end reporting (연말정산 간소화): the resident registration number is asked only with its own
consent, stored encrypted, shown masked, exported once a year by the receiving organisation's staff
(audited and access-logged), re-encrypted by key rotation and erased after its retention.

The last test greps everything the run produced (responses, logs, mail, a dump of the database) for
the plain number. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import logging
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from kindcity.domain.time import seoul_today, utcnow
from kindcity.extensions import db
from kindcity.jobs import upkeep
from kindcity.models import AccessRecord, AuditEntry, DonorTaxDetails, OutgoingMail
from kindcity.rrn_keys import new_key
from kindcity.services import SYSTEM, Actor
from kindcity.services import pledges as pledge_service
from kindcity.services import tax_details
from kindcity.services.receipts import default_organisation
from tests import factories as f

NUMBER = "900101-1234567"
PLAIN_FORMS = ("9001011234567", "900101-1234567", "1234567")
MASKED = "900101-1******"


@pytest.fixture
def keys(app, monkeypatch):
    first = new_key()
    monkeypatch.setitem(app.config, "KINDCITY_RRN_KEYS", f"k1:{first}")
    monkeypatch.setitem(app.config, "KINDCITY_RRN_KEY_ID", "k1")
    return first


@pytest.fixture
def scene(session, keys):
    staff = f.user("staff")
    office = f.user("staff", centre_code="district-welfare", name="구청 담당자")
    need = f.need(author=staff, title="겨울 난방비", target=5_000_000)
    donor = f.user("donor", name="김후원")
    session.commit()
    return staff, office, need, donor


def pay(session, staff, donor, need, amount):
    pledge = pledge_service.create_direct_pledge(
        Actor(donor, "test"), pledge_service.PledgeRequest(need_id=need.id, amount=amount, units=None,
                                                           display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    payment = pledge_service.record_payment(Actor(staff, "test"), pledge.id, amount, source="manual",
                                            external_id=f"rrn-{pledge.id}", received_at=utcnow()).payment
    session.commit()
    return payment


def ask(client, number=NUMBER, consent=True, lang="ko"):
    data = {"reporting-resident_number": number}
    if consent:
        data["reporting-consent"] = "y"
    return client.post(f"/me/receipts/details/reporting?lang={lang}", data=data)


@pytest.mark.parametrize("lang, words", [("ko", "주민등록번호 수집·이용 동의"), ("en", "Consent to the collection and use")])
def test_the_consent_names_its_legal_basis_and_is_required(client, session, scene, lang, words):
    _staff, _office, _need, donor = scene
    f.login(client, donor)
    page = client.get(f"/me/receipts/details?lang={lang}").get_data(as_text=True)
    assert words in page and "소득세법 제160조의3" in page and "개인정보 보호법 제24조의2" in page
    refused = ask(client, consent=False, lang=lang)
    assert refused.status_code == 200 and NUMBER not in refused.get_data(as_text=True)
    assert session.get(DonorTaxDetails, donor.id) is None
    wrong = ask(client, number="901301-1234567", lang=lang)
    assert wrong.status_code == 200 and "901301" not in wrong.get_data(as_text=True)
    assert session.get(DonorTaxDetails, donor.id) is None


def test_a_reporting_donor_gets_a_tax_receipt_with_the_number_masked(client, session, scene):
    staff, _office, need, donor = scene
    payment = pay(session, staff, donor, need, 100_000)
    f.login(client, donor)
    client.post("/me/receipts/details/address", data={"address-postal_address": "광주광역시 서구 상무대로 1"})
    assert ask(client).status_code == 303
    page = client.get("/me/receipts/details").get_data(as_text=True)
    assert MASKED in page
    details = session.get(DonorTaxDetails, donor.id)
    assert details.rrn_key_id == "k1" and b"1234567" not in details.rrn_ciphertext
    text = PdfReader(io.BytesIO(client.get(f"/me/receipts/{payment.id}.pdf").get_data())).pages[0].extract_text()
    assert text.startswith("소득세법 시행규칙 [별지 제45호의2서식] 기부금 영수증") and MASKED in text and "광주광역시 서구 상무대로 1" in text
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "tax.reporting_consent"))
    assert entry.after == {"reporting": True}


def _export(client, year):
    org = default_organisation()
    return client.get(f"/staff/receipts/nts-export.csv?org={org.id}&year={year}")


def test_the_export_is_for_the_district_office_and_is_audited(app, client, session, scene):
    staff, office, need, donor = scene
    pay(session, staff, donor, need, 100_000)
    pay(session, staff, donor, need, 50_000)
    quiet = f.user("donor", name="이조용")   # gave, but did not ask for reporting: not in the file
    session.commit()
    pay(session, staff, quiet, need, 30_000)
    donor_client = app.test_client()
    f.login(donor_client, donor)
    ask(donor_client)
    dong_staff = app.test_client()
    f.login(dong_staff, staff)
    assert _export(dong_staff, seoul_today().year).status_code == 403
    office_client = app.test_client()
    f.login(office_client, office)
    assert "nts-export.csv" in office_client.get("/staff/receipts").get_data(as_text=True)
    year = seoul_today().year
    response = _export(office_client, year)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == list(tax_details.EXPORT_COLUMNS)
    assert len(rows) == 2
    assert rows[1][1:7] == ["김후원", NUMBER, "", "000-83-00000", "10", "1"]
    assert rows[1][-2:] == ["2", "150000"]
    audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "tax.nts_export"))
    assert audit.actor_id == office.id and audit.after == {"year": year, "donors": 1}
    access = session.scalars(select(AccessRecord).where(AccessRecord.action == "rrn_export")).all()
    assert [(a.actor_id, a.subject_kind, a.subject_id) for a in access] == [(office.id, "donor", donor.id)]


def test_key_rotation_re_encrypts_under_the_new_key(app, client, session, scene, keys, monkeypatch):
    _staff, _office, _need, donor = scene
    masked = tax_details.ask_for_reporting(Actor(donor, "test"), donor, NUMBER, consent=True, today=date(2026, 12, 6))
    session.commit()
    before = bytes(session.get(DonorTaxDetails, donor.id).rrn_ciphertext)
    second = new_key()
    monkeypatch.setitem(app.config, "KINDCITY_RRN_KEYS", f"k1:{keys},k2:{second}")
    monkeypatch.setitem(app.config, "KINDCITY_RRN_KEY_ID", "k2")
    result = app.test_cli_runner().invoke(args=["rotate-rrn-key"])
    assert result.exit_code == 0 and "1" in result.output, result.output
    session.expire_all()
    details = session.get(DonorTaxDetails, donor.id)
    assert details.rrn_key_id == "k2" and bytes(details.rrn_ciphertext) != before and details.rrn_masked == masked
    monkeypatch.setitem(app.config, "KINDCITY_RRN_KEYS", f"k2:{second}")   # the old key is gone
    ring = tax_details.keyring()
    assert ring.decrypt("k2", details.rrn_ciphertext, f"donor_tax_details:{donor.id}") == "9001011234567"
    assert app.test_cli_runner().invoke(args=["rotate-rrn-key"]).output.startswith("Re-encrypted 0")


def test_withdrawal_erases_at_once_or_after_the_retention(app, session, scene):
    staff, _office, need, donor = scene
    tax_details.ask_for_reporting(Actor(donor, "test"), donor, NUMBER, consent=True, today=date(2026, 12, 6))
    tax_details.withdraw(Actor(donor, "test"), donor, today=date(2026, 12, 6))
    session.commit()
    assert session.get(DonorTaxDetails, donor.id).rrn_ciphertext is None   # nothing was reported with it
    tax_details.ask_for_reporting(Actor(donor, "test"), donor, NUMBER, consent=True, today=date(2026, 12, 6))
    session.commit()
    pay(session, staff, donor, need, 10_000)
    tax_details.withdraw(Actor(donor, "test"), donor, today=date(2026, 12, 6))
    session.commit()
    details = session.get(DonorTaxDetails, donor.id)
    year = seoul_today().year
    assert details.rrn_ciphertext is not None and details.rrn_erase_after == date(year + 6, 1, 1)
    assert tax_details.purge(SYSTEM, date(year + 5, 12, 31)) == 0
    assert upkeep.purge_rrn() == 0                         # the daily job: today is long before that
    assert tax_details.purge(SYSTEM, date(year + 6, 1, 1)) == 1
    session.commit()
    details = session.get(DonorTaxDetails, donor.id)
    assert details.rrn_ciphertext is None and details.rrn_masked is None and details.rrn_key_id is None


def _dump() -> str:
    """Every row of every table, as text (what a database dump would show)."""
    lines = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            lines.append(f"{table.name}: {[bytes(v) if isinstance(v, memoryview) else v for v in row]}")
    return "\n".join(lines)


def test_the_number_never_appears_outside_the_export(app, client, session, scene, caplog):
    caplog.set_level(logging.DEBUG)
    staff, office, need, donor = scene
    seen: list[str] = []

    def keep(response):
        seen.append(response.get_data(as_text=True) if not response.mimetype.endswith("pdf") else
                    "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.get_data())).pages))
        seen.append(str(response.headers))
        return response

    payment = pay(session, staff, donor, need, 100_000)
    client = app.test_client()
    f.login(client, donor)
    keep(client.get("/me/receipts/details"))
    keep(ask(client, consent=False))
    keep(ask(client, number="901301-1234567"))
    keep(ask(client))
    keep(ask(client))     # a second time: the page says it is already reported
    keep(client.get("/me/receipts/details"))
    keep(client.get("/me/receipts/details?lang=en"))
    keep(client.get(f"/me/receipts/{payment.id}.pdf"))
    keep(client.get("/me/receipts/statement.pdf"))
    keep(client.get("/me/"))
    keep(client.post("/me/receipts/details/withdraw", data={}))
    keep(client.get("/me/receipts/details"))
    office_client = app.test_client()
    f.login(office_client, office)
    exported = _export(office_client, seoul_today().year)
    assert NUMBER in exported.get_data(as_text=True)   # the one place the number may go
    keep(office_client.get("/staff/audit"))
    keep(office_client.get("/staff/receipts"))
    mail = [f"{m.subject}\n{m.body}" for m in session.scalars(select(OutgoingMail))]
    mail += [path.read_text(encoding="utf-8", errors="replace") for path in f.outbox(app)]
    produced = {"responses": "\n".join(seen), "logs": caplog.text, "mail": "\n".join(mail), "database": _dump()}
    for where, text in produced.items():
        for plain in PLAIN_FORMS:
            assert plain not in text, f"the number appears in the {where}"
    assert MASKED in produced["responses"]
    assert session.get(DonorTaxDetails, donor.id).rrn_ciphertext is not None   # kept: it was reported
