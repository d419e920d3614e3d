"""Delivery and impact on a real database: spending, leftovers, the report's four eyes, the figures.

Every flow that moves money ends with reconcile() finding nothing.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kindcity.domain.impact import ImpactRuleError, ReportStatus
from kindcity.domain.needs import NeedStatus, TransitionNotAllowed
from kindcity.domain.pledges import PledgeStatus
from kindcity.domain.time import seoul_today, utcnow
from kindcity.extensions import db
from kindcity.models import AuditEntry, LedgerLine, LeftoverReturn, Organisation, Refund
from kindcity.services import Actor, Forbidden, NotFound
from kindcity.services import impact as svc
from kindcity.services import pledges as pledge_service
from kindcity.services.needs import PersonalDataFound
from kindcity.services.reconcile import reconcile
from tests import factories as f

HOLD = timedelta(days=7)
TODAY = seoul_today()


def give(need, amount, *, on_cancel="refund", display="anonymous", donor=None):
    donor = donor or f.user("donor")
    pledge = pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
        need_id=need.id, amount=amount, units=None, display=display, message="", on_cancel=on_cancel), hold_for=HOLD)
    pledge_service.record_payment(Actor(None), pledge.id, amount, source="manual",
                                  external_id=f"t:{pledge.id}", received_at=utcnow())
    return pledge


@pytest.fixture
def funded(session):
    """The article's need: 40 Seoul round trips at 150,000 won, funded by three donors."""
    author = f.user("staff")
    need = f.need(author=author, unit_cost=150_000, units=40)
    church = give(need, 3_000_000, on_cancel="pool")
    company = give(need, 2_100_000, on_cancel="similar")
    resident = give(need, 900_000, on_cancel="refund")
    db.session.flush()
    db.session.refresh(need)
    assert need.status == NeedStatus.FUNDED and need.confirmed == 6_000_000
    return {"need": need, "author": author, "colleague": f.user("staff", centre_code="district-welfare"),
            "pledges": (church, company, resident)}


def deliver(funded, *, spend=5_700_000):
    need, author = funded["need"], funded["author"]
    svc.start_delivery(Actor(author), need, report_due=TODAY + timedelta(days=30), today=TODAY)
    svc.record_disbursement(Actor(author), need, amount=spend, spent_on=TODAY, description="KTX 왕복 38회", today=TODAY)
    return need


def write_report(funded, story="38번의 서울 병원 왕복을 지원했습니다."):
    return svc.save_report(Actor(funded["author"]), funded["need"], svc.ReportInput(
        units_delivered=38, beneficiaries_reached=11, delivered_from=TODAY - timedelta(days=20),
        delivered_to=TODAY, story=story), TODAY)


def test_start_delivery_opens_a_draft_report_and_moves_the_need(funded):
    need, author = funded["need"], funded["author"]
    report = svc.start_delivery(Actor(author), need, report_due=TODAY + timedelta(days=30), today=TODAY)
    assert need.status == NeedStatus.DELIVERING
    assert (report.status, report.units_planned, report.unit_name) == (ReportStatus.DRAFT, 40, "회")
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == need.id)).all()
    assert "need.start_delivery" in actions and "impact.start" in actions
    with pytest.raises(TransitionNotAllowed):  # a second start is refused by the need lifecycle
        svc.start_delivery(Actor(author), need, report_due=TODAY + timedelta(days=30), today=TODAY)


def test_an_open_need_cannot_start_delivery_and_donors_cannot_act(session):
    need = f.need()
    with pytest.raises(TransitionNotAllowed):
        svc.start_delivery(Actor(f.user("staff")), need, report_due=TODAY, today=TODAY)
    with pytest.raises(Forbidden):
        svc.start_delivery(Actor(f.user("donor")), need, report_due=TODAY, today=TODAY)
    other_centre = f.user("staff", centre_code="centre-pungam")
    with pytest.raises(NotFound):
        svc.start_delivery(Actor(other_centre), need, report_due=TODAY, today=TODAY)


def test_report_due_must_not_be_in_the_past(funded):
    with pytest.raises(svc.ImpactError) as raised:
        svc.start_delivery(Actor(funded["author"]), funded["need"], report_due=TODAY - timedelta(days=1), today=TODAY)
    assert raised.value.code == "report_due_in_past"


def test_disbursement_posts_spent_and_keeps_confirmed(funded):
    need = deliver(funded)
    money = svc.need_money(need.id)
    assert (money.money_in, money.spent, money.held) == (6_000_000, 5_700_000, 300_000)
    assert need.confirmed == 6_000_000  # confirmed = disbursed + held
    spent_lines = db.session.scalars(select(LedgerLine.amount).where(LedgerLine.account == f"spent:{need.id}")).all()
    assert spent_lines == [5_700_000]
    assert reconcile() == []


def test_disbursement_cannot_spend_more_than_is_held(funded):
    need = deliver(funded)
    with pytest.raises(ImpactRuleError) as raised:
        svc.record_disbursement(Actor(funded["author"]), need, amount=300_001, spent_on=TODAY, description="택시",
                                today=TODAY)
    assert raised.value.code == "disbursement_exceeds_held" and raised.value.details["available"] == 300_000


def test_disbursement_description_is_checked_for_personal_data(funded):
    need = deliver(funded)
    with pytest.raises(PersonalDataFound) as raised:
        svc.record_disbursement(Actor(funded["author"]), need, amount=10_000, spent_on=TODAY,
                                description="김OO 님 택시비 010-1234-5678", today=TODAY)
    assert raised.value.findings[0].finding.kind == "phone"


def test_leftovers_split_in_proportion_and_follow_each_donors_choice(funded):
    need = deliver(funded)
    church, company, resident = funded["pledges"]
    returned = svc.return_leftovers(Actor(funded["author"]), need)
    by_pledge = {r.pledge_id: (r.amount, r.destination) for r in returned}
    # 300,000 split 3,000,000 : 2,100,000 : 900,000 = 50% : 35% : 15%
    assert by_pledge == {church.id: (150_000, "pool"), company.id: (105_000, "similar"),
                         resident.id: (45_000, "refund")}
    assert need.confirmed == 5_700_000 and svc.need_money(need.id).held == 0
    refund = db.session.scalars(select(Refund).where(Refund.pledge_id == resident.id)).one()
    assert (refund.amount, refund.status, refund.reason) == (45_000, "due", "leftover")
    pool = db.session.scalar(select(db.func.sum(LedgerLine.amount)).where(LedgerLine.account == "pool"))
    assert pool == -150_000
    assert pledge_service.unplaced(company.id) == 105_000  # waits in the staff queue for a similar need
    assert reconcile() == []


def test_leftover_split_adds_up_exactly_with_awkward_proportions(session):
    author = f.user("staff")
    need = f.need(author=author, target=100_000)
    pledges = [give(need, amount) for amount in (33_333, 33_333, 33_334)]
    db.session.flush()
    db.session.refresh(need)
    svc.start_delivery(Actor(author), need, report_due=TODAY, today=TODAY)
    svc.record_disbursement(Actor(author), need, amount=99_990, spent_on=TODAY, description="물품", today=TODAY)
    returned = svc.return_leftovers(Actor(author), need)
    assert sum(r.amount for r in returned) == 10
    assert {r.pledge_id: r.amount for r in returned} == {pledges[0].id: 3, pledges[1].id: 3, pledges[2].id: 4}
    assert reconcile() == []


def test_nothing_to_return_when_everything_is_spent(funded):
    need = deliver(funded, spend=6_000_000)
    with pytest.raises(svc.ImpactError) as raised:
        svc.return_leftovers(Actor(funded["author"]), need)
    assert raised.value.code == "no_leftover"
    assert reconcile() == []


def test_submit_refuses_while_money_is_held_and_while_incomplete(funded):
    need = deliver(funded)
    with pytest.raises(ImpactRuleError) as incomplete:
        svc.submit_report(Actor(funded["author"]), need, TODAY)
    assert incomplete.value.code == "report_incomplete"
    assert set(incomplete.value.details["missing"]) == {"units_delivered", "beneficiaries_reached", "dates", "story"}
    write_report(funded)
    with pytest.raises(ImpactRuleError) as held:
        svc.submit_report(Actor(funded["author"]), need, TODAY)
    assert held.value.code == "money_not_settled" and held.value.details["held"] == 300_000


def test_story_with_personal_data_cannot_be_submitted(funded):
    need = deliver(funded)
    svc.return_leftovers(Actor(funded["author"]), need)
    write_report(funded, story="환자분 연락처 010-2345-6789 로 안내했습니다.")
    with pytest.raises(PersonalDataFound) as raised:
        svc.submit_report(Actor(funded["author"]), need, TODAY)
    assert raised.value.findings[0].field == "story"


def test_the_whole_flow_publishes_the_report_and_completes_the_need(funded):
    need, author, colleague = funded["need"], funded["author"], funded["colleague"]
    deliver(funded)
    svc.return_leftovers(Actor(author), need)
    write_report(funded)
    report = svc.submit_report(Actor(author), need, TODAY)
    assert report.status == ReportStatus.AWAITING_APPROVAL and report.submitted_by_id == author.id
    with pytest.raises(svc.ImpactError) as locked:  # no spending once submitted
        svc.record_disbursement(Actor(author), need, amount=1, spent_on=TODAY, description="x", today=TODAY)
    assert locked.value.code in ("report_locked", "need_not_delivering")
    with pytest.raises(ImpactRuleError) as self_approval:
        svc.approve_report(Actor(author), need, TODAY)
    assert self_approval.value.code == "report_self_approval"
    assert need.status == NeedStatus.DELIVERING
    svc.approve_report(Actor(colleague), need, TODAY)
    assert (report.status, report.approved_by_id) == (ReportStatus.PUBLISHED, colleague.id)
    assert report.published_at is not None and need.status == NeedStatus.COMPLETED
    assert reconcile() == []


def test_returned_report_can_be_edited_again(funded):
    need, author = funded["need"], funded["author"]
    deliver(funded)
    svc.return_leftovers(Actor(author), need)
    write_report(funded)
    svc.submit_report(Actor(author), need, TODAY)
    with pytest.raises(svc.ImpactError):
        write_report(funded, story="고친 이야기")
    svc.return_report(Actor(funded["colleague"]), need)
    assert write_report(funded, story="고친 이야기").story == "고친 이야기"


def test_staff_overview_lists_overdue_and_reports_to_approve(funded):
    need, author, colleague = funded["need"], funded["author"], funded["colleague"]
    report = svc.start_delivery(Actor(author), need, report_due=TODAY, today=TODAY)
    later = TODAY + timedelta(days=1)
    assert svc.staff_reports(author, TODAY)["overdue"] == []
    assert [r.id for r in svc.staff_reports(author, later)["overdue"]] == [report.id]
    svc.record_disbursement(Actor(author), need, amount=6_000_000, spent_on=TODAY, description="KTX", today=TODAY)
    write_report(funded)
    svc.submit_report(Actor(author), need, TODAY)
    assert svc.staff_reports(author, TODAY)["to_approve"] == []  # not your own
    assert [r.id for r in svc.staff_reports(colleague, TODAY)["to_approve"]] == [report.id]
    svc.approve_report(Actor(colleague), need, TODAY)
    assert svc.staff_reports(author, later)["overdue"] == []  # published is never late


def test_need_impact_public_ledger_and_donor_impact(funded):
    need, author, colleague = funded["need"], funded["author"], funded["colleague"]
    church, company, resident = funded["pledges"]
    org = Organisation(name="서구 사랑나눔교회", kind="church", verified_at=utcnow())
    church.donor.organisation = org
    church.display = "organisation"
    deliver(funded)
    svc.return_leftovers(Actor(author), need)
    write_report(funded)
    svc.submit_report(Actor(author), need, TODAY)
    impact = svc.need_impact(need)
    assert impact.report is None  # not public before approval
    svc.approve_report(Actor(colleague), need, TODAY)
    impact = svc.need_impact(need)
    assert impact.report is not None and impact.delivered_percent == 95
    assert [(c.name, c.amount) for c in impact.shown] == [("서구 사랑나눔교회", 2_850_000)]
    assert (impact.anonymous_count, impact.anonymous_amount) == (2, 1_995_000 + 855_000)
    assert impact.leftovers == {"pool": 150_000, "similar": 105_000, "refund": 45_000}

    rows = svc.public_ledger(need)
    money_in = [r for r in rows if r.entry == "in"]
    assert sum(r.amount for r in money_in) == 6_000_000
    assert {r.donor for r in money_in} == {"서구 사랑나눔교회", "anonymous"}
    anonymous = [r for r in money_in if r.donor == "anonymous"]
    assert len(anonymous) == 1 and anonymous[0].gifts == 2 and len(anonymous[0].day) == 7  # added up per month
    assert [(r.amount, r.note) for r in rows if r.entry == "spent"] == [(5_700_000, "KTX 왕복 38회")]
    assert sum(r.amount for r in rows if r.entry == "returned") == 300_000

    mine = svc.donor_impact(resident.donor)
    assert mine.given == 900_000 - 45_000 and mine.refunded == 45_000
    (item,) = mine.items
    assert (item.placed, item.returned, item.spent) == (855_000, 45_000, 5_700_000)
    assert item.units_tenths == 57  # 855,000 / 5,700,000 of 38 trips = 5.7 trips


def test_district_figures_and_donor_wall(funded):
    need, author, colleague = funded["need"], funded["author"], funded["colleague"]
    church, company, resident = funded["pledges"]
    shop = Organisation(name="상무 착한국밥", kind="good_shop", verified_at=utcnow())
    unverified = Organisation(name="이름만 빌린 회사", kind="business")
    company.donor.organisation, company.display = shop, "organisation"
    church.donor.organisation, church.display = unverified, "organisation"
    resident.display = "name"
    deliver(funded)
    svc.return_leftovers(Actor(author), need)
    write_report(funded)
    svc.submit_report(Actor(author), need, TODAY)
    svc.approve_report(Actor(colleague), need, TODAY)

    summary = svc.district_impact("this_year", TODAY)
    assert summary.received >= 6_000_000 and summary.donors >= 3
    assert summary.needs_completed >= 1 and summary.beneficiaries_reached >= 11
    transport = next(row for row in summary.by_category if row.ref.code == "medical-transport")
    assert transport.placed >= 5_700_000 and transport.completed >= 1
    assert summary.by_month[-1][0] == f"{TODAY.year:04d}-{TODAY.month:02d}"
    assert len(summary.by_month) == TODAY.month
    last_year = svc.district_impact("last_year", TODAY)  # everything above happened this year
    assert (last_year.needs_completed, last_year.spent, last_year.by_month[0][0]) == (0, 0, f"{TODAY.year - 1:04d}-01")
    assert len(last_year.by_month) == 12 and sum(amount for _, amount in last_year.by_month) == last_year.received

    wall = svc.donor_wall()
    names = {entry.name: (group.value, entry.tier.value) for group, entries in wall.items() for entry in entries}
    assert names["상무 착한국밥"] == ("good_shops", "steady")           # 2,100,000 paid, none refunded
    assert names[resident.donor.display_name] == ("residents", "neighbour")  # 900,000 - 45,000 refund due
    assert "이름만 빌린 회사" not in names                                 # organisations only once verified
    assert church.donor.display_name not in names                          # chose the (unverified) organisation


def test_leftover_rows_point_at_their_journal_transactions(funded):
    need = deliver(funded)
    svc.return_leftovers(Actor(funded["author"]), need)
    rows = db.session.scalars(select(LeftoverReturn).where(LeftoverReturn.need_id == need.id)).all()
    assert all(r.transaction.entry == "unallocated" and r.transaction.pledge_id == r.pledge_id for r in rows)
    assert all(p.status == PledgeStatus.PAID for p in funded["pledges"])
