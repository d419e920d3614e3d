"""Match offers (매칭 기부): "we add N won for every won residents give", up to a cap, in a period.

Not pooled money: an offer acts when a resident's gift lands on a need it accepts, never through
:func:`~kindcity.domain.matching.propose`."""
from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from .snapshots import Criteria, Placed, check_non_negative_int, check_unique


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
        check_non_negative_int(self.ratio_num, "ratio_num")
        check_non_negative_int(self.ratio_den, "ratio_den")
        check_non_negative_int(self.cap_remaining, "cap_remaining")
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
    check_non_negative_int(gift, "gift")
    check_non_negative_int(gap_after_gift, "gap_after_gift")
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
    check_unique(offers, "offer")
    matched: list[MatchedGift] = []
    gap = gap_after_gift
    for offer in sorted(offers, key=lambda o: (o.starts, o.id)):
        amount = match_amount(offer, need, gift, gap, on)
        if amount:
            matched.append(MatchedGift(offer.id, amount))
            gap -= amount
    return tuple(matched)
