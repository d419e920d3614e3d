"""The district figures counted ahead of time (kindcity/services/figures.py) are the figures the
direct computation gives, after every kind of money movement; the recount is asked for whenever money
moves, once per transaction, and goes with a rollback.

Runs on SQLite and on PostgreSQL (KINDCITY_TEST_DATABASE_URL).
"""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from kindcity import jobs
from kindcity.domain.impact import PERIODS
from kindcity.domain.time import seoul_today, utcnow
from kindcity.extensions import db
from kindcity.models import DistrictFigures, Organisation, Refund
from kindcity.services import Actor
from kindcity.services import figures
from kindcity.services import impact as impact_service
from kindcity.services import needs as need_service
from kindcity.services import pledges as pledge_service
from kindcity.services.reconcile import reconcile
from tests import factories as f

TODAY = seoul_today()


def _pledge(need, amount, *, donor, display="name", on_cancel="refund"):
    return pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
        need_id=need.id, amount=amount, units=None, display=display, message="", on_cancel=on_cancel),
        hold_for=timedelta(days=7))


def _pay(pledge, amount):
    pledge_service.record_payment(Actor(None), pledge.id, amount, source="manual", external_id=f"fig:{pledge.id}",
                                  received_at=utcnow())


def _commit_and_recount() -> int:
    """Commit as a request would, then run what the commit asked for: how many recounts ran."""
    db.session.commit()
    asked = sum(1 for name, _args in db.session.info.get(jobs._COMMITTED, []) if name == figures.JOB)
    jobs.run_committed(only=figures.JOB)
    return asked


def _without_moment(summary):
    return dataclasses.replace(summary, computed_at=None)


def assert_stored_figures_are_the_direct_ones():
    rows = {row.key: row for row in db.session.scalars(select(DistrictFigures))}
    assert set(rows) == {*(figures.impact_key(p) for p in PERIODS), figures.WALL, figures.TOTALS}
    for period in PERIODS:
        stored = figures.district_impact(period, TODAY)
        assert stored.computed_at == rows[figures.impact_key(period)].counted_at  # read from the row
        assert _without_moment(stored) == _without_moment(impact_service.district_impact(period, TODAY)), period
    wall, counted_at = figures.donor_wall()
    assert counted_at == rows[figures.WALL].counted_at
    assert wall == impact_service.donor_wall()
    totals = figures.district_totals(TODAY)
    assert totals.pop("counted_at") == rows[figures.TOTALS].counted_at
    assert totals == need_service.district_totals(TODAY)


def test_stored_figures_follow_every_kind_of_money_movement(session):
    staff, donor = f.user("staff"), f.user("donor", name="이웃 한 분")
    company = f.user("donor", name="대표", organisation=Organisation(name="착한 가게", kind="good_shop",
                                                                     verified_at=utcnow()))
    kept = f.need(author=staff, target=1_000_000)
    cancelled = f.need(author=staff, target=2_000_000, category="food", dong="pungam")
    other = f.need(author=staff, target=3_000_000)
    assert _commit_and_recount() == 1
    assert_stored_figures_are_the_direct_ones()

    pledge = _pledge(kept, 400_000, donor=donor)                              # a pledge (a hold)
    shop = _pledge(kept, 600_000, donor=company, display="organisation")
    to_refund = _pledge(cancelled, 300_000, donor=donor, on_cancel="refund")
    to_move = _pledge(cancelled, 500_000, donor=company, display="organisation", on_cancel="similar")
    _commit_and_recount()  # a hold moves none of the figures (PostgreSQL's writer asks for no recount)
    assert_stored_figures_are_the_direct_ones()

    for item, amount in ((pledge, 400_000), (shop, 600_000), (to_refund, 300_000), (to_move, 500_000)):
        _pay(item, amount)                                                    # payments
    assert _commit_and_recount() == 1
    before = figures.district_impact("all", TODAY)
    assert before.received == 1_800_000 and before.donors == 2
    assert_stored_figures_are_the_direct_ones()

    need_service.cancel(Actor(staff), cancelled, "중복으로 등록된 수요입니다")   # a cancellation
    assert _commit_and_recount() == 1
    assert_stored_figures_are_the_direct_ones()

    pledge_service.move_to_need(Actor(staff), to_move.id, other.id, 500_000)  # a placement by staff
    assert _commit_and_recount() == 1
    assert_stored_figures_are_the_direct_ones()

    refund = db.session.scalar(select(Refund).where(Refund.pledge_id == to_refund.id))
    pledge_service.record_bank_refund(Actor(staff), refund.id, refunded_at=utcnow(), bank_reference="반환-1")
    assert _commit_and_recount() == 1                                         # a refund
    assert figures.district_impact("all", TODAY).refunded == 300_000
    assert_stored_figures_are_the_direct_ones()

    db.session.refresh(kept)
    impact_service.start_delivery(Actor(staff), kept, report_due=TODAY + timedelta(days=30), today=TODAY)
    impact_service.record_disbursement(Actor(staff), kept, amount=700_000, spent_on=TODAY,
                                       description="병원 왕복 교통비", today=TODAY)   # a disbursement
    assert _commit_and_recount() == 1
    after = figures.district_impact("all", TODAY)
    assert after.spent == 700_000 and after.computed_at > before.computed_at
    assert_stored_figures_are_the_direct_ones()
    assert reconcile() == []


def test_a_change_that_moves_no_money_asks_for_no_recount_and_a_rollback_takes_it_back(session):
    staff, donor = f.user("staff"), f.user("donor")
    need = f.need(author=staff)
    _commit_and_recount()
    f.user("donor")                      # an account alone moves no money
    assert _commit_and_recount() == 0
    _pay(_pledge(need, 100_000, donor=donor), 100_000)
    db.session.rollback()                # the payment did not happen: nor does its recount
    assert _commit_and_recount() == 0
    assert figures.district_impact("all", TODAY).received == 0


def test_before_the_first_count_the_figures_are_counted_for_the_request_and_nothing_is_stored(session):
    need, donor = f.need(), f.user("donor")
    _pay(_pledge(need, 250_000, donor=donor), 250_000)
    db.session.commit()                  # its recount is asked for, but has not run yet
    db.session.execute(DistrictFigures.__table__.delete())
    assert figures.district_impact("all", TODAY).received == 250_000
    assert figures.district_totals(TODAY)["counted_at"] is None
    assert db.session.scalar(select(DistrictFigures).limit(1)) is None


@pytest.mark.postgres_only
def test_on_the_queue_one_recount_waits_however_often_money_moves(tmp_path):
    """PostgreSQL's queue: the job is deferred with its queueing lock, so the second money-moving
    commit finds one waiting and adds none; it waits the configured delay before it starts."""
    from sqlalchemy import text

    from tests.jobqueue import queue_app

    with queue_app("qfigures", tmp_path, KINDCITY_FIGURES_DELAY_SECONDS=30) as app, app.app_context():
        staff, donor = f.user("staff"), f.user("donor")
        need = f.need(author=staff)
        db.session.commit()
        for amount in (100_000, 200_000):
            _pay(_pledge(need, amount, donor=donor), amount)
            db.session.commit()
        rows = db.session.execute(text(
            "SELECT CAST(status AS text), queueing_lock, lock, scheduled_at > now() + interval '20 seconds' "
            "FROM procrastinate_jobs WHERE task_name = :task"), {"task": figures.JOB}).all()
        assert rows == [("todo", figures.JOB, figures.JOB, True)]
        db.session.remove()


def test_the_backstop_is_scheduled_and_the_command_stores_the_figures(app, session):
    from kindcity.jobs.upkeep import SCHEDULE

    assert SCHEDULE[figures.JOB] == "*/10 * * * *"
    need, donor = f.need(), f.user("donor")
    _pay(_pledge(need, 120_000, donor=donor), 120_000)
    db.session.commit()
    db.session.info.pop(jobs._COMMITTED, None)   # as if no worker had run yet
    result = app.test_cli_runner().invoke(args=["refresh-figures"])
    assert result.exit_code == 0, result.output
    assert "District figures counted at" in result.output
    row = db.session.get(DistrictFigures, figures.impact_key("all"))
    assert row is not None and row.data["received"] == 120_000 and row.day == TODAY
