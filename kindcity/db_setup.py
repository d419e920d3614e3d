"""The database resource: SQLAlchemy, migrations and SQLite's locking."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db, migrate
from .paths import site_path

MIGRATIONS_DIR = str(site_path("migrations"))


def sqlite_take_write_lock_up_front(engine: Engine) -> None:
    """On SQLite every transaction starts with BEGIN IMMEDIATE.

    pysqlite's own transaction handling starts transactions lazily and cannot do savepoints or
    take the write lock up front. Taking the lock at BEGIN means two writers never deadlock on a
    read-to-write upgrade: the second one waits (busy timeout) and then sees the first one's work.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def ours(name, type_, parent_names) -> bool:
    """Alembic compares only kindcity's own tables: procrastinate's (the job queue, PostgreSQL) come
    whole from its schema script, in migrations/versions/queue0001_job_queue.py."""
    from .models.needs import POSTGRES_ONLY_INDEXES

    if type_ == "index" and name in POSTGRES_ONLY_INDEXES:  # expression indexes, PostgreSQL only: created
        return False  # outside the metadata (models/needs.py) and by migrations growth0001 and search0001
    return not (type_ == "table" and name and name.startswith("procrastinate_"))


def init_app(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True, include_name=ours)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sqlite_take_write_lock_up_front(db.engine)
    from . import models  # noqa: F401  register every table on the metadata
