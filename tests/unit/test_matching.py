"""The matching engine, by example: each test is one rule of the policy in kindcity/domain/matching/README.md.

Property-based tests (rules on random inputs, brute-force optimum) are in
test_matching_properties.py; match offers in test_matching_offers.py.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kindcity.domain.matching import (
    REASON_CODES,
    REASON_COMPLETES,
    REASON_COMPLETES_URGENT,
    REASON_PARTIAL,
    Criteria,
    NeedSnapshot,
    PoolSnapshot,
    apply_allocations,
    propose,
    urgency_weight,
)

TODAY = dt.date(2026, 12, 1)
ROOT = Path(__file__).resolve().parents[2]


def need(id, gap, *, target=None, days=40, category="food", dong="yang", group="elderly", already=None):
    return NeedSnapshot(
        id=id,
        gap=gap,
        target=gap if target is None else target,
        deadline=TODAY + dt.timedelta(days=days),
        category=category,
        dong=dong,
        group=group,
        already_from=already or {},
    )


def pool(id, remaining, *, categories=(), dongs=(), groups=(), cap_won=None, cap_percent=None, arrival=0, ends=None):
    return PoolSnapshot(
        id=id,
        remaining=remaining,
        criteria=Criteria(frozenset(categories), frozenset(dongs), frozenset(groups)),
        cap_won=cap_won,
        cap_percent=cap_percent,
        arrival=arrival,
        ends=ends,
    )


def given(result):
    """{(pool id, need id): won}"""
    return {(a.pool_id, a.need_id): a.amount for a in result.allocations}


# --- values ----------------------------------------------------------------------------------


def test_empty_criteria_accept_any_need():
    assert Criteria().accepts(need(1, 10))
    assert Criteria(categories=frozenset({"food"})).accepts(need(1, 10, category="food"))
    assert not Criteria(categories=frozenset({"food"})).accepts(need(1, 10, category="education"))
    both = Criteria(frozenset({"food"}), frozenset({"yang"}), frozenset({"children"}))
    assert not both.accepts(need(1, 10, category="food", dong="yang", group="elderly"))


def test_criteria_take_sets_and_refuse_a_bare_string():
    assert Criteria(categories={"food", "education"}).categories == frozenset({"food", "education"})
    with pytest.raises(TypeError):
        Criteria(categories="food")


def test_cap_per_need_counts_what_the_pledge_already_gave():
    n = need(1, 500, target=1_000, already={7: 70})
    assert pool(7, 10_000, cap_won=100).cap_for(n) == 30
    assert pool(8, 10_000, cap_won=100).cap_for(n) == 100  # another pledge gave nothing yet
    assert pool(7, 10_000, cap_percent=15).cap_for(n) == 80  # 15% of the target, not the gap
    assert pool(7, 10_000, cap_won=50).cap_for(n) == 0  # already past its cap
    assert pool(7, 10_000).cap_for(n) == 500  # uncapped: the gap
    assert pool(7, 10_000, categories={"education"}).cap_for(n) == 0  # criteria refuse


def test_percent_cap_rounds_down_to_whole_won():
    assert pool(1, 10**6, cap_percent=33).cap_for(need(1, 1_001, target=1_001)) == 330


@pytest.mark.parametrize(
    "bad",
    [
        lambda: need(1, -1),
        lambda: need(1, 20, target=10),
        lambda: pool(1, -5),
        lambda: pool(1, 5, cap_percent=0),
        lambda: pool(1, 5, cap_percent=101),
        lambda: pool(1, 5, cap_won=-1),
    ],
)
def test_invalid_snapshots_are_refused(bad):
    with pytest.raises(ValueError):
        bad()


def test_money_is_never_a_float():
    with pytest.raises(TypeError):
        need(1, 10.0)
    with pytest.raises(TypeError):
        pool(1, 10.5)


def test_urgency_weight_doubles_over_the_last_thirty_days():
    assert urgency_weight(need(1, 1, days=90), TODAY) == 30
    assert urgency_weight(need(1, 1, days=30), TODAY) == 30
    assert urgency_weight(need(1, 1, days=15), TODAY) == 45
    assert urgency_weight(need(1, 1, days=1), TODAY) == 59
    assert urgency_weight(need(1, 1, days=0), TODAY) == 60


# --- goal 1: complete needs -------------------------------------------------------------------


def test_completes_one_need_rather_than_half_funding_two():
    result = propose([need(1, 100), need(2, 100, days=41)], [pool(10, 150)], TODAY)
    assert result.fully_funded == (1,)
    assert given(result) == {(10, 1): 100, (10, 2): 50}
    [done, part] = result.allocations
    assert done.completes and done.reason_code == REASON_COMPLETES
    assert not part.completes and part.reason_code == REASON_PARTIAL


def test_two_small_needs_before_one_large():
    result = propose([need(1, 100), need(2, 50), need(3, 50)], [pool(10, 100)], TODAY)
    assert result.fully_funded == (2, 3)


def test_the_urgent_need_weighs_more():
    urgent, later = need(1, 100, days=2), need(2, 90, days=60)
    result = propose([urgent, later], [pool(10, 100)], TODAY)
    assert result.fully_funded == (1,)
    assert result.urgency_score == urgency_weight(urgent, TODAY) == 58


def test_exchanges_one_need_for_two_that_score_more():
    # Density puts need 1 (110 won, 55 points) first; what is left fits neither 2 nor 3,
    # which together score 60.
    needs = [need(1, 110, days=5, dong="a"), need(2, 100, dong="b"), need(3, 100, dong="c")]
    result = propose(needs, [pool(10, 200)], TODAY)
    assert result.fully_funded == (2, 3)
    assert result.urgency_score == 60


def test_scarce_money_is_spent_first():
    needs = [need(1, 100, dong="yang"), need(2, 100, dong="pungam", days=41)]
    pools = [pool(10, 100), pool(11, 100, dongs={"yang"})]  # 10 is open to any need
    result = propose(needs, pools, TODAY)
    assert given(result) == {(11, 1): 100, (10, 2): 100}


def test_reroutes_money_so_that_one_more_need_completes():
    # Need 1 comes first and spends pledge 10 (it fits 2 open needs; pledge 11 fits 3). Need 2
    # can only use pledge 10, so the engine moves need 1 onto pledge 11 and completes both.
    needs = [
        need(1, 100, category="medical", dong="yang", days=10),
        need(2, 100, category="medical", dong="pungam", days=20),
        need(3, 10**9, target=10**9, category="food", dong="yang"),
        need(4, 10**9, target=10**9, category="food", dong="yang"),
    ]
    pools = [pool(10, 100, categories={"medical"}), pool(11, 100, dongs={"yang"})]
    result = propose(needs, pools, TODAY)
    assert result.fully_funded == (1, 2)
    assert given(result) == {(11, 1): 100, (10, 2): 100}


def test_criteria_and_caps_are_never_broken_even_to_complete_a_need():
    needs = [need(1, 100, target=200, category="food")]
    pools = [pool(10, 1_000, cap_percent=25), pool(11, 1_000, cap_won=30), pool(12, 1_000, categories={"education"})]
    result = propose(needs, pools, TODAY)
    assert result.fully_funded == ()
    assert given(result) == {(10, 1): 50, (11, 1): 30}


def test_caps_spread_one_pledge_over_many_needs():
    needs = [need(i, 100) for i in range(1, 6)]
    result = propose(needs, [pool(10, 250, cap_won=50), pool(11, 250, cap_percent=50)], TODAY)
    assert result.fully_funded == (1, 2, 3, 4, 5)
    assert all(a.amount == 50 for a in result.allocations)


def test_needs_past_deadline_and_pledges_past_their_end_take_no_part():
    needs = [need(1, 100, days=-1), need(2, 100, days=0)]
    pools = [pool(10, 100, ends=TODAY - dt.timedelta(days=1)), pool(11, 100, ends=TODAY)]
    result = propose(needs, pools, TODAY)
    assert given(result) == {(11, 2): 100}
    assert result.allocations[0].reason_code == REASON_COMPLETES_URGENT


def test_nothing_to_do():
    assert propose([], [], TODAY).allocations == ()
    assert propose([need(1, 0, target=100)], [pool(10, 100)], TODAY).allocations == ()
    assert propose([need(1, 100)], [pool(10, 0)], TODAY).allocations == ()


def test_duplicate_ids_are_refused():
    with pytest.raises(ValueError, match="duplicate need"):
        propose([need(1, 10), need(1, 20)], [], TODAY)
    with pytest.raises(ValueError, match="duplicate pool"):
        propose([], [pool(1, 10), pool(1, 20)], TODAY)


# --- reasons ------------------------------------------------------------------------------------


def test_every_allocation_says_why_in_one_line():
    needs = [need(1, 100, days=3, category="medical", dong="yang"), need(2, 500, days=40)]
    pools = [pool(10, 60, categories={"medical"}, dongs={"yang"}), pool(11, 300)]
    result = propose(needs, pools, TODAY)
    reasons = {(a.pool_id, a.need_id): (a.reason, a.reason_code) for a in result.allocations}
    assert reasons[(10, 1)] == (
        "deadline in 3 days, in your chosen category and dong; completes the need",
        REASON_COMPLETES_URGENT,
    )
    assert reasons[(11, 1)][0] == "deadline in 3 days, open to any need; completes the need"
    assert reasons[(11, 2)][1] == REASON_PARTIAL
    assert reasons[(11, 2)][0].startswith("deadline in 40 days, open to any need; ")
    for a in result.allocations:
        assert "\n" not in a.reason and a.reason_code in REASON_CODES


# --- goal 3: fairness report ------------------------------------------------------------------


def test_fairness_report_flags_a_dong_left_behind():
    needs = [need(1, 100, dong="yang"), need(2, 100, dong="yang"), need(3, 1_000, dong="pungam")]
    result = propose(needs, [pool(10, 300)], TODAY)
    rows = {r.key: r for r in result.fairness.by_dong}
    assert (rows["yang"].open_needs, rows["yang"].funded_needs, rows["yang"].placed) == (2, 2, 200)
    assert (rows["pungam"].reachable_needs, rows["pungam"].funded_needs, rows["pungam"].placed) == (1, 0, 100)
    assert result.fairness.left_behind_dongs == ("pungam",)
    assert result.fairness.left_behind_groups == ()
    assert result.fairness.flagged


def test_a_dong_no_pledge_reaches_is_reported_but_not_flagged():
    needs = [need(1, 100, dong="yang"), need(2, 100, dong="pungam")]
    result = propose(needs, [pool(10, 300, dongs={"yang"})], TODAY)
    rows = {r.key: r for r in result.fairness.by_dong}
    assert rows["pungam"].reachable_needs == 0
    assert not result.fairness.flagged


def test_equal_needs_take_turns_across_dongs():
    needs = [need(i, 100, dong="yang") for i in range(1, 4)] + [need(i, 100, dong="pungam") for i in range(4, 7)]
    result = propose(needs, [pool(10, 200)], TODAY)
    assert result.fully_funded == (1, 4)


# --- determinism and idempotence ------------------------------------------------------------


def _instance():
    dongs = ["yang", "yang3", "nongseong1", "pungam", "geumho1"]
    cats = ["food", "medical", "education"]
    needs = [
        need(i, 100 + 37 * (i % 7), days=i % 45, category=cats[i % 3], dong=dongs[i % 5], group=("a", "b")[i % 2])
        for i in range(1, 40)
    ]
    pools = [
        pool(100 + j, 90 + 41 * (j % 5), categories=set(cats[: j % 3]), dongs=set(dongs[j % 4 : j % 4 + j % 2]),
             cap_won=(None, 120)[j % 2], arrival=j % 3)
        for j in range(25)
    ]
    return needs, pools


def test_same_input_in_any_order_gives_the_same_output():
    needs, pools = _instance()
    first = propose(needs, pools, TODAY)
    assert propose(list(reversed(needs)), list(reversed(pools)), TODAY) == first
    assert propose(needs, pools, TODAY) == first


def test_same_output_under_any_hash_seed():
    """Set iteration order changes with PYTHONHASHSEED; the result must not."""
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, "tests/unit")
        from test_matching import _instance, TODAY, propose
        print(repr(propose(*_instance(), TODAY)))
        """
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env={"PYTHONHASHSEED": seed, "PATH": ""},
            capture_output=True, text=True, check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


def test_second_run_on_the_applied_result_places_nothing():
    needs, pools = _instance()
    result = propose(needs, pools, TODAY)
    assert result.allocations
    needs_after, pools_after = apply_allocations(needs, pools, result.allocations)
    assert propose(needs_after, pools_after, TODAY).allocations == ()


def test_apply_allocations_refuses_what_does_not_fit():
    needs, pools = [need(1, 100)], [pool(10, 100)]
    result = propose(needs, pools, TODAY)
    with pytest.raises(ValueError):
        apply_allocations(needs, pools, result.allocations * 2)


# --- the district's pooled fund ---------------------------------------------------------------

def test_the_district_fund_takes_any_need_without_a_cap_and_goes_after_a_donors_own_pledge():
    from kindcity.domain.matching import DISTRICT_POOL_ID, district_pool

    today = dt.date(2026, 5, 1)
    need = NeedSnapshot(1, 100_000, 100_000, today + dt.timedelta(days=3), "food", "yang", "elderly")
    donor = PoolSnapshot(7, 60_000, Criteria())
    result = propose([need], [district_pool(500_000), donor], today)
    # the donor's own money is spent in full; the fund adds only what completes the need
    assert sorted((a.pool_id, a.amount) for a in result.allocations) == [(DISTRICT_POOL_ID, 40_000), (7, 60_000)]
    assert result.fully_funded == (1,)


def test_the_fund_spends_first_in_first_out_and_never_more_than_it_holds():
    from kindcity.domain.matching import attribute

    assert attribute([(3, 50_000), (9, 20_000)], 60_000) == ((3, 50_000), (9, 10_000))
    assert attribute([(3, 50_000)], 0) == ()
    with pytest.raises(ValueError):
        attribute([(3, 50_000), (9, 20_000)], 70_001)
