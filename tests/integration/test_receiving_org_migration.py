"""The free-text receiving organisation of existing needs becomes one record per distinct name."""
from __future__ import annotations

import os

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from kindcity.extensions import db
from tests.conftest import make_test_app
from tests.pgdb import own_database


@pytest.fixture
def empty_database_url(tmp_path):
    pg = os.environ.get("KINDCITY_TEST_DATABASE_URL")
    if not pg:
        yield "sqlite:///" + str(tmp_path / "migrations.sqlite3")
        return
    with own_database("rcptmig") as url:
        yield url


def test_existing_free_text_becomes_records(empty_database_url):
    app = make_test_app(empty_database_url)
    with app.app_context():
        upgrade(revision="queue0001")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO districts (id, code, name_ko, name_en, brand_ko, brand_en, receiving_org_ko, "
                              "receiving_org_en, bank_name, bank_account, bank_holder) VALUES "
                              "(1, 'd', '구', 'D', '', '', '구', 'D', '', '', '')"))
            conn.execute(text("INSERT INTO dongs (id, code, name_ko, name_en, sort) VALUES (1, 'x', '동', 'X', 0)"))
            conn.execute(text("INSERT INTO categories (id, code, name_ko, name_en, sort) VALUES (1, 'c', '분류', 'C', 0)"))
            conn.execute(text("INSERT INTO beneficiary_groups (id, code, name_ko, name_en, sort) "
                              "VALUES (1, 'g', '대상', 'G', 0)"))
            conn.execute(text("INSERT INTO centres (id, code, name_ko, name_en, is_district_office) "
                              "VALUES (1, 'ce', '센터', 'C', true)"))
            conn.execute(text("INSERT INTO users (id, email, password_hash, display_name, role, centre_id, active, "
                              "created_at, password_changed_at) VALUES (1, 'a@b.example', 'x', '직원', 'staff', 1, "
                              "true, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
            for need_id, org in ((1, "광주광역시 서구"), (2, "서구 사랑나눔교회"), (3, "광주광역시 서구")):
                conn.execute(text(
                    "INSERT INTO needs (id, title, summary, description, category_id, dong_id, group_id, "
                    "beneficiary_count, target, deadline, receiving_org, centre_id, status, author_id, created_at, "
                    "updated_at, reserved, confirmed) VALUES (:id, 't', 's', '', 1, 1, 1, 1, 100000, '2027-01-01', "
                    ":org, 1, 'draft', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 0, 0)"), {"id": need_id, "org": org})
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT n.id, o.name_ko, o.gift_type, o.is_default FROM needs n "
                                     "JOIN receiving_organisations o ON o.id = n.receiving_org_id ORDER BY n.id")).all()
            count = conn.execute(text("SELECT count(*) FROM receiving_organisations")).scalar_one()
        assert [(row[0], row[1], row[2]) for row in rows] == [
            (1, "광주광역시 서구", "general"), (2, "서구 사랑나눔교회", "general"), (3, "광주광역시 서구", "general")]
        assert count == 2 and [bool(row[3]) for row in rows] == [True, False, True]
        db.session.remove()
        db.engine.dispose()
