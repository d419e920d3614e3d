"""Side effects as jobs: what a change leaves to be done (a mail, a card page to close, a card refund,
a donor notice, a match run) is asked for *in the transaction of the change*, and done afterwards by a
job function that reads the data afresh.

One registry of job functions (:func:`job`) serves both ways of running them:

- on PostgreSQL (production) :func:`defer` writes the job into procrastinate's queue table through
  the session's own connection, so the job exists if and only if the change commits, even if the
  process dies the next instant; `kindcity worker` runs it, with retries and exponential backoff
  (kindcity/jobs/queue.py);
- on the embedded SQLite default (`make run`) there is no queue: the job is remembered on the
  session, kept only if the transaction commits, and run in the same process right after the commit
  by whoever committed (the request's after-hook, a command). Nothing survives a crash there: the
  README says that durability needs PostgreSQL.

A job function takes plain JSON values, does its work in the session and leaves the commit to
:func:`perform`. The id of the request that deferred a job travels with it under a reserved key of its
arguments (``_request_id``; procrastinate 3.10 keeps no other metadata on a job), so the job's log line
(kindcity/request_log.py: one JSON line per run) names the request; :func:`perform` takes it off
before the function is called. A job function must be idempotent, keyed by what it acts on, because a
worker that dies mid-job runs it again.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from flask import current_app, has_request_context
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..extensions import db
from ..request_log import current_request_id, log_job

log = logging.getLogger(__name__)

QUEUE = "default"
REQUEST_ID_ARG = "_request_id"  # reserved in a job's arguments: the request that deferred it


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[..., Any]
    retry: bool           # retried with exponential backoff when it raises (SMTP down, Stripe 5xx)


REGISTRY: dict[str, JobSpec] = {}


def job(name: str, *, retry: bool = True):
    """Register a job function under a stable name (the name is stored in queued jobs)."""
    def register(func):
        if name in REGISTRY and REGISTRY[name].func is not func:
            raise ValueError(f"job {name!r} registered twice")
        REGISTRY[name] = JobSpec(name, func, retry)
        return func
    return register


def load_jobs() -> dict[str, JobSpec]:
    """Import every module that registers jobs; the registry, complete."""
    from ..mail import accounts, donors, payments, pledges, pooled, referrals, texts  # noqa: F401
    from ..sms import jobs as sms_jobs  # noqa: F401
    from . import card, figures, portone, upkeep  # noqa: F401
    return REGISTRY


def queued(app=None) -> bool:
    """True when jobs go to the PostgreSQL queue; False for the in-process path (SQLite)."""
    cfg = (app or current_app).config
    mode = cfg.get("KINDCITY_JOB_QUEUE", "auto")
    if mode == "auto":
        return str(cfg.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql")
    return mode == "postgres"


_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, :queueing_lock, "
    "CAST(:args AS jsonb), CAST(:scheduled_at AS timestamptz))::procrastinate_job_to_defer_v1]))")
_PENDING = "kindcity.jobs.pending"      # deferred in the open transaction (in-process path)
_COMMITTED = "kindcity.jobs.committed"  # their transaction committed: to run now
_ASKED = "kindcity.jobs.asked"          # keys asked for in the open transaction


def first_in_transaction(key: str) -> bool:
    """True the first time ``key`` is named in the open transaction: one job for a pledge that several
    steps of one transaction end or refund."""
    asked = db.session.info.setdefault(_ASKED, set())
    if key in asked:
        return False
    asked.add(key)
    return True


def defer(name: str, *, lock: str | None = None, queueing_lock: str | None = None,
          delay_seconds: float = 0, **args: Any) -> None:
    """Ask for job ``name`` with ``args`` in the caller's transaction: it exists only if that commits.
    ``lock``: jobs with the same lock never run at the same time (a mail's dedupe key, say).
    ``queueing_lock``: at most one such job waits in the queue; asking again while one waits does
    nothing (the waiting one will see this change too). ``delay_seconds``: it starts no sooner (on
    PostgreSQL; in-process jobs run after the commit)."""
    load_jobs()
    if name not in REGISTRY:
        raise KeyError(f"no job named {name!r}")
    if REQUEST_ID_ARG in args:
        raise ValueError(f"{REQUEST_ID_ARG} is reserved for the request that defers a job")
    request_id = current_request_id()
    if request_id:
        args[REQUEST_ID_ARG] = request_id
    payload = json.dumps(args, ensure_ascii=False, sort_keys=True)
    if queued():
        values = {"queue": QUEUE, "task": name, "lock": lock, "queueing_lock": queueing_lock, "args": payload,
                  "scheduled_at": (datetime.now(timezone.utc) + timedelta(seconds=delay_seconds)
                                   if delay_seconds > 0 else None)}
        if queueing_lock is None:
            db.session.execute(_DEFER, values)
            return
        try:
            with db.session.begin_nested():  # a job already waiting: its unique index refuses this one
                db.session.execute(_DEFER, values)
        except IntegrityError:
            pass
    elif queueing_lock is None or first_in_transaction(f"queueing_lock:{queueing_lock}"):
        db.session.info.setdefault(_PENDING, []).append((name, json.loads(payload)))


@event.listens_for(Session, "after_commit")
def _keep_committed(session: Session) -> None:
    session.info.pop(_ASKED, None)
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_COMMITTED, []).extend(pending)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(_ASKED, None)
        session.info.pop(_PENDING, None)  # the change did not happen: neither does what it asked for


def run_committed(*, limit: int = 1000, only: str | None = None) -> int:
    """The in-process path: run the jobs the committed transactions asked for, and the jobs those ask
    for in turn. A job that fails is logged and dropped (there is no queue to retry it). Returns how
    many ran. A no-op on PostgreSQL, where the worker runs them. With the request log on
    (KINDCITY_REQUEST_LOG), each run is logged as the worker logs its jobs."""
    logged = bool(current_app.config.get("KINDCITY_REQUEST_LOG"))
    ran = 0
    while ran < limit:
        committed = db.session.info.pop(_COMMITTED, None)
        if committed and only is not None:  # just these (tests: what the committer would have run)
            others = [item for item in committed if item[0] != only]
            committed = [item for item in committed if item[0] == only]
            if others:
                db.session.info[_COMMITTED] = others
        if not committed:
            break
        for name, args in committed:
            ran += 1
            started = time.perf_counter()
            try:
                perform(name, args)
            except Exception as error:
                log.exception("job %s %s failed", name, args)
                if logged:
                    log_job(name=name, job_id=None, status="failed", started=started, attempt=1,
                            request_id=args.get(REQUEST_ID_ARG), error=error)
            else:
                if logged:
                    log_job(name=name, job_id=None, status="succeeded", started=started, attempt=1,
                            request_id=args.get(REQUEST_ID_ARG))
    return ran


def anything_to_run() -> bool:
    return bool(db.session.info.get(_COMMITTED))


def perform(name: str, args: dict[str, Any]) -> None:
    """Run one job function and commit what it did; roll back and re-raise if it fails. Mail links
    need a request context: outside a request, one on the site's address. The reserved request id
    is not an argument of the function."""
    spec = load_jobs()[name]
    request_id = args.get(REQUEST_ID_ARG)
    args = {key: value for key, value in args.items() if key != REQUEST_ID_ARG}
    if has_request_context():
        _perform(spec, args)
        return
    from flask import request

    from ..request_log import REQUEST_ID_KEY
    from ..web.links import site_request_context

    with site_request_context():
        if request_id:
            request.environ[REQUEST_ID_KEY] = request_id  # the jobs this one asks for name the request too
        _perform(spec, args)


def _perform(spec: JobSpec, args: dict[str, Any]) -> None:
    try:
        spec.func(**args)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


@job("jobs.noop", retry=False)
def noop() -> None:
    """Does nothing: the queue's own cost (bench/jobs.py), or a check that a worker runs."""


class TryAgain(Exception):
    """A job could not finish for now (a provider unavailable); the queue retries it with backoff."""


def send_refunds_one_by_one(app, refund_ids, send, what: str) -> dict[int, str]:
    """Send each due refund with ``send(refund_id)`` in its own transaction (Stripe's and PortOne's
    refunds alike). One the provider or the database refuses is rolled back and stays due, for the
    job's retry or `kindcity reconcile` to send again: ``{refund id: outcome or "not_sent"}``."""
    from sqlalchemy.exc import OperationalError

    from ..payments import ProviderError

    done: dict[int, str] = {}
    for refund_id in refund_ids:
        try:
            done[refund_id] = send(refund_id)
            db.session.commit()
        except (ProviderError, OperationalError) as error:
            db.session.rollback()
            done[refund_id] = "not_sent"
            app.logger.warning("%s refund %s not sent: %s", what, refund_id, error)
    return done
