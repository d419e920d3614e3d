"""The limits per account, e-mail and address count atomically: twelve requests sent at once, each on its
own thread, connection and transaction and committing for real, record at most the limit and are
refused beyond it: wrong passwords for one account, referrals from one address, reset links for one
e-mail.

Every write waits a little between its flush and its commit (``_slow_commits``), as a busy server may,
so that requests which counted before another's commit would be caught going past the limit. On
PostgreSQL the control shows it: without the limits' locks (services/limits.py), the same race lets
more through. On SQLite the database's write lock, taken at BEGIN IMMEDIATE, is enough on its own.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from kindcity.extensions import db
from kindcity.models import LoginAttempt, PasswordResetRequest, Referral
from kindcity.services import limits
from kindcity.services.reference import seed_district
from tests import factories as f
from tests.conftest import make_test_app

THREADS = 12
REFERRAL = {"dong": "hwajeong1", "urgency": "normal", "consent": "y",
            "situation": "The grandmother next door has not opened her door for four days; the milk piles up."}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres_only)])
def live_app(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("limits")
    config = {"KINDCITY_OUTBOX": str(folder / "outbox"), "KINDCITY_UPLOAD_DIR": str(folder / "uploads"),
              "KINDCITY_LOGIN_MAX_FAILURES_PER_ACCOUNT": 5, "KINDCITY_REFERRAL_MAX_PER_ADDRESS": 5,
              "KINDCITY_PASSWORD_RESET_MAX_PER_EMAIL": 3,
              "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 3, "max_overflow": 5}}
    if request.param == "postgresql":
        from tests.pgdb import own_postgres_app

        with own_postgres_app("limits", **config) as app:
            yield app
        return
    app = make_test_app("sqlite:///" + str(folder / "limits.sqlite3"), **config)
    with app.app_context():
        db.create_all()
        seed_district("gwangju-seogu")
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def _slow_commits(seconds: float = 0.1):
    def pause(_session, _context):
        time.sleep(seconds)

    event.listen(Session, "after_flush", pause)
    try:
        yield
    finally:
        event.remove(Session, "after_flush", pause)


def _race(app, send) -> list[int]:
    """``send(client)`` on THREADS threads at once; the status of every answer."""
    clients = [app.test_client() for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    lock = threading.Lock()

    def run(client):
        barrier.wait()
        status = send(client).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    with _slow_commits():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert len(statuses) == THREADS, "a request did not finish"
    return sorted(statuses)


def _count(app, query) -> int:
    with app.app_context():
        try:
            return db.session.scalar(query)
        finally:
            db.session.remove()


def _donor(app, email: str):
    with app.app_context():
        person = f.user("donor", email=email)
        db.session.commit()
        db.session.remove()
        return person


# Each race: what every thread sends, the limit, the answer while under it, and the rows that count.
def _wrong_passwords(app, label):
    email = f"guessed-{label}@example.org"
    _donor(app, email)
    return (lambda client: client.post("/account/login", data={"email": email, "password": "wrong-guess"}),
            5, 200, select(func.count(LoginAttempt.id)).where(LoginAttempt.email == email))


def _referrals(app, label):
    address = f"198.51.100.{ {'atomic': 1, 'naive': 2}[label] }"
    return (lambda client: client.post("/refer", data=REFERRAL, environ_base={"REMOTE_ADDR": address}),
            5, 303, select(func.count(Referral.id)).where(Referral.address == address))


def _reset_links(app, label):
    email = f"forgetful-{label}@example.org"
    _donor(app, email)
    return (lambda client: client.post("/account/reset", data={"email": email}),
            3, 303, select(func.count(PasswordResetRequest.id)).where(PasswordResetRequest.email == email))


RACES = {"wrong passwords for one account": _wrong_passwords, "referrals from one address": _referrals,
         "reset links for one e-mail": _reset_links}


@pytest.mark.parametrize("race", RACES)
def test_simultaneous_requests_record_at_most_the_limit_and_are_refused_beyond_it(live_app, race):
    send, limit, ok, recorded = RACES[race](live_app, "atomic")
    statuses = _race(live_app, send)
    assert statuses == sorted([ok] * limit + [429] * (THREADS - limit))
    assert _count(live_app, recorded) == limit


@pytest.mark.parametrize("race", RACES)
def test_control_without_the_locks(live_app, race, monkeypatch):
    """PostgreSQL: the same race without the limits' locks goes past the limit, so the test above would
    catch their loss. SQLite: its write lock alone keeps the count, as services/limits.py relies on."""
    monkeypatch.setattr(limits, "hold", lambda *keys: None)
    send, limit, ok, recorded = RACES[race](live_app, "naive")
    statuses = _race(live_app, send)
    if live_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert statuses.count(ok) == limit and _count(live_app, recorded) == limit
    else:
        assert statuses.count(ok) > limit and _count(live_app, recorded) > limit
