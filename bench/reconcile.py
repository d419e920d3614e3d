"""kindcity reconcile on a loaded database: its time and peak memory, printed.

    .venv/bin/python bench/load/run.py --load-only [--scale 10] --database <url>
    .venv/bin/python bench/reconcile.py --database <url> [--since YYYY-MM-DD]

Runs reconcile() once in this process and prints the journal's size, the wall time, the peak
resident memory of the process (getrusage) and the number of discrepancies. Asserts nothing.
"""
from __future__ import annotations

import argparse
from datetime import date
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from kindcity import create_app  # noqa: E402
from kindcity.extensions import db  # noqa: E402
from kindcity.models import LedgerLine, Need, Pledge  # noqa: E402
from kindcity.services.reconcile import reconcile  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get(
        "KINDCITY_LOAD_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/kindcity_load"))
    parser.add_argument("--since", type=date.fromisoformat, default=None,
                        help="bound the journal check to what moved from this Korea day on (kindcity reconcile --since)")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database
    app = create_app()
    with app.app_context():
        lines, needs, pledges = (db.session.scalar(select(func.count()).select_from(model))
                                 for model in (LedgerLine, Need, Pledge))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        problems = reconcile(args.since)
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        db.session.rollback()
    print(f"{needs:,} needs, {pledges:,} pledges, {lines:,} journal lines")
    print(f"reconcile{f' --since {args.since}' if args.since else ''}: {elapsed:.1f} s, peak RSS {peak / 1024:.0f} MB ({before / 1024:.0f} MB before it ran), "
          f"{len(problems)} discrepancy(ies); {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
