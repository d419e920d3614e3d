"""Probes for the proxy and monitoring: ``/healthz`` (the process answers) and ``/readyz`` (it can serve:
the database answers, its schema is at the migrations' head, the job worker is alive).

Neither reads a session or renders a page; both say ``no-store`` so no cache keeps an old answer.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from ..extensions import db
from ..unit_of_work import discard
from ..paths import site_path

bp = Blueprint("health", __name__)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(str(site_path("migrations"))).get_heads())


def database_check() -> Check:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means not ready; the reason is reported
        discard()
        return Check("database", False, type(error).__name__)
    return Check("database", True, db.engine.dialect.name)


def migrations_check() -> Check:
    try:
        applied = frozenset(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception:  # noqa: BLE001 - no version table: never migrated
        discard()
        return Check("migrations", False, "the database was never migrated (kindcity db upgrade)")
    heads = migration_heads()
    if applied != heads:
        return Check("migrations", False, f"database at {', '.join(sorted(applied)) or 'nothing'}, "
                                          f"code at {', '.join(sorted(heads))} (kindcity db upgrade)")
    return Check("migrations", True, ", ".join(sorted(heads)))


_HEARTBEAT = text("""
    SELECT count(*) FILTER (WHERE last_heartbeat > now() - make_interval(secs => :stalled)) AS alive,
           EXTRACT(EPOCH FROM now() - max(last_heartbeat)) AS age
      FROM procrastinate_workers""")


def worker_heartbeat_check() -> Check:
    """A job worker is alive: on the PostgreSQL queue, some worker's heartbeat (procrastinate's
    ``procrastinate_workers`` table, beaten every third of KINDCITY_WORKER_STALLED_SECONDS) is more recent
    than KINDCITY_WORKER_STALLED_SECONDS. Without a worker, mail and every other job would wait unseen.
    On the in-process path (SQLite) there is no worker to ask: jobs run in the web process."""
    from ..jobs import queued

    if not queued():
        return Check("worker", True, "no worker: jobs run in-process after each commit")
    stalled = float(current_app.config["KINDCITY_WORKER_STALLED_SECONDS"])
    try:
        row = db.session.execute(_HEARTBEAT, {"stalled": stalled}).one()
    except Exception as error:  # noqa: BLE001 - no queue table, or no database: not ready
        discard()
        return Check("worker", False, f"the job queue cannot be read ({type(error).__name__})")
    if row.age is None:
        return Check("worker", False, "no worker has started (kindcity worker)")
    if not row.alive:
        return Check("worker", False, f"no worker heartbeat for {float(row.age):.0f} s "
                                      f"(KINDCITY_WORKER_STALLED_SECONDS={stalled:g})")
    return Check("worker", True, f"{row.alive} worker(s) alive, last heartbeat {max(float(row.age), 0):.1f} s ago")


@bp.get("/healthz")
def healthz():
    response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/readyz")
def readyz():
    checks = [database_check()]
    if checks[0].ok:
        checks += [migrations_check(), worker_heartbeat_check()]
    ready = all(check.ok for check in checks)
    response = jsonify(status="ready" if ready else "not ready", checks=[asdict(check) for check in checks])
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response
