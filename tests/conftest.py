"""Shared fixtures: one app per test session, each test inside a transaction rolled back at its end.

The database is SQLite (a temporary file) unless KINDCITY_TEST_DATABASE_URL names a PostgreSQL
server; `make test` runs the suite once on each. Under CI a missing PostgreSQL or browser fails.
"""
from __future__ import annotations

import os
import socket

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy.orm import scoped_session, sessionmaker

from kindcity import create_app
from kindcity.extensions import db
from kindcity.jobs import run_committed
from kindcity.services.reference import seed_district
from tests.pgdb import PG_URL

IN_CI = os.environ.get("CI") == "true"


def pytest_report_header(config):
    return f"kindcity database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}; CI={IN_CI}"


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Any test that reaches beyond this machine fails (loopback is allowed for our own servers)."""
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1")
                                          or sock.family == socket.AF_UNIX):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def make_test_app(database_url: str, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "kindcity.test",
        "KINDCITY_LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
        "KINDCITY_LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
        # Jobs run in-process after each commit, on both databases; the PostgreSQL queue and its worker
        # are tested on databases of their own (tests/integration/test_job_queue.py).
        "KINDCITY_JOB_QUEUE": "inline",
    }
    config.update(extra)
    return create_app(config)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """SQLite: a temporary file. PostgreSQL: a database of this test run's own, created from the
    server in KINDCITY_TEST_DATABASE_URL and dropped at the end, so parallel runs never collide."""
    if not PG_URL:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "kindcity-test.sqlite3")
        return
    from tests.pgdb import own_database

    with own_database("run") as url:
        yield url


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = make_test_app(database_url, KINDCITY_OUTBOX=str(tmp_path_factory.mktemp("outbox")),
                        KINDCITY_UPLOAD_DIR=str(tmp_path_factory.mktemp("uploads")))
    with app.app_context():
        db.create_all()
        seed_district("gwangju-seogu")
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class _FreshRequestClient(FlaskClient):
    """Each request sees a fresh `g` and no cached objects, as a real request would."""

    def open(self, *args, **kwargs):
        for key in list(vars(g)):
            delattr(g, key)
        # The district figures' recount that the test's own commits asked for: a real committer runs it
        # right after its commit (kindcity/jobs/), before anyone else's request.
        run_committed(only="figures.refresh")
        db.session.expire_all()
        return super().open(*args, **kwargs)


@pytest.fixture
def session(app):
    """An app context whose database work is rolled back at the end of the test.

    Services and requests commit as usual; SQLAlchemy 2's create_savepoint mode turns those
    commits into savepoints inside one outer transaction that is never committed.
    """
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=lambda: 0,
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app, session):
    app.test_client_class = _FreshRequestClient
    return app.test_client()
