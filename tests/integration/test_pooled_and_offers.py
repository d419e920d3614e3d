"""Pooled pledges (나눔 기금) and match offers (매칭 기부) through the real services, on this run's
database: every flow ends with reconcile() finding nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kindcity.domain.matching import REASON_COMPLETES, REASON_COMPLETES_URGENT, REASON_PARTIAL
from kindcity.domain.needs import NeedStatus
from kindcity.domain.pledges import PledgeStatus
from kindcity.domain.time import seoul_today, utcnow
from kindcity.extensions import db
from kindcity.models import (LedgerTransaction, MatchAllocation, MatchOfferTerms, MatchRun, Need, Organisation,
                             Pledge, Refund)
from kindcity.services import Actor, Forbidden
from kindcity.services import matching as svc
from kindcity.services import needs as need_service
from kindcity.services import pledges as pledge_service
from kindcity.services import statements as statement_service
from kindcity.services.reconcile import reconcile
from tests import factories as f

TODAY = seoul_today()
Crit = svc.CriteriaInput


def pooled(donor, amount, *, categories=(), dongs=(), groups=(), cap_won=None, cap_percent=None, ends_on=None,
           on_end="refund"):
    return svc.create_pooled_pledge(Actor(donor), svc.PooledRequest(
        amount=amount, criteria=Crit(tuple(categories), tuple(dongs), tuple(groups)), cap_won=cap_won,
        cap_percent=cap_percent, ends_on=ends_on, on_end=on_end), TODAY)


def offer(sponsor, cap, *, num=1, den=1, categories=(), dongs=(), groups=(), starts=TODAY, ends=None, pay_it=True):
    created = svc.create_match_offer(Actor(sponsor), svc.OfferRequest(
        amount=cap, ratio_num=num, ratio_den=den, criteria=Crit(tuple(categories), tuple(dongs), tuple(groups)),
        starts_on=starts, ends_on=ends or TODAY + timedelta(days=60), display="organisation"), TODAY)
    if pay_it:
        pay(created, cap)
    return created


def pay(pledge, amount=None, *, received_at=None):
    return pledge_service.record_payment(Actor(None), pledge.id, amount or pledge.amount, source="manual",
                                         external_id=f"t:{pledge.id}:{utcnow().timestamp()}",
                                         received_at=received_at or utcnow())


def gift(resident, need, amount, **kwargs):
    direct = pledge_service.create_direct_pledge(Actor(resident), pledge_service.PledgeRequest(
        need_id=need.id, amount=amount, units=None, display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    pay(direct, amount, **kwargs)
    return direct


def placements(pledge):
    return db.session.scalars(select(MatchAllocation).where(MatchAllocation.pledge_id == pledge.id)
                              .order_by(MatchAllocation.id)).all()


def fresh(obj):
    db.session.flush()
    db.session.refresh(obj)
    return obj


def sponsor_org(name="○○엘리베이터"):
    org = Organisation(name=name, kind="business", business_number=None)
    db.session.add(org)
    db.session.flush()
    return f.user("donor", organisation=org)


# --- pooled pledges --------------------------------------------------------------------------

def test_paid_pooled_pledge_is_placed_with_reasons(session):
    church = f.user("donor")
    urgent = f.need(target=300_000, deadline=TODAY + timedelta(days=3), dong="hwajeong1")
    later = f.need(target=200_000, deadline=TODAY + timedelta(days=40), dong="nongseong1")
    other = f.need(target=100_000, category="food", dong="hwajeong1")
    pledge = pooled(church, 1_000_000, categories=["medical-transport"], dongs=["hwajeong1", "nongseong1"])
    assert placements(pledge) == [] and fresh(pledge).status == PledgeStatus.AWAITING_PAYMENT
    pay(pledge)
    placed = {p.need_id: p for p in placements(pledge)}
    assert set(placed) == {urgent.id, later.id}
    assert placed[urgent.id].amount == 300_000 and placed[urgent.id].reason_code == REASON_COMPLETES_URGENT
    assert placed[later.id].amount == 200_000 and placed[later.id].reason_code == REASON_COMPLETES
    assert "completes the need" in placed[urgent.id].reason and placed[urgent.id].days_left == 3
    assert all(p.run_id is not None for p in placed.values())
    assert fresh(urgent).status == NeedStatus.FUNDED and fresh(later).confirmed == 200_000
    assert fresh(other).confirmed == 0
    money = svc.money_of(fresh(pledge))
    assert (money.received, money.placed, money.unplaced) == (1_000_000, 500_000, 500_000)
    run = session.scalar(select(MatchRun).order_by(MatchRun.id.desc()))
    assert run.status == "applied" and run.trigger == "money_received" and run.placed_total == 500_000
    entries = session.scalars(select(LedgerTransaction.entry).where(LedgerTransaction.pledge_id == pledge.id)).all()
    assert entries.count("allocated") == 2
    assert reconcile() == []


def test_caps_per_need_and_criteria_hold(session):
    donor = f.user("donor")
    big = f.need(target=400_000, dong="yang", group="elderly-alone", category="care")
    small = f.need(target=60_000, dong="yang", group="elderly-alone", category="care")
    children = f.need(target=50_000, dong="yang", group="children", category="care")
    half = pooled(donor, 1_000_000, groups=["elderly-alone"], cap_percent=50)
    pay(half)
    by_need = {p.need_id: p.amount for p in placements(half)}
    assert by_need == {big.id: 200_000, small.id: 30_000}  # half of each target, never the children's need
    capped = pooled(donor, 1_000_000, dongs=["yang"], cap_won=10_000)
    pay(capped)
    by_need = {p.need_id: p.amount for p in placements(capped)}
    assert by_need == {big.id: 10_000, small.id: 10_000, children.id: 10_000}
    assert all(p.reason_code == REASON_PARTIAL for p in placements(capped))
    assert fresh(children).confirmed == 10_000
    assert svc.run_engine(Actor(None), "cli").placed == 0  # a second run places nothing new
    assert reconcile() == []


def test_unpaid_money_is_proposed_but_never_committed(session):
    donor = f.user("donor")
    need = f.need(target=100_000)
    pledge = pooled(donor, 300_000)
    preview = svc.preview_unpaid(pledge)
    assert [(a.need_id, a.amount) for a in preview] == [(need.id, 100_000)]
    outcome = svc.run_engine(Actor(None), "cli")
    assert outcome.placed == 0 and placements(pledge) == [] and fresh(need).confirmed == 0
    pay(pledge, 40_000)  # part of it arrives: only that is placed
    assert [p.amount for p in placements(pledge)] == [40_000]
    assert fresh(pledge).status == PledgeStatus.PARTLY_PAID and fresh(need).confirmed == 40_000
    assert reconcile() == []


def test_pause_then_end_sends_unplaced_money_where_the_donor_chose(session):
    donor = f.user("donor")
    refund_me = pooled(donor, 200_000, on_end="refund")
    to_pool = pooled(donor, 100_000, on_end="pool")
    pay(refund_me)
    pay(to_pool)
    svc.set_paused(Actor(donor), refund_me.id, True)
    need = f.need(target=50_000, status=NeedStatus.AWAITING_APPROVAL)
    need_service.approve(Actor(f.user("staff")), need, TODAY)
    # the paused pledge gave nothing; the other one filled the need when it opened
    assert placements(refund_me) == [] and [p.amount for p in placements(to_pool)] == [50_000]
    svc.set_paused(Actor(donor), refund_me.id, False)
    assert placements(refund_me) == []  # nothing left to fill
    assert svc.end_pledge(Actor(donor), refund_me.id) == 200_000
    assert svc.end_pledge(Actor(donor), to_pool.id) == 50_000
    assert svc.end_pledge(Actor(donor), to_pool.id) == 0  # idempotent
    refunds = session.scalars(select(Refund).where(Refund.pledge_id == refund_me.id)).all()
    assert [(r.amount, r.status) for r in refunds] == [(200_000, "due")]
    assert fresh(refund_me).status == PledgeStatus.CLOSED and fresh(to_pool).status == PledgeStatus.CLOSED
    assert svc.money_of(fresh(to_pool)).unplaced == 0
    other = f.need(target=70_000, status=NeedStatus.AWAITING_APPROVAL)
    need_service.approve(Actor(f.user("staff")), other, TODAY)
    # the ended pledges place nothing themselves; the 50,000 its donor left to the district's fund goes
    # to work through the fund, and the donor can see where
    assert fresh(other).confirmed == 50_000
    assert [(a.source, a.need_id, a.amount) for a in placements(to_pool)][-1] == ("fund", other.id, 50_000)
    assert svc.district_balance() == 0
    with pytest.raises(svc.MatchingError):
        svc.set_paused(Actor(donor), refund_me.id, True)
    assert reconcile() == []


def test_an_end_date_that_passed_ends_the_pledge(session):
    donor = f.user("donor")
    pledge = pooled(donor, 100_000, ends_on=TODAY)
    pay(pledge)
    assert svc.end_due(TODAY + timedelta(days=1)) == [pledge.id]
    assert fresh(pledge).status == PledgeStatus.CLOSED
    assert session.scalar(select(func.sum(Refund.amount)).where(Refund.pledge_id == pledge.id)) == 100_000
    assert reconcile() == []


def test_dry_run_places_nothing_and_records_nothing(app, session):
    donor = f.user("donor")
    need = f.need(target=100_000)
    svc.set_auto_apply(Actor(f.user("admin")), False)
    pledge = pooled(donor, 100_000)
    pay(pledge)  # auto-apply off: a proposal waits
    runs_before = session.scalar(select(func.count(MatchRun.id)))
    outcome = svc.run_engine(Actor(None), "cli", dry_run=True)
    assert [(a.need_id, a.amount) for a in outcome.result.allocations] == [(need.id, 100_000)]
    assert outcome.run is None and session.scalar(select(func.count(MatchRun.id))) == runs_before
    session.commit()  # the command rolls its own work back, not the test's
    result = app.test_cli_runner().invoke(args=["match", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"pledge {pledge.id} -> need {need.id}: 100,000 won [completes]" in result.output
    assert "nothing placed" in result.output
    assert placements(pledge) == [] and fresh(need).confirmed == 0
    assert reconcile() == []


def test_cli_applies_when_automatic_application_is_on(app, session):
    donor = f.user("donor")
    pledge = pooled(donor, 100_000)
    pay(pledge)
    need = f.need(target=80_000)  # created directly: no trigger ran for it
    session.commit()
    result = app.test_cli_runner().invoke(args=["match"])
    assert result.exit_code == 0, result.output
    assert "80,000 won placed" in result.output
    assert fresh(need).status == NeedStatus.FUNDED
    assert reconcile() == []


def test_with_automatic_application_off_a_proposal_waits_for_staff(session):
    donor, admin = f.user("donor"), f.user("admin")
    centre_staff = f.user("staff")  # a dong centre: may not approve pooled money
    with pytest.raises(Forbidden):
        svc.set_auto_apply(Actor(centre_staff), False)
    svc.set_auto_apply(Actor(admin), False)
    need = f.need(target=120_000)
    pledge = pooled(donor, 200_000)
    pay(pledge)
    run = session.scalar(select(MatchRun).order_by(MatchRun.id.desc()))
    assert run.status == "pending" and run.proposed_total == 120_000
    assert placements(pledge) == [] and fresh(need).confirmed == 0
    with pytest.raises(Forbidden):
        svc.approve_run(Actor(centre_staff), run.id)
    svc.approve_run(Actor(admin), run.id)
    assert fresh(run).status == "approved" and run.placed_total == 120_000
    assert [p.amount for p in placements(pledge)] == [120_000] and fresh(need).status == NeedStatus.FUNDED
    with pytest.raises(svc.MatchingError):
        svc.approve_run(Actor(admin), run.id)
    assert reconcile() == []


def test_approval_re_checks_what_changed_since_the_proposal(session):
    admin, donor = f.user("admin"), f.user("donor")
    svc.set_auto_apply(Actor(admin), False)
    need = f.need(target=100_000)
    pledge = pooled(donor, 100_000)
    pay(pledge)
    run = session.scalar(select(MatchRun).order_by(MatchRun.id.desc()))
    gift(f.user("donor"), need, 70_000)  # a resident gives meanwhile: only 30,000 still fits
    svc.approve_run(Actor(admin), run.id)
    assert [p.amount for p in placements(pledge)] == [30_000]
    assert fresh(run).skipped == [{"pool_id": pledge.id, "need_id": need.id, "proposed": 100_000, "placed": 30_000,
                                   "why": "need_gap"}]
    assert fresh(need).confirmed == 100_000 and need.status == NeedStatus.FUNDED
    assert reconcile() == []


def test_engine_runs_when_a_need_opens(session):
    donor, author, approver = f.user("donor"), f.user("staff"), f.user("staff")
    pledge = pooled(donor, 500_000, categories=["education"])
    pay(pledge)
    assert placements(pledge) == []  # nothing to fund yet
    need = f.need(author=author, target=250_000, category="education", status=NeedStatus.DRAFT)
    need_service.submit(Actor(author), need, TODAY)
    need_service.approve(Actor(approver), need, TODAY)
    assert [(p.need_id, p.amount) for p in placements(pledge)] == [(need.id, 250_000)]
    assert fresh(need).status == NeedStatus.FUNDED
    assert session.scalar(select(MatchRun.trigger).order_by(MatchRun.id.desc())) == "need_opened"
    assert reconcile() == []


def test_engine_runs_when_holds_are_released(session):
    need = f.need(target=100_000)
    unpaid = pledge_service.create_direct_pledge(Actor(f.user("donor")), pledge_service.PledgeRequest(
        need_id=need.id, amount=100_000, units=None, display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=1))
    pledge = pooled(f.user("donor"), 100_000)
    pay(pledge)
    assert placements(pledge) == []  # the hold takes the whole gap
    assert pledge_service.release_expired(now=utcnow() + timedelta(days=2)) == [unpaid.id]
    assert [p.amount for p in placements(pledge)] == [100_000]
    assert fresh(need).status == NeedStatus.FUNDED
    assert reconcile() == []


def test_pooled_money_comes_back_when_a_need_is_cancelled(session):
    staff = f.user("staff")
    need = f.need(author=staff, target=100_000)
    pledge = pooled(f.user("donor"), 150_000)
    pay(pledge)
    assert [p.amount for p in placements(pledge)] == [100_000]
    need_service.cancel(Actor(f.user("staff")), fresh(need), "대상자가 이사했습니다")
    assert fresh(need).confirmed == 0
    money = svc.money_of(fresh(pledge))
    assert (money.placed, money.unplaced) == (0, 150_000)
    assert reconcile() == []


def test_pooled_pledge_paid_through_a_bank_statement(session):
    staff = f.user("staff", money_staff=True)
    need = f.need(target=90_000)
    pledge = pooled(f.user("donor"), 90_000)
    csv = ("거래일시,적요,출금액,입금액,입금자명,잔액\n"
           f'2025-03-02 09:15:00,타행이체,0,"90,000",교회 {pledge.reference},"1,000,000"\n').encode()
    preview = statement_service.preview_statement(Actor(staff), "s.csv", csv)
    counts = statement_service.commit_statement(Actor(staff), preview.id)
    assert counts["applied"] == 1
    assert [p.amount for p in placements(pledge)] == [90_000]
    assert fresh(need).status == NeedStatus.FUNDED and fresh(pledge).status == PledgeStatus.PAID
    assert reconcile() == []


def test_creating_refuses_bad_terms(session):
    donor = f.user("donor")
    with pytest.raises(svc.MatchingError) as error:
        pooled(donor, 100_000, categories=["no-such-category"])
    assert error.value.code == "criteria_unknown"
    for kwargs, code in (({"cap_percent": 150}, "cap_invalid"), ({"cap_won": 500_000, "cap_percent": 10}, "cap_one_kind"),
                         ({"ends_on": TODAY - timedelta(days=1)}, "ends_in_past"), ({"on_end": "similar"}, "on_end_invalid")):
        with pytest.raises(svc.MatchingError) as error:
            pooled(donor, 100_000, **kwargs)
        assert error.value.code == code
    with pytest.raises(svc.MatchingError) as error:
        pooled(donor, 500)
    assert error.value.code == "amount_too_small"
    with pytest.raises(Forbidden):
        pooled(f.user("staff"), 100_000)
    with pytest.raises(svc.MatchingError) as error:
        offer(sponsor_org(), 100_000, num=1, den=0, pay_it=False)
    assert error.value.code == "ratio_invalid"


# --- match offers ----------------------------------------------------------------------------

def test_a_match_offer_doubles_a_residents_gift(session):
    sponsor = sponsor_org()
    youth = f.need(target=1_000_000, category="education", group="out-of-school-youth")
    terms_offer = offer(sponsor, 5_000_000, groups=["out-of-school-youth"])
    resident = f.user("donor")
    direct = gift(resident, youth, 50_000)
    assert fresh(youth).confirmed == 100_000
    [match] = placements(terms_offer)
    assert (match.amount, match.gift_amount, match.gift_pledge_id, match.reason_code) == (
        50_000, 50_000, direct.id, "offer_match")
    assert svc.matches_on_need(youth.id) == [{"offer_id": terms_offer.id, "sponsor": "○○엘리베이터", "amount": 50_000}]
    assert svc.offer_summary(terms_offer.id) == {"gifts": 1, "added": 50_000, "residents": 50_000, "together": 100_000}
    assert session.get(MatchOfferTerms, terms_offer.id).matched == 50_000
    assert reconcile() == []


def test_ratio_cap_and_gap_bound_each_match(session):
    sponsor = sponsor_org()
    need = f.need(target=1_000_000)
    half = offer(sponsor, 30_000, num=1, den=2)
    gift(f.user("donor"), need, 40_001)
    assert [p.amount for p in placements(half)] == [20_000]  # 1:2, rounded down
    gift(f.user("donor"), need, 40_000)
    assert [p.amount for p in placements(half)] == [20_000, 10_000]  # only the cap's rest
    gift(f.user("donor"), need, 40_000)
    assert len(placements(half)) == 2 and fresh(half).kind == "match"
    small = f.need(target=80_000)
    double = offer(sponsor_org("착한 가게"), 1_000_000)
    gift(f.user("donor"), small, 50_000)
    assert [p.amount for p in placements(double)] == [30_000]  # the gap left after the gift
    assert fresh(small).status == NeedStatus.FUNDED
    assert reconcile() == []


def test_offers_match_only_in_their_period_criteria_and_with_money_received(session):
    sponsor = sponsor_org()
    medical = f.need(target=1_000_000, category="medical-transport")
    food = f.need(target=1_000_000, category="food")
    later = offer(sponsor, 100_000, categories=["medical-transport"], starts=TODAY + timedelta(days=2))
    gift(f.user("donor"), medical, 10_000)
    assert placements(later) == []  # before its period
    gift(f.user("donor"), medical, 10_000, received_at=utcnow() + timedelta(days=3))
    assert [p.amount for p in placements(later)] == [10_000]  # received within it
    gift(f.user("donor"), food, 10_000, received_at=utcnow() + timedelta(days=3))
    assert len(placements(later)) == 1  # not a category it matches
    unpaid = offer(sponsor_org("미입금 기업"), 100_000, pay_it=False)
    gift(f.user("donor"), food, 10_000)
    assert placements(unpaid) == []  # its money has not arrived
    own = offer(sponsor, 100_000)
    gift(sponsor, food, 10_000)
    assert placements(own) == []  # a sponsor does not match its own gift
    assert reconcile() == []


def test_offer_money_comes_back_when_the_need_is_cancelled_and_ending_returns_the_rest(session):
    sponsor = sponsor_org()
    need = f.need(target=1_000_000)
    matching = offer(sponsor, 100_000)
    gift(f.user("donor"), need, 60_000)
    assert session.get(MatchOfferTerms, matching.id).matched == 60_000
    need_service.cancel(Actor(f.user("staff")), fresh(need), "사업이 취소되었습니다")
    assert fresh(session.get(MatchOfferTerms, matching.id)).matched == 0
    assert svc.end_pledge(Actor(sponsor), matching.id) == 100_000
    assert fresh(matching).status == PledgeStatus.CLOSED
    assert reconcile() == []


def test_reconcile_names_a_pooled_allocation_outside_its_criteria(session):
    donor = f.user("donor")
    need = f.need(target=100_000, category="food")
    pledge = pooled(donor, 100_000, categories=["food"])
    pay(pledge)
    assert reconcile() == []
    terms = session.get(svc.PooledTerms, pledge.id)
    terms.categories = ["education"]
    terms.cap_won = 40_000
    session.flush()
    checks = {p.check for p in reconcile()}
    assert {"pooled_outside_criteria", "pooled_over_cap_per_need"} <= checks
    assert fresh(need).confirmed == 100_000
    session.get(MatchAllocation, placements(pledge)[0].id).amount = 1
    session.flush()
    assert "placements_vs_journal" in {p.check for p in reconcile()}


def test_the_run_is_built_from_a_fixed_number_of_queries(session):
    from sqlalchemy import event

    donor = f.user("donor")
    for n in range(3):
        f.need(target=50_000 + n)
    for _ in range(2):
        pay(pooled(donor, 10_000, categories=["culture"]))  # fits none of the needs: stays to be placed

    def count_statements(extra_needs: int, extra_pools: int) -> int:
        for n in range(extra_needs):
            f.need(target=500_000 + n)
        for _ in range(extra_pools):
            pay(pooled(donor, 1_000, categories=["culture"]))
        session.flush()
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            svc.snapshot(TODAY)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    # pools, their money, their refunds, the district fund's balance, needs
    assert count_statements(0, 0) == count_statements(20, 10) == 5
    assert session.scalar(select(func.count(Pledge.id)).where(Pledge.kind == "pooled")) >= 12
    assert session.scalar(select(func.count(Need.id))) >= 23


def test_a_gift_paid_through_a_bank_statement_is_matched_too(session):
    staff = f.user("staff", money_staff=True)
    need = f.need(target=500_000)
    doubling = offer(sponsor_org(), 100_000)
    first = pledge_service.create_direct_pledge(Actor(f.user("donor")), pledge_service.PledgeRequest(
        need_id=need.id, amount=60_000, units=None, display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    second = pledge_service.create_direct_pledge(Actor(f.user("donor")), pledge_service.PledgeRequest(
        need_id=need.id, amount=70_000, units=None, display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    booked = TODAY.isoformat()
    csv = ("거래일시,적요,출금액,입금액,입금자명,잔액\n"
           f'{booked} 09:15:00,타행이체,0,"60,000",주민 {first.reference},"1,000,000"\n'
           f'{booked} 09:16:00,타행이체,0,"70,000",주민 {second.reference},"1,070,000"\n').encode()
    preview = statement_service.preview_statement(Actor(staff), "s.csv", csv)
    assert statement_service.commit_statement(Actor(staff), preview.id)["applied"] == 2
    # both gifts are matched in one import, and together never past the offer's cap
    assert [(p.gift_pledge_id, p.amount) for p in placements(doubling)] == [(first.id, 60_000), (second.id, 40_000)]
    assert fresh(need).confirmed == 230_000
    assert session.get(MatchOfferTerms, doubling.id).matched == 100_000
    assert reconcile() == []


def test_staff_match_a_deposit_without_reference_to_a_pooled_pledge(session):
    from kindcity.models import BankTransaction

    staff = f.user("staff", money_staff=True)
    need = f.need(target=50_000)
    pledge = pooled(f.user("donor"), 50_000)
    csv = ("거래일시,적요,출금액,입금액,입금자명,잔액\n"
           '2025-03-02 09:15:00,타행이체,0,"50,000",김교회,"1,000,000"\n').encode()
    preview = statement_service.preview_statement(Actor(staff), "s.csv", csv)
    assert statement_service.commit_statement(Actor(staff), preview.id)["unmatched"] == 1
    row = session.scalar(select(BankTransaction).where(BankTransaction.outcome == "unmatched"))
    statement_service.match_bank_row(Actor(staff), row.id, pledge.reference.lower())
    assert row.outcome == "applied" and row.pledge_id == pledge.id
    assert [p.amount for p in placements(pledge)] == [50_000] and fresh(need).status == NeedStatus.FUNDED
    assert reconcile() == []


# --- a need closing: its pooled money is placed again at once -------------------------------------

def test_pooled_money_from_a_cancelled_need_is_placed_again_at_once(session):
    staff = f.user("staff")
    first = f.need(author=staff, target=100_000, deadline=TODAY + timedelta(days=3))
    pledge = pooled(f.user("donor"), 100_000)
    pay(pledge)
    assert [(p.need_id, p.amount) for p in placements(pledge)] == [(first.id, 100_000)]
    second = f.need(target=100_000, deadline=TODAY + timedelta(days=20))  # created directly: no run placed on it
    runs_before = session.scalar(select(func.count(MatchRun.id)))
    need_service.cancel(Actor(f.user("staff")), fresh(first), "대상자가 이사했습니다")
    # in the same transaction: the money came back and went straight to the other open need
    assert fresh(first).confirmed == 0
    assert fresh(second).confirmed == 100_000 and second.status == NeedStatus.FUNDED
    assert [(p.need_id, p.amount) for p in placements(pledge)] == [(first.id, 100_000), (second.id, 100_000)]
    run = session.scalar(select(MatchRun).order_by(MatchRun.id.desc()))
    assert session.scalar(select(func.count(MatchRun.id))) == runs_before + 1
    assert (run.trigger, run.status, run.placed_total) == ("need_closed", "applied", 100_000)
    money = svc.money_of(fresh(pledge))
    assert (money.placed, money.unplaced) == (100_000, 0)
    entries = session.scalars(select(LedgerTransaction.entry).where(LedgerTransaction.pledge_id == pledge.id)
                              .order_by(LedgerTransaction.id)).all()
    assert entries == ["received", "allocated", "unallocated", "allocated"]
    assert reconcile() == []


def test_pooled_money_from_an_expired_need_is_placed_again_at_once(session):
    donor = f.user("donor")
    soon = f.need(target=100_000, deadline=TODAY + timedelta(days=1), dong="yang")
    pledge = pooled(donor, 40_000, dongs=["yang"])
    pay(pledge)  # cannot complete anything: brings the closest need nearer
    assert [(p.need_id, p.amount, p.reason_code) for p in placements(pledge)] == [(soon.id, 40_000, REASON_PARTIAL)]
    later = f.need(target=40_000, deadline=TODAY + timedelta(days=10), dong="yang")
    elsewhere = f.need(target=40_000, deadline=TODAY + timedelta(days=5), dong="pungam")
    assert need_service.expire_overdue(TODAY + timedelta(days=2)) == [soon.id]
    assert fresh(soon).status == NeedStatus.EXPIRED and soon.confirmed == 0
    assert fresh(later).status == NeedStatus.FUNDED and fresh(elsewhere).confirmed == 0  # criteria still hold
    assert session.scalar(select(MatchRun.trigger).order_by(MatchRun.id.desc())) == "need_closed"
    assert svc.money_of(fresh(pledge)).unplaced == 0
    assert reconcile() == []


def test_with_automatic_application_off_the_re_run_waits_for_staff(session):
    admin = f.user("admin")
    first = f.need(target=60_000, deadline=TODAY + timedelta(days=2))
    pledge = pooled(f.user("donor"), 60_000)
    pay(pledge)
    second = f.need(target=60_000, deadline=TODAY + timedelta(days=9))
    svc.set_auto_apply(Actor(admin), False)
    need_service.cancel(Actor(f.user("staff")), fresh(first), "사업이 취소되었습니다")
    run = session.scalar(select(MatchRun).order_by(MatchRun.id.desc()))
    assert (run.trigger, run.status, run.proposed_total) == ("need_closed", "pending", 60_000)
    assert fresh(second).confirmed == 0 and svc.money_of(fresh(pledge)).unplaced == 60_000
    svc.approve_run(Actor(admin), run.id)
    assert fresh(second).status == NeedStatus.FUNDED
    assert reconcile() == []


def test_an_ended_pledges_money_from_a_closed_need_follows_the_donors_choice_without_a_run(session):
    donor = f.user("donor")
    first = f.need(target=70_000)
    pledge = pooled(donor, 70_000, on_end="refund")
    pay(pledge)
    assert svc.end_pledge(Actor(donor), pledge.id) == 0  # everything is placed: nothing to give back yet
    f.need(target=70_000)
    runs_before = session.scalar(select(func.count(MatchRun.id)))
    need_service.cancel(Actor(f.user("staff")), fresh(first), "사업이 취소되었습니다")
    assert session.scalar(select(func.count(MatchRun.id))) == runs_before
    assert session.scalar(select(func.sum(Refund.amount)).where(Refund.pledge_id == pledge.id)) == 70_000
    assert reconcile() == []


# --- the district's pooled fund (구 나눔 기금) --------------------------------------------------

def direct(donor, need, amount, on_cancel="pool"):
    made = pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
        need_id=need.id, amount=amount, units=None, display="anonymous", message="", on_cancel=on_cancel),
        hold_for=timedelta(days=7))
    pay(made, amount)
    return made


def fund_placements():
    return session_rows(select(MatchAllocation.pledge_id, MatchAllocation.need_id, MatchAllocation.amount)
                        .where(MatchAllocation.source == "fund").order_by(MatchAllocation.id))


def session_rows(query):
    return [tuple(r) for r in db.session.execute(query).all()]


def test_money_left_to_the_district_fund_goes_to_the_most_urgent_need_at_once(session):
    staff = f.user("staff")
    cancelled = f.need(author=staff, target=300_000, deadline=TODAY + timedelta(days=30))
    later = f.need(target=500_000, deadline=TODAY + timedelta(days=40), dong="pungam")
    urgent = f.need(target=500_000, deadline=TODAY + timedelta(days=4), dong="yang")
    first = direct(f.user("donor"), cancelled, 120_000)
    second = direct(f.user("donor"), cancelled, 80_000)
    refunder = direct(f.user("donor"), cancelled, 50_000, on_cancel="refund")
    need_service.cancel(Actor(staff), fresh(cancelled), "사업이 취소되었습니다")
    # nothing completes a need: the 200,000 the donors left to the district brings the nearest deadline closer
    assert fresh(urgent).confirmed == 200_000 and fresh(later).confirmed == 0
    assert fund_placements() == [(first.id, urgent.id, 120_000), (second.id, urgent.id, 80_000)]
    assert svc.district_balance() == 0
    assert [(p.need_id, p.amount) for p in svc.district_placements([second.id])] == [(urgent.id, 80_000)]
    assert svc.district_placements([refunder.id]) == []
    run = session.scalar(select(MatchRun).order_by(MatchRun.id.desc()))
    assert (run.trigger, run.placed_total) == ("need_closed", 200_000)
    assert [a["pool_id"] for a in run.proposal] == [0]
    assert reconcile() == []


def test_the_fund_completes_a_need_and_never_passes_its_target(session):
    staff = f.user("staff")
    cancelled = f.need(author=staff, target=500_000)
    small = f.need(target=150_000, deadline=TODAY + timedelta(days=20))
    gift(f.user("donor"), small, 100_000)  # 50,000 still needed
    pledge = direct(f.user("donor"), cancelled, 400_000)
    need_service.cancel(Actor(staff), fresh(cancelled), "사업이 취소되었습니다")
    assert fresh(small).confirmed == 150_000 and small.status == NeedStatus.FUNDED
    assert fund_placements() == [(pledge.id, small.id, 50_000)]
    assert svc.district_balance() == 350_000  # waits for the next need
    assert svc.district_sources() == [(pledge.id, 350_000)]
    nxt = f.need(target=100_000, status=NeedStatus.AWAITING_APPROVAL)
    need_service.approve(Actor(staff), nxt, TODAY)
    assert fresh(nxt).confirmed == 100_000 and svc.district_balance() == 250_000
    assert reconcile() == []


def test_fund_money_on_a_need_that_closes_goes_back_to_the_fund_and_out_again(session):
    staff = f.user("staff")
    cancelled = f.need(author=staff, target=200_000)
    pledge = direct(f.user("donor"), cancelled, 100_000)
    soon = f.need(target=300_000, deadline=TODAY + timedelta(days=2))
    need_service.cancel(Actor(staff), fresh(cancelled), "사업이 취소되었습니다")
    assert fresh(soon).confirmed == 100_000
    later = f.need(target=300_000, deadline=TODAY + timedelta(days=9))
    need_service.cancel(Actor(staff), fresh(soon), "대상자가 이사했습니다")
    assert fresh(soon).confirmed == 0 and fresh(later).confirmed == 100_000
    assert fund_placements() == [(pledge.id, soon.id, 100_000), (pledge.id, later.id, 100_000)]
    entries = session.scalars(select(LedgerTransaction.entry).where(LedgerTransaction.pledge_id.is_(None),
                                                                    LedgerTransaction.entry.like("pool%"))
                              .order_by(LedgerTransaction.id)).all()
    assert entries == ["pool_allocated", "pool_returned", "pool_allocated"]
    assert svc.district_balance() == 0 and reconcile() == []


def test_fund_placements_wait_for_staff_when_automatic_application_is_off(session):
    admin, staff = f.user("admin"), f.user("staff")
    cancelled = f.need(author=staff, target=200_000)
    pledge = direct(f.user("donor"), cancelled, 60_000)
    other = f.need(target=60_000)
    svc.set_auto_apply(Actor(admin), False)
    need_service.cancel(Actor(staff), fresh(cancelled), "사업이 취소되었습니다")
    run = session.scalar(select(MatchRun).order_by(MatchRun.id.desc()))
    assert run.status == "pending" and fresh(other).confirmed == 0 and svc.district_balance() == 60_000
    gift(f.user("donor"), other, 20_000)  # the need changed: only 40,000 still fits
    svc.approve_run(Actor(admin), run.id)
    assert fresh(other).confirmed == 60_000 and svc.district_balance() == 20_000
    assert fund_placements() == [(pledge.id, other.id, 40_000)]
    assert [(s["need_id"], s["placed"], s["why"]) for s in fresh(run).skipped] == [(other.id, 40_000, "need_gap")]
    assert reconcile() == []


def test_staff_moving_money_to_the_fund_places_it(session):
    staff = f.user("staff")
    pledge = pooled(f.user("donor"), 90_000, categories=["culture"], on_end="refund")
    pay(pledge)  # fits no need: stays unplaced
    need = f.need(target=90_000)
    pledge_service.move_to_pool(Actor(staff), pledge.id, 90_000)
    assert fresh(need).confirmed == 90_000
    assert session.scalar(select(MatchRun.trigger).order_by(MatchRun.id.desc())) == "pool_received"
    assert reconcile() == []


def test_reconcile_names_a_fund_placement_nobody_owns(session):
    need = f.need(target=100_000)
    from kindcity.domain import ledger as rules
    from kindcity.services.journal import post
    post(rules.pool_allocated(need.id, 10_000), Actor(None))
    need.confirmed += 10_000
    found = {d.check for d in reconcile()}
    assert {"fund_overdrawn", "fund_placements_vs_journal"} <= found
