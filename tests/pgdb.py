"""PostgreSQL databases of a test run's own, for tests that must commit for real (concurrency,
migrations) or that run beside other test runs. Created on the server named by
KINDCITY_TEST_DATABASE_URL and dropped afterwards; the process id keeps parallel runs apart."""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kindcity.config import normalise_database_url


def test_database_url() -> str:
    """KINDCITY_TEST_DATABASE_URL, read the way the app reads DATABASE_URL: ``postgresql://`` and
    ``postgres://`` (the forms people type) use psycopg 3. Empty: the suite runs on SQLite."""
    return normalise_database_url(os.environ.get("KINDCITY_TEST_DATABASE_URL", "").strip())


test_database_url.__test__ = False  # a helper, not a test, whatever its name
PG_URL = test_database_url()


def require_postgres(purpose: str) -> str:
    assert PG_URL, f"{purpose} needs PostgreSQL (KINDCITY_TEST_DATABASE_URL); `make test` provides it"
    return PG_URL


@contextmanager
def own_database(label: str, server_url: str | None = None) -> Iterator[str]:
    base = make_url(server_url or require_postgres(label))
    name = f"{base.database}_{label}_{os.getpid()}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def own_postgres_app(label: str, **config):
    """An app on a fresh database of its own, with the schema and the district's reference data."""
    from kindcity.extensions import db
    from kindcity.services.reference import seed_district
    from tests.conftest import make_test_app

    with own_database(label) as url:
        app = make_test_app(url, **config)
        with app.app_context():
            db.create_all()
            seed_district("gwangju-seogu")
            db.session.commit()
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
