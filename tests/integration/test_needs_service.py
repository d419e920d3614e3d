"""The needs service against a real database (SQLite or PostgreSQL), each test rolled back."""
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kindcity.domain.needs import (DeadlinePassed, EditorApproval, NeedStatus, NotEditable, ReasonRequired,
                                   SelfApproval, SubmitterApproval, TransitionNotAllowed)
from kindcity.domain.time import seoul_today
from kindcity.extensions import db
from kindcity.models import AuditEntry, BeneficiaryGroup, Category, Dong, Need, NeedContribution
from kindcity.services import Actor, Forbidden, NotFound
from kindcity.services import needs as svc
from kindcity.services.receipts import default_organisation
from tests import factories as f


def _input(**changes):
    base = dict(title="암 환자 서울 병원 이동", summary="왕복 교통비", description="서울 병원 왕복 40회",
                category_id=f.ref(Category, "medical-transport").id, dong_id=f.ref(Dong, "hwajeong1").id,
                group_id=f.ref(BeneficiaryGroup, "cancer-patients").id, beneficiary_count=12,
                deadline=seoul_today() + timedelta(days=30), receiving_org_id=default_organisation().id,
                unit_name="서울 왕복", unit_cost=150_000, units=40)
    base.update(changes)
    return svc.NeedInput(**base)


def test_post_submit_approve_publishes_with_audit(session):
    author, colleague = f.user("staff"), f.user("staff", centre_code="district-welfare")
    today = seoul_today()
    need = svc.create_need(Actor(author, "10.0.0.1"), _input(), today)
    assert need.status == NeedStatus.DRAFT and need.target == 6_000_000
    svc.submit(Actor(author, "10.0.0.1"), need, today)
    svc.approve(Actor(colleague, "10.0.0.2"), need, today)
    assert need.status == NeedStatus.OPEN and need.approved_by_id == colleague.id
    entries = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == need.id)
                              .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["need.create", "need.submit", "need.approve"]
    assert entries[2].before["status"] == "awaiting_approval" and entries[2].after["status"] == "open"
    assert entries[2].actor_id == colleague.id and entries[2].address == "10.0.0.2"


def test_author_cannot_approve_own_need(session):
    author = f.user("staff")
    need = svc.create_need(Actor(author), _input(), seoul_today())
    svc.submit(Actor(author), need, seoul_today())
    with pytest.raises(SelfApproval):
        svc.approve(Actor(author), need, seoul_today())
    assert need.status == NeedStatus.AWAITING_APPROVAL


def test_a_colleague_who_rewrote_and_submitted_cannot_approve_alone(session):
    """The walk-around of the old rule: rewrite someone else's draft, submit it, approve it."""
    author, rewriter, checker = f.user("staff"), f.user("staff"), f.user("staff")
    today = seoul_today()
    need = svc.create_need(Actor(author), _input(), today)
    svc.update_need(Actor(rewriter), need, _input(title="다시 쓴 제목"), today)
    assert need.version == 2
    svc.submit(Actor(rewriter), need, today)
    assert need.submitted_by_id == rewriter.id
    with pytest.raises(EditorApproval):
        svc.approve(Actor(rewriter), need, today)
    with pytest.raises(SelfApproval):
        svc.approve(Actor(author), need, today)
    assert need.status == NeedStatus.AWAITING_APPROVAL and need.approved_by_id is None
    svc.approve(Actor(checker), need, today)
    assert need.status == NeedStatus.OPEN and need.approved_by_id == checker.id
    rows = session.execute(select(NeedContribution.user_id, NeedContribution.version, NeedContribution.kind)
                           .where(NeedContribution.need_id == need.id).order_by(NeedContribution.id)).all()
    assert [tuple(row) for row in rows] == [(author.id, 1, "create"), (rewriter.id, 2, "edit"),
                                            (rewriter.id, 2, "submit")]


def test_submitter_of_someone_elses_need_cannot_approve_it(session):
    author, submitter, checker = f.user("staff"), f.user("staff"), f.user("staff")
    need = svc.create_need(Actor(author), _input(), seoul_today())
    svc.submit(Actor(submitter), need, seoul_today())
    with pytest.raises(SubmitterApproval):
        svc.approve(Actor(submitter), need, seoul_today())
    svc.approve(Actor(checker), need, seoul_today())
    assert need.status == NeedStatus.OPEN


def test_awaiting_approval_cannot_be_edited_until_sent_back(session):
    """Every path: edit, submit, edit refused, send back (clears the request), edit again, submit, approve."""
    author, colleague, checker = f.user("staff"), f.user("staff"), f.user("staff")
    today = seoul_today()
    need = svc.create_need(Actor(author), _input(), today)
    svc.update_need(Actor(author), need, _input(summary="고친 요약"), today)
    svc.submit(Actor(author), need, today)
    with pytest.raises(NotEditable):
        svc.update_need(Actor(colleague), need, _input(title="몰래 바꾼 제목"), today)
    assert need.title == "암 환자 서울 병원 이동" and need.version == 2
    svc.send_back(Actor(checker), need)
    assert need.status == NeedStatus.DRAFT and need.submitted_by_id is None and need.submitted_at is None
    svc.update_need(Actor(colleague), need, _input(title="동료가 고친 제목"), today)
    svc.submit(Actor(author), need, today)
    for person, error in ((colleague, EditorApproval), (author, SelfApproval)):
        with pytest.raises(error):
            svc.approve(Actor(person), need, today)
    svc.approve(Actor(checker), need, today)  # sending back wrote nothing: the checker still checks
    assert need.status == NeedStatus.OPEN and need.version == 3 and need.title == "동료가 고친 제목"
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "need",
                                                              AuditEntry.entity_id == need.id)
                              .order_by(AuditEntry.id)).all()
    assert actions == ["need.create", "need.update", "need.submit", "need.return", "need.update", "need.submit",
                       "need.approve"]


def test_personal_data_blocks_submission_and_names_field(session):
    author = f.user("staff")
    need = svc.create_need(Actor(author), _input(description="연락처 010-1234-5678 로 문의"), seoul_today())
    with pytest.raises(svc.PersonalDataFound) as raised:
        svc.submit(Actor(author), need, seoul_today())
    (finding,) = raised.value.findings
    assert finding.field == "description" and finding.finding.kind == "phone"
    assert "1234-5678" not in finding.finding.masked
    assert need.status == NeedStatus.DRAFT


@pytest.mark.parametrize("changes, code", [
    ({"deadline": seoul_today() - timedelta(days=1)}, "deadline_in_past"),
    ({"units": None}, "unit_pricing_incomplete"),
    ({"target": 5_000_000}, "target_not_units_product"),
    ({"unit_name": None, "unit_cost": None, "units": None, "target": None}, "target_required"),
    ({"unit_name": None, "unit_cost": None, "units": None, "target": 500}, "target_too_small"),
    ({"beneficiary_count": 0}, "beneficiary_count_invalid"),
    ({"title": "  "}, "title_summary_required"),
    ({"dong_id": 999_999}, "reference_unknown"),
])
def test_bad_input_is_refused_and_nothing_written(session, changes, code):
    author = f.user("staff")
    before = session.scalar(select(db.func.count(Need.id)))
    with pytest.raises(svc.NeedInputError) as raised:
        svc.create_need(Actor(author), _input(**changes), seoul_today())
    assert raised.value.code == code
    session.rollback()
    assert session.scalar(select(db.func.count(Need.id))) == before


def test_donor_cannot_post(session):
    with pytest.raises(Forbidden):
        svc.create_need(Actor(f.user("donor")), _input(), seoul_today())


def test_cancel_requires_reason_and_records_it(session):
    need = f.need()
    staff = f.user("staff")
    with pytest.raises(ReasonRequired):
        svc.cancel(Actor(staff), need, "")
    svc.cancel(Actor(staff), need, "수혜 가구가 다른 지원을 받게 됨")
    assert need.status == NeedStatus.CANCELLED and need.cancel_reason.startswith("수혜")
    with pytest.raises(TransitionNotAllowed):
        svc.cancel(Actor(staff), need, "again")


def test_expire_overdue_is_idempotent_and_korea_time(session):
    today = seoul_today()
    past = f.need(deadline=today - timedelta(days=1))
    due_today = f.need(deadline=today)
    assert svc.expire_overdue(today) == [past.id]
    assert svc.expire_overdue(today) == []
    assert past.status == NeedStatus.EXPIRED and due_today.status == NeedStatus.OPEN


def test_submit_after_deadline_refused(session):
    author = f.user("staff")
    need = f.need(author=author, status=NeedStatus.DRAFT, deadline=seoul_today() - timedelta(days=2))
    with pytest.raises(DeadlinePassed):
        svc.submit(Actor(author), need, seoul_today())


def test_dong_staff_see_only_their_centre(session):
    mine = f.need(author=f.user("staff", centre_code="centre-hwajeong1"))
    theirs = f.need(author=f.user("staff", centre_code="centre-pungam"))
    dong_staff = f.user("staff", centre_code="centre-hwajeong1")
    district = f.user("staff", centre_code="district-welfare")
    assert svc.get_for_staff(dong_staff, mine.id) is mine
    with pytest.raises(NotFound):
        svc.get_for_staff(dong_staff, theirs.id)
    assert svc.get_for_staff(district, theirs.id) is theirs
    visible = set(session.scalars(svc.staff_scope(dong_staff, select(Need.id))).all())
    assert mine.id in visible and theirs.id not in visible


def test_database_refuses_money_past_target(session):
    need = f.need(target=100_000)
    need.reserved = 60_000
    need.confirmed = 50_000
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_search_korean_keywords_and_filters(session):
    a = f.need(title="홀몸 어르신 난방비 지원", dong="yang", category="housing", group="elderly-alone")
    b = f.need(title="학교 밖 청소년 수학여행", dong="nongseong1", category="education", group="out-of-school-youth")
    today = seoul_today()
    found, total = svc.search_public_needs(svc.NeedFilters(q="난방비", per_page=50), today)
    assert a in found and b not in found
    found, _ = svc.search_public_needs(svc.NeedFilters(dong="nongseong1", per_page=50), today)
    assert b in found and a not in found
    found, _ = svc.search_public_needs(svc.NeedFilters(q="100%_", per_page=50), today)
    assert found == []
