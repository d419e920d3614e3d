"""Benchmark of the job queue: jobs per second drained by one and by two workers (a no-op job, and a
mail job to an SMTP server on 127.0.0.1), and the added latency of deferring a job inside a pledge
transaction.

    .venv/bin/python bench/jobs.py [--database postgresql+psycopg://postgres@127.0.0.1:5432/kindcity_bench_jobs]
                                   [--noop 2000] [--mail 1000] [--pledges 300]

Runs against a database of its own (created and dropped here), with real `kindcity worker` processes
(concurrency 1 each). Each drain starts with the workers up and idle; the clock runs from the commit
that queues the jobs to the moment none is left to do. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from procrastinate.schema import SchemaManager  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import fresh_database  # noqa: E402
from kindcity import create_app, jobs  # noqa: E402
from kindcity.extensions import db  # noqa: E402
from kindcity.services import Actor  # noqa: E402
from kindcity.services import pledges as svc  # noqa: E402
from kindcity.services.reference import seed_district  # noqa: E402
from tests.jobqueue import RefusingSMTP, smtp_server, start_worker, stop, wait_until  # noqa: E402


def make_app(url: str, outbox: Path, smtp_url: str = ""):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret-key-0123456789-0123456789",
                       "TESTING": True, "KINDCITY_JOB_QUEUE": "postgres", "KINDCITY_OUTBOX": str(outbox),
                       "KINDCITY_SMTP_URL": smtp_url, "SERVER_NAME": "kindcity.test",
                       "KINDCITY_JOB_MAX_ATTEMPTS": 3, "KINDCITY_JOB_RETRY_BASE_SECONDS": 1,
                       "KINDCITY_WORKER_STALLED_SECONDS": 30, "KINDCITY_WORKER_STALLED_CRON": "* * * * *",
                       "KINDCITY_WORKER_DELETE_JOBS": "successful"})


def remaining(app) -> int:
    with app.app_context():
        count = db.session.scalar(text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') "
                                       "AND task_name NOT LIKE 'upkeep.%' AND task_name <> 'retry-stalled-jobs'"))
        db.session.remove()
        return count


def live_workers(app) -> int:
    with app.app_context():
        count = db.session.scalar(text("SELECT count(*) FROM procrastinate_workers"))
        db.session.remove()
        return count


def drain(app, workers: int, queue_jobs, folder: Path) -> float:
    """Seconds for ``workers`` workers to run the jobs ``queue_jobs`` defers in one transaction."""
    processes = [start_worker(app, "--concurrency", "1", log=folder / f"worker{n}.log") for n in range(workers)]
    try:
        wait_until(lambda: live_workers(app) == workers and remaining(app) == 0, 60, what="idle workers")
        with app.app_context(), app.test_request_context("/"):
            queue_jobs()
            start = time.perf_counter()
            db.session.commit()
        wait_until(lambda: remaining(app) == 0, 900, interval=0.05, what="the queue to drain")
        return time.perf_counter() - start
    finally:
        for process in processes:
            stop(process)
        wait_until(lambda: live_workers(app) == 0, 30, what="the workers to stop")


def pledge_latency(app, count: int) -> tuple[float, float]:
    """Median milliseconds of a direct pledge (service and commit), without and with a mail job deferred
    in its transaction, alternating so both see the same machine."""
    from tests import factories as f

    with app.app_context(), app.test_request_context("/"):
        staff = f.user("staff", centre_code="district-welfare")
        donor = f.user("donor")
        need = f.need(author=staff, target=10_000 * (2 * count + 10))
        db.session.commit()
        plain, deferred = [], []
        for n in range(2 * count):
            with_job = n % 2 == 1
            start = time.perf_counter()
            pledge = svc.create_direct_pledge(Actor(donor), svc.PledgeRequest(
                need_id=need.id, amount=10_000, units=None, display="anonymous", message="", on_cancel="refund"),
                hold_for=timedelta(days=7))
            if with_job:
                jobs.defer("mail.pledge_instructions", pledge_id=pledge.id, locale="ko")
            db.session.commit()
            (deferred if with_job else plain).append((time.perf_counter() - start) * 1000)
    return statistics.median(plain), statistics.median(deferred)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/kindcity_bench_jobs")
    parser.add_argument("--noop", type=int, default=2000)
    parser.add_argument("--mail", type=int, default=1000)
    parser.add_argument("--pledges", type=int, default=300)
    args = parser.parse_args()
    url = fresh_database(args.database)
    handler = RefusingSMTP()
    rows = []
    try:
        with TemporaryDirectory() as tmp, smtp_server(handler) as smtp_url:
            folder = Path(tmp)
            app = make_app(url, folder / "outbox", smtp_url)
            with app.app_context():
                db.create_all()
                with db.engine.begin() as conn:
                    conn.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
                seed_district("gwangju-seogu")
                db.session.commit()
            batch = iter(range(10**9))

            def noops(count):
                return lambda: [jobs.defer("jobs.noop") for _ in range(count)]

            def mails(count):
                from kindcity import mail

                def queue():
                    round_ = next(batch)
                    for n in range(count):
                        mail.send(f"donor{n}@example.org", f"bench {n}", "본문 body", key=f"bench:{round_}:{n}")
                return queue

            for label, make, count in (("no-op job", noops, args.noop), ("mail job (SMTP on 127.0.0.1)", mails,
                                                                          args.mail)):
                for workers in (1, 2):
                    before = len(handler.messages)
                    seconds = drain(app, workers, make(count), folder)
                    if make is mails:
                        assert len(handler.messages) - before == count, "every mail once"
                    rows.append((label, workers, count, seconds, count / seconds))
                    print(f"{label}: {workers} worker(s), {count} jobs in {seconds:.2f} s = {count / seconds:.0f} jobs/s",
                          flush=True)
            plain, deferred = pledge_latency(app, args.pledges)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    finally:
        from sqlalchemy import create_engine
        target = make_url(url)
        admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        admin.dispose()
    print()
    print("| job | workers | jobs | seconds | jobs/s |")
    print("|---|---:|---:|---:|---:|")
    for label, workers, count, seconds, rate in rows:
        print(f"| {label} | {workers} | {count:,} | {seconds:.2f} | {rate:,.0f} |")
    print()
    print(f"Direct pledge, service and commit, median of {args.pledges}: {plain:.2f} ms without a job, "
          f"{deferred:.2f} ms with a mail job deferred in its transaction (+{deferred - plain:.2f} ms).")


if __name__ == "__main__":
    main()
