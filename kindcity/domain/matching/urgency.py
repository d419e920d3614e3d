"""Urgency: how much completing a need weighs today (goal 1), in whole points so that scores compare
exactly."""
from __future__ import annotations

import datetime

from .snapshots import NeedSnapshot

URGENCY_HORIZON_DAYS = 30
"""A need's urgency starts rising this many days before its deadline."""

URGENCY_POINTS_BASE = 30
"""Weight 1 in points. Points are integers so that scores compare exactly (no floats)."""

URGENT_DAYS = 7
"""A completion this close to the deadline is reported as ``completes_urgent``."""


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
