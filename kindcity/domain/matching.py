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
from fractions import Fraction
from itertools import product
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


class _Index:
    """Pledges in criteria buckets, with the mutable money state of one plan.

    Internal pool number p -> parallel lists; bucket b -> list of pool numbers in spending
    order. ``remaining`` and ``bucket_total`` change as the plan commits money.
    """

    def __init__(self, pools: list[PoolSnapshot], needs: list[NeedSnapshot]):
        # How many open needs each key admits: needs per cell, spread over the eight keys.
        cells: dict[tuple[str, str, str], int] = {}
        for need in needs:
            cell = (need.category, need.dong, need.group)
            cells[cell] = cells.get(cell, 0) + 1
        key_needs: dict[tuple[str | None, str | None, str | None], int] = {}
        for (c, d, g), count in cells.items():
            for key in product((c, None), (d, None), (g, None)):
                key_needs[key] = key_needs.get(key, 0) + count

        keyed: list[tuple[int, PoolSnapshot, list[tuple]]] = []
        for pool in pools:
            crit = pool.criteria
            keys = [
                key
                for key in product(
                    sorted(crit.categories) or [None],
                    sorted(crit.dongs) or [None],
                    sorted(crit.groups) or [None],
                )
                if key in key_needs
            ]
            admits = sum(key_needs[key] for key in keys)
            if admits:
                keyed.append((admits, pool, keys))
        # Spending order: fewest admitted needs, then earlier arrival, then id.
        keyed.sort(key=lambda item: (item[0], item[1].arrival, item[1].id))

        self.pool_ids: list[int] = []
        self.remaining: list[int] = []
        self.cap_won: list[int | None] = []
        self.cap_percent: list[int | None] = []
        self.capped: list[bool] = []
        self.criteria: list[Criteria] = []
        self.buckets_of: list[tuple[int, ...]] = []
        bucket_no: dict[tuple, int] = {}
        self.bucket_pools: list[list[int]] = []
        self.bucket_total: list[int] = []
        self.bucket_key: list[tuple] = []
        for p, (_, pool, keys) in enumerate(keyed):
            self.pool_ids.append(pool.id)
            self.remaining.append(pool.remaining)
            self.cap_won.append(pool.cap_won)
            self.cap_percent.append(pool.cap_percent)
            self.capped.append(pool.cap_won is not None or pool.cap_percent is not None)
            self.criteria.append(pool.criteria)
            mine = []
            for key in keys:
                b = bucket_no.get(key)
                if b is None:
                    b = bucket_no[key] = len(self.bucket_pools)
                    self.bucket_pools.append([])
                    self.bucket_total.append(0)
                    self.bucket_key.append(key)
                self.bucket_pools[b].append(p)
                self.bucket_total[b] += pool.remaining
                mine.append(b)
            self.buckets_of.append(tuple(mine))
        self.bucket_head = [0] * len(self.bucket_pools)
        self._bucket_no = bucket_no
        self._key_needs = key_needs
        self._cell_buckets: dict[tuple[str, str, str], tuple[int, ...]] = {}

    def cell_buckets(self, cell: tuple[str, str, str]) -> tuple[int, ...]:
        """The buckets a need in ``cell`` may draw from, scarcest key first."""
        found = self._cell_buckets.get(cell)
        if found is None:
            c, d, g = cell
            present = [
                (self._key_needs[key], key.count(None), b)
                for key in product((c, None), (d, None), (g, None))
                if (b := self._bucket_no.get(key)) is not None
            ]
            present.sort()
            found = self._cell_buckets[cell] = tuple(b for _, _, b in present)
        return found

    def snapshot_money(self) -> tuple[list[int], list[int], list[int]]:
        return self.remaining[:], self.bucket_total[:], self.bucket_head[:]

    def restore_money(self, saved: tuple[list[int], list[int], list[int]]) -> None:
        self.remaining, self.bucket_total, self.bucket_head = (x[:] for x in saved)

    def room(self, p: int, need: NeedSnapshot) -> int:
        """Room under pool p's cap for ``need`` (gap not applied), or a huge number if uncapped."""
        if not self.capped[p]:
            return need.gap
        given = need.already_from.get(self.pool_ids[p], 0) if need.already_from else 0
        room = need.gap
        cap = self.cap_won[p]
        if cap is not None:
            room = min(room, cap - given)
        pct = self.cap_percent[p]
        if pct is not None:
            room = min(room, need.target * pct // 100 - given)
        return room if room > 0 else 0

    def draw(self, need: NeedSnapshot, cell_buckets: tuple[int, ...], wanted: int) -> list[tuple[int, int]]:
        """Pools and amounts that would give ``need`` up to ``wanted``, scarcest first.

        Does not commit. Each eligible pool appears in exactly one of the need's buckets.
        """
        remaining = self.remaining
        capped = self.capped
        taken: list[tuple[int, int]] = []
        left = wanted
        for b in cell_buckets:
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
                    return taken
                taken.append((p, r))
                left -= r
        return taken

    def commit(self, taken: list[tuple[int, int]]) -> None:
        for p, amount in taken:
            self.remaining[p] -= amount
            for b in self.buckets_of[p]:
                self.bucket_total[b] -= amount

    def available_bound(self, cell_buckets: tuple[int, ...]) -> int:
        total = 0
        for b in cell_buckets:
            total += self.bucket_total[b]
        return total


@dataclass
class _Plan:
    """One candidate plan of step 1: what it committed and to whom."""

    given: dict[int, list[tuple[int, int]]]  # need number -> [(pool number, amount)]
    sequence: list[int]  # need numbers in the order they were completed
    rerouted: set[int]  # need numbers completed thanks to a reroute
    score: int
    placed: int
    money: tuple[list[int], list[int], list[int]]


def _complete_in_order(
    index: _Index,
    needs: list[NeedSnapshot],
    cells: list[tuple[str, str, str]],
    weights: list[int],
    order: list[int],
) -> _Plan:
    """Step 1 for one order of needs: commit a need only when it can be completed now."""
    given: dict[int, list[tuple[int, int]]] = {}
    sequence: list[int] = []
    skipped: list[int] = []
    score = placed = 0
    for i in order:
        need = needs[i]
        buckets = index.cell_buckets(cells[i])
        if index.available_bound(buckets) < need.gap:
            skipped.append(i)
            continue
        taken = index.draw(need, buckets, need.gap)
        if sum(amount for _, amount in taken) < need.gap:
            skipped.append(i)
            continue
        index.commit(taken)
        given[i] = taken
        sequence.append(i)
        score += weights[i]
        placed += need.gap
    rerouted = _reroute(index, needs, cells, given, skipped) if REROUTE else []
    for i in rerouted:
        score += weights[i]
        placed += needs[i].gap
    sequence.extend(rerouted)
    return _Plan(given, sequence, set(rerouted), score, placed, index.snapshot_money())


def _reroute(
    index: _Index,
    needs: list[NeedSnapshot],
    cells: list[tuple[str, str, str]],
    given: dict[int, list[tuple[int, int]]],
    skipped: list[int],
) -> list[int]:
    """Complete skipped needs by moving money of already-completed needs to free pledges.

    One step of an augmenting path: skipped need B could use pledge P, P's money went to a need
    A completed earlier in this run, and A can take the same amount from a pledge Q that still
    has money (and room under Q's cap for A). Move A's money from P to Q; P's freed money goes
    to B. Only tried when the money that fits B, counting what completed needs could release,
    is enough (cheap bound first), and B is only committed when it completes.
    """
    completed_from: dict[int, dict[int, int]] = {}  # pool number -> {need number: amount}
    for i, taken in given.items():
        for p, amount in taken:
            completed_from.setdefault(p, {})[i] = amount
    rerouted: list[int] = []
    remaining = index.remaining
    for b_need in skipped:
        need = needs[b_need]
        buckets = index.cell_buckets(cells[b_need])
        direct = index.draw(need, buckets, need.gap)
        short = need.gap - sum(amount for _, amount in direct)
        if short <= 0:  # cannot happen (money only decreases), kept for safety
            continue
        direct_from = {p: amount for p, amount in direct}
        moves: list[tuple[int, int, int, int]] = []  # (need A, from pool P, to pool Q, amount)
        freed: dict[int, int] = {}  # pool P -> won freed for B
        # Tentative state so that two moves never use the same free money twice.
        spent_q: dict[int, int] = {}
        moved_to: dict[tuple[int, int], int] = {}
        for b in buckets:
            for p in index.bucket_pools[b]:
                users = completed_from.get(p)
                if not users:
                    continue
                room_b = index.room(p, need) - direct_from.get(p, 0)
                room_b -= freed.get(p, 0)
                if room_b <= 0:
                    continue
                for a_need in sorted(users):
                    amount_pa = users[a_need] - sum(
                        m for (a, pp, _, m) in moves if a == a_need and pp == p
                    )
                    if amount_pa <= 0:
                        continue
                    want = min(amount_pa, room_b, short)
                    a = needs[a_need]
                    a_from = {q: amt for q, amt in given[a_need]}
                    for b2 in index.cell_buckets(cells[a_need]):
                        if not index.bucket_total[b2]:
                            continue
                        for q in index.bucket_pools[b2]:
                            if q == p:
                                continue
                            free_q = remaining[q] - spent_q.get(q, 0) - direct_from.get(q, 0)
                            if free_q <= 0:
                                continue
                            room_a = (
                                index.room(q, a)
                                - a_from.get(q, 0)
                                - moved_to.get((a_need, q), 0)
                            )
                            amount = min(want, free_q, room_a)
                            if amount <= 0:
                                continue
                            moves.append((a_need, p, q, amount))
                            spent_q[q] = spent_q.get(q, 0) + amount
                            moved_to[(a_need, q)] = moved_to.get((a_need, q), 0) + amount
                            freed[p] = freed.get(p, 0) + amount
                            room_b -= amount
                            short -= amount
                            want -= amount
                            if not want:
                                break
                        if not want:
                            break
                    if not short or room_b <= 0:
                        break
                if not short:
                    break
            if not short:
                break
        if short:
            continue
        # Apply: move A's money from P to Q, then give B its direct money and the freed money.
        for a_need, p, q, amount in moves:
            taken = given[a_need]
            merged: dict[int, int] = {}
            for pool, amt in taken:
                merged[pool] = merged.get(pool, 0) + amt
            merged[p] -= amount
            merged[q] = merged.get(q, 0) + amount
            given[a_need] = [(pool, amt) for pool, amt in merged.items() if amt]
            users = completed_from[p]
            users[a_need] -= amount
            if not users[a_need]:
                del users[a_need]
            completed_from.setdefault(q, {})[a_need] = (
                completed_from.get(q, {}).get(a_need, 0) + amount
            )
            index.commit([(q, amount)])
            index.commit([(p, -amount)])
        final: dict[int, int] = dict(direct_from)
        for p, amount in freed.items():
            final[p] = final.get(p, 0) + amount
        taken_b = [(p, amount) for p, amount in final.items() if amount]
        index.commit(taken_b)
        given[b_need] = taken_b
        for p, amount in taken_b:
            completed_from.setdefault(p, {})[b_need] = amount
        rerouted.append(b_need)
    return rerouted


def _fair_turns(needs: list[NeedSnapshot], order_key: list[tuple]) -> list[int]:
    """Order needs by ``order_key``; among equal keys, dongs then groups take turns."""
    by_key: dict[tuple, list[int]] = {}
    for i, key in enumerate(order_key):
        by_key.setdefault(key, []).append(i)
    order: list[int] = []
    for key in sorted(by_key):
        members = by_key[key]
        if len(members) == 1:
            order.extend(members)
            continue
        turn_in_dong: dict[str, int] = {}
        turn_in_group: dict[str, int] = {}
        ranked = []
        for i in sorted(members, key=lambda i: needs[i].id):
            need = needs[i]
            td = turn_in_dong.get(need.dong, 0)
            tg = turn_in_group.get(need.group, 0)
            turn_in_dong[need.dong] = td + 1
            turn_in_group[need.group] = tg + 1
            ranked.append((td, tg, need.dong, need.group, need.id, i))
        ranked.sort()
        order.extend(r[-1] for r in ranked)
    return order


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
    """Propose allocations of pooled pledges to open needs. See the module docstring."""
    _check_unique(needs, "need")
    _check_unique(pools, "pool")
    open_needs = sorted(
        (n for n in needs if n.gap > 0 and n.deadline >= today), key=lambda n: n.id
    )
    usable = sorted(
        (p for p in pools if p.remaining > 0 and p.open_on(today)), key=lambda p: p.id
    )
    index = _Index(usable, open_needs)
    cells = [(n.category, n.dong, n.group) for n in open_needs]
    weights = [urgency_weight(n, today) for n in open_needs]
    start_money = index.snapshot_money()

    # Step 1, twice: density order, then deadline order; keep the better plan.
    density_order = _fair_turns(
        open_needs,
        [(Fraction(n.gap, w), n.deadline) for n, w in zip(open_needs, weights)],
    )
    deadline_order = _fair_turns(open_needs, [(n.deadline, n.gap) for n in open_needs])
    best = _complete_in_order(index, open_needs, cells, weights, density_order)
    if deadline_order != density_order:
        index.restore_money(start_money)
        other = _complete_in_order(index, open_needs, cells, weights, deadline_order)
        if (other.score, other.placed) > (best.score, best.placed):
            best = other
    index.restore_money(best.money)

    allocations: list[Allocation] = []
    placed_on: dict[int, int] = {}
    for i in best.sequence:
        need = open_needs[i]
        days = days_left(need, today)
        if i in best.rerouted:
            code, outcome = REASON_COMPLETES_REROUTED, "completes the need (rerouted)"
        elif days <= URGENT_DAYS:
            code, outcome = REASON_COMPLETES_URGENT, "completes the need"
        else:
            code, outcome = REASON_COMPLETES, "completes the need"
        for p, amount in sorted(best.given[i], key=lambda pa: index.pool_ids[pa[0]]):
            text = f"{_deadline_words(days)}, {index.criteria[p].describe()}; {outcome}"
            allocations.append(Allocation(index.pool_ids[p], need.id, amount, text, code, True))
        placed_on[i] = need.gap

    # Step 2: what is left goes, partially, to the nearest deadlines.
    partial_order = _fair_turns(open_needs, [(n.deadline, n.gap) for n in open_needs])
    for i in partial_order:
        if i in best.given:
            continue
        need = open_needs[i]
        buckets = index.cell_buckets(cells[i])
        if not index.available_bound(buckets):
            continue
        taken = index.draw(need, buckets, need.gap)
        if not taken:
            continue
        index.commit(taken)
        got = sum(amount for _, amount in taken)
        completes = got == need.gap  # cannot happen (see module docstring); stays honest
        days = days_left(need, today)
        for p, amount in sorted(taken, key=lambda pa: index.pool_ids[pa[0]]):
            what = index.criteria[p].describe()
            if completes:
                code, text = REASON_COMPLETES, f"{_deadline_words(days)}, {what}; completes the need"
            else:
                code = REASON_PARTIAL
                text = (
                    f"{_deadline_words(days)}, {what}; nothing could complete a need now, "
                    "so this brings the nearest deadline closer"
                )
            allocations.append(
                Allocation(index.pool_ids[p], need.id, amount, text, code, completes)
            )
        placed_on[i] = got
        if completes:
            best.given[i] = taken

    funded = sorted(open_needs[i].id for i in best.given)
    score = sum(weights[i] for i in best.given)
    fairness = _fairness(open_needs, index, cells, start_money, best.given, placed_on)
    return MatchResult(tuple(allocations), tuple(funded), fairness, score)


def _fairness(
    needs: list[NeedSnapshot],
    index: _Index,
    cells: list[tuple[str, str, str]],
    start_money: tuple[list[int], list[int], list[int]],
    funded: dict[int, list[tuple[int, int]]],
    placed_on: dict[int, int],
) -> FairnessReport:
    start_totals = start_money[1]
    rows: dict[str, dict[str, list[int]]] = {"dong": {}, "group": {}}
    for i, need in enumerate(needs):
        buckets = index.cell_buckets(cells[i])
        reachable = any(start_totals[b] for b in buckets)
        for kind, key in (("dong", need.dong), ("group", need.group)):
            row = rows[kind].setdefault(key, [0, 0, 0, 0])
            row[0] += 1
            row[1] += reachable
            row[2] += i in funded
            row[3] += placed_on.get(i, 0)

    def table(kind: str) -> tuple[tuple[FairnessRow, ...], tuple[str, ...]]:
        built = tuple(FairnessRow(key, *rows[kind][key]) for key in sorted(rows[kind]))
        any_funded = any(r.funded_needs for r in built)
        behind = tuple(
            r.key for r in built if any_funded and r.reachable_needs and not r.funded_needs
        )
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
