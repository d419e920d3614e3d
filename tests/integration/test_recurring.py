"""Recurring pooled pledges (정기 나눔 기금) through the real services, on this run's database: the series
makes one instalment per period, idempotently; each instalment is paid and placed like any pooled
pledge; stopping makes no more. Every flow ends with reconcile() finding nothing."""
from __future__ import annotations

from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from kindcity.domain.pledges import PledgeRuleError, PledgeStatus
from kindcity.domain.recurrence import SeriesState, due_date
from kindcity.domain.time import seoul_today, utcnow
from kindcity.extensions import db
from kindcity.models import MatchAllocation, Pledge, PooledSeries, PooledTerms, User
from kindcity.services import Actor, NotFound, recurring
from kindcity.services import matching as svc
from kindcity.services import pledges as pledge_service
from kindcity.services.reconcile import reconcile
from kindcity.services.reference import current_district
from tests import factories as f

TODAY = seoul_today()


def church_series(donor, amount=1_000_000, *, repeat="quarterly", ends_on=None, method="bank", today=TODAY,
                  on_end="refund"):
    """The issue's example: 1,000,000원 a quarter for medical transport in 화정동 and 농성동, at most half of any need."""
    request = svc.PooledRequest(amount=amount, criteria=svc.CriteriaInput(
        categories=("medical-transport",), dongs=("hwajeong1", "hwajeong2", "nongseong1", "nongseong2")),
        cap_percent=50, ends_on=ends_on, display="anonymous", on_end=on_end, method=method)
    return recurring.create_series(Actor(donor), request, repeat, today)


def series_of(pledge) -> PooledSeries:
    return db.session.get(PooledSeries, db.session.get(PooledTerms, pledge.id).series_id)


def instalments(series_id) -> list[tuple[int, int]]:
    """(period, pledge id), oldest first."""
    return [tuple(r) for r in db.session.execute(
        select(PooledTerms.period, PooledTerms.pledge_id).where(PooledTerms.series_id == series_id)
        .order_by(PooledTerms.period))]


def pay(pledge_id, amount, key):
    return pledge_service.record_payment(Actor(None), pledge_id, amount, source="manual", external_id=key,
                                         received_at=utcnow())


def backdate(series, days):
    """Move a series' start into the past, as if it had been made ``days`` ago."""
    db.session.execute(update(PooledSeries).where(PooledSeries.id == series.id)
                       .values(starts_on=series.starts_on - timedelta(days=days)))
    db.session.expire_all()


def test_a_series_starts_with_its_first_instalment_carrying_the_terms(session):
    donor = f.user("donor")
    first = church_series(donor)
    series = series_of(first)
    terms = session.get(PooledTerms, first.id)
    assert (series.frequency, series.starts_on, series.amount, series.method) == ("quarterly", TODAY, 1_000_000, "bank")
    assert (terms.series_id, terms.period, terms.cap_percent, terms.categories) == (
        series.id, 1, 50, ["medical-transport"])
    assert sorted(terms.dongs) == ["hwajeong1", "hwajeong2", "nongseong1", "nongseong2"]
    assert (first.kind, first.amount, first.status, first.need_id) == ("pooled", 1_000_000,
                                                                        PledgeStatus.AWAITING_PAYMENT, None)
    summary = recurring.summary(series.id, TODAY)
    assert summary.view.state == SeriesState.ACTIVE
    assert summary.view.next_due == due_date(TODAY, "quarterly", 2)
    assert [row.reference for row in summary.instalments] == [first.reference]
    # nothing more is due today
    assert recurring.create_due_instalments(TODAY) == []
    assert reconcile() == []


def test_each_period_makes_one_instalment_however_often_the_upkeep_runs(session):
    donor = f.user("donor")
    need = f.need(target=400_000, dong="nongseong1")
    first = church_series(donor, 300_000, repeat="monthly")
    series = series_of(first)
    second_day = due_date(TODAY, "monthly", 2)
    assert recurring.create_due_instalments(second_day - timedelta(days=1)) == []
    made = recurring.create_due_instalments(second_day)
    assert [(i.series_id, i.period, i.amount, i.method, i.due_on) for i in made] == [
        (series.id, 2, 300_000, "bank", second_day)]
    assert recurring.create_due_instalments(second_day) == []                      # run twice: nothing new
    assert recurring.create_due_instalments(second_day + timedelta(days=5)) == []  # later in the same period
    periods = instalments(series.id)
    assert [p for p, _ in periods] == [1, 2]
    second = session.get(Pledge, periods[1][1])
    assert second.reference != first.reference and made[0].reference == second.reference
    assert made[0].donor_email == donor.email
    terms = session.get(PooledTerms, second.id)
    assert (terms.cap_percent, terms.categories, terms.series_id) == (50, ["medical-transport"], series.id)
    # each instalment is paid and placed on its own, half of the need at most
    pay(second.id, 300_000, "second")
    assert session.scalars(select(MatchAllocation.amount).where(MatchAllocation.pledge_id == second.id)).all() == [
        200_000]
    assert session.get(Pledge, first.id).paid == 0 and need.id
    assert reconcile() == []


def test_a_period_missed_entirely_is_not_made_afterwards(session):
    donor = f.user("donor")
    first = church_series(donor, 50_000, repeat="monthly")
    series = series_of(first)
    backdate(series, 100)  # the upkeep did not run for three months
    start = session.get(PooledSeries, series.id).starts_on
    today = TODAY
    made = recurring.create_due_instalments(today)
    current = max(n for n in range(1, 10) if due_date(start, "monthly", n) <= today)
    assert [i.period for i in made] == [current]
    assert [p for p, _ in instalments(series.id)] == [1, current]
    assert recurring.create_due_instalments(today) == []
    assert reconcile() == []


def test_no_instalment_after_the_last_day_and_the_series_finishes(session):
    donor = f.user("donor")
    last_day = due_date(TODAY, "monthly", 2)
    first = church_series(donor, 10_000, repeat="monthly", ends_on=last_day)
    series = series_of(first)
    assert session.get(PooledTerms, first.id).ends_on == last_day  # each instalment is placed until then too
    assert [i.period for i in recurring.create_due_instalments(last_day)] == [2]
    assert recurring.create_due_instalments(due_date(TODAY, "monthly", 3)) == []
    summary = recurring.summary(series.id, last_day)
    assert summary.view.state == SeriesState.FINISHED and summary.view.next_due is None
    with pytest.raises(PledgeRuleError) as error:
        church_series(donor, 10_000, repeat="monthly", ends_on=last_day - timedelta(days=1))
    assert error.value.code == "series_ends_before_second"
    with pytest.raises(PledgeRuleError) as error:
        church_series(donor, 10_000, repeat="weekly")
    assert error.value.code == "repeat_invalid"
    with pytest.raises(svc.MatchingError) as error:
        church_series(donor, 10_000, method="cash")
    assert error.value.code == "method_invalid"
    assert reconcile() == []


def test_stopping_makes_no_more_cancels_the_unpaid_and_keeps_paid_money(session):
    donor = f.user("donor")
    need = f.need(target=2_000_000, dong="hwajeong2")
    first = church_series(donor, 400_000, repeat="monthly")
    series = series_of(first)
    pay(first.id, 400_000, "first")
    second_day = due_date(TODAY, "monthly", 2)
    [second] = recurring.create_due_instalments(second_day)
    with pytest.raises(NotFound):
        recurring.stop_series(Actor(f.user("donor")), series.id)  # not someone else's
    assert recurring.stop_series(Actor(donor), series.id) == [second.pledge_id]
    assert recurring.stop_series(Actor(donor), series.id) == []  # idempotent
    session.expire_all()
    assert session.get(PooledSeries, series.id).stopped_at is not None
    assert session.get(Pledge, second.pledge_id).status == PledgeStatus.CANCELLED
    assert session.get(Pledge, first.id).status == PledgeStatus.PAID  # paid money stays, placed
    assert svc.money_of(session.get(Pledge, first.id)).placed == 400_000
    assert session.get(PooledTerms, first.id).ended_at is None
    assert recurring.create_due_instalments(due_date(TODAY, "monthly", 3)) == []
    assert recurring.summary(series.id, TODAY).view.state == SeriesState.STOPPED
    assert session.get(type(need), need.id).confirmed == 400_000
    assert reconcile() == []


def test_an_inactive_donor_gets_no_new_instalment(session):
    donor = f.user("donor")
    series = series_of(church_series(donor, 10_000, repeat="monthly"))
    session.execute(update(User).where(User.id == donor.id).values(active=False))
    assert recurring.create_due_instalments(due_date(TODAY, "monthly", 2)) == []
    assert [p for p, _ in instalments(series.id)] == [1]


def test_the_database_refuses_a_second_instalment_of_the_same_period(session):
    donor = f.user("donor")
    first = church_series(donor, 10_000, repeat="monthly")
    series = series_of(first)
    before = session.scalar(select(func.count(Pledge.id)))
    assert recurring.insert_instalment(Actor(None), series, 1) is None  # the unique (series, period) says no
    assert session.scalar(select(func.count(Pledge.id))) == before       # nothing of the attempt is left
    assert recurring.insert_instalment(Actor(None), series, 2) is not None
    assert [p for p, _ in instalments(series.id)] == [1, 2]
    assert reconcile() == []


def test_the_recurring_command_makes_instalments_once_and_mails_how_to_pay(app, session):
    bank_donor, card_donor = f.user("donor"), f.user("donor")
    bank = series_of(church_series(bank_donor, 30_000, repeat="monthly"))
    card = series_of(church_series(card_donor, 20_000, repeat="quarterly", method="card"))
    backdate(bank, 40)
    backdate(card, 100)
    session.commit()
    outbox = Path(app.config["KINDCITY_OUTBOX"])
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["recurring"])
    assert result.exit_code == 0, result.output
    assert "2 instalment(s) made" in result.output
    again = runner.invoke(args=["recurring"])
    assert again.exit_code == 0 and "0 instalment(s) made." in again.output
    assert [p for p, _ in instalments(bank.id)] == [1, 2]
    assert [p for p, _ in instalments(card.id)] == [1, 2]
    mails = {}
    for path in set(outbox.glob("*.eml")) - before:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        mails[message["To"]] = message.get_content()
    assert set(mails) == {bank_donor.email, card_donor.email}
    bank_second = session.get(Pledge, instalments(bank.id)[1][1])
    card_second = session.get(Pledge, instalments(card.id)[1][1])
    assert bank_second.reference in mails[bank_donor.email] and "30,000" in mails[bank_donor.email]
    assert f"/me/pooled/{bank_second.id}" in mails[bank_donor.email]
    assert f"/me/pooled/{card_second.id}" in mails[card_donor.email]
    account = current_district().bank_account
    assert account in mails[bank_donor.email] and account not in mails[card_donor.email]  # card: a link to pay
    assert card_second.method == "card" and card_second.status == PledgeStatus.AWAITING_PAYMENT
    assert reconcile() == []


def test_the_period_rules_follow_the_start_day_across_short_months(session):
    donor = f.user("donor")
    start = date(2027, 1, 31)
    first = church_series(donor, 10_000, repeat="monthly", today=start)
    series = series_of(first)
    assert [i.due_on for i in recurring.create_due_instalments(date(2027, 2, 28))] == [date(2027, 2, 28)]
    assert [i.due_on for i in recurring.create_due_instalments(date(2027, 3, 31))] == [date(2027, 3, 31)]
    assert recurring.create_due_instalments(date(2027, 4, 29)) == []
    assert [i.due_on for i in recurring.create_due_instalments(date(2027, 4, 30))] == [date(2027, 4, 30)]
    assert [p for p, _ in instalments(series.id)] == [1, 2, 3, 4]
