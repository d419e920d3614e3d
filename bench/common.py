"""What the benchmark scripts share. They put the project root on sys.path, so this imports as bench.common."""
from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def fresh_database(url: str) -> str:
    """Drop and create the PostgreSQL database ``url`` names (a benchmark's own, never a real one);
    returns the URL with its password, for the benchmark's engines."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    return target.render_as_string(hide_password=False)


def busiest_need_and_first_category(conn) -> tuple[int, str]:
    """The need with the most pledges (the heaviest need page) and the first category's code: the
    examples the page benchmarks ask for."""
    need = conn.execute(text("SELECT need_id FROM pledges WHERE need_id IS NOT NULL GROUP BY need_id "
                             "ORDER BY count(*) DESC LIMIT 1")).scalar_one()
    category = conn.execute(text("SELECT code FROM categories ORDER BY id LIMIT 1")).scalar_one()
    return need, category
