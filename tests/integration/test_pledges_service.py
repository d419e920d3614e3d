"""Pledges and the journal on a real database: every flow ends with reconcile() finding nothing."""
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from kindcity.domain.needs import NeedStatus
from kindcity.domain.pledges import PledgeRuleError, PledgeStatus
from kindcity.domain.time import utcnow
from kindcity.extensions import db
from kindcity.models import LedgerLine, LedgerTransaction, Need, Payment, Pledge, Refund
from kindcity.services import Actor
from kindcity.services import needs as need_service
from kindcity.services import pledges as svc
from kindcity.services.reconcile import reconcile
from tests import factories as f

HOLD = timedelta(days=7)


def pledge(donor, need, amount=None, *, units=None, on_cancel="refund", display="anonymous", message=""):
    return svc.create_direct_pledge(Actor(donor), svc.PledgeRequest(
        need_id=need.id, amount=amount, units=units, display=display, message=message, on_cancel=on_cancel),
        hold_for=HOLD)


def pay(pledge_, amount, ext=None, staff=None):
    return svc.record_payment(Actor(staff), pledge_.id, amount, source="manual",
                              external_id=ext or f"t:{pledge_.id}:{amount}:{utcnow().timestamp()}",
                              received_at=utcnow())


def fresh(obj):
    db.session.flush()
    db.session.refresh(obj)
    return obj


def test_pledge_reserves_and_full_payment_funds_the_need(session):
    need, donor = f.need(target=300_000), f.user("donor")
    p = pledge(donor, need, 300_000)
    assert fresh(need).reserved == 300_000 and need.gap == 0
    assert p.reference.startswith("KC") and p.held == 300_000
    late_donor = f.user("donor")
    attempt = session.begin_nested()
    with pytest.raises(PledgeRuleError) as raised:
        pledge(late_donor, need, 1_000)
    attempt.rollback()  # as the request does on any refusal
    assert raised.value.code == "not_enough_left" and raised.value.details["gap"] == 0
    outcome = pay(p, 300_000)
    assert outcome.created and outcome.placed == 300_000
    assert (fresh(need).reserved, need.confirmed, need.status) == (0, 300_000, NeedStatus.FUNDED)
    assert (fresh(p).paid, p.held, p.status) == (300_000, 0, PledgeStatus.PAID)
    assert reconcile() == []


def test_duplicate_payment_changes_nothing(session):
    need, p = f.need(), None
    p = pledge(f.user("donor"), need, 100_000)
    first = pay(p, 100_000, ext="bank-row-1")
    second = pay(p, 100_000, ext="bank-row-1")
    assert first.created and not second.created and second.payment.id == first.payment.id
    assert fresh(need).confirmed == 100_000
    assert session.scalar(select(db.func.count(Payment.id)).where(Payment.pledge_id == p.id)) == 1
    assert reconcile() == []


def test_partial_then_rest(session):
    need = f.need(target=500_000)
    p = pledge(f.user("donor"), need, 200_000)
    pay(p, 50_000)
    assert fresh(p).status == PledgeStatus.PARTLY_PAID and p.held == 150_000
    assert (fresh(need).reserved, need.confirmed) == (150_000, 50_000)
    pay(p, 150_000)
    assert fresh(p).status == PledgeStatus.PAID and fresh(need).reserved == 0 and need.confirmed == 200_000
    assert reconcile() == []


@pytest.mark.parametrize("choice", ["refund", "pool", "similar"])
def test_over_payment_follows_the_donors_choice(session, choice):
    need = f.need(target=500_000)
    p = pledge(f.user("donor"), need, 100_000, on_cancel=choice)
    outcome = pay(p, 130_000)
    assert outcome.placed == 100_000 and outcome.surplus == 30_000
    # money left to the district's pooled fund is placed at once: here on the only open need with room
    assert fresh(need).confirmed == (130_000 if choice == "pool" else 100_000)
    refunds = session.scalars(select(Refund).where(Refund.pledge_id == p.id)).all()
    if choice == "refund":
        assert [(r.amount, r.status) for r in refunds] == [(30_000, "due")]
        assert svc.unplaced(p.id) == 30_000
    elif choice == "pool":
        assert refunds == [] and svc.unplaced(p.id) == 0
    else:
        assert refunds == [] and svc.unplaced(p.id) == 30_000
    assert reconcile() == []


def test_holds_expire_and_release_idempotently(session):
    need = f.need(target=200_000)
    p = pledge(f.user("donor"), need, 200_000)
    assert svc.release_expired(utcnow()) == []
    later = utcnow() + HOLD + timedelta(minutes=1)
    assert svc.release_expired(later) == [p.id]
    assert svc.release_expired(later) == []
    assert fresh(p).status == PledgeStatus.EXPIRED and p.held == 0
    assert fresh(need).reserved == 0 and need.gap == 200_000
    assert reconcile() == []


def test_money_after_expiry_when_need_filled_meanwhile(session):
    need = f.need(target=100_000)
    late = pledge(f.user("donor"), need, 100_000, on_cancel="refund")
    svc.release_expired(utcnow() + HOLD + timedelta(minutes=1))
    other = pledge(f.user("donor"), need, 100_000)
    pay(other, 100_000)
    outcome = pay(late, 100_000)
    assert outcome.placed == 0 and outcome.surplus == 100_000
    assert fresh(need).confirmed == 100_000 and need.reserved == 0  # never past the target
    assert session.scalar(select(Refund.amount).where(Refund.pledge_id == late.id)) == 100_000
    assert reconcile() == []


def test_partly_paid_pledge_expires_keeping_what_arrived(session):
    need = f.need(target=300_000)
    p = pledge(f.user("donor"), need, 200_000)
    pay(p, 80_000)
    svc.release_expired(utcnow() + HOLD + timedelta(minutes=1))
    assert fresh(p).status == PledgeStatus.EXPIRED and p.paid == 80_000
    assert (fresh(need).confirmed, need.reserved) == (80_000, 0)
    assert reconcile() == []


def test_donor_cancels_unpaid_pledge_only(session):
    need, donor = f.need(target=300_000), f.user("donor")
    p = pledge(donor, need, 100_000)
    svc.cancel_pledge(Actor(donor), p.id)
    assert fresh(p).status == PledgeStatus.CANCELLED and fresh(need).reserved == 0
    paid = pledge(donor, need, 100_000)
    pay(paid, 10_000)
    with pytest.raises(PledgeRuleError) as raised:
        svc.cancel_pledge(Actor(donor), paid.id)
    assert raised.value.code == "pledge_has_payments"
    assert reconcile() == []


@pytest.mark.parametrize("how", ["cancel", "expire"])
def test_closing_a_need_returns_every_won_as_each_donor_chose(session, how):
    staff = f.user("staff")
    need = f.need(target=1_000_000, author=staff)
    refund = pledge(f.user("donor"), need, 300_000, on_cancel="refund")
    pool = pledge(f.user("donor"), need, 200_000, on_cancel="pool")
    similar = pledge(f.user("donor"), need, 100_000, on_cancel="similar")
    unpaid = pledge(f.user("donor"), need, 50_000)
    for p in (refund, pool, similar):
        pay(p, p.amount)
    if how == "cancel":
        need_service.cancel(Actor(staff), need, "수혜 대상이 다른 지원을 받음")
    else:
        session.execute(update(Need).where(Need.id == need.id).values(deadline=need.deadline - timedelta(days=60)))
        need_service.expire_overdue(need.deadline + timedelta(days=1) if False else fresh(need).deadline + timedelta(days=1))
    session.flush()
    assert (fresh(need).confirmed, need.reserved) == (0, 0)
    assert {fresh(p).status for p in (refund, pool, similar, unpaid)} == {PledgeStatus.CLOSED}
    assert session.scalar(select(Refund.amount).where(Refund.pledge_id == refund.id)) == 300_000
    assert svc.unplaced(pool.id) == 0 and svc.unplaced(similar.id) == 100_000
    assert reconcile() == []
    # staff move the "similar" money to another need, and send the refund
    other = f.need(target=500_000)
    svc.move_to_need(Actor(staff), similar.id, other.id, 100_000)
    assert fresh(other).confirmed == 100_000 and svc.unplaced(similar.id) == 0
    refund_row = session.scalar(select(Refund).where(Refund.pledge_id == refund.id))
    svc.record_bank_refund(Actor(staff), refund_row.id, refunded_at=utcnow(), bank_reference="환불 0001")
    svc.record_bank_refund(Actor(staff), refund_row.id, refunded_at=utcnow(), bank_reference="again")  # no-op
    assert svc.unplaced(refund.id) == 0 and refund_row.status == "done"
    assert reconcile() == []


def test_move_refuses_more_than_free_money_or_gap(session):
    staff = f.user("staff")
    need = f.need(target=100_000)
    p = pledge(f.user("donor"), need, 50_000, on_cancel="similar")
    pay(p, 80_000)  # 30,000 unplaced
    small = f.need(target=20_000)
    with pytest.raises(PledgeRuleError) as raised:
        svc.move_to_need(Actor(staff), p.id, small.id, 30_000)
    assert raised.value.code == "not_enough_left"
    big = f.need(target=500_000)
    with pytest.raises(PledgeRuleError) as raised:
        svc.move_to_need(Actor(staff), p.id, big.id, 40_000)
    assert raised.value.code == "not_enough_unplaced" and raised.value.details["available"] == 30_000
    assert reconcile() == []


def test_message_with_personal_data_is_refused(session):
    need, donor = f.need(), f.user("donor")
    session.commit()
    with pytest.raises(need_service.PersonalDataFound):
        pledge(donor, need, 10_000, message="힘내세요! 연락 주세요 010-2222-3333")
    session.rollback()
    assert fresh(need).reserved == 0


def test_pledge_to_closed_need_refused(session):
    need = f.need(status=NeedStatus.FUNDED)
    with pytest.raises(PledgeRuleError) as raised:
        pledge(f.user("donor"), need, 10_000)
    assert raised.value.code == "need_not_open"


def test_journal_is_append_only(session):
    need = f.need()
    pledge(f.user("donor"), need, 10_000)
    session.flush()
    line_id = session.scalar(select(LedgerLine.id).order_by(LedgerLine.id.desc()).limit(1))
    for statement in (f"UPDATE ledger_lines SET amount = amount + 1 WHERE id = {line_id}",
                      f"DELETE FROM ledger_lines WHERE id = {line_id}",
                      "UPDATE ledger_transactions SET memo = 'x'"):
        nested = session.begin_nested()
        with pytest.raises((DBAPIError, IntegrityError)) as raised:
            session.execute(text(statement))
        assert "append-only" in str(raised.value)
        nested.rollback()


def test_reconcile_names_each_planted_discrepancy(session):
    need = f.need(target=500_000)
    p = pledge(f.user("donor"), need, 200_000)
    pay(p, 200_000)
    session.flush()
    assert reconcile() == []
    # 1. a cache edited behind the journal's back
    session.execute(update(Need).where(Need.id == need.id).values(confirmed=250_000))
    # 2. a pledge's paid amount that disagrees with the money received
    session.execute(update(Pledge).where(Pledge.id == p.id).values(paid=190_000))
    # 3. an unbalanced transaction slipped into the journal
    bad = LedgerTransaction(entry="allocated", pledge_id=p.id, need_id=need.id, memo="planted")
    bad.lines = [LedgerLine(account=f"pledge:{p.id}", amount=5_000)]
    session.add(bad)
    # 4. a payment row the journal never heard of
    session.add(Payment(pledge_id=p.id, amount=7_000, source="manual", external_id="planted",
                        received_at=utcnow()))
    session.flush()
    found = {(d.check, d.subject.split(" (")[0]) for d in reconcile()}
    assert ("need_confirmed_vs_journal", f"need {need.id}") in found
    assert ("pledge_paid_vs_journal", f"pledge {p.id}") in found
    assert ("journal_unbalanced", f"transaction {bad.id}") in found
    assert ("pledge_payments_vs_journal", f"pledge {p.id}") in found
    assert ("cash_vs_payments", "cash") in found
    messages = [str(d) for d in reconcile()]
    assert any("expected 200000, found 250000" in m for m in messages)


def test_reconcile_finds_every_kind_of_planted_discrepancy_and_only_the_rows_that_disagree(session):
    """Each check is one grouped query that returns only the rows that disagree: every planted
    disagreement is named, and a need and pledge left alone are not mentioned at all."""
    donor = f.user("donor")
    placed_need, held_need, clean_need = f.need(target=500_000), f.need(target=300_000), f.need(target=300_000)
    placed = pledge(donor, placed_need, 200_000)
    pay(placed, 200_000)
    unpaid = pledge(donor, held_need, 100_000)
    refunded = pledge(donor, clean_need, 100_000)
    pay(refunded, 100_000)
    clean = pledge(donor, clean_need, 50_000)
    pay(clean, 50_000)
    session.flush()
    assert reconcile() == []
    # more spent on a need than was ever placed on it: its held balance goes negative
    spent = LedgerTransaction(entry="disbursed", need_id=placed_need.id, memo="planted")
    spent.lines = [LedgerLine(account=f"spent:{placed_need.id}", amount=300_000),
                   LedgerLine(account="cash", amount=-300_000)]
    # a pledge's money placed twice: overspent, and more on needs than the donor promised
    twice = LedgerTransaction(entry="allocated", pledge_id=placed.id, need_id=placed_need.id, memo="planted")
    twice.lines = [LedgerLine(account=f"pledge:{placed.id}", amount=50_000),
                   LedgerLine(account=f"need:{placed_need.id}", amount=-50_000)]
    # cash leaving an unpaid pledge outside a refund: received no longer splits
    leak = LedgerTransaction(entry="allocated", pledge_id=unpaid.id, memo="planted")
    leak.lines = [LedgerLine(account=f"pledge:{unpaid.id}", amount=10_000),
                  LedgerLine(account="cash", amount=-10_000)]
    empty = LedgerTransaction(entry="allocated", pledge_id=placed.id, memo="planted, no lines")
    session.add_all([spent, twice, leak, empty,
                     Refund(pledge_id=refunded.id, amount=20_000, reason="planted", status="done"),
                     Refund(pledge_id=placed.id, amount=10_000, reason="planted", status="due")])
    session.execute(update(Need).where(Need.id == held_need.id).values(reserved=1))
    session.execute(update(Pledge).where(Pledge.id == unpaid.id).values(held=60_000))
    session.flush()
    problems = reconcile()
    found = {(d.check, d.subject.split(" (")[0]) for d in problems}
    assert found >= {
        ("journal_empty_transaction", f"transaction {empty.id}"),
        ("need_negative_balance", f"need {placed_need.id}"),
        ("need_confirmed_vs_journal", f"need {placed_need.id}"),
        ("need_reserved_vs_journal", f"need {held_need.id}"),
        ("pledge_overspent", f"pledge {placed.id}"),
        ("pledge_gave_more_than_promised", f"pledge {placed.id}"),
        ("pledge_refund_exceeds_money", f"pledge {placed.id}"),
        ("pledge_received_split", f"pledge {unpaid.id}"),
        ("pledge_held_vs_journal", f"pledge {unpaid.id}"),
        ("pledge_refunds_vs_journal", f"pledge {refunded.id}"),
        ("cash_vs_payments", "cash"),
    }
    assert not {subject for _, subject in found} & {f"need {clean_need.id}", f"pledge {clean.id}"}
    messages = {str(d) for d in problems}
    assert f"need_reserved_vs_journal: need {held_need.id}: expected 100000, found 1" in messages
    assert f"pledge_held_vs_journal: pledge {unpaid.id} ({unpaid.reference}): expected 100000, found 60000" in messages
    assert f"need_negative_balance: need {placed_need.id}: expected >= 0, found -50000" in messages


def test_reconcile_cli_exit_codes(app, session):
    need = f.need(target=200_000)
    p = pledge(f.user("donor"), need, 100_000)
    pay(p, 100_000)
    session.commit()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["reconcile"])
    assert ok.exit_code == 0 and "accounted for" in ok.output
    session.execute(update(Need).where(Need.id == need.id).values(reserved=1))
    session.commit()
    bad = runner.invoke(args=["reconcile"])
    assert bad.exit_code == 1 and f"need {need.id}" in bad.output and "need_reserved_vs_journal" in bad.output


def test_release_expired_cli(app, session):
    need = f.need(target=100_000)
    p = pledge(f.user("donor"), need, 100_000)
    session.execute(update(Pledge).where(Pledge.id == p.id).values(hold_expires_at=utcnow() - timedelta(hours=1)))
    session.commit()
    result = app.test_cli_runner().invoke(args=["release-expired"])
    assert result.exit_code == 0 and f": {p.id}" in result.output
    assert "0 hold(s) released" in app.test_cli_runner().invoke(args=["release-expired"]).output


def test_a_reference_code_already_taken_is_drawn_again_and_nothing_is_reserved_twice(session, monkeypatch):
    """The code is unique in the database; if the one drawn is taken, the pledge gets another and the
    need's gap is reserved once (on PostgreSQL the single statement writes nothing for a taken code)."""
    donor, need = f.user("donor"), f.need(target=500_000)
    first = pledge(donor, need, 100_000)
    session.commit()
    drawn = iter([first.reference, first.reference, "KCFRESH01"])
    monkeypatch.setattr(svc, "new_reference", lambda: next(drawn))
    second = pledge(donor, need, 50_000)
    session.commit()
    assert second.reference == "KCFRESH01"
    assert fresh(need).reserved == 150_000
    assert session.scalar(select(db.func.count(Pledge.id)).where(Pledge.need_id == need.id)) == 2
    assert reconcile() == []


def test_a_refused_pledge_writes_nothing(session):
    donor, need = f.user("donor"), f.need(target=100_000)
    pledge(donor, need, 80_000)
    session.commit()
    counts = [session.scalar(select(db.func.count()).select_from(model)) for model in (Pledge, LedgerTransaction)]
    with pytest.raises(PledgeRuleError) as refused:
        pledge(donor, need, 30_000)
    assert refused.value.code == "not_enough_left" and refused.value.details["gap"] == 20_000
    session.rollback()
    assert [session.scalar(select(db.func.count()).select_from(model))
            for model in (Pledge, LedgerTransaction)] == counts
    assert fresh(need).reserved == 80_000


def test_the_journal_writer_is_chosen_once_by_the_database(session):
    """Services never ask which database they run on: the journal picks its writer on first use."""
    from kindcity.services import journal
    from kindcity.services.journal.generic import GenericWriter
    from kindcity.services.journal.postgresql import PostgreSQLWriter

    writer = journal._writer()
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    assert isinstance(writer, PostgreSQLWriter) is on_postgresql and isinstance(writer, GenericWriter)
    assert journal._writer() is writer
