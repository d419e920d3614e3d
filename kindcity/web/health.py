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
        db.session.rollback()
        return Check("database", False, type(error).__name__)
    return Check("database", True, db.engine.dialect.name)


def migrations_check() -> Check:
    try:
        applied = frozenset(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception:  # noqa: BLE001 - no version table: never migrated
        db.session.rollback()
        return Check("migrations", False, "the database was never migrated (kindcity db upgrade)")
    heads = migration_heads()
    if applied != heads:
        return Check("migrations", False, f"database at {', '.join(sorted(applied)) or 'nothing'}, "
                                          f"code at {', '.join(sorted(heads))} (kindcity db upgrade)")
    return Check("migrations", True, ", ".join(sorted(heads)))


def worker_heartbeat_check() -> Check:
    """The job worker's last heartbeat is recent. Until the site has a job queue there is no worker to
    ask, and that is what it says; the queue fills this in with its real heartbeat."""
    queue = current_app.extensions.get("kindcity.queue")
    if queue is None:
        return Check("worker", True, "no worker configured")
    return queue.heartbeat_check()


@bp.get("/healthz")
def healthz():
    response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/readyz")
def readyz():
    checks = [database_check()]
    if checks[0].ok:
        checks.append(migrations_check())
    checks.append(worker_heartbeat_check())
    ready = all(check.ok for check in checks)
    response = jsonify(status="ready" if ready else "not ready", checks=[asdict(check) for check in checks])
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response
