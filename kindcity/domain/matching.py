"""The matching engine: spreads pooled pledges (나눔 기금) over open needs, and applies match offers.

Pure: standard library only, no I/O, no framework. The web layer builds the snapshots, calls
:func:`propose`, and writes the allocations it returns; everything here is plain values in and
plain values out, with money as ``int`` won. ``docs/matching.md`` is the same policy for donors.

The policy: what the engine aims for, in this order
===================================================

1. **Complete needs.** As many needs as possible are funded *completely* before their
   deadline, the most urgent weighing most. A half-funded trip takes no one to Seoul, so in this
   step money is only ever committed to a need when it completes it. "Weighing most" is
   :func:`urgency_weight`: a need counts 1 (30 points) when its deadline is 30 days away or
   more, rising by a thirtieth a day to 2 (60 points) on the deadline day. The engine maximises
   the sum of the points of the needs it completes (the *urgency score*).
2. **Place money.** Money that cannot complete any need is then placed partially, nearest
   deadline first (then smaller gap), so that it is at work and brings those needs closer.
   Partial money never displaces a completion: this step only runs on what step 1 left.
3. **Leave no dong or group behind.** Among needs that are equally good for step 1, dongs (then
   beneficiary groups) take turns instead of one dong's needs going first; and every run
   reports, per dong and per group, how many needs were open, reachable by some pledge, and
   funded, and flags any dong or group where nothing was funded while others got something
   (:class:`FairnessReport`), for staff to look at.

Always, whatever the goals say: a pledge's criteria (categories, dongs, beneficiary groups; an
empty set means any) and its cap per need (in won, or percent of the need's *target*, counting
what it already gave that need) are never broken; a need never gets more than its gap, a
pledge never gives more than its remaining received money; needs past their deadline and
pledges past their end date take no part; the same input gives the same output (in any order,
under any hash seed); and a second run on the first run's result places nothing new.

How it decides, and why this algorithm
======================================

Goal 1 is a multiple knapsack with eligibility and per-pair caps: NP-hard, and the exact
optimum at 10,000 needs x 50,000 pledges is out of reach of a request-time function
(``bench/matching.py`` computes it with a MILP where it can, to measure how close we are). The
engine is deterministic and built from four parts:

* **Which money first: the scarcest.** A need spends pledges in order of how many open needs
  their criteria admit, fewest first (a pledge for "medical transport in 양동" before one open
  to anything), then by arrival (earlier donors' money works first), then id. Money that fits
  few needs is used where it fits; flexible money stays for needs nothing else reaches.
* **Which need next: the most urgency per won.** A pass tries needs in increasing order of
  ``gap / urgency_weight`` (the density rule for knapsack: with weights between 1 and 2, small
  urgent gaps first complete the most needs), ties by earlier deadline, then dongs and groups
  in turn, then id, and commits a need only when it can be completed; otherwise it moves on,
  so smaller needs behind a large one still get their chance. Pure deadline order was measured
  too and never did better. Then up to ``PRICE_PASSES`` passes re-rank needs by *priced*
  money: a pledge that ran dry in the last pass doubles its price, one with money left halves
  it, so needs that run on money nobody else can use move forward and needs that compete for
  scarce general money move back (a shadow-price, Lagrangian heuristic). The best pass wins.
* **Rerouting (augmenting paths).** When a need's own pledges fall short because some of their
  money went to needs completed earlier, the engine looks for a chain, as max-flow does: this
  need could use pledge P1, P1's money went to need A1, A1 could take it from pledge P2 instead,
  ... until a pledge with money left. Money moves one step along the chain, every completed
  need keeps exactly its gap, every pledge keeps its criteria and caps. With enough budget this
  makes "can this set of needs be completed together?" exact, not a greedy guess.
* **Local search.** Then, on the best plan: take one completed need out (least urgency per won
  first), complete left-out needs that can use the money it frees (greedily; failing that,
  each of them first, then the rest; or two needs out at once), and keep the change only if
  the urgency score rises (or stays and more needs complete); otherwise undo it exactly
  (every change is journaled).
  This finds the "one large need out, two smaller ones in" exchanges a greedy misses.

The first (density) pass always runs; rerouting, price passes and local search stop once
``SEARCH_BUDGET`` is spent. Work is counted in pledges looked at and needs tried, never in
seconds, so the result never depends on the machine or its load. Small instances get searched
thoroughly; the largest get little beyond the first pass, which is where it matters least (one
need is a smaller share of thousands).

Scale: pledges sit in criteria buckets. A pledge for categories {a, b}, any dong, group g sits
in buckets (a, *, g) and (b, *, g); a need in cell (c, d, g) looks only at its eight buckets
(c|*, d|*, g|*) and meets each pledge that fits it exactly once. Each bucket keeps its unspent
total, so a need that cannot be completed is usually turned down in eight additions.

Idempotence: step 2 is maximal: after it, every pledge that fits a need with a gap left is
either empty or at its cap for that need. Apply the result (:func:`apply_allocations`) and run
again: no money fits any gap, so nothing is placed. (Step 2 never completes a need either: step
1 ends by completing every need its pledges can still complete directly, and step 2 only takes
money away.)

Match offers (매칭 기부) are not pooled money: they act when a resident's gift lands, see
:func:`match_amount` and :func:`match_gift`.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import product
from math import lcm
from types import MappingProxyType
from typing import Protocol

__all__ = [
    "URGENCY_HORIZON_DAYS",
    "URGENCY_POINTS_BASE",
    "URGENT_DAYS",
    "REASON_COMPLETES",
    "REASON_COMPLETES_URGENT",
    "REASON_PARTIAL",
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
    "DISTRICT_POOL_ID",
    "district_pool",
    "attribute",
]

# --------------------------------------------------------------------------------------------
# Policy constants
# --------------------------------------------------------------------------------------------

URGENCY_HORIZON_DAYS = 30
"""A need's urgency starts rising this many days before its deadline."""

URGENCY_POINTS_BASE = 30
"""Weight 1 in points. Points are integers so that scores compare exactly (no floats)."""

URGENT_DAYS = 7
"""A completion this close to the deadline is reported as ``completes_urgent``."""

REASON_COMPLETES_URGENT = "completes_urgent"
REASON_COMPLETES = "completes"
REASON_PARTIAL = "partial_best_effort"
REASON_CODES = frozenset({REASON_COMPLETES_URGENT, REASON_COMPLETES, REASON_PARTIAL})

DISTRICT_POOL_ID = 0
"""The district's pooled fund (구 나눔 기금) in a run: pledge ids start at 1, so 0 is never a pledge."""

DISTRICT_ARRIVAL = 1 << 62
"""The fund is spent after donors' own pooled pledges that fit a need equally widely: a donor's
choice works first, the district's money fills what is left."""

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
    reachable_needs: int  # ... and some pledge with money fits its criteria (caps aside)
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


def district_pool(remaining: int) -> PoolSnapshot:
    """The district's pooled fund as the engine sees it: money donors left to the district when a
    need they gave to could not go ahead. The district's criteria: any need, no cap per need, no
    end; the engine's own order then makes it "most urgent first"."""
    return PoolSnapshot(DISTRICT_POOL_ID, remaining, Criteria(), arrival=DISTRICT_ARRIVAL)


def attribute(sources: Sequence[tuple[int, int]], amount: int) -> tuple[tuple[int, int], ...]:
    """Whose money an amount the district's fund places is: ``sources`` are (pledge id, won of it
    still in the fund), earliest first; the money that came in first goes out first. Returns
    (pledge id, won) parts summing to ``amount``. Raises ValueError if the sources hold less."""
    _check_non_negative_int(amount, "amount")
    parts: list[tuple[int, int]] = []
    left = amount
    for pledge_id, available in sources:
        _check_non_negative_int(available, f"available[{pledge_id}]")
        if not left:
            break
        take = min(left, available)
        if take:
            parts.append((pledge_id, take))
            left -= take
    if left:
        raise ValueError(f"the fund's sources hold {amount - left} won, not {amount}")
    return tuple(parts)


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

_Key = tuple  # (category | None, dong | None, group | None); None = "any"
_Cell = tuple  # (category, dong, group) of a need
_Taken = list  # [(pool number, won)]


class _Index:
    """Pledges in criteria buckets, and their unspent money.

    Pool number p indexes parallel lists, pledges being numbered in spending order. Bucket b
    lists the pool numbers whose criteria expand to its key, in spending order, with their
    unspent total and a head (no pool before it has money). ``visits`` counts pledges looked
    at: the unit of the work budget.
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

        # Per distinct criteria: bucket keys, open needs admitted, words for reasons.
        shapes: dict[tuple, tuple[tuple[_Key, ...], int, str]] = {}
        ranked: list[tuple] = []
        for pool in pools:
            crit = pool.criteria
            signature = (crit.categories, crit.dongs, crit.groups)
            shape = shapes.get(signature)
            if shape is None:
                keys = tuple(
                    key
                    for key in product(
                        sorted(crit.categories) or [None],
                        sorted(crit.dongs) or [None],
                        sorted(crit.groups) or [None],
                    )
                    if key in key_needs
                )
                admits = sum(key_needs[key] for key in keys)
                shape = shapes[signature] = (keys, admits, crit.describe())
            if shape[1]:  # a pledge that fits no open need plays no part
                ranked.append((shape[1], pool.arrival, pool.id, pool, shape))
        # Spending order: fits the fewest open needs, then earlier arrival, then id.
        ranked.sort()  # ids are unique, so pools themselves are never compared

        chosen = [r[3] for r in ranked]
        self.pool_ids: list[int] = [r[2] for r in ranked]
        self.remaining: list[int] = [pool.remaining for pool in chosen]
        self.cap_won: list[int | None] = [pool.cap_won for pool in chosen]
        self.cap_percent: list[int | None] = [pool.cap_percent for pool in chosen]
        self.capped: list[bool] = [
            won is not None or pct is not None for won, pct in zip(self.cap_won, self.cap_percent)
        ]
        self.words: list[str] = [r[4][2] for r in ranked]  # "in your chosen category", for reasons
        self.slots: list[tuple[tuple[int, int], ...]] = []  # per pool: (bucket, position)
        bucket_no: dict[_Key, int] = {}
        self.bucket_pools: list[list[int]] = []
        self.bucket_total: list[int] = []
        remaining = self.remaining
        for p, r in enumerate(ranked):
            keys = r[4][0]
            if len(keys) == 1:
                b = bucket_no.get(keys[0])
                if b is None:
                    b = bucket_no[keys[0]] = len(self.bucket_pools)
                    self.bucket_pools.append([])
                    self.bucket_total.append(0)
                members = self.bucket_pools[b]
                self.slots.append(((b, len(members)),))
                members.append(p)
                self.bucket_total[b] += remaining[p]
                continue
            mine = []
            for key in keys:
                b = bucket_no.get(key)
                if b is None:
                    b = bucket_no[key] = len(self.bucket_pools)
                    self.bucket_pools.append([])
                    self.bucket_total.append(0)
                mine.append((b, len(self.bucket_pools[b])))
                self.bucket_pools[b].append(p)
                self.bucket_total[b] += remaining[p]
            self.slots.append(tuple(mine))
        self.bucket_head = [0] * len(self.bucket_pools)
        self.visits = 0
        self._bucket_no = bucket_no
        self._key_needs = key_needs

    def cell_buckets(self, cell: _Cell) -> tuple[int, ...]:
        """The buckets a need in ``cell`` draws from: the key admitting fewest needs first."""
        c, d, g = cell
        present = sorted(
            (self._key_needs[key], key.count(None), b)
            for key in product((c, None), (d, None), (g, None))
            if (b := self._bucket_no.get(key)) is not None
        )
        return tuple(b for _, _, b in present)

    def save(self) -> tuple[list[int], list[int], list[int]]:
        return self.remaining[:], self.bucket_total[:], self.bucket_head[:]

    def restore(self, saved: tuple[list[int], list[int], list[int]]) -> None:
        self.remaining, self.bucket_total, self.bucket_head = (x[:] for x in saved)

    def room(self, p: int, need: NeedSnapshot) -> int:
        """What pool p's cap per need still allows for ``need``, at most its gap."""
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

        Scarcest pools first; commits nothing. A pledge that fits the need sits in exactly one
        of its buckets, so none is counted twice.
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

    def spend(self, p: int, amount: int) -> None:
        """Pool p gives ``amount`` won (a negative amount gives it back)."""
        self.remaining[p] -= amount
        for b, k in self.slots[p]:
            self.bucket_total[b] -= amount
            if amount < 0 and k < self.bucket_head[b]:
                self.bucket_head[b] = k


@dataclass
class _Problem:
    needs: list[NeedSnapshot]  # open needs, by id; "need number" i indexes this list
    weights: list[int]  # urgency points
    buckets: list[tuple[int, ...]]  # each need's buckets, scarcest first


# Journal entries of _Flow, undone in reverse order.
_GIVE, _SPEND, _DONE, _UNDONE = range(4)


class _Flow:
    """A step-1 plan: the needs it completes and which pool gives each how much.

    Every change is journaled so that a tentative change (a reroute that falls short, a
    local-search move that does not pay) is undone exactly with :meth:`rollback`.
    """

    def __init__(self, index: _Index, problem: _Problem):
        self.index = index
        self.problem = problem
        self.given: dict[int, dict[int, int]] = {}  # need -> {pool: won}
        self.from_pool: dict[int, dict[int, int]] = {}  # pool -> {need: won}
        self.completed: dict[int, None] = {}  # needs completed, in the order they were
        self.score = 0
        self.placed = 0
        self.free = sum(index.remaining)
        self.journal: list[tuple] = []

    def key(self) -> tuple[int, int, int]:
        """What makes one plan better than another: score, then needs, then won."""
        return self.score, len(self.completed), self.placed

    # --- journaled primitives ---------------------------------------------------------------

    def _give(self, p: int, i: int, amount: int) -> None:
        has = self.given.setdefault(i, {})
        now = has.get(p, 0) + amount
        users = self.from_pool.setdefault(p, {})
        if now:
            has[p] = now
            users[i] = now
        else:
            del has[p]
            del users[i]
            if not has:
                del self.given[i]
        self.journal.append((_GIVE, p, i, amount))

    def _spend(self, p: int, amount: int) -> None:
        self.index.spend(p, amount)
        self.free -= amount
        self.journal.append((_SPEND, p, amount))

    def _complete(self, i: int) -> None:
        self.completed[i] = None
        self.score += self.problem.weights[i]
        self.placed += self.problem.needs[i].gap
        self.journal.append((_DONE, i))

    def _uncomplete(self, i: int) -> None:
        del self.completed[i]
        self.score -= self.problem.weights[i]
        self.placed -= self.problem.needs[i].gap
        self.journal.append((_UNDONE, i))

    def mark(self) -> int:
        return len(self.journal)

    def rollback(self, mark: int) -> None:
        journal = self.journal
        while len(journal) > mark:
            entry = journal.pop()
            kind = entry[0]
            if kind == _GIVE:
                self._give(entry[1], entry[2], -entry[3])
            elif kind == _SPEND:
                self._spend(entry[1], -entry[2])
            elif kind == _DONE:
                self._uncomplete(entry[1])
            else:
                self._complete(entry[1])
            journal.pop()  # the inverse just journaled itself

    # --- moves --------------------------------------------------------------------------------

    def try_direct(self, i: int) -> bool:
        """Complete need i from pledges with money left, or change nothing."""
        need = self.problem.needs[i]
        gap = need.gap
        buckets = self.problem.buckets[i]
        if gap > self.free or not self.index.fits(buckets, gap):
            return False
        taken, missing = self.index.draw(need, buckets, gap)
        if missing:
            return False
        for p, amount in taken:
            self._spend(p, amount)
            self._give(p, i, amount)
        self._complete(i)
        return True

    def try_rerouted(self, i: int, stop_at: int) -> bool:
        """Complete need i with augmenting paths (see the module docstring), or change nothing.

        Gives up, undoing everything, when the paths run out or ``index.visits`` reaches
        ``stop_at``.
        """
        problem, index = self.problem, self.index
        need = problem.needs[i]
        if need.gap > self.free:
            return False
        mark = self.mark()
        direct, short = index.draw(need, problem.buckets[i], need.gap)
        for p, amount in direct:
            self._spend(p, amount)
            self._give(p, i, amount)
        while short:
            path = _augmenting_path(self, i, stop_at)
            if path is None:
                self.rollback(mark)
                return False
            pools_on_path, needs_on_path = path  # P1..Pk, and X0 = i, X1..X(k-1)
            last = len(pools_on_path) - 1
            delta = min(short, index.remaining[pools_on_path[last]])
            for j, p in enumerate(pools_on_path):
                x = needs_on_path[j]
                delta = min(delta, index.room(p, problem.needs[x]) - self.given.get(x, {}).get(p, 0))
                if j < last:
                    delta = min(delta, self.from_pool[p][needs_on_path[j + 1]])
            if delta <= 0:  # cannot happen: every link of the chain has room
                self.rollback(mark)
                return False
            for j, p in enumerate(pools_on_path):
                self._give(p, needs_on_path[j], delta)
                if j < last:
                    self._give(p, needs_on_path[j + 1], -delta)
            self._spend(pools_on_path[last], delta)
            short -= delta
        self._complete(i)
        return True

    def remove(self, i: int) -> None:
        """Take completed need i out of the plan; its money goes back to its pledges."""
        for p, amount in list(self.given.get(i, {}).items()):
            self._give(p, i, -amount)
            self._spend(p, -amount)
        self._uncomplete(i)


def _augmenting_path(flow: _Flow, start: int, stop_at: int) -> tuple[list[int], list[int]] | None:
    """Shortest chain start -> P1 -> X1 -> P2 -> ... -> Pk, Pk with money left (breadth first).

    Need X -> pool P when P fits X and X may take more from it (cap room, gap); pool P -> need
    X' when P now gives X' money. Returns (pools, needs): pools[j] gives needs[j] more and
    (for j < k-1) needs[j + 1] less. None if there is no chain or the work runs out.
    """
    index, problem = flow.index, flow.problem
    needs, buckets = problem.needs, problem.buckets
    remaining, capped = index.remaining, index.capped
    given, from_pool = flow.given, flow.from_pool
    reached_pool: dict[int, int] = {}  # pool -> the need it was reached from
    reached_need: dict[int, int] = {start: -1}  # need -> the pool it was reached from
    frontier = [start]
    while frontier:
        following: list[int] = []
        for x in frontier:
            x_need = needs[x]
            x_has = given.get(x, {})
            for b in buckets[x]:
                work = 1
                for p in index.bucket_pools[b]:
                    if p in reached_pool:
                        continue
                    work += 1
                    room = index.room(p, x_need) if capped[p] else x_need.gap
                    if room <= x_has.get(p, 0):
                        continue
                    reached_pool[p] = x
                    if remaining[p]:
                        index.visits += work
                        pools_on_path, needs_on_path = [p], [x]
                        while x != start:
                            p = reached_need[x]
                            x = reached_pool[p]
                            pools_on_path.append(p)
                            needs_on_path.append(x)
                        pools_on_path.reverse()
                        needs_on_path.reverse()
                        return pools_on_path, needs_on_path
                    for y in from_pool.get(p, ()):
                        if y not in reached_need:
                            reached_need[y] = p
                            following.append(y)
                index.visits += work
                if index.visits >= stop_at:
                    return None
        frontier = following
    return None


def _complete_pass(index: _Index, problem: _Problem, order: list[int], stop_at: int) -> _Flow:
    """One pass of step 1 along ``order``: complete each need if its pledges can, directly or
    by rerouting (rerouting only until ``REROUTE_BUDGET`` or ``stop_at``, whichever first)."""
    flow = _Flow(index, problem)
    reroute_until = min(stop_at, index.visits + REROUTE_BUDGET)
    for i in order:
        index.visits += 1
        if not flow.try_direct(i) and index.visits < reroute_until:
            flow.try_rerouted(i, reroute_until)
    flow.journal.clear()  # a pass is never undone
    return flow


def _ranked(problem: _Problem, cost: list[int], candidates: list[int]) -> list[int]:
    """Candidates by cost per urgency point, least first (exact, in integers); ties by
    deadline, then dongs and groups taking turns, then id."""
    weights, needs = problem.weights, problem.needs
    scale = 1
    for w in {weights[i] for i in candidates}:
        scale = lcm(scale, w)
    return _fair_turns(
        needs, candidates, {i: (cost[i] * (scale // weights[i]), needs[i].deadline) for i in candidates}
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


def _step1(index: _Index, problem: _Problem) -> _Flow:
    """Goal 1: the density pass, shadow-price passes, then local search on the best plan."""
    needs = problem.needs
    start = index.save()
    # What each need would draw from untouched pledges. A need that could not be completed
    # even then takes no part in step 1.
    patterns: dict[int, _Taken] = {}
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


def _local_search(flow: _Flow, order: list[int], stop_at: int) -> None:
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
    """Propose allocations of pooled pledges to open needs (see the module docstring).

    Allocations come in the order they were decided: completions in the order the needs were
    completed, then partial placements, nearest deadline first; within one need, by pool id.
    Raises ValueError on duplicate ids.
    """
    _check_unique(needs, "need")
    _check_unique(pools, "pool")
    open_needs = sorted((n for n in needs if n.gap > 0 and n.deadline >= today), key=lambda n: n.id)
    usable = sorted((p for p in pools if p.remaining > 0 and p.open_on(today)), key=lambda p: p.id)
    index = _Index(usable, open_needs)
    cell_buckets: dict[_Cell, tuple[int, ...]] = {}
    buckets = []
    for n in open_needs:
        cell = (n.category, n.dong, n.group)
        if cell not in cell_buckets:
            cell_buckets[cell] = index.cell_buckets(cell)
        buckets.append(cell_buckets[cell])
    problem = _Problem(open_needs, [urgency_weight(n, today) for n in open_needs], buckets)
    reachable = [index.fits(b, 1) for b in buckets]

    flow = _step1(index, problem)  # goal 1

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
    nearest_first = _fair_turns(
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
        _fairness(open_needs, reachable, funded, placed_on),
        sum(problem.weights[i] for i in funded),
    )


def _fairness(
    needs: list[NeedSnapshot],
    reachable: list[bool],
    funded: set[int],
    placed_on: dict[int, int],
) -> FairnessReport:
    rows: dict[str, dict[str, list[int]]] = {"dong": {}, "group": {}}
    for i, need in enumerate(needs):
        for kind, key in (("dong", need.dong), ("group", need.group)):
            row = rows[kind].setdefault(key, [0, 0, 0, 0])
            row[0] += 1
            row[1] += reachable[i]
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
