"""What follows a need opening or closing, or money moving (kindcity/services/effects.py): each service
reports its event there, and the reactions run in the order that module states. These tests would fail
if a service stopped reporting an event, or if a need's closing ran the engine before its pledges
settled."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kindcity.domain.needs import NeedStatus
from kindcity.domain.time import seoul_today, utcnow
from kindcity.models import MatchAllocation, MatchRun
from kindcity.services import Actor, effects
from kindcity.services import matching as matching_service
from kindcity.services import needs as need_service
from kindcity.services import pledges as pledge_service
from kindcity.services.reconcile import reconcile
from tests import factories as f

TODAY = seoul_today()
EVENTS = ("need_opened", "need_closed", "gift_placed", "unassigned_received", "holds_released", "pool_received")


@pytest.fixture
def events(monkeypatch):
    """The events services report to effects, in order; each still runs its reactions."""
    seen: list[str] = []
    for name in EVENTS:
        def spy(*args, _name=name, _real=getattr(effects, name)):
            seen.append(_name)
            _real(*args)
        monkeypatch.setattr(effects, name, spy)
    return seen


def _direct(need, amount, *, on_cancel="pool", paid=True, hold_for=timedelta(days=7)):
    pledge = pledge_service.create_direct_pledge(Actor(f.user("donor")), pledge_service.PledgeRequest(
        need_id=need.id, amount=amount, units=None, display="anonymous", message="", on_cancel=on_cancel),
        hold_for=hold_for)
    if paid:
        _pay(pledge, amount)
    return pledge


def _pay(pledge, amount):
    pledge_service.record_payment(Actor(None), pledge.id, amount, source="manual",
                                  external_id=f"effects:{pledge.id}", received_at=utcnow())


def _pooled(amount, **criteria):
    return matching_service.create_pooled_pledge(Actor(f.user("donor")), matching_service.PooledRequest(
        amount=amount, criteria=matching_service.CriteriaInput(criteria.get("categories", ()), (), ()),
        cap_won=None, cap_percent=None, ends_on=None, on_end="refund"), TODAY)


def test_each_service_reports_its_event_and_the_engine_follows(session, events):
    staff, approver = f.user("staff"), f.user("staff")
    need = f.need(author=staff, target=300_000, category="education", status=NeedStatus.DRAFT)
    need_service.submit(Actor(staff), need, TODAY)
    need_service.approve(Actor(approver), need, TODAY)
    assert events == ["need_opened"]

    _direct(need, 100_000)
    assert events[1:] == ["gift_placed"]

    pooled = _pooled(50_000, categories=("education",))
    _pay(pooled, 50_000)
    assert events[2:] == ["unassigned_received"]
    assert session.scalar(select(MatchRun.trigger).order_by(MatchRun.id.desc())) == "money_received"

    unpaid = _direct(need, 150_000, paid=False, hold_for=timedelta(days=1))
    assert pledge_service.release_expired(now=utcnow() + timedelta(days=2)) == [unpaid.id]
    assert events[3:] == ["holds_released"]

    idle = _pooled(40_000, categories=("culture",))  # fits no need: stays with its pledge
    _pay(idle, 40_000)
    pledge_service.move_to_pool(Actor(staff), idle.id, 40_000)
    assert events[4:] == ["unassigned_received", "pool_received"]
    assert session.scalar(select(MatchRun.trigger).order_by(MatchRun.id.desc())) == "pool_received"

    need_service.cancel(Actor(staff), need, "사업이 취소되었습니다")
    assert events[6:] == ["need_closed"]
    assert reconcile() == []


@pytest.mark.parametrize("closing", ["cancel", "expire"])
def test_a_closing_need_settles_its_pledges_before_the_engine_places_their_money(session, monkeypatch, closing):
    staff = f.user("staff")
    closing_need = f.need(author=staff, target=300_000, deadline=TODAY + timedelta(days=1), dong="pungam")
    urgent = f.need(target=500_000, deadline=TODAY + timedelta(days=4), dong="yang")
    gift = _direct(closing_need, 120_000, on_cancel="pool")  # left to the district's fund if the need closes

    calls: list[str] = []
    settle, engine = pledge_service.settle_closed_need, matching_service.after_need_closed
    monkeypatch.setattr(pledge_service, "settle_closed_need",
                        lambda actor, need: (calls.append("pledges settle"), settle(actor, need)))
    monkeypatch.setattr(matching_service, "after_need_closed",
                        lambda actor, need: (calls.append("engine places"), engine(actor, need)))
    if closing == "cancel":
        need_service.cancel(Actor(staff), closing_need, "사업이 취소되었습니다")
    else:
        assert need_service.expire_overdue(TODAY + timedelta(days=2)) == [closing_need.id]

    assert calls == ["pledges settle", "engine places"]
    # The engine's run saw the money the gift's donor had just left to the fund, and placed it.
    placed = session.execute(select(MatchAllocation.pledge_id, MatchAllocation.need_id, MatchAllocation.amount)
                             .where(MatchAllocation.source == "fund")).all()
    assert [tuple(row) for row in placed] == [(gift.id, urgent.id, 120_000)]
    assert session.scalar(select(MatchRun.trigger).order_by(MatchRun.id.desc())) == "need_closed"
    assert reconcile() == []
