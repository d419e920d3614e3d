"""Release and stack tests: real builds and real servers (`make test-stack`), not part of `make test`.

They use PostgreSQL when KINDCITY_TEST_DATABASE_URL is set (as `make test-stack` does), else SQLite.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.pgdb import PG_URL, own_database
from tests.stack.processes import Processes

CHECKOUT = Path(__file__).resolve().parents[2]


@pytest.fixture
def processes(tmp_path):
    running = Processes(tmp_path)
    try:
        yield running
    finally:
        running.stop_all()


@contextmanager
def throwaway_database(label: str, folder: Path):
    """A PostgreSQL database of this run's own (dropped afterwards), or a SQLite file in ``folder``."""
    if PG_URL:
        with own_database(label) as url:
            yield url
    else:
        yield "sqlite:///" + str(folder / f"{label}.sqlite3")
