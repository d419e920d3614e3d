"""Match offers (매칭 기부): "we add N won for every won residents give, up to a cap, until a date"."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kindcity.domain.matching import Criteria, MatchedGift, MatchOffer, NeedSnapshot, match_amount, match_gift

START = dt.date(2026, 12, 1)
END = dt.date(2026, 12, 31)
NEED = NeedSnapshot(1, 1_000_000, 1_000_000, END, "food", "yang", "elderly")


def offer(id=1, num=1, den=1, cap=10**9, criteria=Criteria(), starts=START, ends=END):
    return MatchOffer(id, num, den, cap, criteria, starts, ends)


def test_one_to_one_doubles_the_gift():
    assert match_amount(offer(), NEED, 30_000, 500_000, START) == 30_000


@pytest.mark.parametrize(
    ("num", "den", "gift", "expected"),
    [(1, 2, 30_001, 15_000), (3, 2, 10_001, 15_001), (2, 1, 7, 14), (1, 3, 2, 0), (0, 1, 50_000, 0)],
)
def test_ratio_rounds_down_to_whole_won(num, den, gift, expected):
    assert match_amount(offer(num=num, den=den), NEED, gift, 10**9, START) == expected


def test_never_more_than_the_offer_has_left_or_the_need_lacks():
    assert match_amount(offer(cap=12_000), NEED, 30_000, 500_000, START) == 12_000
    assert match_amount(offer(), NEED, 30_000, 8_000, START) == 8_000
    assert match_amount(offer(), NEED, 30_000, 0, START) == 0
    assert match_amount(offer(cap=0), NEED, 30_000, 500_000, START) == 0


def test_only_within_its_period_both_days_included():
    o = offer()
    assert match_amount(o, NEED, 10_000, 10**6, START) == 10_000
    assert match_amount(o, NEED, 10_000, 10**6, END) == 10_000
    assert match_amount(o, NEED, 10_000, 10**6, START - dt.timedelta(days=1)) == 0
    assert match_amount(o, NEED, 10_000, 10**6, END + dt.timedelta(days=1)) == 0


def test_only_for_needs_its_criteria_accept():
    o = offer(criteria=Criteria(categories=frozenset({"medical"})))
    assert match_amount(o, NEED, 10_000, 10**6, START) == 0
    o = offer(criteria=Criteria(dongs=frozenset({"yang"}), groups=frozenset({"elderly"})))
    assert match_amount(o, NEED, 10_000, 10**6, START) == 10_000


def test_refuses_bad_values():
    with pytest.raises(ValueError):
        offer(den=0)
    with pytest.raises(ValueError):
        offer(starts=END, ends=START)
    with pytest.raises(ValueError):
        match_amount(offer(), NEED, -1, 10, START)
    with pytest.raises(TypeError):
        match_amount(offer(), NEED, 10.0, 10, START)
    assert match_amount(offer(), NEED, 0, 10, START) == 0


def test_several_offers_match_one_gift_without_overfunding():
    early = offer(id=2, starts=START - dt.timedelta(days=3))
    later = offer(id=1, num=2)
    elsewhere = offer(id=3, criteria=Criteria(dongs=frozenset({"pungam"})))
    # Each matches the resident's gift (not the other's match); the gap shrinks as they add.
    assert match_gift([later, elsewhere, early], NEED, 10_000, 25_000, START) == (
        MatchedGift(offer_id=2, amount=10_000),
        MatchedGift(offer_id=1, amount=15_000),
    )
    assert match_gift([later, early], NEED, 10_000, 100_000, START) == (
        MatchedGift(2, 10_000),
        MatchedGift(1, 20_000),
    )
    with pytest.raises(ValueError):
        match_gift([early, early], NEED, 1, 1, START)


@settings(max_examples=200, deadline=None)
@given(
    num=st.integers(0, 5),
    den=st.integers(1, 5),
    cap=st.integers(0, 10**6),
    gift=st.integers(0, 10**6),
    gap=st.integers(0, 10**6),
    day=st.integers(-3, 40),
)
def test_match_is_the_smallest_of_ratio_cap_and_gap(num, den, cap, gift, gap, day):
    on = START + dt.timedelta(days=day)
    amount = match_amount(offer(num=num, den=den, cap=cap), NEED, gift, gap, on)
    assert type(amount) is int and 0 <= amount <= min(cap, gap) and amount * den <= gift * num
    if START <= on <= END:
        assert amount == min(gift * num // den, cap, gap)
    else:
        assert amount == 0
