"""The first view of each public page with the page store off, timed in this process.

    .venv/bin/python bench/load/run.py --load-only --database <url>     # once
    .venv/bin/python bench/first_views.py --database <url> [--repeat 5]

Each request starts as a first view does: no rendered page, no upkeep horizon and no trusted data
version in the process, so it runs every statement a visitor after a change would wait for (the data
version and the upkeep horizon included). Prints, per page, the median, the fastest and the slowest
of ``--repeat`` requests and the statements of one. Read-only. Asserts nothing: on a shared machine
the figures are rough, which is why it repeats.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import busiest_need_and_first_category  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

PAGES = [("home", "/"), ("needs list", "/needs"), ("a category", "/needs?category={category}"),
         ("keyword search", "/needs?q=%EB%82%9C%EB%B0%A9%EB%B9%84"), ("a need", "/needs/{need}"),
         ("a need's impact", "/needs/{need}/impact"), ("/impact", "/impact"), ("/donors", "/donors"),
         ("a wall page", "/donors?group=residents&page=20")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get(
        "KINDCITY_LOAD_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/kindcity_load"))
    parser.add_argument("--repeat", type=int, default=5, help="requests per page (the median is printed)")
    parser.add_argument("--pages", default="", help="comma-separated page names (default: all)")
    args = parser.parse_args()
    os.environ.update({"DATABASE_URL": args.database, "KINDCITY_PAGE_CACHE_SIZE": "0",
                       "KINDCITY_DATA_VERSION_SECONDS": "0"})
    from kindcity import create_app
    from kindcity.extensions import db
    from kindcity.web.caching import clear_page_cache

    app = create_app()
    wanted = {name.strip() for name in args.pages.split(",") if name.strip()}
    with app.app_context():
        engine = db.engine
        with engine.connect() as conn:
            need, category = busiest_need_and_first_category(conn)
            lines = conn.execute(text("SELECT count(*) FROM ledger_lines")).scalar_one()
        statements = [0]

        def count(*_):
            statements[0] += 1

        event.listen(engine, "after_cursor_execute", count)
    client = app.test_client()
    print(f"{lines:,} journal lines; {args.repeat} first views of each page, page store off")
    print(f"{'page':<16} {'median ms':>10} {'fastest':>8} {'slowest':>8} {'statements':>11} {'KB':>7}")
    for name, template in PAGES:
        if wanted and name not in wanted:
            continue
        url = template.format(need=need, category=category)
        times = []
        for _ in range(args.repeat):
            with app.app_context():
                clear_page_cache()
            statements[0] = 0
            started = time.perf_counter()
            response = client.get(url)
            status, size = response.status_code, len(response.get_data())
            times.append((time.perf_counter() - started) * 1000)
            assert status == 200, (url, status)
        print(f"{name:<16} {statistics.median(times):10.1f} {min(times):8.1f} {max(times):8.1f} {statements[0]:11} {size / 1000:7.0f}")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
