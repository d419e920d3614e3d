"""What the proxy and the operators read: /healthz, /readyz, one JSON line per request with its id,
and the shared-cache lifetime that lets nginx micro-cache anonymous pages."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from flask_migrate import upgrade

from kindcity.extensions import db
from kindcity.web.caching import ANONYMOUS_CACHE_CONTROL, clear_page_cache
from tests import factories
from tests.conftest import make_test_app
from tests.pgdb import own_database


def test_healthz_answers_without_the_database(tmp_path):
    app = make_test_app("sqlite:///" + str(tmp_path / "missing" / "no.sqlite3"))  # a folder that does not exist
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"][0] == {"name": "database", "ok": False, "detail": "OperationalError"}


def test_readyz_needs_the_migrations_at_head(client):
    response = client.get("/readyz")  # the suite's database is built with create_all: never migrated
    assert response.status_code == 503
    checks = {check["name"]: check for check in response.get_json()["checks"]}
    assert checks["database"]["ok"] and not checks["migrations"]["ok"]
    assert "kindcity db upgrade" in checks["migrations"]["detail"]


@pytest.fixture
def migrated_url(tmp_path):
    if not os.environ.get("KINDCITY_TEST_DATABASE_URL"):
        yield "sqlite:///" + str(tmp_path / "ready.sqlite3")
        return
    with own_database("ready") as url:
        yield url


def test_readyz_is_ready_once_migrated_and_says_jobs_run_in_process(migrated_url):
    app = make_test_app(migrated_url)  # KINDCITY_JOB_QUEUE=inline, as on SQLite: no worker to ask
    with app.app_context():
        upgrade()
        response = app.test_client().get("/readyz")
        body = response.get_json()
        assert response.status_code == 200 and body["status"] == "ready", body
        checks = {check["name"]: check for check in body["checks"]}
        assert checks["migrations"]["ok"] and checks["database"]["ok"]
        assert checks["worker"] == {"name": "worker", "ok": True,
                                    "detail": "no worker: jobs run in-process after each commit"}
        db.session.execute(db.text("UPDATE alembic_version SET version_num = 'older'"))
        db.session.commit()
        behind = app.test_client().get("/readyz")
        assert behind.status_code == 503 and "database at older" in behind.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()


@pytest.mark.postgres_only
def test_readyz_on_the_queue_needs_a_worker_heartbeat_within_the_stalled_time():
    """procrastinate_workers holds each worker's last heartbeat (a real worker beats in tests/stack):
    none, or only old ones, is not ready."""
    from tests.pgdb import require_postgres

    require_postgres("the worker heartbeat check")
    with own_database("readyq") as url:
        _heartbeats(make_test_app(url, KINDCITY_JOB_QUEUE="postgres", KINDCITY_WORKER_STALLED_SECONDS=20))


def _heartbeats(app):
    with app.app_context():
        upgrade()
        client = app.test_client()

        def worker_check():
            response = client.get("/readyz")
            checks = {check["name"]: check for check in response.get_json()["checks"]}
            assert (response.status_code == 200) == checks["worker"]["ok"], checks
            return checks["worker"]

        assert worker_check() == {"name": "worker", "ok": False, "detail": "no worker has started (kindcity worker)"}
        db.session.execute(db.text("INSERT INTO procrastinate_workers (last_heartbeat) "
                                   "VALUES (now() - interval '45 seconds')"))
        db.session.commit()
        stale = worker_check()
        assert not stale["ok"]
        assert stale["detail"] == "no worker heartbeat for 45 s (KINDCITY_WORKER_STALLED_SECONDS=20)"
        db.session.execute(db.text("INSERT INTO procrastinate_workers (last_heartbeat) "
                                   "VALUES (now() - interval '15 seconds')"))
        db.session.commit()
        alive = worker_check()
        assert alive["ok"] and alive["detail"].startswith("1 worker(s) alive, last heartbeat 15.")
        db.session.remove()
        db.engine.dispose()


def _lines(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


@pytest.fixture
def request_log(app):
    """The suite's app with the request log wrapped around it, as production has it."""
    from kindcity.request_log import RequestLog, request_logger

    unlogged = app.wsgi_app
    app.wsgi_app = RequestLog(unlogged.wsgi_app, request_logger())  # in tests the log is built but off
    try:
        yield
    finally:
        app.wsgi_app = unlogged


def test_one_json_line_per_request_with_its_id_user_and_status(client, request_log, capsys):
    capsys.readouterr()
    first = client.get("/needs", headers={"X-Request-ID": "nginx-0123456789abcdef"},
                       environ_base={"REMOTE_ADDR": "203.0.113.7"}, buffered=True)  # a server closes the body
    assert first.headers["X-Request-ID"] == "nginx-0123456789abcdef"
    made_up = client.get("/no-such-page", headers={"X-Request-ID": "bad id;with spaces"}, buffered=True)
    assert made_up.status_code == 404 and len(made_up.headers["X-Request-ID"]) == 32
    lines = _lines(capsys.readouterr().out)
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("GET", "/needs", 200), ("GET", "/no-such-page", 404)]
    assert lines[0]["request_id"] == "nginx-0123456789abcdef" and lines[0]["client"] == "203.0.113.7"
    assert lines[1]["request_id"] == made_up.headers["X-Request-ID"]
    assert lines[0]["user_id"] is None and lines[0]["duration_ms"] >= 0 and lines[0]["time"].endswith("+00:00")


def test_a_logged_in_request_names_its_user(client, session, request_log, capsys):
    donor = factories.user("donor")
    session.commit()
    factories.login(client, donor)
    capsys.readouterr()
    client.get("/me/", buffered=True)
    (line,) = _lines(capsys.readouterr().out)
    assert line["user_id"] == donor.id and line["path"] == "/me/"


def test_a_page_from_the_front_door_is_logged_too(client, request_log, capsys):
    clear_page_cache()
    client.get("/", buffered=True)
    client.get("/", buffered=True)  # served by the page cache's front door, without entering Flask
    assert [line["path"] for line in _lines(capsys.readouterr().out)][-2:] == ["/", "/"]


def test_anonymous_pages_may_be_shared_for_a_second_in_production(app, client):
    clear_page_cache()
    assert client.get("/needs").headers["Cache-Control"] == ANONYMOUS_CACHE_CONTROL  # tests: no shared cache
    app.config["KINDCITY_SHARED_CACHE_SECONDS"] = 1
    try:
        clear_page_cache()
        response = client.get("/needs")
        assert response.headers["Cache-Control"] == "public, max-age=0, s-maxage=1, must-revalidate"
    finally:
        app.config["KINDCITY_SHARED_CACHE_SECONDS"] = 0
        clear_page_cache()


def test_static_urls_name_the_version_of_the_file(app, client):
    page = client.get("/account/login").get_data(as_text=True)
    expected = hashlib.sha256((Path(app.static_folder) / "site.css").read_bytes()).hexdigest()[:12]
    assert f'href="/static/site.css?v={expected}"' in page
    assert client.get(f"/static/site.css?v={expected}", buffered=True).status_code == 200


def test_each_job_a_request_asks_for_is_one_json_line_naming_the_request(app, client, session, request_log,
                                                                         monkeypatch, capsys):
    """The in-process path (jobs right after the request's commit) logs each job as the worker does;
    the queue's worker is tested in tests/integration/test_job_queue.py."""
    monkeypatch.setitem(app.config, "KINDCITY_REQUEST_LOG", True)
    donor = factories.user("donor")
    session.commit()
    capsys.readouterr()
    response = client.post("/account/reset?lang=en", data={"email": donor.email},
                           headers={"X-Request-ID": "nginx-feedc0ffee123456"}, buffered=True)
    assert response.status_code == 303
    lines = _lines(capsys.readouterr().out)
    jobs = [line for line in lines if "job" in line]
    # The request asks for the reset mail; composing it asks for its delivery: both name the request.
    assert [line["job"] for line in jobs] == ["mail.reset_link", "mail.deliver"]
    assert {line["request_id"] for line in jobs} == {"nginx-feedc0ffee123456"}
    assert {line["status"] for line in jobs} == {"succeeded"} and {line["attempt"] for line in jobs} == {1}
    assert jobs[0]["job_id"] is None and jobs[0]["duration_ms"] >= 0 and jobs[0]["time"].endswith("+00:00")
    assert [line["path"] for line in lines if "path" in line] == ["/account/reset"]


def test_a_job_cannot_be_given_the_reserved_request_id_argument(app):
    from kindcity import jobs

    with app.test_request_context("/"), pytest.raises(ValueError, match="reserved"):
        jobs.defer("jobs.noop", _request_id="forged")
