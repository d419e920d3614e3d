"""The text inbox on the web, on the demo provider: `kindcity sms receive` makes a case that staff answer
from the browser, and the answer lands in the outbox folder; numbers masked in lists, never on a public
page, in the CSV or in the audit page; referrals and 'not for this site' from the case page."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from kindcity.models import Referral, TextCase
from tests import factories as f

PHONE = "01077778888"
WORDS = "옆집 할머니가 사흘째 안 보이세요"


def texts_sent(app) -> list[str]:
    folder = Path(app.config["KINDCITY_OUTBOX"])
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.sms.txt"))] if folder.exists() else []


def receive_by_cli(app, text=WORDS, sender="010-7777-8888") -> str:
    result = app.test_cli_runner().invoke(args=["sms", "receive", "--from", sender, text])
    assert result.exit_code == 0, result.output
    return result.output


def the_case(session) -> TextCase:
    return session.scalars(select(TextCase).where(TextCase.phone == PHONE)).one()


def test_a_text_from_the_command_line_is_answered_from_the_inbox_and_the_answer_is_in_the_outbox(app, client, session):
    before = len(texts_sent(app))
    output = receive_by_cli(app)
    case = the_case(session)
    assert f"case {case.id}" in output and PHONE not in output
    assert len(texts_sent(app)) == before + 1, "the automatic first answer"
    staff = f.user("staff", centre_code="district-welfare")
    f.login(client, staff)
    inbox = client.get("/staff/texts").get_data(as_text=True)
    assert "010-****-**88" in inbox and PHONE not in inbox and WORDS not in inbox
    page = client.get(f"/staff/texts/{case.id}")
    assert "no-store" in page.headers["Cache-Control"]
    html = page.get_data(as_text=True)
    assert PHONE in html and WORDS in html
    response = client.post(f"/staff/texts/{case.id}/reply", data={"reply-body": "오늘 오후에 방문하겠습니다."},
                           follow_redirects=True)
    assert "오늘 오후에 방문하겠습니다." in response.get_data(as_text=True)
    sent = texts_sent(app)[before + 1:]
    assert len(sent) == 1 and f"To: {PHONE}" in sent[0] and "오늘 오후에 방문하겠습니다." in sent[0]


def test_an_empty_reply_is_refused_with_a_message_and_sends_nothing(app, client, session):
    receive_by_cli(app)
    case = the_case(session)
    before = len(texts_sent(app))
    f.login(client, f.user("staff", centre_code="district-welfare"))
    response = client.post(f"/staff/texts/{case.id}/reply", data={"reply-body": "   "}, follow_redirects=True)
    assert "답장 내용을 써 주세요" in response.get_data(as_text=True)
    assert len(texts_sent(app)) == before


def test_a_case_made_a_referral_from_the_page_keeps_the_link(app, client, session):
    receive_by_cli(app)
    case = the_case(session)
    f.login(client, f.user("staff", centre_code="district-welfare"))
    response = client.post(f"/staff/texts/{case.id}/refer", data={"refer-dong": "hwajeong1", "refer-urgent": "y"})
    referral = session.scalars(select(Referral).where(Referral.contact == PHONE)).one()
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/staff/referrals/{referral.id}")
    page = client.get(f"/staff/texts/{case.id}").get_data(as_text=True)
    assert referral.code in page and f"/staff/referrals/{referral.id}" in page
    assert referral.urgency == "urgent" and WORDS in referral.situation


def test_not_for_this_site_sends_where_to_go(app, client, session):
    receive_by_cli(app, "집 앞 가로등이 고장났어요")
    case = the_case(session)
    before = len(texts_sent(app))
    f.login(client, f.user("staff", centre_code="district-welfare"))
    client.post(f"/staff/texts/{case.id}/not-for-site", data={"where-where": "서구청 도로과 062-360-7000"})
    sent = texts_sent(app)[before:]
    assert len(sent) == 1 and "062-360-7000" in sent[0]
    session.expire_all()
    assert the_case(session).outcome == "not_for_site"


def test_the_number_is_never_on_a_public_page_the_csv_or_the_audit_page(app, client, session):
    receive_by_cli(app, "긴급 도와주세요 보일러가 멈췄어요")
    case = the_case(session)
    staff = f.user("staff", centre_code="district-welfare")
    f.login(client, staff)
    client.post(f"/staff/texts/{case.id}/reply", data={"reply-body": "바로 연락드립니다"})
    client.post(f"/staff/texts/{case.id}/assign", data={"assign-dong": "yang"})
    csv_text = client.get("/staff/texts/counts.csv").get_data(as_text=True)
    assert csv_text.splitlines()[0].lstrip("\ufeff").startswith("month,texts_in,texts_out,cases")
    assert ",1,2,1,1," in csv_text.splitlines()[1]  # one text in, two out, one case, answered
    counts = client.get("/staff/texts/counts").get_data(as_text=True)
    for page in (csv_text, counts, client.get("/staff/audit").get_data(as_text=True)):
        assert PHONE not in page and "010-7777" not in page and "보일러" not in page
    client.post("/account/logout")
    for url in ("/", "/needs", "/refer", "/impact"):
        html = client.get(url).get_data(as_text=True)
        assert PHONE not in html and "보일러" not in html


def test_the_staff_page_counts_new_and_urgent_texts(app, client, session):
    receive_by_cli(app, "급해요 살려주세요")
    f.login(client, f.user("staff", centre_code="district-welfare"))
    html = client.get("/staff/").get_data(as_text=True)
    assert "/staff/texts" in html and "긴급 1건" in html
