"""One run of the engine, :func:`propose`: step 1 completes needs (:mod:`.search`), step 2 places
what is left partially, nearest deadline first; and :func:`apply_allocations`, the snapshots once a
run's result is written.

Idempotence: step 2 is maximal: after it, every pledge that fits a need with a gap left is either
empty or at its cap for that need. Apply the result and run again: no money fits any gap, so
nothing is placed. (Step 2 never completes a need either: step 1 ends by completing every need its
pledges can still complete directly, and step 2 only takes money away.)
"""
from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .fairness import FairnessReport, fairness_report
from .flow import Problem
from .index import Cell, Index
from .search import complete_needs, fair_turns
from .snapshots import (REASON_COMPLETES, REASON_COMPLETES_URGENT, REASON_PARTIAL, Allocation, NeedSnapshot,
                        PoolSnapshot, check_unique)
from .urgency import URGENT_DAYS, days_left, urgency_weight


@dataclass(frozen=True)
class MatchResult:
    allocations: tuple[Allocation, ...]  # in the order they were decided
    fully_funded: tuple[int, ...]  # ids of the needs this run completes, ascending
    fairness: FairnessReport
    urgency_score: int = 0  # sum of urgency_weight over fully_funded (goal 1's objective)

    def total_placed(self) -> int:
        return sum(a.amount for a in self.allocations)


def _deadline_words(days: int) -> str:
    if days <= 0:
        return "deadline today"
    if days == 1:
        return "deadline tomorrow"
    return f"deadline in {days} days"


def propose(
    needs: Sequence[NeedSnapshot],
    pools: Sequence[PoolSnapshot],
    today: datetime.date,
) -> MatchResult:
    """Propose allocations of pooled pledges to open needs (the policy: the package's docstring).

    Allocations come in the order they were decided: completions in the order the needs were
    completed, then partial placements, nearest deadline first; within one need, by pool id.
    Raises ValueError on duplicate ids.
    """
    check_unique(needs, "need")
    check_unique(pools, "pool")
    open_needs = sorted((n for n in needs if n.gap > 0 and n.deadline >= today), key=lambda n: n.id)
    usable = sorted((p for p in pools if p.remaining > 0 and p.open_on(today)), key=lambda p: p.id)
    index = Index(usable, open_needs)
    cell_buckets: dict[Cell, tuple[int, ...]] = {}
    buckets = []
    for n in open_needs:
        cell = (n.category, n.dong, n.group)
        if cell not in cell_buckets:
            cell_buckets[cell] = index.cell_buckets(cell)
        buckets.append(cell_buckets[cell])
    problem = Problem(open_needs, [urgency_weight(n, today) for n in open_needs], buckets)
    reachable = [index.fits(b, 1) for b in buckets]

    flow = complete_needs(index, problem)  # goal 1

    allocations: list[Allocation] = []
    placed_on: dict[int, int] = {}
    pool_ids, pool_words = index.pool_ids, index.words
    for i in flow.completed:
        need = open_needs[i]
        days = days_left(need, today)
        code = REASON_COMPLETES_URGENT if days <= URGENT_DAYS else REASON_COMPLETES
        when = _deadline_words(days)
        for p, amount in sorted(flow.given[i].items(), key=lambda pa: pool_ids[pa[0]]):
            text = f"{when}, {pool_words[p]}; completes the need"
            allocations.append(Allocation(pool_ids[p], need.id, amount, text, code, True))
        placed_on[i] = need.gap

    # Step 2 (goal 2): what is left goes, partially, to the nearest deadlines.
    funded = set(flow.completed)
    nearest_first = fair_turns(
        open_needs, list(range(len(open_needs))), {i: (n.deadline, n.gap) for i, n in enumerate(open_needs)}
    )
    for i in nearest_first:
        if i in funded or not index.fits(buckets[i], 1):
            continue
        need = open_needs[i]
        taken, missing = index.draw(need, buckets[i], need.gap)
        if not taken:
            continue
        for p, amount in taken:
            index.spend(p, amount)
        completes = not missing  # cannot happen (see the module docstring); stays honest
        if completes:
            funded.add(i)
        days = days_left(need, today)
        code = REASON_COMPLETES if completes else REASON_PARTIAL
        outcome = (
            "completes the need"
            if completes
            else "nothing could complete a need it fits, so it brings this one closer"
        )
        when = _deadline_words(days)
        for p, amount in sorted(taken, key=lambda pa: pool_ids[pa[0]]):
            text = f"{when}, {pool_words[p]}; {outcome}"
            allocations.append(Allocation(pool_ids[p], need.id, amount, text, code, completes))
        placed_on[i] = need.gap - missing

    return MatchResult(
        tuple(allocations),
        tuple(sorted(open_needs[i].id for i in funded)),
        fairness_report(open_needs, reachable, funded, placed_on),
        sum(problem.weights[i] for i in funded),
    )


def apply_allocations(
    needs: Sequence[NeedSnapshot],
    pools: Sequence[PoolSnapshot],
    allocations: Sequence[Allocation],
) -> tuple[tuple[NeedSnapshot, ...], tuple[PoolSnapshot, ...]]:
    """The snapshots as they are once ``allocations`` are written: gaps and remaining money
    reduced, ``already_from`` increased. Raises ValueError if an allocation does not fit."""
    gap = {n.id: n.gap for n in needs}
    given = {n.id: dict(n.already_from) for n in needs}
    left = {p.id: p.remaining for p in pools}
    for a in allocations:
        if a.need_id not in gap or a.pool_id not in left:
            raise ValueError(f"allocation to unknown need or pool: {a}")
        gap[a.need_id] -= a.amount
        left[a.pool_id] -= a.amount
        if gap[a.need_id] < 0 or left[a.pool_id] < 0:
            raise ValueError(f"allocation overdraws a need or a pool: {a}")
        given[a.need_id][a.pool_id] = given[a.need_id].get(a.pool_id, 0) + a.amount
    return (
        tuple(replace(n, gap=gap[n.id], already_from=given[n.id]) for n in needs),
        tuple(replace(p, remaining=left[p.id]) for p in pools),
    )
