"""The restore drill of docs/operations.md, run for real: pg_dump the live database, pg_restore it into
an empty one, and the restored site reconciles (every money invariant holds) and is ready."""
from __future__ import annotations

import subprocess

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from kindcity.extensions import db
from tests.conftest import make_test_app
from tests.pgdb import own_database

pytestmark = pytest.mark.postgres_only
TABLES = ("needs", "pledges", "payments", "ledger_transactions", "ledger_lines", "audit_entries", "users")


def libpq(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _counts(app) -> dict[str, int]:
    with app.app_context():
        counts = {table: db.session.scalar(text(f"SELECT count(*) FROM {table}")) for table in TABLES}
        db.session.remove()
    return counts


def test_a_dump_restores_into_a_fresh_database_that_reconciles(tmp_path):
    dump = tmp_path / "kindcity.dump"
    with own_database("drill_live") as live_url, own_database("drill_restored") as restored_url:
        live = make_test_app(live_url, KINDCITY_UPLOAD_DIR=str(tmp_path / "uploads"),
                             KINDCITY_OUTBOX=str(tmp_path / "outbox"))
        with live.app_context():
            upgrade()
            loaded = live.test_cli_runner().invoke(args=["demo-data"])
            assert loaded.exit_code == 0, loaded.output
        before = _counts(live)
        assert before["pledges"] > 0 and before["ledger_lines"] > 0

        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump), libpq(live_url)],
                       check=True, capture_output=True, timeout=120)
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", libpq(restored_url), str(dump)],
                       check=True, capture_output=True, timeout=120)

        restored = make_test_app(restored_url)
        assert _counts(restored) == before
        with restored.app_context():
            checked = restored.test_cli_runner().invoke(args=["reconcile"])
            assert checked.exit_code == 0 and "All money is accounted for" in checked.output, checked.output
            ready = restored.test_client().get("/readyz")
            assert ready.status_code == 200, ready.get_json()
            # The drill's check can fail: a need whose figure no longer agrees with the journal is named.
            db.session.execute(text("UPDATE needs SET confirmed = confirmed + 1 "
                                    "WHERE id = (SELECT min(id) FROM needs WHERE confirmed > 0)"))
            db.session.commit()
            damaged = restored.test_cli_runner().invoke(args=["reconcile"])
            assert damaged.exit_code == 1 and "discrepancy" in damaged.output, damaged.output
        for app in (live, restored):
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
