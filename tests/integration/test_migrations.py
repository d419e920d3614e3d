"""The migrated schema matches the models exactly (no drift), on this run's database engine."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from kindcity.db_setup import ours
from kindcity.extensions import db
from tests.conftest import make_test_app
from tests.pgdb import PG_URL, own_database


@pytest.fixture
def empty_database_url(tmp_path):
    if not PG_URL:
        yield "sqlite:///" + str(tmp_path / "migrations.sqlite3")
        return
    with own_database("migrations") as url:  # its own, so the migration run cannot disturb the suite's tables
        yield url


def test_migrations_match_models_and_downgrade(empty_database_url):
    app = make_test_app(empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": ours})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        tables = set(inspect(db.engine).get_table_names())
        assert {"needs", "users", "audit_entries", "dongs", "outgoing_mail", "job_errors"} <= tables
        if db.engine.dialect.name == "postgresql":  # the job queue's own tables, from procrastinate's schema
            assert {"procrastinate_jobs", "procrastinate_periodic_defers"} <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.session.remove()
        db.engine.dispose()
