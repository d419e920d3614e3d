"""Login attempts and password-reset requests hold e-mails and network addresses that serve only their
limits: `kindcity purge-security-logs` deletes them once they are older than the window they count in."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kindcity.domain.time import utcnow
from kindcity.models import LoginAttempt, PasswordResetRequest
from kindcity.services.accounts import purge_security_logs


def _rows(session, now):
    ages = {"old login": (LoginAttempt, timedelta(minutes=16)), "fresh login": (LoginAttempt, timedelta(minutes=14)),
            "old reset": (PasswordResetRequest, timedelta(minutes=61)),
            "fresh reset": (PasswordResetRequest, timedelta(minutes=59))}
    for label, (model, age) in ages.items():
        session.add(model(email=f"{label.replace(' ', '-')}@example.org", address="198.51.100.9", at=now - age))
    session.commit()


def _left(session) -> set[str]:
    return set(session.scalars(select(LoginAttempt.email))) | set(session.scalars(select(PasswordResetRequest.email)))


def test_rows_older_than_their_window_are_deleted_and_the_rest_kept(session):
    now = utcnow()
    _rows(session, now)
    assert purge_security_logs(15, now=now) == (1, 1)
    assert purge_security_logs(15, now=now) == (0, 0)  # idempotent
    session.commit()
    assert _left(session) == {"fresh-login@example.org", "fresh-reset@example.org"}


def test_the_command_uses_the_login_window_setting_and_says_how_many(app, session, monkeypatch):
    _rows(session, utcnow())
    monkeypatch.setitem(app.config, "KINDCITY_LOGIN_WINDOW_MINUTES", 10)
    result = app.test_cli_runner().invoke(args=["purge-security-logs"])
    assert result.exit_code == 0, result.output
    assert ("2 login attempt(s) older than 10 minutes and 1 password-reset request(s) older than 60 minutes "
            "deleted.") in result.output
    session.expire_all()
    assert _left(session) == {"fresh-reset@example.org"}
    again = app.test_cli_runner().invoke(args=["purge-security-logs"])
    assert "0 login attempt(s)" in again.output and "0 password-reset request(s)" in again.output
