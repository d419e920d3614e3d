"""`kindcity reconcile --since DAY` checks only what moved from that day on: a disagreement planted in
a pledge and a transaction from before the day is not reported with it and is reported without it;
one planted after the day is reported either way.

Runs on SQLite and on PostgreSQL (KINDCITY_TEST_DATABASE_URL).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from sqlalchemy import update

from kindcity.domain.time import SEOUL, seoul_today, utcnow
from kindcity.models import LedgerLine, LedgerTransaction, Pledge
from kindcity.services import Actor
from kindcity.services import pledges as pledge_service
from kindcity.services.reconcile import reconcile
from tests import factories as f


def _paid_pledge(need, amount):
    pledge = pledge_service.create_direct_pledge(Actor(f.user("donor")), pledge_service.PledgeRequest(
        need_id=need.id, amount=amount, units=None, display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    pledge_service.record_payment(Actor(None), pledge.id, amount, source="manual", external_id=f"since:{pledge.id}",
                                  received_at=utcnow())
    return pledge


def _plant(session, pledge) -> LedgerTransaction:
    """A cache edited behind the journal's back, and an unbalanced transaction slipped into it."""
    session.execute(update(Pledge).where(Pledge.id == pledge.id).values(paid=Pledge.paid - 1_000))
    bad = LedgerTransaction(entry="allocated", memo="planted", created_at=utcnow())
    bad.lines = [LedgerLine(account="planted:a", amount=5_000)]
    session.add(bad)
    session.flush()
    return bad


def _found(problems) -> set[tuple[str, str]]:
    return {(d.check, d.subject.split(" (")[0]) for d in problems}


def test_since_bounds_the_journal_check_to_what_moved_from_that_day(app, session):
    today = seoul_today()
    with time_machine.travel(datetime.combine(today - timedelta(days=10), datetime.min.time(), SEOUL)
                             + timedelta(hours=11), tick=False):
        old_need = f.need(target=500_000)
        old = _paid_pledge(old_need, 200_000)
        old_bad = _plant(session, old)
        session.commit()
    new = _paid_pledge(f.need(target=500_000), 300_000)
    new_bad = _plant(session, new)
    session.commit()
    old_ones = {("pledge_paid_vs_journal", f"pledge {old.id}"), ("journal_unbalanced", f"transaction {old_bad.id}")}
    new_ones = {("pledge_paid_vs_journal", f"pledge {new.id}"), ("journal_unbalanced", f"transaction {new_bad.id}")}

    everything = _found(reconcile())
    assert old_ones | new_ones <= everything
    bounded = _found(reconcile(today - timedelta(days=3)))
    assert new_ones <= bounded and not old_ones & bounded
    assert old_ones <= _found(reconcile(today - timedelta(days=10)))  # the day itself is included

    runner = app.test_cli_runner()
    with_since = runner.invoke(args=["reconcile", "--since", (today - timedelta(days=3)).isoformat()])
    assert with_since.exit_code == 1
    assert f"transaction {new_bad.id}:" in with_since.output and f"pledge {new.id} " in with_since.output
    assert f"transaction {old_bad.id}:" not in with_since.output and f"pledge {old.id} " not in with_since.output
    without = runner.invoke(args=["reconcile"])
    assert without.exit_code == 1
    assert f"transaction {old_bad.id}:" in without.output and f"pledge {old.id} " in without.output
