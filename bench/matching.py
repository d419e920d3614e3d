"""Benchmark of the matching engine against the exact optimum of goal 1.

    .venv/bin/python bench/matching.py                 # every size; prints a Markdown table
    .venv/bin/python bench/matching.py --sizes 20x50,1000x4000 --supply 0.3 0.6 --milp-time 120

A script, not a test: it prints numbers. It asserts only that every engine result keeps every
rule (criteria, caps, gaps, pledge money), so that a fast but wrong engine cannot score.

Instances are generated with a fixed seed over Gwangju Seo-gu's 18 dongs, 8 categories and
6 beneficiary groups: categories and groups correlated (education mostly for children, elderly
care for the elderly), more needs in the bigger dongs, needs of 100,000 to 30,000,000 won (Seoul
hospital trips at 150,000 won each), deadlines 0 to 90 days away, 30% of needs partly funded
already. Pledges: 70% residents (30,000-500,000 won), 20% churches, shops and civic groups, 10%
companies; 30% open to any need, the rest choosing a category, one or two dongs, a group, or a
combination; 20% capped in won per need and 15% in percent of the target. The pooled money is
``--supply`` (default 0.6) times the open gaps, so that choices matter.

The optimum is a MILP solved by HiGHS (``scipy.optimize.milp``):

    maximise   sum_i w_i y_i                 w_i = urgency_weight(need i, today), in points
    subject to sum_i x_si <= R_s             every supply node s: its money
               sum_s x_si >= gap_i * y_i     every need i: complete, or it scores nothing
               0 <= x_si <= room_si,  y_i in {0, 1}

A supply node is one capped pledge, or all uncapped pledges with identical criteria (exact: such
pledges are interchangeable). ``room_si`` is the pledge's cap per need, at most the gap. With
integer data, any y has an integer flow, so the counts are exact. The objective is in integer
points, so an incumbent within 1 point of the dual bound is proven optimal. Where the MILP does
not finish within ``--milp-time`` the table says "time limit" and gives the bound; where the
model is too large to build (``--max-pairs``) it says so instead of pretending.

"placeable" is a max-flow LP on the same graph: the most won that could be placed at all,
ignoring completeness, i.e. the ceiling of goal 2. "at most" and "upper bound" need no solver and
exist for every size: pool all the money and ignore criteria and caps; then at most this many
needs fit (smallest gaps first), and no plan scores more than the fractional knapsack by points
per won (or the MILP's proven optimum or dual bound, when lower). Only a proven optimum is shown
as "optimum"; a MILP stopped by its time limit shows its best solution and bound in the status.

Times: wall-clock seconds, best of ``--repeats`` runs, and in brackets the process CPU seconds
(also best of), which is closer to "one core" when other programs share the machine.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sys
import time
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kindcity.domain.matching import (  # noqa: E402
    Criteria,
    NeedSnapshot,
    PoolSnapshot,
    propose,
    urgency_weight,
)

TODAY = dt.date(2026, 12, 1)

# Seo-gu's dongs with a rough weight (more needs where more people live).
DONGS = {
    "yang": 2, "yang3": 1, "nongseong1": 2, "nongseong2": 1, "gwangcheon": 2, "yudeok": 2,
    "chipyeong": 3, "sangmu1": 3, "sangmu2": 2, "hwajeong1": 3, "hwajeong2": 3, "hwajeong3": 2,
    "hwajeong4": 2, "seochang": 1, "geumho1": 3, "geumho2": 3, "pungam": 4, "dongcheon": 2,
}
CATEGORIES = {
    "medical_transport": 3, "food": 4, "housing_repair": 2, "education": 3,
    "elderly_care": 3, "youth_activity": 2, "disability_support": 2, "emergency_living": 2,
}
GROUPS = ["elderly_alone", "disabled", "out_of_school_youth", "low_income_family",
          "single_parent", "children"]
AFFINITY = {  # weights over GROUPS per category
    "medical_transport": [4, 3, 0, 2, 1, 1],
    "food": [3, 1, 1, 4, 3, 2],
    "housing_repair": [4, 2, 0, 3, 2, 0],
    "education": [0, 1, 3, 2, 2, 5],
    "elderly_care": [6, 2, 0, 1, 0, 0],
    "youth_activity": [0, 1, 5, 1, 1, 3],
    "disability_support": [1, 6, 0, 1, 0, 1],
    "emergency_living": [2, 1, 1, 4, 3, 1],
}
DEFAULT_SIZES = "20x50,100x300,300x1000,1000x4000,3000x15000,10000x50000"


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _round(amount: float, unit: int) -> int:
    return max(unit, int(round(amount / unit)) * unit)


def generate(n_needs: int, n_pools: int, seed: int, supply: float):
    """A reproducible instance: (needs, pools). Floats only draw sizes; money is rounded to int."""
    rng = random.Random(seed)
    needs = []
    for i in range(n_needs):
        category = _pick(rng, CATEGORIES)
        group = rng.choices(GROUPS, weights=AFFINITY[category])[0]
        if category == "medical_transport" and rng.random() < 0.6:
            target = 150_000 * rng.randint(2, 40)  # Seoul round trips
        else:
            target = min(30_000_000, _round(rng.lognormvariate(14.2, 0.9), 10_000))
        target = max(100_000, target)
        gap = target if rng.random() < 0.7 else _round(target * rng.uniform(0.15, 0.9), 10_000)
        needs.append(NeedSnapshot(
            id=i + 1, gap=min(gap, target), target=target,
            deadline=TODAY + dt.timedelta(days=rng.randint(0, 90)),
            category=category, dong=_pick(rng, DONGS), group=group,
        ))
    raw = []
    for _ in range(n_pools):
        kind = rng.random()
        if kind < 0.7:
            raw.append(rng.uniform(30_000, 500_000))  # residents
        elif kind < 0.9:
            raw.append(rng.uniform(500_000, 5_000_000))  # churches, civic groups, shops
        else:
            raw.append(rng.uniform(2_000_000, 30_000_000))  # companies
    scale = supply * sum(n.gap for n in needs) / sum(raw)
    arrival = list(range(n_pools))
    rng.shuffle(arrival)
    pools = []
    for j in range(n_pools):
        shape = rng.random()
        cats: set[str] = set()
        dongs: set[str] = set()
        groups: set[str] = set()
        if shape < 0.30:
            pass  # anything in the district
        elif shape < 0.55:
            cats = {_pick(rng, CATEGORIES)}
        elif shape < 0.70:
            dongs = {_pick(rng, DONGS) for _ in range(rng.choice([1, 1, 2]))}
        elif shape < 0.80:
            groups = {rng.choice(GROUPS)}
        elif shape < 0.92:
            cats, dongs = {_pick(rng, CATEGORIES)}, {_pick(rng, DONGS)}
        else:
            cats = {_pick(rng, CATEGORIES) for _ in range(2)}
            if rng.random() < 0.5:
                groups = {rng.choice(GROUPS)}
        cap_won = cap_percent = None
        c = rng.random()
        if c < 0.20:
            cap_won = rng.choice([300_000, 500_000, 1_000_000, 2_000_000, 3_000_000])
        elif c < 0.35:
            cap_percent = rng.choice([20, 30, 50])
        pools.append(PoolSnapshot(
            id=j + 1, remaining=_round(raw[j] * scale, 1_000),
            criteria=Criteria(frozenset(cats), frozenset(dongs), frozenset(groups)),
            cap_won=cap_won, cap_percent=cap_percent, arrival=arrival[j],
        ))
    return needs, pools


# ---------------------------------------------------------------------------------------------


def check(needs, pools, result) -> None:
    """Every rule, checked independently of the engine's code: the same checker as the property tests."""
    from tests.unit.test_matching_properties import assert_rules_hold

    assert_rules_hold(needs, pools, result)


def supply_nodes(needs, pools):
    """[(money, need indices, room per need)]; uncapped pledges with equal criteria merged."""
    import numpy as np

    index_of = [
        {v: k for k, v in enumerate(sorted({getattr(n, attr) for n in needs}))}
        for attr in ("category", "dong", "group")
    ]
    columns = [
        np.array([index_of[d][getattr(n, attr)] for n in needs], dtype=np.int64)
        for d, attr in enumerate(("category", "dong", "group"))
    ]
    gaps = np.array([n.gap for n in needs], dtype=np.int64)
    targets = np.array([n.target for n in needs], dtype=np.int64)

    def eligible(crit: Criteria):
        mask = np.ones(len(needs), dtype=bool)
        for d, values in enumerate((crit.categories, crit.dongs, crit.groups)):
            if values:
                allowed = np.zeros(len(index_of[d]), dtype=bool)
                for v in values:
                    if v in index_of[d]:
                        allowed[index_of[d][v]] = True
                mask &= allowed[columns[d]]
        return np.nonzero(mask)[0]

    merged: dict[tuple, int] = defaultdict(int)
    nodes = []
    for p in pools:
        if p.remaining <= 0:
            continue
        if p.cap_won is None and p.cap_percent is None:
            c = p.criteria
            merged[(tuple(sorted(c.categories)), tuple(sorted(c.dongs)), tuple(sorted(c.groups)))] += p.remaining
            continue
        idx = eligible(p.criteria)
        room = gaps[idx].copy()
        if p.cap_won is not None:
            room = np.minimum(room, p.cap_won)
        if p.cap_percent is not None:
            room = np.minimum(room, targets[idx] * p.cap_percent // 100)
        keep = room > 0
        nodes.append((p.remaining, idx[keep], room[keep]))
    for key in sorted(merged):
        idx = eligible(Criteria(*(frozenset(v) for v in key)))
        nodes.append((merged[key], idx, gaps[idx].copy()))
    return nodes


class _Quiet:
    """HiGHS prints some lines from C straight to file descriptor 1; keep the table clean."""

    def __enter__(self):
        sys.stdout.flush()
        self._saved = os.dup(1)
        self._null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(self._null, 1)

    def __exit__(self, *exc):
        os.dup2(self._saved, 1)
        os.close(self._saved)
        os.close(self._null)


def optimum(needs, pools, time_limit: float, max_pairs: int) -> dict:
    """Exact optimum of goal 1 (MILP), and the most won placeable at all (max-flow LP)."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp
    from scipy.sparse import csr_matrix

    open_needs = [n for n in needs if n.gap > 0 and n.deadline >= TODAY]
    nodes = supply_nodes(open_needs, pools)
    n_pairs = sum(len(idx) for _, idx, _ in nodes)
    if n_pairs > max_pairs:
        return {"status": f"not built ({n_pairs:,} pairs > {max_pairs:,})", "pairs": n_pairs}
    m = len(open_needs)
    pair_need = np.concatenate([idx for _, idx, _ in nodes])
    pair_node = np.concatenate([np.full(len(idx), s) for s, (_, idx, _) in enumerate(nodes)])
    upper = np.concatenate([room for _, _, room in nodes]).astype(float)
    n_x = len(pair_need)
    weights = np.array([urgency_weight(n, TODAY) for n in open_needs], dtype=float)
    gaps = np.array([n.gap for n in open_needs], dtype=float)
    supply = np.array([s for s, _, _ in nodes], dtype=float)
    x_cols = np.arange(n_x)

    t0 = time.perf_counter()
    a_supply = csr_matrix((np.ones(n_x), (pair_node, x_cols)), shape=(len(nodes), n_x + m))
    a_need = csr_matrix(
        (np.concatenate([np.ones(n_x), -gaps]),
         (np.concatenate([pair_need, np.arange(m)]), np.concatenate([x_cols, n_x + np.arange(m)]))),
        shape=(m, n_x + m),
    )
    with _Quiet():
        res = milp(
            np.concatenate([np.zeros(n_x), -weights]),
            integrality=np.concatenate([np.zeros(n_x), np.ones(m)]),
            bounds=Bounds(np.zeros(n_x + m), np.concatenate([upper, np.ones(m)])),
            constraints=[LinearConstraint(a_supply, -np.inf, supply),
                         LinearConstraint(a_need, 0, np.inf)],
            options={"time_limit": time_limit, "mip_rel_gap": 0.0, "disp": False},
        )
    seconds = time.perf_counter() - t0

    a_flow = csr_matrix(
        (np.ones(2 * n_x), (np.concatenate([pair_node, len(nodes) + pair_need]), np.tile(x_cols, 2))),
        shape=(len(nodes) + m, n_x),
    )
    with _Quiet():
        flow = linprog(-np.ones(n_x), A_ub=a_flow, b_ub=np.concatenate([supply, gaps]),
                       bounds=np.column_stack([np.zeros(n_x), upper]), method="highs",
                       options={"time_limit": time_limit})
    placeable = int(round(-flow.fun)) if flow.status == 0 else None

    out = {"pairs": n_pairs, "seconds": seconds, "placeable": placeable}
    if res.x is None:
        out["status"] = "no solution in time"
        return out
    chosen = res.x[n_x:] > 0.5
    score = int(round(float(weights[chosen].sum())))
    bound = None if res.mip_dual_bound is None else int(-res.mip_dual_bound + 1e-6)
    proven = res.status == 0 or (bound is not None and bound < score + 1)
    out.update(
        status="optimal" if proven else "time limit",
        bound=bound,
        count=int(chosen.sum()),
        score=score,
        chosen=[n.id for n, c in zip(open_needs, chosen) if c],
    )
    return out


def relaxed_bounds(needs, pools) -> tuple[int, int]:
    """Upper bounds that need no solver: all pledges pooled, criteria and caps ignored.

    (most needs: smallest gaps first; best score: fractional knapsack by points per won).
    Valid for any instance, loose where criteria bind.
    """
    money = sum(p.remaining for p in pools)
    open_needs = [n for n in needs if n.gap > 0 and n.deadline >= TODAY]
    count, left = 0, money
    for n in sorted(open_needs, key=lambda n: n.gap):
        if n.gap > left:
            break
        left -= n.gap
        count += 1
    score, left = Fraction(0), money
    for n in sorted(open_needs, key=lambda n: Fraction(n.gap, urgency_weight(n, TODAY))):
        w = urgency_weight(n, TODAY)
        if n.gap > left:
            score += Fraction(w * left, n.gap)
            break
        left -= n.gap
        score += w
    return count, int(score)


def run_engine(needs, pools, repeats: int):
    """The engine's result, its best wall time and its best CPU time over ``repeats`` runs."""
    walls, cpus = [], []
    result = None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        result = propose(needs, pools, TODAY)
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)
    return result, min(walls), min(cpus)


def _vs(engine: int, reference: int | None) -> str:
    if not reference:
        return f"{engine:,} / -"
    return f"{engine:,} / {reference:,} ({100 * engine / reference:.1f}%)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="needs x pools, comma separated")
    parser.add_argument("--supply", type=float, nargs="+", default=[0.6],
                        help="pooled money as a share of the open gaps")
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--milp-time", type=float, default=600.0, help="seconds per MILP")
    parser.add_argument("--max-pairs", type=int, default=3_000_000,
                        help="do not build a MILP with more (supply node, need) pairs")
    parser.add_argument("--no-milp", action="store_true", help="time the engine only")
    parser.add_argument("--repeats", type=int, default=3, help="engine runs; the best time counts")
    args = parser.parse_args(argv)
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs "
          f"(the engine uses one), load average {load:.1f} at start; today={TODAY}; "
          f"MILP: HiGHS via scipy {scipy_version()}, {args.milp_time:.0f} s limit")
    print()
    print("| needs x pledges | supply | seed | fully funded: engine / optimum | at most "
          "| urgency score: engine / optimum | engine / upper bound "
          "| won placed: engine / placeable | engine s (CPU) | MILP s | MILP |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n_needs, n_pools in sizes:
        for supply in args.supply:
            for seed in seeds:
                needs, pools = generate(n_needs, n_pools, seed, supply)
                result, wall, cpu = run_engine(needs, pools, args.repeats)
                check(needs, pools, result)
                count_bound, score_bound = relaxed_bounds(needs, pools)
                if args.no_milp:
                    opt = {"status": "not run"}
                else:
                    opt = optimum(needs, pools, args.milp_time, args.max_pairs)
                proven = opt["status"] == "optimal"
                if proven:
                    score_bound = min(score_bound, opt["score"])
                elif opt.get("bound") is not None:
                    score_bound = min(score_bound, opt["bound"])
                    opt["status"] += (f" (best found {opt['count']:,} needs, {opt['score']:,} points;"
                                      f" bound {opt['bound']:,})")
                count, score = len(result.fully_funded), result.urgency_score
                milp_s = f"{opt['seconds']:.1f}" if "seconds" in opt else "-"
                print(
                    f"| {n_needs:,} x {n_pools:,} | {supply:.2f} | {seed} "
                    f"| {_vs(count, opt['count'] if proven else None)} | {count_bound:,} "
                    f"| {_vs(score, opt['score'] if proven else None)} | {_vs(score, score_bound)} "
                    f"| {_vs(result.total_placed(), opt.get('placeable'))} "
                    f"| {wall:.3f} ({cpu:.3f}) | {milp_s} | {opt['status']} |",
                    flush=True,
                )
    return 0


def scipy_version() -> str:
    import scipy

    return scipy.__version__


if __name__ == "__main__":
    raise SystemExit(main())
