"""Settings read the way people write them: the test database URL as the app reads DATABASE_URL, and one
folder (KINDCITY_INSTANCE_PATH) for everything an instance writes."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from kindcity import create_app
from kindcity.extensions import db
from tests import conftest, pgdb


@pytest.mark.parametrize("typed, read", [
    ("postgresql://postgres@127.0.0.1:5432/test", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    ("postgres://kc:secret@db/kindcity", "postgresql+psycopg://kc:secret@db/kindcity"),
    ("postgresql+psycopg://postgres@127.0.0.1/test", "postgresql+psycopg://postgres@127.0.0.1/test"),
    ("", ""),
])
def test_the_test_database_url_is_read_as_the_app_reads_database_url(monkeypatch, typed, read):
    monkeypatch.setenv("KINDCITY_TEST_DATABASE_URL", typed)
    assert pgdb.test_database_url() == read
    if read:
        assert make_url(read).get_dialect().driver == "psycopg"  # psycopg 3, never psycopg2


def test_the_suite_reads_it_once():
    assert conftest.PG_URL is pgdb.PG_URL and not pgdb.PG_URL.startswith(("postgres://", "postgresql://"))


def _app(monkeypatch, folder: Path | None):
    for name in ("KINDCITY_INSTANCE_PATH", "DATABASE_URL", "KINDCITY_OUTBOX", "KINDCITY_UPLOAD_DIR"):
        monkeypatch.delenv(name, raising=False)
    if folder is not None:
        monkeypatch.setenv("KINDCITY_INSTANCE_PATH", str(folder))
    return create_app({"TESTING": True, "SECRET_KEY": "x" * 40})


def test_one_setting_moves_the_whole_instance_folder(monkeypatch, tmp_path):
    first, second = _app(monkeypatch, tmp_path / "one"), _app(monkeypatch, tmp_path / "two")
    for app, folder in ((first, tmp_path / "one"), (second, tmp_path / "two")):
        assert app.instance_path == str(folder) and folder.is_dir()
        assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + str(folder / "kindcity.sqlite3")
        assert app.config["KINDCITY_OUTBOX"] == str(folder / "outbox")
        assert app.config["KINDCITY_UPLOAD_DIR"] == str(folder / "uploads")
    with first.app_context():  # the database default really lands there, and the outbox
        from kindcity import jobs, mail

        db.create_all()
        with first.test_request_context():
            assert mail.send("someone@example.org", "subject", "body", key="test:instance-folder")
            db.session.commit()
            assert jobs.run_committed() == 1  # the delivery job, in-process on SQLite
        db.session.remove()
        db.engine.dispose()
    assert (tmp_path / "one" / "kindcity.sqlite3").exists() and not (tmp_path / "two" / "kindcity.sqlite3").exists()
    assert len(list((tmp_path / "one" / "outbox").glob("*.eml"))) == 1 and not (tmp_path / "two" / "outbox").exists()


def test_a_relative_instance_folder_is_made_absolute_and_the_default_is_the_checkout(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert _app(monkeypatch, Path("here")).instance_path == str(tmp_path / "here")
    checkout = Path(__file__).resolve().parents[2]
    assert _app(monkeypatch, None).instance_path == str(checkout / "instance")


def test_the_factory_dict_may_move_it_too(monkeypatch, tmp_path):
    monkeypatch.delenv("KINDCITY_INSTANCE_PATH", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 40, "KINDCITY_INSTANCE_PATH": str(tmp_path / "mine")})
    assert app.instance_path == app.config["KINDCITY_INSTANCE_PATH"] == str(tmp_path / "mine")
    assert app.config["KINDCITY_OUTBOX"] == str(tmp_path / "mine" / "outbox")
