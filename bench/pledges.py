"""Benchmark: pledges per second on one hot need, and the time to import a 10,000-row statement.

    .venv/bin/python bench/pledges.py [--database postgresql+psycopg://postgres@127.0.0.1:5432/kindcity_bench]

Runs against a database of its own (created and dropped here). Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from procrastinate.schema import SchemaManager  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import fresh_database  # noqa: E402
from kindcity import create_app  # noqa: E402
from kindcity.domain.pledges import PledgeRuleError  # noqa: E402
from kindcity.extensions import db  # noqa: E402
from kindcity.models import Need, Payment, User  # noqa: E402
from kindcity.services import Actor  # noqa: E402
from kindcity.services import pledges as svc  # noqa: E402
from kindcity.services import statements as statement_service  # noqa: E402
from kindcity.services.reconcile import reconcile  # noqa: E402
from kindcity.services.reference import seed_district  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "20"))


def make_need(target: int, staff: User) -> int:
    from tests import factories as f
    return f.need(author=staff, target=target).id


def _client(url: str, need_id: int, donor_id: int, count: int, barrier, results) -> None:
    """One donor's process: like one gunicorn worker, its own interpreter, engine and connection."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    won = refused = 0
    writing = committing = 0.0
    with app.app_context():
        donor = db.session.get(User, donor_id)
        db.session.commit()
        barrier.wait()
        cpu = time.process_time()
        for _ in range(count):
            start = time.perf_counter()
            try:
                svc.create_direct_pledge(Actor(donor), svc.PledgeRequest(
                    need_id=need_id, amount=10_000, units=None, display="anonymous", message="",
                    on_cancel="refund"), hold_for=timedelta(days=7))
                written = time.perf_counter()
                db.session.commit()
                won += 1
            except PledgeRuleError:
                written = time.perf_counter()
                db.session.rollback()
                refused += 1
            writing += written - start
            committing += time.perf_counter() - written
        cpu = time.process_time() - cpu
        db.session.remove()
        db.engine.dispose()
    results.put((won, refused, writing / count * 1000, committing / count * 1000, cpu / count * 1000))


def bench_hot_need(app, url: str, pledges_total: int) -> None:
    from tests import factories as f
    with app.app_context():
        staff = f.user("staff")
        donors = [f.user("donor").id for _ in range(CLIENTS)]
        # room for all but the last few pledges, so the end of the run races for the last won too
        need_id = make_need(10_000 * (pledges_total - 5), staff)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # no connection may cross the fork below
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(CLIENTS + 1)
    results = context.Queue()
    per_client = pledges_total // CLIENTS
    processes = [context.Process(target=_client, args=(url, need_id, d, per_client, barrier, results))
                 for d in donors]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    outcomes = [results.get() for _ in processes]
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    won = sum(o[0] for o in outcomes)
    refused = sum(o[1] for o in outcomes)
    writing = sum(o[2] for o in outcomes) / len(outcomes)
    committing = sum(o[3] for o in outcomes) / len(outcomes)
    cpu = sum(o[4] for o in outcomes) / len(outcomes)
    with app.app_context():
        need = db.session.get(Need, need_id)
        over = max(0, need.reserved + need.confirmed - need.target)
        problems = reconcile()
        db.session.remove()
    attempts = won + refused
    print(f"hot need: {CLIENTS} concurrent clients (processes), {attempts} pledge attempts in {elapsed:.2f} s "
          f"= {attempts / elapsed:.0f} pledges/s ({won} accepted, {refused} refused 'not enough left'); "
          f"over-funding: {over} won; reconcile: {len(problems)} discrepancies")
    print(f"  per pledge, averaged over clients: {writing:.1f} ms to write it (waiting for the need's row "
          f"lock included), {committing:.1f} ms to commit; {cpu:.2f} ms of the client's own CPU")


def bench_statement(app, url: str, rows: int) -> None:
    from tests import factories as f
    with app.app_context():
        staff = f.user("staff", centre_code="district-welfare", money_staff=True)
        donor = f.user("donor")
        needs = [make_need(10_000_000, staff) for _ in range(50)]
        references = []
        for index in range(rows):
            pledge = svc.create_direct_pledge(Actor(donor), svc.PledgeRequest(
                need_id=needs[index % len(needs)], amount=20_000, units=None, display="anonymous", message="",
                on_cancel="refund"), hold_for=timedelta(days=7))
            references.append(pledge.reference)
            if index % 1000 == 999:
                db.session.commit()
        db.session.commit()
        lines = ["거래일시,적요,출금액,입금액,입금자명,잔액"]
        balance = 0
        for index, reference in enumerate(references):
            amount = 20_000 if index % 10 else 15_000  # every tenth deposit is a partial payment
            balance += amount
            lines.append(f"2026-11-{1 + index % 28:02d} 10:{index % 60:02d}:{index % 60:02d},타행이체,,"
                         f"\"{amount:,}\",김후원 {reference},\"{balance:,}\"")
        data = "\n".join(lines).encode("cp949")
        actor = Actor(staff, "bench")
        started, cpu_started = time.perf_counter(), time.process_time()
        preview = statement_service.preview_statement(actor, "bench.csv", data)
        db.session.commit()
        previewed, cpu_previewed = time.perf_counter(), time.process_time()
        counts = statement_service.commit_statement(actor, preview.id)
        applied = time.perf_counter()
        db.session.commit()
        done, cpu_done = time.perf_counter(), time.process_time()
        payments = db.session.scalar(select(func.count(Payment.id)))
        again = statement_service.preview_statement(actor, "bench.csv", data)
        duplicates = sum(1 for r in again.rows if r["outcome"] == "duplicate")
        db.session.rollback()
        problems = reconcile()
        print(f"statement import: {rows} rows (CP949): preview {previewed - started:.2f} s, apply "
              f"{done - previewed:.2f} s (of which COMMIT {done - applied:.2f} s), total {done - started:.2f} s; "
              f"{counts['applied']} payments recorded "
              f"({payments} in the table); re-import sees {duplicates} duplicates; reconcile: "
              f"{len(problems)} discrepancies")
        # Python's own CPU time against the wall clock: the rest is waiting for PostgreSQL.
        print(f"  of which the app's own CPU: preview {cpu_previewed - cpu_started:.2f} s, apply "
              f"{cpu_done - cpu_previewed:.2f} s; the rest is PostgreSQL's work and the round trips")
        db.session.remove()
    floors = sorted(database_floor(url, rows) for _ in range(3))
    print(f"  baseline, the same rows sent by psycopg alone, built beforehand (the database's own share on this "
          f"machine): {floors[1]:.2f} s (median of 3; {floors[0]:.2f}-{floors[2]:.2f} s)")


def database_floor(url: str, rows: int) -> float:
    """The baseline: the rows an import of ``rows`` deposits writes (payments, journal transactions
    and four lines each, pledge updates, bank rows), built in memory beforehand and sent by psycopg
    alone with COPY, then rolled back. No app code runs: this is what the database itself takes on
    this machine, the part of the import no Python can save."""
    import hashlib
    from datetime import datetime, timezone

    import psycopg

    now = datetime.now(timezone.utc)
    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
        cur = conn.cursor()
        actor = cur.execute("SELECT min(id) FROM users").fetchone()[0]
        pledges = cur.execute("SELECT id, need_id FROM pledges WHERE kind = 'direct' ORDER BY id LIMIT %s",
                              [rows]).fetchall()
        fingerprints = [hashlib.sha256(f"floor-{n}".encode()).hexdigest() for n in range(len(pledges))]
        started = time.perf_counter()
        cur.execute("SELECT id FROM pledges WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [[p for p, _ in pledges]])
        with cur.copy("COPY payments (pledge_id, amount, source, external_id, received_at, recorded_at, "
                      "recorded_by_id, note, bank_fingerprint) FROM STDIN") as copy:
            for (pledge_id, _), fingerprint in zip(pledges, fingerprints):
                copy.write_row((pledge_id, 20_000, "statement", fingerprint, now, now, actor, "memo", fingerprint))
        ids = [r[0] for r in cur.execute("SELECT nextval(pg_get_serial_sequence('ledger_transactions', 'id')) "
                                         "FROM generate_series(1, %s)", [len(pledges)])]
        with cur.copy("COPY ledger_transactions (id, entry, created_at, pledge_id, need_id, actor_id, memo) "
                      "FROM STDIN") as copy:
            for transaction_id, (pledge_id, need_id) in zip(ids, pledges):
                copy.write_row((transaction_id, "received", now, pledge_id, need_id, actor, "statement"))
        with cur.copy("COPY ledger_lines (transaction_id, account, amount) FROM STDIN") as copy:
            for transaction_id, (pledge_id, need_id) in zip(ids, pledges):
                for account, amount in (("cash", 20_000), (f"need:{need_id}", -20_000),
                                        (f"hold:{need_id}", 20_000), (f"promise:{pledge_id}", -20_000)):
                    copy.write_row((transaction_id, account, amount))
        cur.execute("UPDATE pledges AS t SET status = 'paid', paid = t.amount, held = 0 "
                    "FROM unnest(%s::bigint[]) AS v(id) WHERE t.id = v.id", [[p for p, _ in pledges]])
        with cur.copy("COPY bank_transactions (fingerprint, booked_at, amount, memo, reference, outcome, pledge_id, "
                      "imported_at) FROM STDIN") as copy:
            for (pledge_id, _), fingerprint in zip(pledges, fingerprints):
                copy.write_row((fingerprint, now, 20_000, "memo", None, "applied", pledge_id, now))
        elapsed = time.perf_counter() - started
        conn.rollback()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/kindcity_bench")
    parser.add_argument("--pledges", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--only", choices=["hot", "statement"])
    args = parser.parse_args()
    url = fresh_database(args.database)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": CLIENTS + 5, "max_overflow": 5}})
    with app.app_context():
        db.create_all()
        with db.engine.begin() as conn:  # the job queue: an import defers its thank-you mails
            conn.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
        seed_district("gwangju-seogu")
        db.session.commit()
    print(f"database: {make_url(url).render_as_string(hide_password=True)}")
    if args.only in (None, "hot"):
        bench_hot_need(app, url, args.pledges)
    if args.only in (None, "statement"):
        bench_statement(app, url, args.rows)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
