"""The monthly check of the access record (접속기록 점검, docs/privacy.md): which reads look unusual.
Pure: it is given the month's records and says which stand out, and why.

- ``bulk``: one account read at least ``BULK_SUBJECTS`` different records within ``BULK_WINDOW``;
- ``night``: a read between 22:00 and 06:00 Korea time;
- ``outside_centre``: a dong centre's staff read a record that belongs to another centre (the district
  office's staff and admins work across all centres, so their reads never count here).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from .time import SEOUL

BULK_SUBJECTS = 20
BULK_WINDOW = timedelta(minutes=10)
NIGHT_START, NIGHT_END = time(22, 0), time(6, 0)


@dataclass(frozen=True)
class Access:
    id: int
    at: datetime
    actor_id: int | None
    actor_centre_id: int | None
    actor_sees_all: bool
    subject: tuple[str, int]
    subject_centre_id: int | None


@dataclass(frozen=True)
class Finding:
    reason: str                 # bulk, night, outside_centre
    actor_id: int | None
    first_at: datetime
    record_ids: tuple[int, ...]


def _at_night(moment: datetime) -> bool:
    local = moment.astimezone(SEOUL).time()
    return local >= NIGHT_START or local < NIGHT_END


def _bulk(accesses: list[Access]) -> list[Finding]:
    """Per account, each run of reads in which the window holds enough different records; a run is
    reported once, from its first read to the last one in the window."""
    findings = []
    by_actor: dict[int | None, list[Access]] = defaultdict(list)
    for access in accesses:
        by_actor[access.actor_id].append(access)
    for actor_id, rows in by_actor.items():
        rows.sort(key=lambda a: (a.at, a.id))
        start, reported_until = 0, -1
        for end in range(len(rows)):
            while rows[end].at - rows[start].at > BULK_WINDOW:
                start += 1
            window = rows[start:end + 1]
            if len({a.subject for a in window}) >= BULK_SUBJECTS and start > reported_until:
                findings.append(Finding("bulk", actor_id, window[0].at, tuple(a.id for a in window)))
                reported_until = end
    return findings


def unusual(accesses: list[Access]) -> list[Finding]:
    findings = _bulk(accesses)
    for access in accesses:
        if _at_night(access.at):
            findings.append(Finding("night", access.actor_id, access.at, (access.id,)))
        if (not access.actor_sees_all and access.actor_centre_id is not None
                and access.subject_centre_id is not None and access.actor_centre_id != access.subject_centre_id):
            findings.append(Finding("outside_centre", access.actor_id, access.at, (access.id,)))
    return sorted(findings, key=lambda finding: (finding.first_at, finding.reason))
