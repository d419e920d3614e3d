"""Goal 1, completing needs: the passes that decide which needs to complete, and the local search
that improves the best plan. Internal to the engine.

Goal 1 is a multiple knapsack with eligibility and per-pair caps: NP-hard, and the exact optimum
at 10,000 needs x 50,000 pledges is out of reach of a request-time function (``bench/matching.py``
computes it with a MILP where it can, to measure how close we are). So:

* **Which need next: the most urgency per won.** A pass tries needs in increasing order of
  ``gap / urgency_weight`` (the density rule for knapsack: with weights between 1 and 2, small
  urgent gaps first complete the most needs), ties by earlier deadline, then dongs and groups in
  turn, then id, and commits a need only when it can be completed (directly, or by rerouting:
  :mod:`.flow`); otherwise it moves on. Pure deadline order was measured too and never did better.
* **Shadow prices.** Then up to ``PRICE_PASSES`` passes re-rank needs by *priced* money: a pledge
  that ran dry in the last pass doubles its price, one with money left halves it, so needs that
  run on money nobody else can use move forward (a Lagrangian heuristic). The best pass wins.
* **Local search** on the best plan: exchanges such as "one large need out, two smaller ones in",
  kept only if the urgency score rises (see :func:`_local_search`).

The first (density) pass always runs; rerouting, price passes and local search stop once
``SEARCH_BUDGET`` is spent. Work is counted in pledges looked at and needs tried, never in
seconds, so the result never depends on the machine or its load.
"""
from __future__ import annotations

from collections.abc import Iterator
from math import lcm

from .flow import Flow, Problem
from .index import Index, Taken
from .snapshots import NeedSnapshot

# Search effort. Work = pledges looked at + needs tried: a count, so results are reproducible.
SEARCH_BUDGET = 400_000
"""Work of step 1 from its first pass on. The first (density) pass always tries every need
directly; rerouting, shadow-price passes and local search stop once this is spent."""

REROUTE_BUDGET = 40_000
"""Within one pass, rerouting stops after this much work (the rest of the pass is direct)."""

PRICE_PASSES = 6
"""At most this many shadow-price passes after the density pass."""

_PRICE_START = 1 << 10
_PRICE_MAX = 1 << 30


def _complete_pass(index: Index, problem: Problem, order: list[int], stop_at: int) -> Flow:
    """One pass of step 1 along ``order``: complete each need if its pledges can, directly or
    by rerouting (rerouting only until ``REROUTE_BUDGET`` or ``stop_at``, whichever first)."""
    flow = Flow(index, problem)
    reroute_until = min(stop_at, index.visits + REROUTE_BUDGET)
    for i in order:
        index.visits += 1
        if not flow.try_direct(i) and index.visits < reroute_until:
            flow.try_rerouted(i, reroute_until)
    flow.journal.clear()  # a pass is never undone
    return flow


def _ranked(problem: Problem, cost: list[int], candidates: list[int]) -> list[int]:
    """Candidates by cost per urgency point, least first (exact, in integers); ties by
    deadline, then dongs and groups taking turns, then id."""
    weights, needs = problem.weights, problem.needs
    scale = 1
    for w in {weights[i] for i in candidates}:
        scale = lcm(scale, w)
    return fair_turns(
        needs, candidates, {i: (cost[i] * (scale // weights[i]), needs[i].deadline) for i in candidates}
    )


def fair_turns(needs: list[NeedSnapshot], candidates: list[int], key: dict[int, tuple]) -> list[int]:
    """``candidates`` sorted by ``key``; among equal keys, dongs then groups take turns."""
    ordered = sorted(candidates, key=lambda i: (key[i], needs[i].id))
    result: list[int] = []
    start = 0
    while start < len(ordered):
        end = start + 1
        while end < len(ordered) and key[ordered[end]] == key[ordered[start]]:
            end += 1
        if end - start == 1:
            result.append(ordered[start])
        else:
            turn_in_dong: dict[str, int] = {}
            turn_in_group: dict[str, int] = {}
            ranked = []
            for i in ordered[start:end]:  # by id within the tie
                need = needs[i]
                td = turn_in_dong.get(need.dong, 0)
                tg = turn_in_group.get(need.group, 0)
                turn_in_dong[need.dong] = td + 1
                turn_in_group[need.group] = tg + 1
                ranked.append((td, tg, need.dong, need.group, need.id, i))
            ranked.sort()
            result.extend(r[-1] for r in ranked)
        start = end
    return result


def complete_needs(index: Index, problem: Problem) -> Flow:
    """Goal 1: the density pass, shadow-price passes, then local search on the best plan."""
    needs = problem.needs
    start = index.save()
    # What each need would draw from untouched pledges. A need that could not be completed
    # even then takes no part in step 1.
    patterns: dict[int, Taken] = {}
    for i, need in enumerate(needs):
        if index.fits(problem.buckets[i], need.gap):
            taken, missing = index.draw(need, problem.buckets[i], need.gap)
            if not missing:
                patterns[i] = taken
    candidates = sorted(patterns)
    index.restore(start)
    density = _ranked(problem, [need.gap for need in needs], candidates)
    # SEARCH_BUDGET counts from here. The density pass always tries every need directly;
    # its rerouting, the price passes and the local search stop when the budget is spent.
    stop_at = index.visits + SEARCH_BUDGET
    best = _complete_pass(index, problem, density, stop_at)
    best_money = index.save()
    best_order = density
    price = [_PRICE_START] * len(index.remaining)
    seen = {tuple(density)}
    for _ in range(PRICE_PASSES):
        if index.visits >= stop_at:
            break
        price = [
            min(_PRICE_MAX, q * 2) if not left else max(1, q // 2)
            for q, left in zip(price, index.remaining)
        ]
        cost = [0] * len(needs)
        for i in candidates:
            cost[i] = sum(amount * price[p] for p, amount in patterns[i])
        order = _ranked(problem, cost, candidates)
        if tuple(order) in seen:
            break
        seen.add(tuple(order))
        index.restore(start)
        latest = _complete_pass(index, problem, order, stop_at)
        if latest.key() > best.key():
            best, best_money, best_order = latest, index.save(), order
    index.restore(best_money)
    _local_search(best, best_order, stop_at)
    # Last, without budget (cheap: a bucket total or a draw each): any need that its pledges
    # can now complete directly is completed. After this no left-out need can be completed
    # directly, and step 2 only takes money away, so step 2 completes nothing.
    for i in best_order:
        if i not in best.completed:
            best.try_direct(i)
    best.journal.clear()
    return best


def _local_search(flow: Flow, order: list[int], stop_at: int) -> None:
    """Exchange moves on the best plan: take one completed need out, put left-out needs in,
    and keep the change only if the plan gets better (score, then needs).

    Needs to take out are tried least urgency per won first. Needs that may go in are the
    left-out needs that can reach the money it frees (see ``moves``). Phase 1 puts them in
    greedily in ``order``; if no move helps, phase 2 tries each of them *first*, then the rest
    greedily (a denser need put in first can block a better one); if none helps either,
    phase 3 takes two needs out at once, then puts in greedily. A move that helps is kept
    and the search starts over; a move that does not is undone exactly. After every kept move
    every left-out need is tried again, so (budget allowing) no need that fits is left out.
    Stops when no move helps or the work budget is spent.
    """
    index, problem = flow.index, flow.problem
    weights, needs, buckets = problem.weights, problem.needs, problem.buckets
    position = {i: k for k, i in enumerate(order)}

    def put_in(candidates: list[int]) -> None:
        for i in candidates:
            if index.visits >= stop_at:
                return
            index.visits += 1
            if i in flow.completed or needs[i].gap > flow.free:
                continue
            if not flow.try_direct(i):
                flow.try_rerouted(i, stop_at)

    def improves(out: int | tuple[int, int], first: int | None, candidates: list[int]) -> bool:
        before = flow.key()[:2]  # score, then needs; more won alone would only drift
        mark = flow.mark()
        for taken_out in (out,) if isinstance(out, int) else out:
            flow.remove(taken_out)
        if first is not None:
            put_in([first])
            if first not in flow.completed:
                flow.rollback(mark)
                return False
        put_in(candidates)
        if flow.key()[:2] > before:
            flow.journal.clear()
            put_in([i for i in order if i not in flow.completed])
            flow.journal.clear()
            return True
        flow.rollback(mark)
        return False

    def moves() -> Iterator[tuple[int, list[int]]]:
        """(need to take out, needs that may go in), computed lazily (the work counts).

        May go in: a left-out need that fits a pledge the need taken out frees, or a pledge
        that gives to a completed need which could move onto the freed money (one step of
        rerouting; longer chains are found when the need is put in, not here).
        """
        left_out = [i for i in order if i not in flow.completed]
        outs = sorted(flow.completed, key=lambda i: (-needs[i].gap * 60 // weights[i], needs[i].id))
        users_of: dict[int, list[int]] = {}  # bucket -> completed needs that draw from it
        for j in flow.completed:
            for b in buckets[j]:
                users_of.setdefault(b, []).append(j)
        index.visits += 8 * len(flow.completed)
        hop: dict[int, set[int]] = {}  # bucket -> buckets of the pledges its users draw on
        for out in outs:
            if index.visits >= stop_at:
                return
            freed = {b for p in flow.given[out] for b, _ in index.slots[p]}
            reach = set(freed)
            for b in freed:
                if b not in hop:
                    found: set[int] = set()
                    for j in users_of.get(b, ()):
                        for p in flow.given[j]:
                            found.update(bb for bb, _ in index.slots[p])
                            index.visits += 1
                    hop[b] = found
                reach |= hop[b]
            index.visits += len(left_out)
            movable = [i for i in left_out if not reach.isdisjoint(buckets[i])]
            if movable:
                yield out, movable

    improved = True
    while improved and index.visits < stop_at:
        improved = False
        for out, movable in moves():  # phase 1
            if index.visits >= stop_at:
                return
            if improves(out, None, movable):
                improved = True
                break
        if improved:
            continue
        for out, movable in moves():  # phase 2
            for first in movable[1:]:
                if index.visits >= stop_at:
                    return
                if improves(out, first, movable):
                    improved = True
                    break
            if improved or index.visits >= stop_at:
                break
        if improved:
            continue
        single = list(moves())  # phase 3: two needs out
        for x, (out, movable) in enumerate(single):
            for other, more in single[x + 1 :]:
                if index.visits >= stop_at:
                    return
                index.visits += len(movable) + len(more)
                merged = sorted(set(movable) | set(more), key=position.__getitem__)
                if improves((out, other), None, merged):
                    improved = True
                    break
            if improved:
                break
