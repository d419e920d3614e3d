"""The text line in the service layer, on SQLite and PostgreSQL: an incoming text becomes a case with one
automatic answer a day; staff reply, pass it to a centre, turn it into a referral or say where to go;
urgent texts alert the duty staff; a flood from one number is throttled without losing its first texts;
the number and the words stay out of the audit log and are erased after the retention period."""
from __future__ import annotations

import email
import email.policy
import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kindcity.domain.texts import CaseStatus, CaseStepNotAllowed, TextRuleError
from kindcity.domain.time import utcnow
from kindcity.jobs import run_committed
from kindcity.models import AuditEntry, Referral, SentText, TextCase, TextMessage, TextSender
from kindcity.services import Actor, NotFound
from kindcity.services import texts as service
from kindcity.sms import IncomingText
from tests import factories as f

PHONE = "01098765432"
_ids = itertools.count(1)


def incoming(body: str, sender: str = PHONE, at=None) -> IncomingText:
    return IncomingText(provider_id=f"in-{next(_ids)}-{id(body)}", sender=sender, body=body, received_at=at or utcnow())


def receive(body: str, sender: str = PHONE, *, max_per_hour: int = 20, now=None) -> service.Received:
    result = service.receive(incoming(body, sender), max_per_hour=max_per_hour, now=now)
    return result


def texts_sent(app) -> list[str]:
    folder = Path(app.config["KINDCITY_OUTBOX"])
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.sms.txt"))] if folder.exists() else []


def mail_text(path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return f"To: {message['To']}\nSubject: {message['Subject']}\n\n{message.get_content()}"


def commit_and_run(session) -> None:
    session.commit()
    run_committed()


def office_staff():
    return f.user("staff", centre_code="district-welfare")


def test_a_new_text_makes_a_case_answered_once_automatically_that_day(app, session):
    before = len(texts_sent(app))
    first = receive("안녕하세요 어머니 병원 가는 길 도움을 받을 수 있을까요")
    commit_and_run(session)
    second = receive("답장 기다릴게요")
    commit_and_run(session)
    assert first.case.id == second.case.id and first.case.status == CaseStatus.NEW
    sent = texts_sent(app)[before:]
    assert len(sent) == 1, "one automatic answer per sender per day"
    assert f"To: {PHONE}" in sent[0] and "119" in sent[0] and "112" in sent[0]
    case = session.get(TextCase, first.case.id)
    assert [(m.direction, m.automatic) for m in case.messages] == [("in", False), ("out", True), ("in", False)]
    assert case.first_answer_at is None, "the automatic answer is not a person's first answer"


def test_the_automatic_answer_comes_again_the_next_day(app, session):
    receive("첫째 날 문의입니다")
    commit_and_run(session)
    before = len(texts_sent(app))
    receive("다음 날 다시 문의합니다", now=utcnow() + timedelta(days=1))
    commit_and_run(session)
    assert len(texts_sent(app)) == before + 1


def test_a_text_delivered_twice_is_stored_once(session):
    text = incoming("같은 문자가 두 번 옵니다")
    assert service.receive(text, max_per_hour=20).duplicate is False
    assert service.receive(text, max_per_hour=20).duplicate is True
    assert session.scalar(select(func.count(TextMessage.id)).where(TextMessage.provider_id == text.provider_id)) == 1


def test_a_number_that_sends_100_texts_an_hour_is_throttled_without_losing_the_first(app, session):
    now = utcnow()
    results = [receive(f"문자 {n}번째 입니다 긴급", sender="01055550000", max_per_hour=20,
                       now=now + timedelta(seconds=n)) for n in range(100)]
    commit_and_run(session)
    kept = [r for r in results if r.kept]
    assert len(kept) == 20 and kept == results[:20]
    case = session.get(TextCase, results[0].case.id)
    words = [m.body for m in case.messages if m.direction == "in"]
    assert words[:20] == [f"문자 {n}번째 입니다 긴급" for n in range(20)], "the first texts are kept whole"
    assert words[20:] == [None] * 80 and case.counted_only == 80
    assert len([m for m in case.messages if m.direction == "out"]) == 1, "one automatic answer, not 100"
    # An hour later the number is heard in full again.
    later = receive("한 시간 뒤 문자", sender="01055550000", max_per_hour=20, now=now + timedelta(hours=1, minutes=2))
    assert later.kept


def test_an_urgent_text_flags_the_case_and_mails_the_duty_staff_a_link_only(app, session):
    duty = office_staff()
    centre_staff = f.user("staff", centre_code="centre-yang")
    mail_before = f.outbox(app)
    result = receive("할머니가 쓰러져서 의식이 없어요 도와주세요")
    commit_and_run(session)
    assert session.get(TextCase, result.case.id).urgent
    new_mail = [mail_text(p) for p in f.outbox(app) - mail_before]
    recipients = [m for m in new_mail if duty.email in m]
    assert len(recipients) == 1 and not any(centre_staff.email in m for m in new_mail)
    assert all("쓰러져" not in m and PHONE not in m for m in new_mail)
    assert f"/staff/texts/{result.case.id}" in recipients[0]


def test_staff_reply_by_text_to_the_senders_number(app, session):
    staff = office_staff()
    case = receive("쌀 지원 받을 수 있나요").case
    commit_and_run(session)
    before = len(texts_sent(app))
    service.reply(Actor(staff), case.id, "네, 내일 동 행정복지센터에서 연락드리겠습니다.")
    commit_and_run(session)
    sent = texts_sent(app)[before:]
    assert len(sent) == 1 and f"To: {PHONE}" in sent[0] and "연락드리겠습니다" in sent[0]
    case = session.get(TextCase, case.id)
    assert case.status == CaseStatus.OPEN and case.first_answer_at is not None and case.assignee_id == staff.id
    # The job ran once; run again (a retry) it sends nothing more.
    message = [m for m in case.messages if m.author_id == staff.id][0]
    from kindcity.sms.jobs import deliver
    assert session.get(SentText, f"text:{message.id}") is not None
    deliver(message.id)
    assert len(texts_sent(app)) == before + 1


def test_a_rolled_back_reply_sends_nothing(app, session):
    staff = office_staff()
    case = receive("문의드립니다 반찬 지원").case
    commit_and_run(session)
    before = len(texts_sent(app))
    service.reply(Actor(staff), case.id, "답장")
    session.rollback()
    run_committed()
    assert len(texts_sent(app)) == before


def test_centre_staff_read_only_the_cases_passed_to_their_centre(session):
    office, own, other = office_staff(), f.user("staff", centre_code="centre-yang"), f.user("staff", centre_code="centre-yudeok")
    case = receive("양동에 사는 이웃이 걱정됩니다").case
    session.commit()
    with pytest.raises(NotFound):
        service.get_for_staff(own, case.id)
    service.assign(Actor(office), case.id, "yang")
    session.commit()
    assert service.get_for_staff(own, case.id).centre.code == "centre-yang"
    assert case in service.inbox(own) and case not in service.inbox(other)
    with pytest.raises(NotFound):
        service.get_for_staff(other, case.id)
    with pytest.raises(NotFound):
        service.reply(Actor(f.user("donor")), case.id, "안녕하세요")


def test_a_case_turned_into_a_referral_keeps_the_link_and_closes(app, session):
    office = office_staff()
    case = receive("옆집 할아버지가 며칠째 안 보이세요").case
    receive("화정1동 ○○아파트입니다")
    session.commit()
    referral = service.refer(Actor(office), case.id, "hwajeong1", urgent=True)
    commit_and_run(session)
    case = session.get(TextCase, case.id)
    assert case.referral_id == referral.id and case.status == CaseStatus.CLOSED and case.outcome == "referral"
    referral = session.get(Referral, referral.id)
    assert "며칠째 안 보이세요" in referral.situation and "○○아파트" in referral.situation
    assert referral.contact == PHONE and referral.centre.code == "centre-hwajeong1" and referral.urgency == "urgent"
    with pytest.raises(CaseStepNotAllowed):
        service.reply(Actor(office), case.id, "닫힌 사건에 답장")


def test_not_for_this_site_tells_the_resident_where_to_go(app, session):
    office = office_staff()
    case = receive("우리 동네 도로에 큰 구멍이 있어요").case
    commit_and_run(session)
    before = len(texts_sent(app))
    with pytest.raises(TextRuleError):
        service.not_for_site(Actor(office), case.id, "")
    service.not_for_site(Actor(office), case.id, "서구청 건설과 062-360-7000 (도로 보수)")
    commit_and_run(session)
    sent = texts_sent(app)[before:]
    assert len(sent) == 1 and "062-360-7000" in sent[0]
    case = session.get(TextCase, case.id)
    assert case.outcome == "not_for_site" and case.where_to_go.startswith("서구청")


def test_a_text_after_a_case_is_closed_opens_a_new_case(session):
    office = office_staff()
    first = receive("첫 문의").case
    session.commit()
    service.close(Actor(office), first.id)
    session.commit()
    second = receive("새 문의").case
    assert second.id != first.id and second.status == CaseStatus.NEW


def test_the_audit_log_never_holds_the_number_or_the_words(session):
    office = office_staff()
    case = receive("긴급 도와주세요 보일러가 고장났어요").case
    session.commit()
    service.reply(Actor(office), case.id, "곧 방문하겠습니다")
    service.assign(Actor(office), case.id, "yang")
    service.refer(Actor(office), case.id, "yang", urgent=False)
    session.commit()
    entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "text_case")).all()
    assert {e.action for e in entries} >= {"text.receive", "text.urgent", "text.reply", "text.assign", "text.refer"}
    for entry in entries:
        words = f"{entry.before} {entry.after} {entry.address}"
        assert PHONE not in words and "보일러" not in words and "방문" not in words


def test_counts_by_month_and_day_identify_nobody(session):
    office = office_staff()
    case = receive("월별 집계용 문자").case
    receive("두 번째 사람 문자", sender="01011112222")
    session.commit()
    service.reply(Actor(office), case.id, "답장입니다")
    service.close(Actor(office), case.id)
    session.commit()
    since = utcnow() - timedelta(days=1)
    months = service.monthly_counts(office, since)
    assert len(months) == 1
    month = months[0]
    assert month.texts_in == 2 and month.cases == 2 and month.answered_cases == 1
    assert month.texts_out == 3  # two automatic answers and one reply
    assert month.outcomes["answered"] == 1 and month.median_first_answer_minutes == 0
    assert sum(count for _, count in service.daily_counts(office, since)) == 2
    assert service.monthly_counts(f.user("staff", centre_code="centre-yudeok"), since) == []


def test_closed_cases_are_erased_after_the_retention_period(session):
    office = office_staff()
    old = receive("오래된 문의입니다", sender="01033334444").case
    recent = receive("최근 문의입니다", sender="01055556666").case
    session.commit()
    for item in (old, recent):
        service.reply(Actor(office), item.id, "답장드립니다")
        service.close(Actor(office), item.id)
    session.commit()
    session.get(TextCase, old.id).closed_at = utcnow() - timedelta(days=181)
    session.commit()
    assert service.purge_closed(180) == [old.id]
    session.commit()
    old, recent = session.get(TextCase, old.id), session.get(TextCase, recent.id)
    assert old.phone == "" and old.purged_at is not None and all(m.body is None for m in old.messages)
    assert recent.phone == "01055556666" and all(m.body for m in recent.messages)
    assert session.get(TextSender, "01033334444") is None and session.get(TextSender, "01055556666") is not None
    assert service.purge_closed(180) == []   # idempotent
    with pytest.raises(Exception) as error:
        service.reopen(Actor(office), old.id)
    assert getattr(error.value, "code", "") == "text_case_purged"


def test_the_scheduled_upkeep_erases_old_cases_like_the_command(app, session):
    from kindcity.jobs import load_jobs
    from kindcity.jobs.upkeep import SCHEDULE

    assert "upkeep.purge_texts" in SCHEDULE and "upkeep.purge_texts" in load_jobs()
    office = office_staff()
    item = receive("예약 작업으로 지울 문의", sender="01077770000").case
    session.commit()
    service.close(Actor(office), item.id)
    session.commit()
    session.get(TextCase, item.id).closed_at = utcnow() - timedelta(days=200)
    session.commit()
    assert load_jobs()["upkeep.purge_texts"].func() == [item.id]
    assert session.get(TextCase, item.id).phone == ""
