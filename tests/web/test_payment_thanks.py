"""A payment received, whichever way it came (staff recording it, a bank statement, a card), sends the
donor a thank-you with the link to its donation receipt, once per payment."""
from __future__ import annotations

import email
import email.policy

from sqlalchemy import select

from kindcity.domain.time import seoul_today
from kindcity.models import Payment
from tests import factories as f
from tests.web.test_statement_web import _commit, _pledge, _preview


def _mails(app, before) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in f.outbox(app) - before]


def test_staff_recording_a_payment_thanks_the_donor_with_the_receipt_link(app, client, session):
    staff, donor = f.user("staff"), f.user("donor", name="박은혜 목사")
    need = f.need(author=staff, title="어르신 병원 동행", target=500_000)
    session.commit()
    pledge = _pledge(session, donor, need, 100_000)
    f.login(client, staff)
    before = f.outbox(app)
    response = client.post(f"/staff/pledges/{pledge.id}/payments",
                           data={"amount": "100,000", "received_on": seoul_today().isoformat(), "token": "thanks-1"})
    assert response.status_code == 303
    payment = session.scalar(select(Payment).where(Payment.pledge_id == pledge.id))
    mails = _mails(app, before)
    assert [m["To"] for m in mails] == [donor.email]
    assert mails[0]["Subject"] == "고맙습니다: 100,000원을 받았습니다"
    body = mails[0].get_content()
    assert "박은혜 목사님, 안녕하세요." in body and "\"어르신 병원 동행\"" in body and pledge.reference in body
    assert f"http://kindcity.test/me/receipts/{payment.id}.pdf" in body
    # the same payment recorded again (same token) changes nothing and thanks nobody twice
    before = f.outbox(app)
    client.post(f"/staff/pledges/{pledge.id}/payments",
                data={"amount": "100,000", "received_on": seoul_today().isoformat(), "token": "thanks-1"})
    assert _mails(app, before) == []


def test_a_bank_statement_thanks_each_donor_whose_money_it_brought(app, client, session):
    staff = f.user("staff", money_staff=True)
    need = f.need(author=staff, target=1_000_000)
    first, second = f.user("donor"), f.user("donor")
    session.commit()
    one, two = _pledge(session, first, need, 100_000), _pledge(session, second, need, 50_000)
    f.login(client, staff)
    content = ("거래일시,입금액,입금자명\n"
               f"{seoul_today()} 09:00,100000,{one.reference}\n"
               f"{seoul_today()} 10:00,50000,{two.reference}\n"
               f"{seoul_today()} 11:00,7000,모르는분\n").encode("utf-8")
    import_id, _page = _preview(client, content)
    before = f.outbox(app)
    _commit(client, import_id)
    mails = {m["To"]: m.get_content() for m in _mails(app, before)}
    assert set(mails) == {first.email, second.email}  # the unmatched deposit thanks nobody
    paid = {p.pledge_id: p.id for p in session.scalars(select(Payment))}
    assert f"/me/receipts/{paid[one.id]}.pdf" in mails[first.email] and "100,000원" in mails[first.email]
    assert f"/me/receipts/{paid[two.id]}.pdf" in mails[second.email]
