"""District-wide figures for the public pages, as last counted (kindcity/services/figures.py).

Each is one row read by primary key; the job that counts them runs when money moves, never while a
visitor waits. A new count moves the public pages' data version (kindcity/web/caching.py), so ETags
and the page store follow it.
"""
from __future__ import annotations

from ..domain.time import seoul_today
from ..services import figures


def district_impact(period: str):
    return figures.district_impact(period, seoul_today())


def donor_wall():
    """(the wall, when it was counted)."""
    return figures.donor_wall()


def donor_wall_slices(wanted):
    """(the wanted slice of each group, every group's size, when it was counted)."""
    return figures.donor_wall_slices(wanted)


def district_totals():
    """The home page's totals, with ``counted_at``."""
    return figures.district_totals(seoul_today())
