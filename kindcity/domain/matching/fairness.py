"""Goal 3's report: per dong and per beneficiary group, the needs open, reachable, funded and the won
placed in a run, and the dongs and groups left behind while others got something. Reported and
flagged for staff, never enforced by quotas."""
from __future__ import annotations

from dataclasses import dataclass

from .snapshots import NeedSnapshot


@dataclass(frozen=True)
class FairnessRow:
    """One dong or one beneficiary group in a run."""

    key: str
    open_needs: int  # open, not past deadline, gap > 0
    reachable_needs: int  # ... and some pledge with money fits its criteria (caps aside)
    funded_needs: int  # completed by this run
    placed: int  # won placed on its needs by this run


@dataclass(frozen=True)
class FairnessReport:
    by_dong: tuple[FairnessRow, ...]
    by_group: tuple[FairnessRow, ...]
    # reachable needs but nothing funded, while some other dong (group) got a need funded
    left_behind_dongs: tuple[str, ...]
    left_behind_groups: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        return bool(self.left_behind_dongs or self.left_behind_groups)


def fairness_report(
    needs: list[NeedSnapshot],
    reachable: list[bool],
    funded: set[int],
    placed_on: dict[int, int],
) -> FairnessReport:
    rows: dict[str, dict[str, list[int]]] = {"dong": {}, "group": {}}
    for i, need in enumerate(needs):
        for kind, key in (("dong", need.dong), ("group", need.group)):
            row = rows[kind].setdefault(key, [0, 0, 0, 0])
            row[0] += 1
            row[1] += reachable[i]
            row[2] += i in funded
            row[3] += placed_on.get(i, 0)

    def table(kind: str) -> tuple[tuple[FairnessRow, ...], tuple[str, ...]]:
        built = tuple(FairnessRow(key, *rows[kind][key]) for key in sorted(rows[kind]))
        any_funded = any(r.funded_needs for r in built)
        behind = tuple(r.key for r in built if any_funded and r.reachable_needs and not r.funded_needs)
        return built, behind

    by_dong, behind_dongs = table("dong")
    by_group, behind_groups = table("group")
    return FairnessReport(by_dong, by_group, behind_dongs, behind_groups)
