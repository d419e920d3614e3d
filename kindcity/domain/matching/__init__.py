"""The matching engine: spreads pooled pledges (나눔 기금) over open needs, and applies match offers.

Pure: standard library only, no I/O, no framework. The services build the snapshots, call
:func:`propose`, and write the allocations it returns; everything here is plain values in and plain
values out, with money as ``int`` won. ``README.md`` beside this file is the same policy for donors
(in Korean and English; the site's ``/matching`` page shows it) and the engine's benchmark.

What the engine aims for, in this order: (1) complete as many needs as possible before their
deadline, the most urgent weighing most (:func:`urgency_weight`), committing money to a need only
when it completes it; (2) place money that cannot complete any need partially, nearest deadline
first, never displacing a completion; (3) leave no dong or group behind: they take turns among
equally good needs, and every run reports who was left behind (:class:`FairnessReport`).

Always: a pledge's criteria and its cap per need are never broken; a need never gets more than its
gap, a pledge never gives more than its remaining received money; needs past their deadline and
pledges past their end date take no part; the same input gives the same output (in any order,
under any hash seed); and a second run on the first run's result places nothing new.

The modules: ``snapshots`` (the values in and out), ``urgency``, ``district`` (the district's
pooled fund), ``index`` (pledges in criteria buckets), ``flow`` (a plan, and rerouting), ``search``
(goal 1's passes and local search), ``engine`` (:func:`propose`), ``fairness`` (goal 3's report),
``offers`` (match offers, 매칭 기부). Import the public names from the package itself.
"""
from __future__ import annotations

from .district import DISTRICT_POOL_ID, attribute, district_pool
from .engine import MatchResult, apply_allocations, propose
from .fairness import FairnessReport, FairnessRow
from .offers import MatchedGift, MatchOffer, match_amount, match_gift
from .snapshots import (REASON_CODES, REASON_COMPLETES, REASON_COMPLETES_URGENT, REASON_PARTIAL, Allocation,
                        Criteria, NeedSnapshot, PoolSnapshot)
from .urgency import URGENCY_HORIZON_DAYS, URGENCY_POINTS_BASE, URGENT_DAYS, days_left, urgency_weight

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
