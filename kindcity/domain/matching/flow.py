"""A step-1 plan (:class:`Flow`): the needs it completes and which pledge gives each how much, with
the moves that change it, each journaled so that a tentative change is undone exactly. Internal to
the engine.

Rerouting (augmenting paths): when a need's own pledges fall short because some of their money
went to needs completed earlier, the plan looks for a chain, as max-flow does: this need could use
pledge P1, P1's money went to need A1, A1 could take it from pledge P2 instead, ... until a pledge
with money left. Money moves one step along the chain, every completed need keeps exactly its gap,
every pledge keeps its criteria and caps. With enough budget this makes "can this set of needs be
completed together?" exact, not a greedy guess.
"""
from __future__ import annotations

from dataclasses import dataclass

from .index import Index
from .snapshots import NeedSnapshot


@dataclass
class Problem:
    needs: list[NeedSnapshot]  # open needs, by id; "need number" i indexes this list
    weights: list[int]  # urgency points
    buckets: list[tuple[int, ...]]  # each need's buckets, scarcest first


# Journal entries of Flow, undone in reverse order.
_GIVE, _SPEND, _DONE, _UNDONE = range(4)


class Flow:
    """A step-1 plan: the needs it completes and which pool gives each how much.

    Every change is journaled so that a tentative change (a reroute that falls short, a
    local-search move that does not pay) is undone exactly with :meth:`rollback`.
    """

    def __init__(self, index: Index, problem: Problem):
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


def _augmenting_path(flow: Flow, start: int, stop_at: int) -> tuple[list[int], list[int]] | None:
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
