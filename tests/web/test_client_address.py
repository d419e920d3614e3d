"""Real client addresses behind the proxy (KINDCITY_PROXY_HOPS): every limit per address and every audit
entry uses the visitor's address, not the proxy's; and with no proxy trusted (the default) a forged
X-Forwarded-For changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

from kindcity import create_app
from kindcity.config import ConfigError
from kindcity.models import AuditEntry
from kindcity.web.caching import FrontDoor
from tests import factories as f
from tests.conftest import _FreshRequestClient, make_test_app

REFERRAL = {"dong": "hwajeong1", "urgency": "normal", "consent": "y",
            "situation": "The grandmother next door has not opened her door for four days; the milk piles up."}

# Each limit per address: its setting, one request that counts against it, and that request refused.
LIMITS = {
    "login": ("KINDCITY_LOGIN_MAX_FAILURES_PER_ADDRESS",
              lambda client, n, **kw: client.post("/account/login", data={"email": f"nobody{n}@example.org",
                                                                          "password": "wrong-password"}, **kw)),
    "referral": ("KINDCITY_REFERRAL_MAX_PER_ADDRESS",
                 lambda client, n, **kw: client.post("/refer", data=REFERRAL, **kw)),
    "password reset": ("KINDCITY_PASSWORD_RESET_MAX_PER_ADDRESS",
                       lambda client, n, **kw: client.post("/account/reset", data={"email": f"someone{n}@example.org"},
                                                           **kw)),
}


@pytest.fixture(scope="module")
def proxied_app(database_url, tmp_path_factory):
    """The app as production runs it behind one nginx: the same database as the suite's app."""
    app = make_test_app(database_url, KINDCITY_PROXY_HOPS=1,
                        KINDCITY_OUTBOX=str(tmp_path_factory.mktemp("outbox")),
                        KINDCITY_UPLOAD_DIR=str(tmp_path_factory.mktemp("uploads")))
    app.test_client_class = _FreshRequestClient
    return app


def _via_proxy(proxied_app, address: str, forged: str = ""):
    """A browser whose requests reach the site through nginx, which appends the address it saw."""
    client = proxied_app.test_client()
    client.environ_base.update(REMOTE_ADDR="127.0.0.1",
                               HTTP_X_FORWARDED_FOR=f"{forged}, {address}" if forged else address)
    return client


def test_proxy_fix_wraps_everything_including_the_page_cache_front_door(proxied_app, app):
    # Only the request log is further out: it logs each request once, with the address ProxyFix corrected
    # in the shared environ (tests/stack checks the logged address behind nginx).
    from kindcity.request_log import RequestLog

    assert isinstance(proxied_app.wsgi_app, RequestLog) and isinstance(app.wsgi_app, RequestLog)
    proxy = proxied_app.wsgi_app.wsgi_app
    assert isinstance(proxy, ProxyFix)
    assert (proxy.x_for, proxy.x_proto, proxy.x_host) == (1, 1, 0)
    assert isinstance(proxy.app, FrontDoor)
    assert isinstance(app.wsgi_app.wsgi_app, FrontDoor)  # hops = 0: nothing is believed


def test_the_hops_must_be_a_small_count(tmp_path):
    with pytest.raises(ConfigError):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "KINDCITY_PROXY_HOPS": -1,
                    "KINDCITY_INSTANCE_PATH": str(tmp_path)})


@pytest.mark.parametrize("kind", LIMITS)
def test_one_visitor_behind_the_proxy_exhausts_a_limit_and_another_is_not_affected(proxied_app, session,
                                                                                  monkeypatch, kind):
    setting, send = LIMITS[kind]
    monkeypatch.setitem(proxied_app.config, setting, 2)
    first = _via_proxy(proxied_app, "198.51.100.1")
    for n in range(2):
        assert send(first, n).status_code in (200, 303)
    assert send(first, 9).status_code == 429
    # Forging the left of the header does not help: only the address the proxy appended counts.
    assert send(_via_proxy(proxied_app, "198.51.100.1", forged="203.0.113.99"), 10).status_code == 429
    second = _via_proxy(proxied_app, "198.51.100.2")
    assert send(second, 11).status_code in (200, 303)


@pytest.mark.parametrize("kind", LIMITS)
def test_without_a_trusted_proxy_a_forged_header_changes_nothing(app, client, session, monkeypatch, kind):
    setting, send = LIMITS[kind]
    monkeypatch.setitem(app.config, setting, 2)
    for n in range(2):
        assert send(client, n, headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code in (200, 303)
    assert send(client, 9, headers={"X-Forwarded-For": "203.0.113.77"}).status_code == 429


def test_the_audit_log_records_the_visitor_not_the_proxy(proxied_app, app, client, session):
    donor = f.user("donor")
    session.commit()
    behind = _via_proxy(proxied_app, "198.51.100.5", forged="10.0.0.1")
    f.login(behind, donor)
    new = "another-long-password"
    assert behind.post("/account/password", data={"current": f.PASSWORD, "new": new, "confirm": new}).status_code == 302
    direct = client  # hops = 0: the connection's address, whatever the header says
    f.login(direct, donor, new)
    assert direct.post("/account/password", data={"current": new, "new": f.PASSWORD, "confirm": f.PASSWORD},
                       headers={"X-Forwarded-For": "198.51.100.6"}).status_code == 302
    addresses = session.scalars(select(AuditEntry.address).where(
        AuditEntry.action == "user.password_change", AuditEntry.entity_id == donor.id).order_by(AuditEntry.id)).all()
    assert addresses == ["198.51.100.5", "127.0.0.1"]


def test_the_scheme_the_visitor_used_is_believed_only_from_a_trusted_proxy(proxied_app, app, session):
    over_tls = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    behind = proxied_app.test_client().get("/account/login", headers=over_tls)
    assert behind.headers["Strict-Transport-Security"].startswith("max-age=")
    direct = app.test_client().get("/account/login", headers=over_tls)
    assert "Strict-Transport-Security" not in direct.headers
