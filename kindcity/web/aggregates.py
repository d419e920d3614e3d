"""District-wide figures, kept for a short while.

The impact dashboard, its API and the donor wall sum over every payment and journal line (about half
a second of database work with 200,000 pledges). Every pledge moves the data version that public
pages are cached by (kindcity/web/caching.py), so on a busy day those sums would be redone for
nearly every visitor. Instead each worker keeps them for ``KINDCITY_AGGREGATE_SECONDS`` (60 s in
production, 0 elsewhere: always fresh), and the page says when they were counted.

The periods are buckets of that length, so a page's ETag can name its bucket (``aggregate_bucket``):
a visitor revalidating a page never keeps figures older than two buckets.
"""
from __future__ import annotations

import threading
import time as clock
from typing import Any, Callable

from flask import current_app

from ..domain.time import seoul_today, utcnow
from ..services import impact as impact_service

_KEY = "kindcity_aggregates"
_lock = threading.Lock()


def _seconds() -> float:
    return float(current_app.config.get("KINDCITY_AGGREGATE_SECONDS", 0))


def aggregate_bucket() -> str:
    """The current bucket: part of the ETag of every page that shows kept figures."""
    seconds = _seconds()
    return str(int(clock.time() // seconds)) if seconds > 0 else "0"


def _kept(key: tuple, compute: Callable[[], Any]) -> Any:
    if _seconds() <= 0:
        return compute()
    bucket = aggregate_bucket()
    store: dict = current_app.extensions.setdefault(_KEY, {})
    with _lock:
        found = store.get(key)
    if found is not None and found[0] == bucket:
        return found[1]
    value = compute()  # outside the lock: two threads may both count once, never block each other
    with _lock:
        store[key] = (bucket, value)
    return value


def district_impact(period: str):
    today = seoul_today()
    return _kept(("district", period, today), lambda: impact_service.district_impact(period, today))


def donor_wall():
    """(the wall, when it was counted)."""
    return _kept(("wall",), lambda: (impact_service.donor_wall(), utcnow()))


def forget() -> None:
    """Drop every kept figure (tests; after editing data by hand)."""
    with _lock:
        current_app.extensions.pop(_KEY, None)
