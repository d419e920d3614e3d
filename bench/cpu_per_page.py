"""The app's own cost of each public page, rendered from the database in this process.

    .venv/bin/python bench/load/run.py --load-only --database <url>     # once
    .venv/bin/python bench/cpu_per_page.py --database <url> [--requests 150]

The app as production runs it (KINDCITY_ENV=production) with the page store off, driven through
Flask's test client one request at a time after a warm-up: per page, the wall time and the process's
CPU time per request, the part spent in render_template (lazy loads included) and the part spent
in PostgreSQL round trips (cursor execute). Where wrk (bench/load/run.py) measures what two shared
cores serve, this says what one page costs the app, which is what the page's code controls.
Read-only. Asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import busiest_need_and_first_category  # noqa: E402
from bench.first_views import PAGES  # noqa: E402
from sqlalchemy import create_engine, event  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get(
        "KINDCITY_LOAD_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/kindcity_load"))
    parser.add_argument("--requests", type=int, default=150, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured requests per page first")
    args = parser.parse_args()
    with create_engine(args.database).connect() as conn:
        need, category = busiest_need_and_first_category(conn)
    pages = [(name, path.format(need=need, category=category)) for name, path in PAGES]

    os.environ.update({"DATABASE_URL": args.database, "KINDCITY_ENV": "production",
                       "KINDCITY_SECRET_KEY": secrets.token_urlsafe(48), "KINDCITY_SECURE_COOKIES": "0",
                       "KINDCITY_BASE_URL": "http://127.0.0.1", "KINDCITY_PAGE_CACHE_SIZE": "0"})
    import flask.templating

    from kindcity import create_app
    from kindcity.extensions import db

    spent = {"render": 0.0, "database": 0.0}
    render = flask.templating._render

    def timed_render(*a, **kw):
        started = time.perf_counter()
        try:
            return render(*a, **kw)
        finally:
            spent["render"] += time.perf_counter() - started

    flask.templating._render = timed_render
    app = create_app()
    with app.app_context():
        @event.listens_for(db.engine, "before_cursor_execute")
        def _before(conn, *_):
            conn.info["kindcity.bench.started"] = time.perf_counter()

        @event.listens_for(db.engine, "after_cursor_execute")
        def _after(conn, *_):
            spent["database"] += time.perf_counter() - conn.info.pop("kindcity.bench.started")

    client = app.test_client()
    n = args.requests
    print(f"{n} requests of each page after {args.warmup}, one at a time, page store off; ms per request")
    print(f"{'page':<18}{'wall':>8}{'CPU':>8}{'render':>8}{'database':>10}")
    for name, path in pages:
        for _ in range(args.warmup):
            client.get(path)
        spent.update(render=0.0, database=0.0)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            status = client.get(path).status_code
        wall, cpu = (time.perf_counter() - wall) / n * 1000, (time.process_time() - cpu) / n * 1000
        print(f"{name:<18}{wall:8.1f}{cpu:8.1f}{spent['render'] / n * 1000:8.1f}{spent['database'] / n * 1000:10.1f}"
              + ("" if status == 200 else f"  (status {status})"))
    print(f"2 CPUs, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
