"""The matching engine: spreads pooled pledges (나눔 기금) over open needs, and applies match offers.

Pure: standard library only, no I/O, no framework. The web layer builds the snapshots, calls
:func:`propose`, and writes the allocations it returns; everything here is plain values in and
plain values out, with money as ``int`` won.

The policy (this is the page donors read in ``docs/matching.md``, here where it is decided)
==========================================================================================

The engine aims for three things, strictly in this order:

1. **Complete needs.** As many needs as possible are funded *completely* before their
   deadline, the most urgent weighing most. A half-funded trip takes no one to Seoul, so in this
   first step money is only ever committed to a need when it completes it.
   "Weighing most" is :func:`urgency_weight`: a need counts 1 (30 points) when its deadline is
   30 days away or more, rising linearly to 2 (60 points) on the deadline day.
2. **Place money.** Money that cannot complete any need is then placed partially, nearest
   deadline first, so that it is at work instead of waiting. Partial money never displaces a
   completion: step 2 only runs on what step 1 left.
3. **Leave no dong or group behind.** Among needs that are equally good for step 1, the engine
   takes dongs (then beneficiary groups) in turn instead of one dong's needs first, and every
   run reports, per dong and per group, how many needs were open, reachable and funded, and
   flags any dong or group where nothing was funded while others were (:class:`FairnessReport`).

It never breaks a pledge's criteria (categories, dongs, groups; an empty set means any) or its
cap per need (in won, or percent of the need's *target*, counting what the pledge already gave
that need), never gives a need more than its gap or a pledge more than its remaining received
money, ignores needs past their deadline and pledges past their end date, and gives the same
output for the same input (in any order, under any hash seed). Running it on its own result
places nothing new: see "Idempotence" below.

How it decides (and why this algorithm)
=======================================

Goal 1 is a multiple-knapsack problem with eligibility and per-pair caps: NP-hard, and the exact
optimum at 10,000 needs x 50,000 pledges is out of reach of a request-time Python function
(``bench/matching.py`` computes it with a MILP where it can, to measure how close we are). The
engine is a deterministic greedy with three ideas that carry almost all of the optimum:

* **Which need next: the most urgency per won.** Needs are tried in decreasing order of
  ``urgency_weight / gap`` (the classic density rule for knapsack: with weights between 1 and 2,
  small urgent gaps first completes the most needs), ties by earlier deadline, then dongs and
  groups in turn, then id. A need is committed only if it can be completed *now*; otherwise
  it is skipped (not blocked on), so the smaller needs behind it still get their chance.
  The same pass is also run in pure deadline order (earliest deadline, then smaller gap), and
  the plan with the higher urgency score is kept (density wins ties). Density alone can lose
  half the score on adversarial inputs (one small need blocking one large urgent need); taking
  the better of the two plans removes the worst cases for the price of a second pass.
* **Which money first: the scarcest.** For a need, pledges are spent in order of how many open
  needs their criteria admit, fewest first (a pledge for "medical transport in 양동" before a
  pledge open to anything), then by arrival (earlier donors' money works first), then id. Money
  that only fits a few needs is used where it fits; flexible money stays for the needs nothing
  else can reach.
* **Rerouting before giving up.** If a need cannot be completed because a pledge it could use
  was spent on a need completed earlier in this run, and that earlier need can take the same
  amount from a pledge with money still free, the engine moves it (one step of an augmenting
  path) and completes the new need too. Needs completed stay completed.

Scale: pledges are indexed by criteria buckets: a pledge for categories {a, b} in any dong for
group g sits in buckets (a, *, g) and (b, *, g); a need in cell (c, d, g) looks at exactly the
eight buckets (c|*, d|*, g|*) and finds each eligible pledge exactly once, never scanning the
others. Each bucket keeps its unspent total, so a need that cannot be completed is usually
rejected in eight additions. The largest benchmark (10,000 x 50,000) runs in well under 2 s.

Idempotence: step 2 is maximal: after it, for every need with a gap left, every pledge that fits
it is either empty or at its cap for that need. Feed the result back (gaps reduced, remaining
reduced, ``already_from`` updated: :func:`apply_allocations`) and a re-run finds no money that
fits any gap, so it places nothing. Step 2 also never completes a need that step 1 skipped:
money only decreases during a run, so a need that could not be completed when step 1 tried it
cannot be completed later.

Match offers (매칭 기부) are not pooled money: they act when a resident's gift lands, see
:func:`match_amount` and :func:`match_gift`.
"""
from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import product
from math import lcm
from types import MappingProxyType
from typing import Protocol

__all__ = [
    "URGENCY_HORIZON_DAYS",
    "URGENCY_POINTS_BASE",
    "URGENT_DAYS",
    "REASON_CODES",
    "Criteria",
    "NeedSnapshot",
    "PoolSnapshot",
    "Allocation",
    "FairnessRow",
    "FairnessReport",
    "MatchResult",
    "MatchOffer",
    "MatchedGift",
    "urgency_weight",
    "days_left",
    "propose",
    "apply_allocations",
    "match_amount",
    "match_gift",
]

# --------------------------------------------------------------------------------------------
# Policy constants
# --------------------------------------------------------------------------------------------

URGENCY_HORIZON_DAYS = 30
"""A need's urgency starts rising this many days before its deadline."""

URGENCY_POINTS_BASE = 30
"""Weight 1 in points. Points are integers so that scores compare exactly (no floats)."""

REROUTE = True

MAX_PASSES = 8
"""Step 1 tries at most this many orders of needs (see ``_step1``)."""

WORK_BUDGET = 1_500_000
"""Step 1 starts no new pass once it has looked at this many pledges (a count, not a clock)."""

REROUTE_BUDGET = 300_000
"""Rerouting may look at this many more pledges."""

PRICE_START = 1 << 10
PRICE_MAX = 1 << 30

URGENT_DAYS = 7
"""A completion this close to the deadline is reported as ``completes_urgent``."""

REASON_COMPLETES_URGENT = "completes_urgent"
REASON_COMPLETES = "completes"
REASON_COMPLETES_REROUTED = "completes_rerouted"
REASON_PARTIAL = "partial_best_effort"
REASON_CODES = frozenset(
    {REASON_COMPLETES_URGENT, REASON_COMPLETES, REASON_COMPLETES_REROUTED, REASON_PARTIAL}
)


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


class Placed(Protocol):
    """Anything with a category, a dong and a beneficiary group (a need, or a gift's need)."""

    category: str
    dong: str
    group: str


def _codes(values: object, name: str) -> frozenset[str]:
    if isinstance(values, str):
        raise TypeError(f"{name} must be a set of codes, not the string {values!r}")
    codes = frozenset(values)  # type: ignore[arg-type]
    for code in codes:
        if not isinstance(code, str) or not code:
            raise ValueError(f"{name} holds an invalid code: {code!r}")
    return codes


@dataclass(frozen=True)
class Criteria:
    """What a pledge will fund. Each empty set means "any"."""

    categories: frozenset[str] = frozenset()
    dongs: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", _codes(self.categories, "categories"))
        object.__setattr__(self, "dongs", _codes(self.dongs, "dongs"))
        object.__setattr__(self, "groups", _codes(self.groups, "groups"))

    def accepts(self, need: Placed) -> bool:
        return (
            (not self.categories or need.category in self.categories)
            and (not self.dongs or need.dong in self.dongs)
            and (not self.groups or need.group in self.groups)
        )

    def describe(self) -> str:
        """The donor's choice in words, as used in reasons: "your chosen category and dong"."""
        chosen = [
            word
            for word, values in (
                ("category", self.categories),
                ("dong", self.dongs),
                ("group", self.groups),
            )
            if values
        ]
        if not chosen:
            return "open to any need"
        if len(chosen) == 1:
            return f"in your chosen {chosen[0]}"
        return f"in your chosen {', '.join(chosen[:-1])} and {chosen[-1]}"


def _check_non_negative_int(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int number of won, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


@dataclass(frozen=True)
class NeedSnapshot:
    """An open need as the engine sees it."""

    id: int
    gap: int  # won still needed (target - committed)
    target: int  # won; percent caps are of the target
    deadline: datetime.date  # Korea-time calendar date
    category: str
    dong: str
    group: str
    # pooled pledge id -> won that pledge has already allocated to this need (caps count it)
    already_from: Mapping[int, int] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    def __post_init__(self) -> None:
        _check_non_negative_int(self.gap, "gap")
        _check_non_negative_int(self.target, "target")
        if self.gap > self.target:
            raise ValueError(f"need {self.id}: gap {self.gap} exceeds target {self.target}")
        given = dict(self.already_from)
        for pool_id, amount in given.items():
            _check_non_negative_int(amount, f"already_from[{pool_id}]")
        object.__setattr__(self, "already_from", MappingProxyType(given))


@dataclass(frozen=True)
class PoolSnapshot:
    """A pooled pledge's received money not yet allocated, and its rules."""

    id: int
    remaining: int  # received won not yet allocated
    criteria: Criteria = field(default_factory=Criteria)
    cap_won: int | None = None  # at most this many won per need
    cap_percent: int | None = None  # at most this percent (1..100) of a need's target per need
    arrival: int = 0  # earlier arrival is spent first, other things equal
    ends: datetime.date | None = None  # last day the engine may place this money

    def __post_init__(self) -> None:
        _check_non_negative_int(self.remaining, "remaining")
        if self.cap_won is not None:
            _check_non_negative_int(self.cap_won, "cap_won")
        if self.cap_percent is not None:
            _check_non_negative_int(self.cap_percent, "cap_percent")
            if not 1 <= self.cap_percent <= 100:
                raise ValueError(f"cap_percent must be 1..100, got {self.cap_percent}")

    def cap_for(self, need: NeedSnapshot) -> int:
        """The most this pledge may still add to ``need``, ignoring its own remaining money.

        0 if its criteria refuse the need; otherwise what is left under its cap per need after
        what it already gave this need (``need.already_from``), and never more than the gap.
        A percent cap is ``floor(target * percent / 100)``.
        """
        if not self.criteria.accepts(need):
            return 0
        room = need.gap
        given = need.already_from.get(self.id, 0)
        if self.cap_won is not None:
            room = min(room, self.cap_won - given)
        if self.cap_percent is not None:
            room = min(room, need.target * self.cap_percent // 100 - given)
        return max(0, room)

    def open_on(self, today: datetime.date) -> bool:
        return self.ends is None or today <= self.ends


@dataclass(frozen=True)
class Allocation:
    pool_id: int
    need_id: int
    amount: int
    reason: str  # one line a donor can read (English; the web layer translates)
    reason_code: str  # one of REASON_CODES
    completes: bool  # this run completes the need


@dataclass(frozen=True)
class FairnessRow:
    """One dong or one beneficiary group in a run."""

    key: str
    open_needs: int  # open, not past deadline, gap > 0
    reachable_needs: int  # ... and at least one pledge with money fits it
    funded_needs: int  # completed by this run
    placed: int  # won placed on its needs by this run


@dataclass(frozen=True)
class FairnessReport:
    by_dong: tuple[FairnessRow, ...]
    by_group: tuple[FairnessRow, ...]
    # reachable needs but nothing funded, while some other dong (group) got a need funded
    left_behind_dongs: tuple[str, ...]
    left_behind_groups: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        return bool(self.left_behind_dongs or self.left_behind_groups)


@dataclass(frozen=True)
class MatchResult:
    allocations: tuple[Allocation, ...]  # in the order they were decided
    fully_funded: tuple[int, ...]  # ids of the needs this run completes, ascending
    fairness: FairnessReport
    urgency_score: int = 0  # sum of urgency_weight over fully_funded (goal 1's objective)

    def total_placed(self) -> int:
        return sum(a.amount for a in self.allocations)


# --------------------------------------------------------------------------------------------
# Urgency
# --------------------------------------------------------------------------------------------


def days_left(need: NeedSnapshot, today: datetime.date) -> int:
    return (need.deadline - today).days


def urgency_weight(need: NeedSnapshot, today: datetime.date) -> int:
    """Goal 1's weight of completing ``need`` today, in points (30 = weight 1, 60 = weight 2).

    ``1 + max(0, 30 - days_left) / 30``, times 30 so that it is an exact integer: 30 points a
    month or more before the deadline, 60 on the deadline day. The benchmark's MILP maximises
    the same points.
    """
    horizon = URGENCY_HORIZON_DAYS
    closeness = max(0, horizon - max(0, days_left(need, today)))
    return URGENCY_POINTS_BASE + URGENCY_POINTS_BASE * closeness // horizon


# --------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------

_Key = tuple  # (category | None, dong | None, group | None)
_Cell = tuple  # (category, dong, group)
_Taken = list  # [(pool number, won)]


class _Index:
    """Pledges in criteria buckets, and the money state of the plan being built.

    Pool number p indexes parallel lists (pledges sorted in spending order); bucket b holds the
    pool numbers whose criteria expand to its key, in spending order. ``remaining``,
    ``bucket_total`` and ``bucket_head`` (first pool of a bucket that may still have money)
    change as a plan commits money; :meth:`save` and :meth:`restore` let several plans start
    from the same state. ``visits`` counts pools looked at, the engine's unit of work.
    """

    def __init__(self, pools: list[PoolSnapshot], needs: list[NeedSnapshot]):
        cell_needs: dict[_Cell, int] = {}
        for need in needs:
            cell = (need.category, need.dong, need.group)
            cell_needs[cell] = cell_needs.get(cell, 0) + 1
        key_needs: dict[_Key, int] = {}  # how many open needs each bucket key admits
        for (c, d, g), count in cell_needs.items():
            for key in product((c, None), (d, None), (g, None)):
                key_needs[key] = key_needs.get(key, 0) + count

        keys_of: dict[tuple, tuple[tuple[_Key, ...], int]] = {}
        ranked: list[tuple[int, int, int, PoolSnapshot, tuple[_Key, ...]]] = []
        for pool in pools:
            crit = pool.criteria
            signature = (crit.categories, crit.dongs, crit.groups)
            found = keys_of.get(signature)
            if found is None:
                keys = tuple(
                    key
                    for key in product(
                        sorted(crit.categories) or [None],
                        sorted(crit.dongs) or [None],
                        sorted(crit.groups) or [None],
                    )
                    if key in key_needs
                )
                found = keys_of[signature] = (keys, sum(key_needs[key] for key in keys))
            keys, admits = found
            if admits:  # a pledge no open need fits plays no part
                ranked.append((admits, pool.arrival, pool.id, pool, keys))
        # Spending order: the pledge that fits the fewest open needs first, then earlier
        # arrival, then id.
        ranked.sort()  # ids are unique, so the pools themselves are never compared

        self.pool_ids = [r[3].id for r in ranked]
        self.remaining = [r[3].remaining for r in ranked]
        self.cap_won = [r[3].cap_won for r in ranked]
        self.cap_percent = [r[3].cap_percent for r in ranked]
        self.capped = [c is not None or q is not None for c, q in zip(self.cap_won, self.cap_percent)]
        self.criteria = [r[3].criteria for r in ranked]
        bucket_no: dict[_Key, int] = {}
        self.bucket_pools: list[list[int]] = []
        self.bucket_total: list[int] = []
        buckets_of: list[tuple[int, ...]] = []
        for p, r in enumerate(ranked):
            mine = []
            for key in r[4]:
                b = bucket_no.get(key)
                if b is None:
                    b = bucket_no[key] = len(self.bucket_pools)
                    self.bucket_pools.append([])
                    self.bucket_total.append(0)
                self.bucket_pools[b].append(p)
                self.bucket_total[b] += self.remaining[p]
                mine.append(b)
            buckets_of.append(tuple(mine))
        self.buckets_of = buckets_of
        self.bucket_head = [0] * len(self.bucket_pools)
        self.visits = 0
        self._bucket_no = bucket_no
        self._key_needs = key_needs
        self._cell_buckets: dict[_Cell, tuple[int, ...]] = {}

    def cell_buckets(self, cell: _Cell) -> tuple[int, ...]:
        """The buckets a need in ``cell`` draws from, the key admitting fewest needs first."""
        found = self._cell_buckets.get(cell)
        if found is None:
            c, d, g = cell
            present = sorted(
                (self._key_needs[key], key.count(None), b)
                for key in product((c, None), (d, None), (g, None))
                if (b := self._bucket_no.get(key)) is not None
            )
            found = self._cell_buckets[cell] = tuple(b for _, _, b in present)
        return found

    def save(self) -> tuple[list[int], list[int], list[int]]:
        return self.remaining[:], self.bucket_total[:], self.bucket_head[:]

    def restore(self, saved: tuple[list[int], list[int], list[int]]) -> None:
        self.remaining, self.bucket_total, self.bucket_head = (x[:] for x in saved)

    def room(self, p: int, need: NeedSnapshot) -> int:
        """What pool p's cap per need still allows for ``need`` (at most the gap)."""
        room = need.gap
        if not self.capped[p]:
            return room
        given = need.already_from.get(self.pool_ids[p], 0) if need.already_from else 0
        cap = self.cap_won[p]
        if cap is not None:
            room = min(room, cap - given)
        pct = self.cap_percent[p]
        if pct is not None:
            room = min(room, need.target * pct // 100 - given)
        return room if room > 0 else 0

    def fits(self, buckets: tuple[int, ...], wanted: int) -> bool:
        """Cheap necessary condition: the buckets hold at least ``wanted`` won in all."""
        total = 0
        bucket_total = self.bucket_total
        for b in buckets:
            total += bucket_total[b]
        return total >= wanted

    def draw(self, need: NeedSnapshot, buckets: tuple[int, ...], wanted: int) -> tuple[_Taken, int]:
        """(pools and amounts that would give ``need`` up to ``wanted``, won still missing).

        Scarcest pools first; commits nothing. Each pledge that fits the need sits in exactly
        one of its buckets, so no pledge is counted twice.
        """
        remaining = self.remaining
        capped = self.capped
        taken: _Taken = []
        left = wanted
        visits = 0
        for b in buckets:
            if not self.bucket_total[b]:
                continue
            pools = self.bucket_pools[b]
            head = self.bucket_head[b]
            end = len(pools)
            while head < end and not remaining[pools[head]]:
                head += 1
            self.bucket_head[b] = head
            for k in range(head, end):
                p = pools[k]
                r = remaining[p]
                if not r:
                    continue
                if capped[p]:
                    room = self.room(p, need)
                    if room < r:
                        r = room
                        if not r:
                            continue
                if r >= left:
                    taken.append((p, left))
                    self.visits += visits + k - head + 1
                    return taken, 0
                taken.append((p, r))
                left -= r
            visits += end - head
        self.visits += visits
        return taken, left

    def commit(self, taken: _Taken, sign: int = 1) -> None:
        remaining = self.remaining
        bucket_total = self.bucket_total
        for p, amount in taken:
            amount *= sign
            remaining[p] -= amount
            for b in self.buckets_of[p]:
                bucket_total[b] -= amount
            if sign < 0:  # money came back: the pool may sit before a bucket's head
                for b in self.buckets_of[p]:
                    self.bucket_head[b] = 0


@dataclass
class _Plan:
    """A step-1 plan: which needs it completes, with which money."""

    given: dict[int, _Taken]  # need number -> pools and amounts
    sequence: list[int]  # need numbers in the order they were completed
    score: int
    placed: int
    money: tuple[list[int], list[int], list[int]]
    rerouted: set[int] = field(default_factory=set)


@dataclass
class _Problem:
    needs: list[NeedSnapshot]  # open needs, by id
    cells: list[_Cell]
    weights: list[int]
    buckets: list[tuple[int, ...]]


def _complete_pass(index: _Index, problem: _Problem, order: list[int]) -> _Plan:
    """Step 1 along one order of needs: commit a need only when this completes it."""
    needs, buckets, weights = problem.needs, problem.buckets, problem.weights
    given: dict[int, _Taken] = {}
    sequence: list[int] = []
    score = placed = 0
    for i in order:
        need = needs[i]
        gap = need.gap
        if not index.fits(buckets[i], gap):
            continue
        taken, missing = index.draw(need, buckets[i], gap)
        if missing:
            continue
        index.commit(taken)
        given[i] = taken
        sequence.append(i)
        score += weights[i]
        placed += gap
    return _Plan(given, sequence, score, placed, index.save())


def _order(problem: _Problem, cost: list[int], candidates: list[int]) -> list[int]:
    """Candidates by cost per urgency point (ascending), exact in integers; ties by deadline,
    then dongs and groups taking turns, then id."""
    weights = problem.weights
    scale = 1
    for w in set(weights[i] for i in candidates):
        scale = lcm(scale, w)
    needs = problem.needs
    return _fair_turns(
        needs,
        candidates,
        {i: (cost[i] * (scale // weights[i]), needs[i].deadline) for i in candidates},
    )


def _fair_turns(needs: list[NeedSnapshot], candidates: list[int], key: dict[int, tuple]) -> list[int]:
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


def _step1(index: _Index, problem: _Problem) -> _Plan:
    """Goal 1: several complete passes, each along a different order; keep the best plan.

    Pass 1 orders needs by gap per urgency point (density). Pass 2 by deadline, then gap.
    Later passes price each pledge: a pledge left empty by the previous pass doubles its price,
    one with money left halves it, and a need's cost is what its money would cost at those
    prices (its draw pattern from the untouched pledges). Needs that run on money nobody else
    can use move forward; needs that compete for the scarce general money move back. This is
    a Lagrangian (shadow-price) heuristic for the multiple knapsack; it stops after
    ``MAX_PASSES``, when an order repeats, or when ``WORK_BUDGET`` pool visits are spent, a
    count and not a clock, so the result never depends on the machine.
    """
    needs = problem.needs
    start = index.save()
    # What each need would draw from untouched pledges; needs that cannot be completed even
    # then take no part in step 1.
    patterns: dict[int, _Taken] = {}
    for i, need in enumerate(needs):
        if index.fits(problem.buckets[i], need.gap):
            taken, missing = index.draw(need, problem.buckets[i], need.gap)
            if not missing:
                patterns[i] = taken
    candidates = sorted(patterns)
    index.restore(start)
    if not candidates:
        return _Plan({}, [], 0, 0, start)

    gap_cost = [need.gap for need in needs]
    orders = [
        _order(problem, gap_cost, candidates),
        _fair_turns(needs, candidates, {i: (needs[i].deadline, needs[i].gap) for i in candidates}),
    ]
    best: _Plan | None = None
    seen: set[tuple[int, ...]] = set()
    price = [PRICE_START] * len(index.remaining)
    passes = 0
    while orders and passes < MAX_PASSES and index.visits < WORK_BUDGET:
        order = orders.pop(0)
        signature = tuple(order)
        if signature in seen:
            continue
        seen.add(signature)
        index.restore(start)
        plan = _complete_pass(index, problem, order)
        passes += 1
        if best is None or (plan.score, plan.placed) > (best.score, best.placed):
            best = plan
        if orders:  # the deadline pass is still to come; prices follow the density pass
            if passes == 1:
                price = _reprice(price, plan.money[0])
            continue
        if passes > 1:
            price = _reprice(price, plan.money[0])
        cost = [0] * len(needs)
        for i in candidates:
            cost[i] = sum(amount * price[p] for p, amount in patterns[i])
        orders.append(_order(problem, cost, candidates))
    assert best is not None
    index.restore(best.money)
    return best


def _reprice(price: list[int], remaining_after: list[int]) -> list[int]:
    return [
        min(PRICE_MAX, q * 2) if not left else max(1, q // 2)
        for q, left in zip(price, remaining_after)
    ]


def _reroute(index: _Index, problem: _Problem, plan: _Plan, order: list[int]) -> None:
    """Complete needs step 1 skipped by moving money of needs it completed (in place).

    One step of an augmenting path: a skipped need B could use pledge P, P's money went to a
    need A completed in this run, and A can take the same amount from a pledge Q that still has
    money (and room under Q's cap for A). A's money moves from P to Q, P's freed money goes to
    B, and B is committed only if it is then complete. Bounded by ``WORK_BUDGET`` too.
    """
    needs, buckets = problem.needs, problem.buckets
    free_total = sum(index.remaining)
    from_pool: dict[int, dict[int, int]] = {}  # pool -> {completed need: won}
    for i, taken in plan.given.items():
        for p, amount in taken:
            from_pool.setdefault(p, {})[i] = amount
    remaining = index.remaining
    budget = WORK_BUDGET + REROUTE_BUDGET
    for b_need in order:
        if index.visits >= budget:
            break
        need = needs[b_need]
        if b_need in plan.given or need.gap > free_total:
            continue
        direct, short = index.draw(need, buckets[b_need], need.gap)
        from_direct = dict(direct)
        moves: list[tuple[int, int, int, int]] = []  # (need A, from P, to Q, won)
        freed: dict[int, int] = {}  # P -> won freed for B
        spent: dict[int, int] = {}  # Q -> won promised to moves
        moved_in: dict[tuple[int, int], int] = {}  # (A, Q) -> won promised
        moved_out: dict[tuple[int, int], int] = {}  # (A, P) -> won promised
        for b in buckets[b_need]:
            if not short:
                break
            for p in index.bucket_pools[b]:
                index.visits += 1
                users = from_pool.get(p)
                if not users:
                    continue
                room_b = index.room(p, need) - from_direct.get(p, 0) - freed.get(p, 0)
                for a_need in sorted(users):
                    if room_b <= 0 or not short:
                        break
                    want = min(users[a_need] - moved_out.get((a_need, p), 0), room_b, short)
                    if want <= 0:
                        continue
                    a = needs[a_need]
                    a_has = dict(plan.given[a_need])
                    for b2 in buckets[a_need]:
                        if not want:
                            break
                        if not index.bucket_total[b2]:
                            continue
                        for q in index.bucket_pools[b2]:
                            index.visits += 1
                            free_q = remaining[q] - spent.get(q, 0) - from_direct.get(q, 0)
                            if q == p or free_q <= 0:
                                continue
                            room_a = index.room(q, a) - a_has.get(q, 0) - moved_in.get((a_need, q), 0)
                            amount = min(want, free_q, room_a)
                            if amount <= 0:
                                continue
                            moves.append((a_need, p, q, amount))
                            spent[q] = spent.get(q, 0) + amount
                            moved_in[(a_need, q)] = moved_in.get((a_need, q), 0) + amount
                            moved_out[(a_need, p)] = moved_out.get((a_need, p), 0) + amount
                            freed[p] = freed.get(p, 0) + amount
                            room_b -= amount
                            short -= amount
                            want -= amount
                            if not want:
                                break
                if not short:
                    break
        if short:
            continue
        for a_need, p, q, amount in moves:
            has = dict(plan.given[a_need])
            has[p] -= amount
            has[q] = has.get(q, 0) + amount
            plan.given[a_need] = [(pool, won) for pool, won in has.items() if won]
            from_pool[p][a_need] -= amount
            if not from_pool[p][a_need]:
                del from_pool[p][a_need]
            from_pool.setdefault(q, {})[a_need] = from_pool.get(q, {}).get(a_need, 0) + amount
            index.commit([(q, amount)])
            index.commit([(p, amount)], sign=-1)
        final = dict(from_direct)
        for p, amount in freed.items():
            final[p] = final.get(p, 0) + amount
        taken_b = [(p, won) for p, won in final.items() if won]
        index.commit(taken_b)
        for p, amount in taken_b:
            from_pool.setdefault(p, {})[b_need] = amount
        free_total -= need.gap
        plan.given[b_need] = taken_b
        plan.sequence.append(b_need)
        plan.rerouted.add(b_need)
        plan.score += problem.weights[b_need]
        plan.placed += need.gap


def _check_unique(items: Sequence, what: str) -> None:
    seen: set[int] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"duplicate {what} id {item.id}")
        seen.add(item.id)


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
    """Propose allocations of pooled pledges to open needs. See the module docstring.

    Allocations come in the order they were decided: completions first, in the order they were
    completed, then partial placements, nearest deadline first; within one need, by pool id.
    """
    _check_unique(needs, "need")
    _check_unique(pools, "pool")
    open_needs = sorted((n for n in needs if n.gap > 0 and n.deadline >= today), key=lambda n: n.id)
    usable = sorted((p for p in pools if p.remaining > 0 and p.open_on(today)), key=lambda p: p.id)
    index = _Index(usable, open_needs)
    cells = [(n.category, n.dong, n.group) for n in open_needs]
    problem = _Problem(
        open_needs,
        cells,
        [urgency_weight(n, today) for n in open_needs],
        [index.cell_buckets(cell) for cell in cells],
    )
    start_totals = index.bucket_total[:]

    plan = _step1(index, problem)  # goal 1
    deadline_order = _fair_turns(
        open_needs, list(range(len(open_needs))), {i: (n.deadline, n.gap) for i, n in enumerate(open_needs)}
    )
    if REROUTE:
        _reroute(index, problem, plan, deadline_order)

    allocations: list[Allocation] = []
    placed_on: dict[int, int] = {}
    words: dict[tuple, str] = {}  # reason prefixes, built once per (days, criteria shape)

    def prefix(days: int, p: int) -> str:
        crit = index.criteria[p]
        shape = (days, not crit.categories, not crit.dongs, not crit.groups)
        text = words.get(shape)
        if text is None:
            text = words[shape] = f"{_deadline_words(days)}, {crit.describe()}"
        return text

    for i in plan.sequence:
        need = open_needs[i]
        days = days_left(need, today)
        if i in plan.rerouted:
            code, outcome = REASON_COMPLETES_REROUTED, "completes the need (other pledges took over money it had given elsewhere)"
        elif days <= URGENT_DAYS:
            code, outcome = REASON_COMPLETES_URGENT, "completes the need"
        else:
            code, outcome = REASON_COMPLETES, "completes the need"
        for p, amount in sorted(plan.given[i], key=lambda pa: index.pool_ids[pa[0]]):
            allocations.append(
                Allocation(index.pool_ids[p], need.id, amount, f"{prefix(days, p)}; {outcome}", code, True)
            )
        placed_on[i] = need.gap

    # Step 2 (goal 2): what is left goes, partially, to the nearest deadlines.
    funded = set(plan.given)
    for i in deadline_order:
        if i in funded or not index.fits(problem.buckets[i], 1):
            continue
        need = open_needs[i]
        taken, missing = index.draw(need, problem.buckets[i], need.gap)
        if not taken:
            continue
        index.commit(taken)
        completes = not missing  # impossible (see the module docstring); stays honest
        days = days_left(need, today)
        if completes:
            code, outcome = REASON_COMPLETES, "completes the need"
            funded.add(i)
        else:
            code, outcome = REASON_PARTIAL, "no pooled money could complete a need it fits, so it brings this one closer"
        for p, amount in sorted(taken, key=lambda pa: index.pool_ids[pa[0]]):
            allocations.append(
                Allocation(index.pool_ids[p], need.id, amount, f"{prefix(days, p)}; {outcome}", code, completes)
            )
        placed_on[i] = need.gap - missing

    fairness = _fairness(problem, start_totals, funded, placed_on)
    return MatchResult(
        tuple(allocations),
        tuple(sorted(open_needs[i].id for i in funded)),
        fairness,
        sum(problem.weights[i] for i in funded),
    )


def _fairness(
    problem: _Problem,
    start_totals: list[int],
    funded: set[int],
    placed_on: dict[int, int],
) -> FairnessReport:
    rows: dict[str, dict[str, list[int]]] = {"dong": {}, "group": {}}
    for i, need in enumerate(problem.needs):
        reachable = any(start_totals[b] for b in problem.buckets[i])
        for kind, key in (("dong", need.dong), ("group", need.group)):
            row = rows[kind].setdefault(key, [0, 0, 0, 0])
            row[0] += 1
            row[1] += reachable
            row[2] += i in funded
            row[3] += placed_on.get(i, 0)

    def table(kind: str) -> tuple[tuple[FairnessRow, ...], tuple[str, ...]]:
        built = tuple(FairnessRow(key, *rows[kind][key]) for key in sorted(rows[kind]))
        any_funded = any(r.funded_needs for r in built)
        behind = tuple(r.key for r in built if any_funded and r.reachable_needs and not r.funded_needs)
        return built, behind

    by_dong, behind_dongs = table("dong")
    by_group, behind_groups = table("group")
    return FairnessReport(by_dong, by_group, behind_dongs, behind_groups)


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


# --------------------------------------------------------------------------------------------
# Match offers (매칭 기부)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchOffer:
    """"We add ratio_num won for every ratio_den won residents give, up to a cap, in a period."""

    id: int
    ratio_num: int
    ratio_den: int
    cap_remaining: int  # won the sponsor still offers
    criteria: Criteria
    starts: datetime.date  # first day a gift qualifies (Korea time), inclusive
    ends: datetime.date  # last day a gift qualifies, inclusive

    def __post_init__(self) -> None:
        _check_non_negative_int(self.ratio_num, "ratio_num")
        _check_non_negative_int(self.ratio_den, "ratio_den")
        _check_non_negative_int(self.cap_remaining, "cap_remaining")
        if self.ratio_den == 0:
            raise ValueError("ratio_den must be >= 1")
        if self.ends < self.starts:
            raise ValueError("a match offer cannot end before it starts")

    def applies(self, need: Placed, on: datetime.date) -> bool:
        return self.starts <= on <= self.ends and self.criteria.accepts(need)


def match_amount(
    offer: MatchOffer, need: Placed, gift: int, gap_after_gift: int, on: datetime.date
) -> int:
    """Won the offer adds when a resident's ``gift`` to ``need`` is received on day ``on``.

    ``min(floor(gift * ratio_num / ratio_den), offer's remaining cap, the need's gap left after
    the gift)``; 0 outside the offer's period, when its criteria refuse the need, or for an
    empty gift. Integer arithmetic only.
    """
    _check_non_negative_int(gift, "gift")
    _check_non_negative_int(gap_after_gift, "gap_after_gift")
    if not gift or not offer.applies(need, on):
        return 0
    return min(gift * offer.ratio_num // offer.ratio_den, offer.cap_remaining, gap_after_gift)


@dataclass(frozen=True)
class MatchedGift:
    offer_id: int
    amount: int


def match_gift(
    offers: Sequence[MatchOffer],
    need: Placed,
    gift: int,
    gap_after_gift: int,
    on: datetime.date,
) -> tuple[MatchedGift, ...]:
    """All offers that match one gift, earliest-starting offer first (then id).

    Each offer matches the resident's gift (not another offer's match); the gap shrinks as
    each one adds, so together they never fund the need past its target.
    """
    _check_unique(offers, "offer")
    matched: list[MatchedGift] = []
    gap = gap_after_gift
    for offer in sorted(offers, key=lambda o: (o.starts, o.id)):
        amount = match_amount(offer, need, gift, gap, on)
        if amount:
            matched.append(MatchedGift(offer.id, amount))
            gap -= amount
    return tuple(matched)
