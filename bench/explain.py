"""The slowest SQL statements behind each hot page, with PostgreSQL's plan for each.

    .venv/bin/python bench/load/run.py --load-only --database <url>     # once
    .venv/bin/python bench/explain.py --database <url> [--top 3]

Renders each page once in this process (the Flask test client, page store off; logged-in pages as
the busiest donor and as a district administrator), times every statement it runs, and prints the
page's statement count and time, then EXPLAIN for its slowest statements: a "Seq Scan" on a big table
is an index missing. Asserts nothing; timings on a shared machine are rough.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import busiest_need_and_first_category  # noqa: E402
from sqlalchemy import event, select, text  # noqa: E402

PUBLIC = ["/", "/needs", "/needs?category={category}", "/needs?q=%EB%82%9C%EB%B0%A9%EB%B9%84", "/needs/{need}",
          "/needs/{need}/impact", "/impact", "/donors"]
DONOR = ["/me/", "/me/impact", "/me/history.csv"]
STAFF = ["/staff/pledges", "/staff/matching", "/staff/referrals", "/staff/audit"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get(
        "KINDCITY_LOAD_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/kindcity_load"))
    parser.add_argument("--top", type=int, default=3, help="statements explained per page")
    args = parser.parse_args()
    os.environ.update({"DATABASE_URL": args.database, "KINDCITY_PAGE_CACHE_SIZE": "0"})
    from kindcity import create_app
    from kindcity.extensions import db
    from kindcity.models import User

    app = create_app()
    app.config.update(WTF_CSRF_ENABLED=False)
    with app.app_context():
        engine = db.engine
        with engine.connect() as conn:
            need, category = busiest_need_and_first_category(conn)
            donor = conn.execute(text("SELECT donor_id FROM pledges GROUP BY donor_id ORDER BY count(*) DESC "
                                      "LIMIT 1")).scalar_one()
            admin = conn.execute(text("SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1")).scalar()
        if admin is None:  # the loader makes donors only: a district administrator for the staff pages
            from kindcity.models import Centre
            office = db.session.scalar(select(Centre).where(Centre.is_district_office.is_(True)).limit(1))
            person = User(email="bench-admin@kindcity.example", password_hash="", display_name="bench admin",
                          role="admin", centre=office)
            db.session.add(person)
            db.session.flush()
            admin = person.id
        # Logged in by their session, as flask-login would keep it, not through the login form: the
        # form needs a password, and setting one here would lock the load benchmark's accounts
        # (bench/load/logged_in.py logs in as these same people with theirs).
        people = {role: db.session.get(User, user_id).get_id() for role, user_id in
                  (("donor", donor), ("admin", admin)) if user_id is not None}
        db.session.commit()

        timed: list[tuple[float, str, object]] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            context._bench_started = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):
            timed.append((time.perf_counter() - context._bench_started, statement, parameters))

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        plans = []
        for role, urls in (("public", PUBLIC), ("donor", DONOR), ("admin", STAFF)):
            client = app.test_client()
            if role != "public":
                if role not in people:
                    print(f"no {role} in the database: {', '.join(urls)} left out")
                    continue
                with client.session_transaction() as stored:
                    stored["_user_id"], stored["_fresh"] = people[role], True
            for template in urls:
                url = template.format(need=need, category=category)
                timed.clear()
                started = time.perf_counter()
                with app.app_context():
                    status = client.get(url).status_code
                elapsed = time.perf_counter() - started
                statements = list(timed)
                print(f"{url:<40} {status}  {elapsed * 1000:7.1f} ms, {len(statements):3} statements, "
                      f"{sum(s for s, _, _ in statements) * 1000:7.1f} ms in SQL")
                plans += [(seconds, url, statement, parameters) for seconds, statement, parameters
                          in sorted(statements, key=lambda item: -item[0])[:args.top]]
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        print()
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for seconds, url, statement, parameters in sorted(plans, key=lambda item: -item[0])[:args.top * 4]:
                print(f"--- {seconds * 1000:.1f} ms on {url}:\n{statement.strip()}\n")
                cursor.execute("EXPLAIN " + statement, parameters)
                print("\n".join(row[0] for row in cursor.fetchall()))
                print()
            raw.rollback()
        finally:
            raw.close()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
