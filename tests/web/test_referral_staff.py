"""Staff referral screens (사각지대 제보): the centre's queue, one referral's page and its forms, the dashboard
link, the urgent-referral mail and the audit log. The words of a referral (situation, contact) appear only
on its own page, never in the queue, the mail or the audit log."""
from __future__ import annotations

import email
import email.policy
import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kindcity.domain.referrals import ReferralStatus
from kindcity.domain.time import seoul_today, utcnow
from kindcity.models import AuditEntry, Dong, Referral, ReferralNote
from kindcity.services import Actor
from kindcity.services import referrals as service
from kindcity import jobs
from kindcity.mail.referrals import urgent_referral
from tests import factories as f

SITUATION = "화정1동 ○○아파트 3층 어르신이 며칠째 안 보이고 난방이 <끊긴> 것 같습니다. 010-1234-5678"
CONTACT = "이웃 김영희 010-9876-5432"
_addresses = iter(f"198.51.100.{n}" for n in range(1, 250))


def _send(dong="hwajeong1", urgency="urgent", situation=SITUATION, contact=CONTACT) -> Referral:
    return service.submit(next(_addresses), service.ReferralRequest(
        dong=dong, urgency=urgency, situation=situation, contact=contact, consent=True))


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _english(client, person) -> None:
    f.login(client, person)
    client.get("/?lang=en")  # the session remembers English


def _queue_link(response) -> str:
    """The words of the dashboard's link to the referral queue, tags dropped."""
    found = re.search(r'<a href="/staff/referrals">(.*?)</a>', response.get_data(as_text=True), re.DOTALL)
    assert found, "no link to the referral queue"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def _act(client, referral, action, **fields):
    data = {"action": action, **{f"{action}-{name}": value for name, value in fields.items()}}
    return client.post(f"/staff/referrals/{referral.id}/act", data=data, follow_redirects=True)


def _counts(session, referral) -> tuple[int, int]:
    notes = session.scalar(select(func.count(ReferralNote.id)).where(ReferralNote.referral_id == referral.id))
    audit = session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.entity == "referral",
                                                                   AuditEntry.entity_id == referral.id))
    return notes, audit


def test_the_queue_lists_own_centre_urgent_first_and_never_the_words(client, session):
    normal = _send(urgency="normal", situation="오래된 제보: 혼자 사시는 어르신 식사가 걱정됩니다.")
    urgent = _send(urgency="urgent")
    elsewhere = _send(dong="yang", urgency="urgent")
    session.commit()
    _english(client, f.user("staff", centre_code="centre-hwajeong1"))

    response = client.get("/staff/referrals")
    assert response.status_code == 200
    page = _text(response)
    assert urgent.code in page and normal.code in page and elsewhere.code not in page
    assert page.index(urgent.code) < page.index(normal.code)  # urgent first, though it came in later
    assert "Urgent" in page and "Hwajeong 1-dong" in page and "Nobody yet" in page
    for words in (SITUATION, "010-1234-5678", CONTACT, "김영희", "식사가 걱정"):
        assert words not in page
    assert f"/staff/referrals/{urgent.id}" in page


def test_the_closed_toggle_lists_recently_closed_ones_with_their_outcome(client, session):
    staff = f.user("staff", centre_code="centre-hwajeong1")
    still_open, closed = _send(), _send(urgency="normal")
    session.commit()
    _english(client, staff)
    _act(client, closed, "close", outcome="duplicate")

    page = _text(client.get("/staff/referrals?closed=1"))
    assert closed.code in page and still_open.code not in page
    assert "Duplicate of another referral" in page and SITUATION not in page
    open_page = _text(client.get("/staff/referrals"))
    assert still_open.code in open_page and closed.code not in open_page


def test_the_district_office_sees_every_centres_referrals(client, session):
    here, there = _send(dong="hwajeong1"), _send(dong="pungam", urgency="normal")
    session.commit()
    f.login(client, f.user("staff", centre_code="district-welfare"))
    page = _text(client.get("/staff/referrals"))
    assert here.code in page and there.code in page
    assert client.get(f"/staff/referrals/{there.id}").status_code == 200


@pytest.mark.parametrize("path", ["/staff/referrals", "/staff/referrals/{id}"])
def test_donors_are_refused_and_anonymous_visitors_sent_to_log_in(client, session, path):
    referral = _send()
    session.commit()
    url = path.format(id=referral.id)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/account/login" in anonymous.headers["Location"]
    f.login(client, f.user("donor"))
    assert client.get(url).status_code == 403
    assert client.post(f"/staff/referrals/{referral.id}/act", data={"action": "close",
                                                                    "close-outcome": "no_need"}).status_code == 403


def test_another_centres_staff_get_404_on_the_page_and_its_forms(client, session):
    referral = _send(dong="hwajeong1")
    session.commit()
    f.login(client, f.user("staff", centre_code="centre-pungam"))
    before = _counts(session, referral)
    assert client.get(f"/staff/referrals/{referral.id}").status_code == 404
    assert client.post(f"/staff/referrals/{referral.id}/act", data={"action": "take_up"}).status_code == 404
    assert client.post(f"/staff/referrals/{referral.id}/act",
                       data={"action": "close", "close-outcome": "no_need"}).status_code == 404
    assert client.post(f"/staff/referrals/{referral.id}/notes", data={"note": "남의 센터 메모"}).status_code == 404
    session.refresh(referral)
    assert referral.status == ReferralStatus.NEW and referral.assignee_id is None
    assert _counts(session, referral) == before
    assert client.get("/staff/referrals/999999").status_code == 404


def test_the_referral_page_shows_the_words_and_is_never_stored(client, session):
    referral = _send()
    session.commit()
    _english(client, f.user("staff", centre_code="centre-hwajeong1"))
    response = client.get(f"/staff/referrals/{referral.id}")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert "&lt;끊긴&gt;" in response.get_data(as_text=True)  # the resident's words are escaped
    page = _text(response)
    assert SITUATION in page and CONTACT in page
    assert "Hwajeong 1-dong" in page and "Hwajeong 1-dong Community Service Centre" in page
    assert "Urgent" in page and "New" in page and "Referral received" in page
    assert "Take it up" in page and "Close the referral" in page and "Reopen the referral" not in page
    assert "/staff/needs/new" in page  # post a need for it (the need form has no dong parameter)


def test_take_up_then_a_refused_close_then_close_and_reopen(client, session):
    staff = f.user("staff", centre_code="centre-hwajeong1", name="담당 박주무관")
    referral = _send()
    session.commit()
    _english(client, staff)

    page = _text(_act(client, referral, "take_up", note="오늘 방문 예정"))
    assert "You have taken up this referral." in page
    session.refresh(referral)
    assert referral.status == ReferralStatus.IN_REVIEW and referral.assignee_id == staff.id
    assert "오늘 방문 예정" in page and "Taken up" in page and "담당 박주무관" in page
    assert "Take it up" not in page and "Take it over" not in page  # it is already mine

    before = _counts(session, referral)
    response = client.post(f"/staff/referrals/{referral.id}/act",
                           data={"action": "close", "close-outcome": "", "close-note": "결과 없이"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/referrals/{referral.id}")
    page = _text(client.get(response.headers["Location"]))
    assert "Please choose the outcome before closing the referral." in page
    session.refresh(referral)
    assert referral.status == ReferralStatus.IN_REVIEW and referral.outcome is None
    assert _counts(session, referral) == before and "결과 없이" not in page

    page = _text(_act(client, referral, "close", outcome="supported", note="긴급 생계비 연계"))
    assert "The referral is closed." in page
    session.refresh(referral)
    assert (referral.status, referral.outcome) == (ReferralStatus.CLOSED, "supported")
    assert "Linked to support" in page and "긴급 생계비 연계" in page and "Reopen the referral" in page
    assert "Close the referral" not in page

    page = _text(_act(client, referral, "reopen", note="재방문 필요"))
    assert "The referral is reopened and back in review." in page
    session.refresh(referral)
    assert referral.status == ReferralStatus.IN_REVIEW and referral.outcome is None
    assert "Reopened" in page and "재방문 필요" in page


def test_a_step_the_status_does_not_allow_is_refused(client, session):
    referral = _send()
    session.commit()
    _english(client, f.user("staff", centre_code="centre-hwajeong1"))
    before = _counts(session, referral)
    page = _text(_act(client, referral, "reopen"))
    assert "This referral cannot be changed that way in its present state." in page
    page = _text(_act(client, referral, "delete"))
    assert "This action is not known." in page
    session.refresh(referral)
    assert referral.status == ReferralStatus.NEW and _counts(session, referral) == before


def test_a_colleague_takes_it_over(app, client, session):
    first = f.user("staff", centre_code="centre-hwajeong1")
    colleague = f.user("staff", centre_code="centre-hwajeong1")
    referral = _send()
    session.commit()
    f.login(client, first)
    _act(client, referral, "take_up")
    other = app.test_client()
    _english(other, colleague)
    assert "Take it over" in _text(other.get(f"/staff/referrals/{referral.id}"))
    _act(other, referral, "take_up")
    session.refresh(referral)
    assert referral.assignee_id == colleague.id


def test_notes_are_added_and_shown_and_an_empty_one_is_refused(client, session):
    staff = f.user("staff", centre_code="centre-hwajeong1", name="메모 주무관")
    referral = _send()
    session.commit()
    _english(client, staff)
    page = _text(client.post(f"/staff/referrals/{referral.id}/notes", data={"note": "통장님께 확인 요청함"},
                             follow_redirects=True))
    assert "Note added." in page and "통장님께 확인 요청함" in page and "메모 주무관" in page
    note = session.scalars(select(ReferralNote).where(ReferralNote.referral_id == referral.id)).one()
    assert note.action is None and note.author_id == staff.id

    page = _text(client.post(f"/staff/referrals/{referral.id}/notes", data={"note": "   "}, follow_redirects=True))
    assert "Please write the note." in page
    page = _text(client.post(f"/staff/referrals/{referral.id}/notes", data={"note": "가" * 2001},
                             follow_redirects=True))
    assert "Please keep the note to 2000 characters." in page
    assert _counts(session, referral)[0] == 1


def test_a_purged_referral_shows_the_erased_line_and_takes_no_more_notes(client, session):
    staff = f.user("staff", centre_code="centre-hwajeong1")
    referral = _send()
    session.commit()
    _english(client, staff)
    _act(client, referral, "close", outcome="no_need", note="방문 결과 도움 불필요")
    assert service.purge_closed(0, now=utcnow()) == [referral.id]
    session.commit()

    page = _text(client.get(f"/staff/referrals/{referral.id}"))
    assert "The details of this referral were erased on" in page and "after the retention period" in page
    for words in (SITUATION, CONTACT, "방문 결과 도움 불필요"):
        assert words not in page
    assert "No help needed now" in page and "(erased)" in page
    assert "Add the note" not in page and "Reopen the referral" not in page

    before = _counts(session, referral)
    page = _text(client.post(f"/staff/referrals/{referral.id}/notes", data={"note": "늦은 메모"},
                             follow_redirects=True))
    assert "This referral's details have been erased after the retention period." in page
    page = _text(_act(client, referral, "reopen", note="다시 연락처 적기 010-1111-2222"))
    assert "This referral's details have been erased after the retention period." in page
    session.refresh(referral)
    assert referral.status == ReferralStatus.CLOSED and _counts(session, referral) == before


def test_the_dashboard_links_to_the_queue_with_its_counts(app, client, session):
    staff = f.user("staff", centre_code="centre-hwajeong1")
    quiet = f.user("staff", centre_code="centre-pungam")
    _send(urgency="urgent")
    _send(urgency="normal")
    taken = _send(urgency="urgent")
    _send(dong="yang", urgency="urgent")
    session.commit()
    service.act(service.Actor(staff), taken.id, "take_up")  # still open and urgent, no longer new
    session.commit()
    _english(client, staff)
    link = _queue_link(client.get("/staff/"))
    assert link.startswith("Referrals") and "2 new" in link and "2 urgent" in link

    other = app.test_client()
    _english(other, quiet)
    assert _queue_link(other.get("/staff/")) == "Referrals"  # no counts when nothing waits


def test_an_urgent_referral_mails_each_active_staff_member_of_its_centre(app, session):
    ours = [f.user("staff", centre_code="centre-hwajeong1") for _ in range(2)]
    away = f.user("staff", centre_code="centre-hwajeong1")
    away.active = False
    f.user("staff", centre_code="centre-yang")
    f.user("staff", centre_code="district-welfare")
    f.user("admin")
    referral = _send(urgency="urgent")
    session.commit()
    before = f.outbox(app)
    with app.test_request_context("/?lang=en"):  # the resident read the site in English; staff read Korean
        assert urgent_referral(referral.id) == 2
        session.commit()
        assert jobs.run_committed() == 2
    sent = f.outbox(app) - before
    assert len(sent) == 2
    messages = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in sent]
    assert sorted(m["To"] for m in messages) == sorted(p.email for p in ours)
    for message in messages:
        body = message.get_content()
        assert f"http://kindcity.test/staff/referrals/{referral.id}" in body
        assert "화정1동" in message["Subject"] and "화정1동" in body and "Hwajeong" not in body
        for words in (SITUATION, CONTACT, "010-1234-5678", "김영희", "어르신", referral.code):
            assert words not in body and words not in message["Subject"]


def test_an_urgent_referral_reaches_the_district_office_when_its_centre_has_nobody(app, session):
    gone = f.user("staff", centre_code="centre-hwajeong1")
    gone.active = False
    district = f.user("staff", centre_code="district-welfare")
    f.user("staff", centre_code="centre-yang")
    referral = _send(urgency="urgent")
    session.commit()
    before = f.outbox(app)
    with app.test_request_context("/"):
        assert urgent_referral(referral.id) == 1
        session.commit()
        assert jobs.run_committed() == 1
    [sent] = f.outbox(app) - before
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert message["To"] == district.email and SITUATION not in message.get_content()


def test_a_normal_referral_sends_no_mail(app, session):
    f.user("staff", centre_code="centre-hwajeong1")
    referral = _send(urgency="normal")
    session.commit()
    before = f.outbox(app)
    with app.test_request_context("/"):
        assert urgent_referral(referral.id) == 0
        session.commit()
        assert jobs.run_committed() == 0
    assert f.outbox(app) == before


def test_the_audit_log_names_referral_steps_in_words_without_the_words_of_the_referral(client, session):
    staff = f.user("staff", centre_code="centre-hwajeong1")
    referral = _send()
    session.commit()
    f.login(client, staff)
    _act(client, referral, "take_up", note="방문 메모")
    _act(client, referral, "close", outcome="unreachable", note="연락 두절")
    _act(client, referral, "reopen")
    service.purge_closed(0)  # nothing: it is open again
    _act(client, referral, "close", outcome="unreachable")
    service.purge_closed(0, now=utcnow())
    session.commit()

    client.post("/account/logout")
    _english(client, f.user("admin"))
    page = _text(client.get("/staff/audit"))
    for words in ("Referral received", "Referral taken up", "Referral closed", "Referral reopened",
                  "Referral details erased after the retention period"):
        assert words in page
    for words in (SITUATION, CONTACT, "010-1234-5678", "방문 메모", "연락 두절"):
        assert words not in page


def test_staff_see_the_audit_of_their_own_centres_referrals_only(app, client, session):
    ours, theirs = _send(), _send(dong="yang")
    staff = f.user("staff", centre_code="centre-hwajeong1")
    other = f.user("staff", centre_code="centre-yang")
    session.commit()
    service.act(Actor(staff), ours.id, "take_up")
    service.act(Actor(other), theirs.id, "take_up")
    session.commit()
    _english(client, staff)
    page = _text(client.get("/staff/audit"))
    page = page[page.index("<tbody>"):]  # the log itself, not the filter form that names every action
    assert page.count("Referral taken up") == 1 and page.count("Referral received") == 1
    assert SITUATION not in page


def test_a_need_posted_from_a_referral_starts_in_its_dong(client, session):
    referral = _send(dong="yang")
    district = f.user("staff", centre_code="district-welfare")
    session.commit()
    _english(client, district)
    page = client.get(f"/staff/referrals/{referral.id}").get_data(as_text=True)
    assert f'href="/staff/needs/new?dong=yang&amp;referral={referral.id}"' in page
    form = _text(client.get("/staff/needs/new?dong=yang"))
    yang = session.scalar(select(Dong.id).where(Dong.code == "yang"))
    assert re.search(rf'<option selected value="{yang}">|<option value="{yang}" selected>', form)
    assert SITUATION not in form  # only the dong travels, never the words


def test_the_queue_and_a_referral_page_cost_the_same_queries_however_many_rows(client, session):
    """Every row in another dong, taken up by another colleague, every note by another author: what the
    pages read per row must come with the rows, not one query each."""
    from tests.web.test_query_counts import counting

    viewer = f.user("staff", centre_code="district-welfare")  # sees every centre's referrals
    session.commit()
    _english(client, viewer)

    def cost(path):
        client.get(path)  # warm: login, language
        with counting() as statements:
            assert client.get(path).status_code == 200
        return len(statements)

    def colleague():
        person = f.user("staff", centre_code="district-welfare")
        session.commit()
        return person

    first = _send()
    session.commit()
    service.act(Actor(colleague()), first.id, "take_up", note="메모 1")
    session.commit()
    few_queue, few_page = cost("/staff/referrals"), cost(f"/staff/referrals/{first.id}")
    for n, dong in enumerate(("yang", "nongseong1", "nongseong2", "gwangcheon", "yudeok", "chipyeong", "sangmu1")):
        other = _send(dong=dong, urgency="normal" if n % 2 else "urgent")
        session.commit()
        service.act(Actor(colleague()), other.id, "take_up")
        service.add_note(Actor(colleague()), first.id, f"메모 {n + 2}")
        session.commit()
    assert cost("/staff/referrals") == few_queue  # not one query per row (dong, assignee)
    assert cost(f"/staff/referrals/{first.id}") == few_page  # not one query per note (author)


def test_the_queue_sums_up_the_last_twelve_months_in_counts_only(client, session):
    staff = f.user("staff", centre_code="centre-hwajeong1")
    session.commit()
    supported, duplicate = _send(), _send(urgency="normal")
    _send()  # still open
    old = _send(urgency="normal")
    _send(dong="yang")  # another centre's: not counted here
    session.commit()
    for referral, outcome in ((supported, "supported"), (duplicate, "duplicate"), (old, "no_need")):
        service.act(Actor(staff), referral.id, "close", outcome=outcome)
    old.created_at = utcnow() - timedelta(days=400)  # before the period
    session.commit()
    assert service.summary(staff, utcnow() - timedelta(days=365)) == service.ReferralSummary(
        received=3, urgent=2, still_open=1,
        outcomes={"supported": 1, "referred_elsewhere": 0, "no_need": 0, "unreachable": 0, "duplicate": 1})
    _english(client, staff)
    year = _text(client.get("/staff/referrals")).split('id="year-h"', 1)[1]
    assert "<dt>Referrals received</dt><dd>3</dd>" in year and "<dt>Urgent</dt><dd>2</dd>" in year
    assert "<dt>Not closed yet</dt><dd>1</dd>" in year and "<dt>Linked to support</dt><dd>1</dd>" in year
    assert SITUATION not in year


def test_a_need_posted_from_a_referral_keeps_the_link_and_the_receipt_says_only_that_help_was_arranged(
        client, session):
    from kindcity.models import Need
    from kindcity.services import needs as need_service
    from tests.web.test_staff import _form

    referral = _send(dong="nongseong1")
    district, colleague = f.user("staff", centre_code="district-welfare"), f.user("staff", centre_code="district-welfare")
    other_centre = f.user("staff", centre_code="centre-pungam")
    session.commit()
    _english(client, district)
    form = _text(client.get(f"/staff/needs/new?dong=nongseong1&referral={referral.id}"))
    assert f"posted from referral {referral.code}" in form and SITUATION not in form
    response = client.post(f"/staff/needs/new?referral={referral.id}", data=_form(title="어르신 난방비 지원"))
    assert response.status_code == 302
    need = session.scalar(select(Need).where(Need.title == "어르신 난방비 지원"))
    assert need.referral_id == referral.id
    staff_page = _text(client.get(f"/staff/referrals/{referral.id}"))
    assert "Needs posted from this referral" in staff_page and "어르신 난방비 지원" in staff_page
    assert referral.code in _text(client.get(f"/staff/needs/{need.id}"))  # the need names its referral
    korean = _text(client.get(f"/staff/referrals/{referral.id}?lang=ko"))
    assert "이 제보로 올린 모금" in korean

    resident = client.application.test_client()
    receipt = _text(resident.get(f"/refer/{referral.code}?lang=en"))
    assert "Help was arranged" not in receipt  # a draft is no help yet
    need_service.submit(Actor(district), need, seoul_today())
    need_service.approve(Actor(colleague), need, seoul_today())
    session.commit()
    receipt = _text(resident.get(f"/refer/{referral.code}?lang=en"))
    assert "Help was arranged after your referral." in receipt
    assert "어르신 난방비 지원" not in receipt and f"/needs/{need.id}" not in receipt  # never which need
    assert "도움이 마련되었습니다" in _text(resident.get(f"/refer/{referral.code}?lang=ko"))

    # another centre's staff cannot post from it, nor see it named on the need
    other = client.application.test_client()
    _english(other, other_centre)
    assert other.get(f"/staff/needs/new?referral={referral.id}").status_code == 404


def _many(open_count: int, closed_count: int, session) -> None:
    from tests.web.test_query_counts_many_rows import _referrals
    _referrals(open_count + closed_count, 0)
    session.commit()
    ids = session.scalars(select(Referral.id).order_by(Referral.id).limit(closed_count)).all()
    for n, referral_id in enumerate(ids):
        referral = session.get(Referral, referral_id)
        referral.status, referral.outcome = ReferralStatus.CLOSED, "duplicate"
        referral.closed_at = utcnow() - timedelta(minutes=n)
    session.commit()


def _codes(page: str) -> list[str]:
    return re.findall(r'<code class="reference">([^<]+)</code>', page)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_queue_is_paged_fifty_at_a_time_in_its_own_order(client, session, lang):
    _many(120, 60, session)
    f.login(client, f.user("staff", centre_code="district-welfare"))
    first = _text(client.get(f"/staff/referrals?lang={lang}"))
    second = _text(client.get(f"/staff/referrals?page=2&lang={lang}"))
    last = _text(client.get(f"/staff/referrals?page=3&lang={lang}"))
    pages = [_codes(first), _codes(second), _codes(last)]
    assert [len(p) for p in pages] == [50, 50, 20]
    assert len(set(pages[0] + pages[1] + pages[2])) == 120  # every open referral, once
    expected = [r.code for r in service.queue(f.user("staff", centre_code="district-welfare"), limit=500)]
    assert pages[0] + pages[1] + pages[2] == expected  # urgent first, then oldest, across the pages
    assert "(120)" in first
    assert f'rel="next" href="/staff/referrals?page=3&lang={lang}"' in second
    assert f'rel="prev" href="/staff/referrals?page=1&lang={lang}"' in second
    assert 'rel="next"' not in last
    assert ("3쪽 중 2쪽" if lang == "ko" else "Page 2 of 3") in second
    assert client.get(f"/staff/referrals?page=4&lang={lang}").status_code == 404


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_closed_queue_keeps_its_filter_through_the_pager(client, session, lang):
    _many(5, 60, session)
    f.login(client, f.user("staff", centre_code="district-welfare"))
    first = _text(client.get(f"/staff/referrals?closed=1&lang={lang}"))
    assert len(_codes(first)) == 50 and "(60)" in first
    assert f'rel="next" href="/staff/referrals?closed=1&lang={lang}&page=2"' in first
    second = _text(client.get(f"/staff/referrals?closed=1&lang={lang}&page=2"))
    assert len(_codes(second)) == 10 and not set(_codes(first)) & set(_codes(second))
    assert ("2쪽 중 2쪽" if lang == "ko" else "Page 2 of 2") in second
    assert client.get(f"/staff/referrals?closed=1&page=3&lang={lang}").status_code == 404
    assert client.get(f"/staff/referrals?page=2&lang={lang}").status_code == 404  # five open: one page
