"""What the engine takes and gives: a pledge's criteria, the snapshots of needs and pooled pledges,
and the allocations it proposes. Plain frozen values, checked when made; money is ``int`` won."""
from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

REASON_COMPLETES_URGENT = "completes_urgent"
REASON_COMPLETES = "completes"
REASON_PARTIAL = "partial_best_effort"
REASON_CODES = frozenset({REASON_COMPLETES_URGENT, REASON_COMPLETES, REASON_PARTIAL})


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


def check_non_negative_int(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int number of won, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


def check_unique(items: Sequence, what: str) -> None:
    seen: set[int] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"duplicate {what} id {item.id}")
        seen.add(item.id)


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
        check_non_negative_int(self.gap, "gap")
        check_non_negative_int(self.target, "target")
        if self.gap > self.target:
            raise ValueError(f"need {self.id}: gap {self.gap} exceeds target {self.target}")
        given = dict(self.already_from)
        for pool_id, amount in given.items():
            check_non_negative_int(amount, f"already_from[{pool_id}]")
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
        check_non_negative_int(self.remaining, "remaining")
        if self.cap_won is not None:
            check_non_negative_int(self.cap_won, "cap_won")
        if self.cap_percent is not None:
            check_non_negative_int(self.cap_percent, "cap_percent")
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
