"""The pledges of a run, indexed for drawing money: in criteria buckets, in spending order, with
their unspent money. Internal to the engine.

Which money first: the scarcest. A need spends pledges in order of how many open needs their
criteria admit, fewest first (a pledge for "medical transport in 양동" before one open to
anything), then by arrival (earlier donors' money works first), then id. Money that fits few
needs is used where it fits; flexible money stays for needs nothing else reaches.

Scale: a pledge for categories {a, b}, any dong, group g sits in buckets (a, *, g) and
(b, *, g); a need in cell (c, d, g) looks only at its eight buckets (c|*, d|*, g|*) and meets
each pledge that fits it exactly once. Each bucket keeps its unspent total, so a need that
cannot be completed is usually turned down in eight additions.
"""
from __future__ import annotations

from itertools import product

from .snapshots import NeedSnapshot, PoolSnapshot

Key = tuple  # (category | None, dong | None, group | None); None = "any"
Cell = tuple  # (category, dong, group) of a need
Taken = list  # [(pool number, won)]


class Index:
    """Pledges in criteria buckets, and their unspent money.

    Pool number p indexes parallel lists, pledges being numbered in spending order. Bucket b
    lists the pool numbers whose criteria expand to its key, in spending order, with their
    unspent total and a head (no pool before it has money). ``visits`` counts pledges looked
    at: the unit of the work budget.
    """

    def __init__(self, pools: list[PoolSnapshot], needs: list[NeedSnapshot]):
        cell_needs: dict[Cell, int] = {}
        for need in needs:
            cell = (need.category, need.dong, need.group)
            cell_needs[cell] = cell_needs.get(cell, 0) + 1
        key_needs: dict[Key, int] = {}  # how many open needs each bucket key admits
        for (c, d, g), count in cell_needs.items():
            for key in product((c, None), (d, None), (g, None)):
                key_needs[key] = key_needs.get(key, 0) + count

        # Per distinct criteria: bucket keys, open needs admitted, words for reasons.
        shapes: dict[tuple, tuple[tuple[Key, ...], int, str]] = {}
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
        bucket_no: dict[Key, int] = {}
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

    def cell_buckets(self, cell: Cell) -> tuple[int, ...]:
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

    def draw(self, need: NeedSnapshot, buckets: tuple[int, ...], wanted: int) -> tuple[Taken, int]:
        """(pools and amounts that would give ``need`` up to ``wanted``, won still missing).

        Scarcest pools first; commits nothing. A pledge that fits the need sits in exactly one
        of its buckets, so none is counted twice.
        """
        remaining = self.remaining
        capped = self.capped
        taken: Taken = []
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
