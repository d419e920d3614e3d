"""Referrals (사각지대 제보) in the service layer, on SQLite and PostgreSQL: routing to the dong's centre,
what staff may read, the lifecycle, the rate limit and erasing the words after the retention period."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kindcity.domain.referrals import (ReferralInputError, ReferralRuleError, ReferralStatus,
                                       ReferralTransitionNotAllowed)
from kindcity.domain.time import utcnow
from kindcity.models import AuditEntry, Centre, Referral, ReferralNote
from kindcity.services import Actor, NotFound
from kindcity.services import referrals as service
from tests import factories as f

SITUATION = "화정1동 ○○아파트 3층에 사는 어르신이 며칠째 보이지 않고 난방이 끊긴 것 같습니다. 010-1234-5678 이웃."


def _send(address="203.0.113.5", dong="hwajeong1", urgency="urgent", situation=SITUATION, contact="이웃 김씨",
          consent=True) -> Referral:
    return service.submit(address, service.ReferralRequest(dong=dong, urgency=urgency, situation=situation,
                                                            contact=contact, consent=consent))


def test_a_referral_goes_to_the_centre_of_its_dong_and_only_its_staff_and_the_district_read_it(session):
    referral = _send()
    session.commit()
    centre = session.scalar(select(Centre).where(Centre.code == "centre-hwajeong1"))
    assert referral.centre_id == centre.id and referral.status == ReferralStatus.NEW
    assert referral.code.startswith("RF") and len(referral.code) == 10
    own, other = f.user("staff", centre_code="centre-hwajeong1"), f.user("staff", centre_code="centre-yang")
    district, donor = f.user("staff", centre_code="district-welfare"), f.user("donor")
    assert service.get_for_staff(own, referral.id).situation == SITUATION
    assert service.get_for_staff(district, referral.id).id == referral.id
    for outsider in (other, donor):
        with pytest.raises(NotFound):
            service.get_for_staff(outsider, referral.id)
        assert referral not in service.queue(outsider)
    assert service.queue(own) == [referral] and service.open_counts(own) == {"new": 1, "urgent": 1}
    assert service.open_counts(other) == {"new": 0, "urgent": 0}
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "referral.receive")).one()
    assert SITUATION not in str(entry.after) and "김씨" not in str(entry.after)  # the log never holds the words


def test_urgent_referrals_come_first_then_the_oldest(session):
    normal_old = _send(urgency="normal", address="a1")
    urgent_new = _send(urgency="urgent", address="a2")
    session.commit()
    staff = f.user("staff", centre_code="centre-hwajeong1")
    assert service.queue(staff) == [urgent_new, normal_old]


@pytest.mark.parametrize("changes, code", [
    ({"situation": "도와주세요"}, "referral_situation_too_short"),
    ({"situation": "가" * 2001}, "referral_situation_too_long"),
    ({"urgency": "tomorrow"}, "referral_urgency_invalid"),
    ({"contact": "x" * 101}, "referral_contact_too_long"),
    ({"consent": False}, "referral_consent_required"),
    ({"dong": "gangnam"}, "referral_dong_unknown"),
])
def test_what_cannot_be_taken_is_refused_by_name_and_nothing_is_written(session, changes, code):
    with pytest.raises(ReferralInputError) as refused:
        _send(**changes)
    assert refused.value.code == code
    assert session.scalar(select(func.count(Referral.id))) == 0


def test_a_few_referrals_per_hour_from_one_address(session):
    for _ in range(5):
        _send(address="198.51.100.9")
    with pytest.raises(service.ReferralError) as refused:
        _send(address="198.51.100.9")
    assert refused.value.code == "referral_rate_limited"
    _send(address="198.51.100.10")  # another address may still send


def test_the_lifecycle_needs_an_outcome_to_close_and_keeps_every_step(session):
    referral = _send()
    staff = f.user("staff", centre_code="centre-hwajeong1")
    colleague = f.user("staff", centre_code="centre-hwajeong1")
    session.commit()
    service.act(Actor(staff), referral.id, "take_up", note="오늘 방문 예정")
    assert (referral.status, referral.assignee_id) == (ReferralStatus.IN_REVIEW, staff.id)
    with pytest.raises(ReferralInputError) as refused:
        service.act(Actor(staff), referral.id, "close")
    assert refused.value.code == "referral_outcome_required"
    service.act(Actor(colleague), referral.id, "take_up")  # a colleague takes it over
    assert referral.assignee_id == colleague.id
    service.act(Actor(colleague), referral.id, "close", outcome="supported", note="긴급 난방비 연계")
    assert (referral.status, referral.outcome) == (ReferralStatus.CLOSED, "supported") and referral.closed_at
    with pytest.raises(ReferralTransitionNotAllowed):
        service.act(Actor(colleague), referral.id, "close", outcome="no_need")
    service.act(Actor(staff), referral.id, "reopen", note="다시 확인 필요")
    assert (referral.status, referral.outcome, referral.closed_at) == (ReferralStatus.IN_REVIEW, None, None)
    session.commit()
    assert [n.action for n in referral.notes] == ["take_up", "take_up", "close", "reopen"]
    other_centre = f.user("staff", centre_code="centre-yang")
    with pytest.raises(NotFound):
        service.act(Actor(other_centre), referral.id, "close", outcome="no_need")


def test_closed_referrals_lose_their_words_after_the_retention_period(session):
    kept, erased, still_open = _send(address="a1"), _send(address="a2"), _send(address="a3")
    staff = f.user("staff", centre_code="centre-hwajeong1")
    session.commit()
    for referral in (kept, erased):
        service.act(Actor(staff), referral.id, "close", outcome="no_need", note="방문 결과 지원 불필요")
    erased.closed_at = utcnow() - timedelta(days=181)
    kept.closed_at = utcnow() - timedelta(days=179)
    session.commit()
    assert service.purge_closed(180) == [erased.id]
    assert service.purge_closed(180) == []  # idempotent
    session.commit()
    gone = session.get(Referral, erased.id)
    assert (gone.situation, gone.contact, gone.address) == (None, None, "") and gone.purged_at is not None
    assert (gone.dong.code, gone.urgency, gone.outcome) == ("hwajeong1", "urgent", "no_need")  # still counts
    assert session.scalars(select(ReferralNote.text).where(ReferralNote.referral_id == erased.id)).all() == [None]
    assert session.get(Referral, kept.id).situation == SITUATION
    assert session.get(Referral, still_open.id).situation == SITUATION
    with pytest.raises(ReferralRuleError) as refused:
        service.add_note(Actor(staff), erased.id, "추가 메모")
    assert refused.value.code == "referral_purged"
    with pytest.raises(ReferralRuleError) as refused:  # nor reopened: a later note would never be erased
        service.act(Actor(staff), erased.id, "reopen", note="다시 봅니다")
    assert refused.value.code == "referral_purged"


def test_the_purge_command_erases_and_says_how_many(app, session):
    referral = _send()
    staff = f.user("staff", centre_code="centre-hwajeong1")
    session.commit()
    service.act(Actor(staff), referral.id, "close", outcome="duplicate")
    referral.closed_at = utcnow() - timedelta(days=400)
    session.commit()
    result = app.test_cli_runner().invoke(args=["purge-referrals"])
    assert result.exit_code == 0 and f"1 referral(s) closed 180 or more days ago erased: {referral.id}" in result.output
    session.expire_all()
    assert session.get(Referral, referral.id).situation is None


def test_the_senders_address_is_kept_only_as_long_as_the_limit_needs_it(session):
    old, fresh = _send(address="198.51.100.1"), _send(address="198.51.100.2")
    old.created_at = utcnow() - timedelta(days=2)
    session.commit()
    service.purge_closed(180)
    session.commit()
    session.expire_all()
    assert (session.get(Referral, old.id).address, session.get(Referral, fresh.id).address) == ("", "198.51.100.2")
    assert session.get(Referral, old.id).situation == SITUATION  # open: its words stay
    addresses = session.scalars(select(AuditEntry.address).where(AuditEntry.action == "referral.receive")).all()
    assert addresses == [None, None]  # the audit log, which staff read, never held them
