"""Properties of the matching engine on random inputs (hypothesis), and its distance to the exact
optimum of goal 1 on tiny instances (brute force: every subset of needs, each checked with a
max-flow written here, independently of the engine).
"""
from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kindcity.domain.matching import (
    REASON_CODES,
    Criteria,
    NeedSnapshot,
    PoolSnapshot,
    apply_allocations,
    propose,
    urgency_weight,
)

TODAY = dt.date(2026, 12, 1)
CATEGORIES = ("food", "medical", "education")
DONGS = ("yang", "pungam", "geumho1")
GROUPS = ("elderly", "children")

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def instances(draw, max_needs: int = 8, max_pools: int = 6):
    pool_ids = list(range(100, 100 + draw(st.integers(0, max_pools))))
    needs = []
    for i in range(draw(st.integers(0, max_needs))):
        target = draw(st.integers(1, 20)) * 10
        already = {}
        if pool_ids:
            already = draw(st.dictionaries(st.sampled_from(pool_ids), st.integers(0, 60), max_size=2))
        needs.append(
            NeedSnapshot(
                id=i + 1,
                gap=draw(st.one_of(st.just(target), st.integers(0, target))),
                target=target,
                deadline=TODAY + dt.timedelta(days=draw(st.integers(-3, 45))),
                category=draw(st.sampled_from(CATEGORIES)),
                dong=draw(st.sampled_from(DONGS)),
                group=draw(st.sampled_from(GROUPS)),
                already_from=already,
            )
        )
    pools = []
    for pool_id in pool_ids:
        pools.append(
            PoolSnapshot(
                id=pool_id,
                remaining=draw(st.integers(0, 40)) * 10,
                criteria=Criteria(
                    draw(st.frozensets(st.sampled_from(CATEGORIES), max_size=2)),
                    draw(st.frozensets(st.sampled_from(DONGS), max_size=2)),
                    draw(st.frozensets(st.sampled_from(GROUPS), max_size=1)),
                ),
                cap_won=draw(st.one_of(st.none(), st.integers(0, 120))),
                cap_percent=draw(st.one_of(st.none(), st.integers(1, 100))),
                arrival=draw(st.integers(0, 3)),
                ends=draw(st.sampled_from([None, TODAY - dt.timedelta(days=1), TODAY, TODAY + dt.timedelta(days=9)])),
            )
        )
    return needs, pools


# --- an independent oracle -------------------------------------------------------------------


def is_open(need: NeedSnapshot) -> bool:
    return need.gap > 0 and need.deadline >= TODAY


def is_usable(pool: PoolSnapshot) -> bool:
    return pool.remaining > 0 and (pool.ends is None or TODAY <= pool.ends)


def room(pool: PoolSnapshot, need: NeedSnapshot) -> int:
    """What the pledge may still give the need under its criteria and cap (not its money)."""
    if not (
        (not pool.criteria.categories or need.category in pool.criteria.categories)
        and (not pool.criteria.dongs or need.dong in pool.criteria.dongs)
        and (not pool.criteria.groups or need.group in pool.criteria.groups)
    ):
        return 0
    limit = need.gap
    before = need.already_from.get(pool.id, 0)
    if pool.cap_won is not None:
        limit = min(limit, pool.cap_won - before)
    if pool.cap_percent is not None:
        limit = min(limit, need.target * pool.cap_percent // 100 - before)
    return max(0, limit)


def max_flow(capacity: list[list[int]], source: int, sink: int) -> int:
    """Edmonds-Karp on a dense matrix (tiny graphs only)."""
    n = len(capacity)
    total = 0
    while True:
        parent = [-1] * n
        parent[source] = source
        queue = [source]
        for u in queue:
            for v in range(n):
                if parent[v] == -1 and capacity[u][v] > 0:
                    parent[v] = u
                    queue.append(v)
        if parent[sink] == -1:
            return total
        path, v = [], sink
        while v != source:
            path.append(v)
            v = parent[v]
        bottleneck = min(capacity[parent[v]][v] for v in path)
        for v in path:
            capacity[parent[v]][v] -= bottleneck
            capacity[v][parent[v]] += bottleneck
        total += bottleneck


def can_complete_together(subset, pools) -> bool:
    pools = [p for p in pools if is_usable(p)]
    size = 2 + len(pools) + len(subset)
    source, sink = 0, size - 1
    capacity = [[0] * size for _ in range(size)]
    for j, p in enumerate(pools):
        capacity[source][1 + j] = p.remaining
        for k, n in enumerate(subset):
            capacity[1 + j][1 + len(pools) + k] = room(p, n)
    for k, n in enumerate(subset):
        capacity[1 + len(pools) + k][sink] = n.gap
    return max_flow(capacity, source, sink) == sum(n.gap for n in subset)


def best_score(needs, pools) -> int:
    """The exact optimum of goal 1: the best urgency score of any set completable together."""
    candidates = [n for n in needs if is_open(n)]
    best = 0
    for size in range(len(candidates) + 1):
        for subset in itertools.combinations(candidates, size):
            score = sum(urgency_weight(n, TODAY) for n in subset)
            if score > best and can_complete_together(subset, pools):
                best = score
    return best


def assert_rules_hold(needs, pools, result) -> None:
    need_by = {n.id: n for n in needs}
    pool_by = {p.id: p for p in pools}
    to_need: dict[int, int] = defaultdict(int)
    from_pool: dict[int, int] = defaultdict(int)
    pairs = set()
    for a in result.allocations:
        n, p = need_by[a.need_id], pool_by[a.pool_id]
        assert type(a.amount) is int and a.amount > 0
        assert is_open(n) and is_usable(p)
        assert a.amount <= room(p, n), "criteria or cap per need broken"
        assert (a.pool_id, a.need_id) not in pairs
        pairs.add((a.pool_id, a.need_id))
        assert a.reason and "\n" not in a.reason and a.reason_code in REASON_CODES
        to_need[a.need_id] += a.amount
        from_pool[a.pool_id] += a.amount
    for need_id, amount in to_need.items():
        assert amount <= need_by[need_id].gap, "a need got more than its gap"
    for pool_id, amount in from_pool.items():
        assert amount <= pool_by[pool_id].remaining, "a pledge gave more than it has"
    completed = {i for i, amount in to_need.items() if amount == need_by[i].gap}
    assert set(result.fully_funded) == completed
    assert list(result.fully_funded) == sorted(result.fully_funded)
    for a in result.allocations:
        assert a.completes == (a.need_id in completed)
    assert result.urgency_score == sum(urgency_weight(need_by[i], TODAY) for i in completed)
    assert result.total_placed() == sum(to_need.values())


# --- properties -------------------------------------------------------------------------------


@FAST
@given(instances())
def test_rules_always_hold(instance):
    needs, pools = instance
    assert_rules_hold(needs, pools, propose(needs, pools, TODAY))


@FAST
@given(instances(), st.randoms(use_true_random=False))
def test_same_input_in_any_order_gives_the_same_output(instance, rnd):
    needs, pools = instance
    shuffled_needs, shuffled_pools = list(needs), list(pools)
    rnd.shuffle(shuffled_needs)
    rnd.shuffle(shuffled_pools)
    assert propose(shuffled_needs, shuffled_pools, TODAY) == propose(needs, pools, TODAY)


@FAST
@given(instances())
def test_second_run_places_nothing(instance):
    needs, pools = instance
    result = propose(needs, pools, TODAY)
    needs_after, pools_after = apply_allocations(needs, pools, result.allocations)
    again = propose(needs_after, pools_after, TODAY)
    assert again.allocations == ()
    assert again.fully_funded == ()


@FAST
@given(instances())
def test_no_leftover_money_fits_a_gap(instance):
    """Goal 2 is maximal: afterwards, every pledge that fits an open gap is empty or capped."""
    needs, pools = instance
    needs_after, pools_after = apply_allocations(needs, pools, propose(needs, pools, TODAY).allocations)
    for n in needs_after:
        if is_open(n):
            for p in pools_after:
                assert not (is_usable(p) and room(p, n) > 0), (n, p)


@FAST
@given(instances(max_needs=6, max_pools=4))
def test_never_beats_the_optimum_and_leaves_out_no_need_that_fits(instance):
    """The completed set is feasible (so at most the optimum), and maximal: no left-out need
    could be completed together with it (checked by max-flow, which may reroute anything)."""
    needs, pools = instance
    result = propose(needs, pools, TODAY)
    assert result.urgency_score <= best_score(needs, pools)
    completed = [n for n in needs if n.id in set(result.fully_funded)]
    assert can_complete_together(completed, pools)
    for n in needs:
        if is_open(n) and n.id not in set(result.fully_funded):
            assert not can_complete_together(completed + [n], pools), f"need {n.id} fits too"


def test_reaches_the_exact_optimum_on_tiny_instances():
    """Goal 1 against brute force on 300 fixed random instances (up to 7 needs, 5 pledges).

    The engine is a heuristic, so this is a measured quality bar, not a proof: at the time of
    writing it is optimal on all of them (and on 2,000 more tried while building it).
    """
    rng = random.Random(20261201)
    misses = []
    for k in range(300):
        needs, pools = _tiny(rng)
        engine = propose(needs, pools, TODAY).urgency_score
        best = best_score(needs, pools)
        assert engine <= best
        if engine < best:
            misses.append((k, engine, best))
    assert len(misses) <= 3, misses  # at least 99% optimal
    assert all(engine * 10 >= best * 9 for _, engine, best in misses), misses  # never under 90%


def _tiny(rng: random.Random):
    needs = []
    for i in range(rng.randint(0, 7)):
        target = rng.choice([10, 20, 30, 40, 50, 60, 80, 100])
        needs.append(
            NeedSnapshot(
                i + 1,
                rng.choice([target, target, rng.randint(1, target)]),
                target,
                TODAY + dt.timedelta(days=rng.randint(-2, 40)),
                rng.choice(CATEGORIES),
                rng.choice(DONGS),
                rng.choice(GROUPS),
            )
        )
    pools = []
    for j in range(rng.randint(0, 5)):
        pick = lambda values: frozenset(v for v in values if rng.random() < 0.3)  # noqa: E731
        pools.append(
            PoolSnapshot(
                100 + j,
                rng.choice([0, 10, 20, 30, 50, 70, 100, 150]),
                Criteria(pick(CATEGORIES), pick(DONGS), pick(GROUPS)),
                cap_won=rng.choice([None, None, 10, 20, 40]),
                cap_percent=rng.choice([None, None, None, 50, 30]),
                arrival=rng.randint(0, 5),
            )
        )
    return needs, pools
