"""The district's pooled fund (구 나눔 기금) in a run: one more pooled pledge, open to any need and
spent after donors' own, and whose money it places (the money that came in first goes out first)."""
from __future__ import annotations

from collections.abc import Sequence

from .snapshots import Criteria, PoolSnapshot, check_non_negative_int

DISTRICT_POOL_ID = 0
"""The district's pooled fund (구 나눔 기금) in a run: pledge ids start at 1, so 0 is never a pledge."""

DISTRICT_ARRIVAL = 1 << 62
"""The fund is spent after donors' own pooled pledges that fit a need equally widely: a donor's
choice works first, the district's money fills what is left."""


def district_pool(remaining: int) -> PoolSnapshot:
    """The district's pooled fund as the engine sees it: money donors left to the district when a
    need they gave to could not go ahead. The district's criteria: any need, no cap per need, no
    end; the engine's own order then makes it "most urgent first"."""
    return PoolSnapshot(DISTRICT_POOL_ID, remaining, Criteria(), arrival=DISTRICT_ARRIVAL)


def attribute(sources: Sequence[tuple[int, int]], amount: int) -> tuple[tuple[int, int], ...]:
    """Whose money an amount the district's fund places is: ``sources`` are (pledge id, won of it
    still in the fund), earliest first; the money that came in first goes out first. Returns
    (pledge id, won) parts summing to ``amount``. Raises ValueError if the sources hold less."""
    check_non_negative_int(amount, "amount")
    parts: list[tuple[int, int]] = []
    left = amount
    for pledge_id, available in sources:
        check_non_negative_int(available, f"available[{pledge_id}]")
        if not left:
            break
        take = min(left, available)
        if take:
            parts.append((pledge_id, take))
            left -= take
    if left:
        raise ValueError(f"the fund's sources hold {amount - left} won, not {amount}")
    return tuple(parts)
