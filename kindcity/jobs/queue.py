"""The PostgreSQL job queue: procrastinate, bound to the registry of job functions and the schedules.

Why procrastinate: a maintained PostgreSQL-only queue (no broker to run beside the database), with
retries and backoff, locks, queueing locks, periodic tasks that several workers defer exactly once per
period, stalled-worker detection, and psycopg 3. Its tables come through the project's migrations
(migrations/versions/queue0001_job_queue.py).

Jobs are *deferred* through the SQLAlchemy session (kindcity/jobs/__init__.py, a call of
procrastinate's ``procrastinate_defer_jobs_v1`` function), never through procrastinate's own pool: that
is what puts a job in the same transaction as the change that asks for it. The worker uses
procrastinate's psycopg connector to fetch and finish jobs; each job function runs in a Flask app
context of its own (a session of its own) and commits its work before the job is marked done.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime

import procrastinate
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ..domain.time import utcnow
from ..extensions import db
from ..request_log import log_job
from . import QUEUE, REQUEST_ID_ARG, load_jobs, perform
from .upkeep import SCHEDULE

log = logging.getLogger(__name__)


def libpq_url(sqlalchemy_url: str) -> str:
    """postgresql+psycopg://… as libpq wants it: postgresql://…"""
    url = make_url(sqlalchemy_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def retry_strategy(app: Flask) -> procrastinate.RetryStrategy:
    """Exponential backoff: waits of base, base², base³ … seconds (3, 9, 27 … by default, about an hour
    over 8 attempts), then the job stays failed until someone retries it."""
    cfg = app.config
    # procrastinate counts retries after the first attempt; the setting counts every attempt.
    return procrastinate.RetryStrategy(max_attempts=max(cfg["KINDCITY_JOB_MAX_ATTEMPTS"] - 1, 0),
                                       exponential_wait=cfg["KINDCITY_JOB_RETRY_BASE_SECONDS"])


def build(app: Flask) -> procrastinate.App:
    """A procrastinate app whose tasks are kindcity's job functions, run inside ``app``."""
    queue = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=libpq_url(app.config["SQLALCHEMY_DATABASE_URI"]), min_size=1, max_size=4))
    strategy = retry_strategy(app)
    schedule = {**SCHEDULE, **app.config.get("KINDCITY_SCHEDULE", {})}
    for spec in load_jobs().values():
        periodic = schedule.get(spec.name)

        def run(context, _name=spec.name, _periodic=periodic is not None, _retry=strategy if spec.retry else None,
                **args):
            if _periodic:
                args.pop("timestamp", None)
            job, started = context.job, time.perf_counter()
            line = dict(name=_name, job_id=job.id, attempt=job.attempts + 1, request_id=args.get(REQUEST_ID_ARG))
            with app.app_context():
                try:
                    perform(_name, args)
                except Exception as error:
                    again = _retry is not None and _retry.get_retry_decision(exception=error, job=job) is not None
                    log_job(status="retry" if again else "failed", started=started, error=error, **line)
                    record_error(job.id, _name, error)
                    raise
            log_job(status="succeeded", started=started, **line)

        # A periodic task runs one at a time (lock) and waits at most once in the queue (queueing lock).
        task = queue.task(run, name=spec.name, queue=QUEUE, retry=strategy if spec.retry else False,
                          lock=spec.name if periodic else None, queueing_lock=spec.name if periodic else None,
                          pass_context=True)
        if periodic:
            queue.periodic(cron=periodic, periodic_id="")(task)

    stalled_after = app.config["KINDCITY_WORKER_STALLED_SECONDS"]

    async def retry_stalled_jobs(timestamp: int) -> None:
        """Jobs left 'doing' by a worker that died (no heartbeat) go back to the queue."""
        for stalled in await queue.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
            log.warning("job %s (%s) of a dead worker: retried", stalled.id, stalled.task_name)
            await queue.job_manager.retry_job(stalled)

    queue.periodic(cron=app.config["KINDCITY_WORKER_STALLED_CRON"], periodic_id="")(
        queue.task(retry_stalled_jobs, name="retry-stalled-jobs", queue=QUEUE, queueing_lock="retry-stalled-jobs",
                   pass_context=False))
    return queue


def run_worker(app: Flask, *, concurrency: int = 1, queues: list[str] | None = None, name: str | None = None) -> None:
    queue = build(app)
    stalled_after = app.config["KINDCITY_WORKER_STALLED_SECONDS"]
    options = dict(concurrency=concurrency, queues=queues or None, name=name, wait=True,
                   delete_jobs=app.config["KINDCITY_WORKER_DELETE_JOBS"], update_heartbeat_interval=max(stalled_after / 3, 0.5),
                   stalled_worker_timeout=stalled_after)
    asyncio.run(_work(queue, options))


async def _work(queue: procrastinate.App, options: dict) -> None:
    async with queue.open_async():
        await queue.run_worker_async(**options)


# --- what admins see: failed jobs, and a retry -------------------------------------------------

@dataclass(frozen=True)
class JobRow:
    id: int
    task: str
    status: str
    attempts: int
    args: dict
    error: str
    at: datetime | None


_LIST = text("""
    SELECT j.id, j.task_name, j.status, j.attempts, j.args,
           (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id) AS at
      FROM procrastinate_jobs j
     WHERE CAST(j.status AS text) = ANY(:statuses)
     ORDER BY j.id DESC
     LIMIT :limit""")


def list_jobs(session, statuses=("failed",), limit: int = 100) -> list[JobRow]:
    rows = session.execute(_LIST, {"statuses": list(statuses), "limit": limit}).all()
    errors = last_errors(session, [row.id for row in rows])
    return [JobRow(row.id, row.task_name, row.status, row.attempts, dict(row.args), errors.get(row.id, ""), row.at)
            for row in rows]


def retry_failed(session, job_id: int) -> bool:
    """A failed job goes back to the queue now, with its attempts counted afresh. False if the job is
    not (or no longer) failed."""
    status = session.scalar(text("SELECT CAST(status AS text) FROM procrastinate_jobs WHERE id = :id FOR UPDATE"),
                            {"id": job_id})
    if status != "failed":
        return False
    session.execute(text("SELECT procrastinate_retry_job_v2(:id, now(), NULL, NULL, NULL)"), {"id": job_id})
    session.execute(text("UPDATE procrastinate_jobs SET attempts = 0 WHERE id = :id"), {"id": job_id})
    session.execute(text("DELETE FROM job_errors WHERE job_id = :id"), {"id": job_id})
    return True


def counts(session) -> dict[str, int]:
    rows = session.execute(text("SELECT CAST(status AS text), count(*) FROM procrastinate_jobs GROUP BY 1")).all()
    return {status: count for status, count in rows}


def record_error(job_id: int, task: str, error: Exception) -> None:
    """The job's last error, for the admin page (procrastinate keeps the status, not the reason).
    In a transaction of its own: the job's own work was rolled back."""
    from ..models import JobError

    message = f"{type(error).__name__}: {error}"[:2000]
    row = db.session.get(JobError, job_id) or JobError(job_id=job_id, task=task)
    row.error, row.at = message, utcnow()
    db.session.add(row)
    db.session.commit()


def last_errors(session, job_ids: list[int]) -> dict[int, str]:
    if not job_ids:
        return {}
    rows = session.execute(text("SELECT job_id, error FROM job_errors WHERE job_id = ANY(:ids)"),
                           {"ids": job_ids}).all()
    return {row.job_id: row.error for row in rows}
