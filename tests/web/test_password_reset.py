"""A forgotten password: a link by mail that works once, for an hour, for the account it was sent to,
without telling anyone which e-mail addresses have accounts."""
from __future__ import annotations

import email
import html
import re
from datetime import timedelta
from email import policy
from pathlib import Path

import time_machine
from sqlalchemy import func, select

from kindcity.domain.time import utcnow
from kindcity.models import AuditEntry, PasswordResetRequest, User
from tests import factories as f

NEW = "a-brand-new-password"


def _ask(client, address: str, lang: str = "en", **kwargs):
    return client.post(f"/account/reset?lang={lang}", data={"email": address}, **kwargs)


def _mail_since(app, before: set[Path]):
    [path] = f.outbox(app) - before
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def _link(message) -> str:
    return re.search(r"https?://\S+/account/reset/\S+", message.get_content()).group(0)


def _path(link: str) -> str:
    return "/account/reset/" + link.rsplit("/account/reset/", 1)[1]


def _reset_path(app, client, donor) -> str:
    """Ask for a link for ``donor`` and return the path of the link the mail carries."""
    before = f.outbox(app)
    _ask(client, donor.email)
    return _path(_link(_mail_since(app, before)))


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_login_page_offers_a_way_back_in(client, session):
    page = _text(client.get("/account/login"))
    assert "비밀번호를 잊으셨나요?" in page and 'href="/account/reset"' in page
    assert "Forgot your password?" in _text(client.get("/account/reset?lang=en"))


def test_a_donor_sets_a_new_password_from_the_link_in_the_mail(app, client, session):
    donor = f.user("donor", name="박순자")
    session.commit()
    elsewhere = app.test_client()
    f.login(elsewhere, donor)  # logged in on another device
    before = f.outbox(app)
    response = _ask(client, donor.email.upper())  # as typed, in capitals
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/login")
    assert f"If an account uses {donor.email.upper()}, we have sent it a link" in _text(client.get("/account/login"))
    message = _mail_since(app, before)
    assert message["To"] == donor.email and message["Subject"] == "Set a new password for kindcity"
    assert "Hello 박순자," in message.get_content() and "within 60 minutes" in message.get_content()
    link = _link(message)
    assert link.startswith("http://kindcity.test/account/reset/")

    form = client.get(_path(link))
    assert form.status_code == 200 and form.headers["Cache-Control"] == "private, no-store"
    response = client.post(_path(link), data={"new": NEW, "confirm": NEW})
    assert response.status_code == 303 and response.headers["Location"].endswith("/me/")
    assert client.get("/me/").status_code == 200  # logged in
    assert elsewhere.get("/me/").status_code == 302  # the other device is logged out
    other = app.test_client()
    assert other.post("/account/login", data={"email": donor.email, "password": f.PASSWORD}).status_code == 200
    f.login(other, donor, NEW)
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "user.password_reset", AuditEntry.entity_id == donor.id)) == 1

    again = client.get(_path(link) + "?lang=en")  # the link works once
    assert again.status_code == 400 and "already used" in _text(again)
    assert "Ask for a new link" in _text(again) and 'name="new"' not in _text(again)


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(app, client, session):
    donor = f.user("donor")
    inactive = f.user("donor")
    inactive.active = False
    session.commit()
    answers = []
    for address in (donor.email, "nobody@kindcity.example", inactive.email):
        before = f.outbox(app)
        response = _ask(client, address)
        flashed = _text(client.get("/account/login")).replace(address, "ADDRESS")
        answers.append((response.status_code, response.headers["Location"],
                        re.search(r"If an account uses ADDRESS[^<]*", flashed).group(0)))
        sent = f.outbox(app) - before
        assert len(sent) == (1 if address == donor.email else 0)
    assert answers[0] == answers[1] == answers[2]
    assert session.scalar(select(func.count()).select_from(PasswordResetRequest)) == 3  # every request counts


def test_the_mail_is_in_korean_for_a_korean_visitor(app, client, session):
    donor = f.user("donor", name="김영호")
    session.commit()
    before = f.outbox(app)
    _ask(client, donor.email, lang="ko")
    message = _mail_since(app, before)
    assert message["Subject"] == "[kindcity] 새 비밀번호 정하기"
    assert "김영호 님, 안녕하세요." in message.get_content() and "60분 안에" in message.get_content()


def test_the_link_points_at_the_configured_site_whatever_the_host_header(app, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "KINDCITY_BASE_URL", "https://kindcity.seogu.go.kr/")
    donor = f.user("donor")
    session.commit()
    before = f.outbox(app)
    _ask(client, donor.email, headers={"Host": "evil.example"})
    assert _link(_mail_since(app, before)).startswith("https://kindcity.seogu.go.kr/account/reset/")


def test_a_link_expires_after_the_configured_minutes(app, client, session):
    donor = f.user("donor")
    session.commit()
    path = _reset_path(app, client, donor)
    with time_machine.travel(utcnow() + timedelta(minutes=61), tick=False):
        response = client.post(path + "?lang=en", data={"new": NEW, "confirm": NEW})
    assert response.status_code == 400 and "This link has expired" in _text(response)
    session.refresh(donor)
    f.login(app.test_client(), donor)  # the old password still works


def test_an_altered_link_or_one_sent_before_a_password_change_does_not_work(app, client, session):
    donor = f.user("donor")
    session.commit()
    path = _reset_path(app, client, donor)
    altered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert client.get(altered + "?lang=en").status_code == 400
    assert client.get("/account/reset/not-a-token?lang=en").status_code == 400
    mine = app.test_client()
    f.login(mine, donor)
    assert mine.post("/account/password", data={"current": f.PASSWORD, "new": "changed-meanwhile",
                                                 "confirm": "changed-meanwhile"}).status_code == 302
    stale = client.post(path + "?lang=en", data={"new": NEW, "confirm": NEW})
    assert stale.status_code == 400 and "the password was changed since it was sent" in _text(stale)
    f.login(app.test_client(), donor, "changed-meanwhile")


def test_a_short_or_mismatched_password_is_refused_and_nothing_changes(app, client, session):
    donor = f.user("donor")
    session.commit()
    path = _reset_path(app, client, donor)
    short = client.post(path + "?lang=en", data={"new": "short", "confirm": "short"})
    assert short.status_code == 200 and "at least 10" in _text(short)
    mismatch = client.post(path + "?lang=en", data={"new": NEW, "confirm": NEW + "x"})
    assert "The passwords do not match." in _text(mismatch)
    own_email = client.post(path + "?lang=en", data={"new": donor.email, "confirm": donor.email})
    assert "must not be your e-mail address" in _text(own_email)
    session.expire_all()
    assert session.get(User, donor.id).password_hash == f._HASH
    assert client.post(path, data={"new": NEW, "confirm": NEW}).status_code == 303  # the link still works


def test_too_many_requests_are_refused_per_email_and_per_address(app, client, session):
    donor = f.user("donor")
    session.commit()
    before = f.outbox(app)
    for _ in range(3):
        assert _ask(client, donor.email).status_code == 303
    refused = _ask(client, donor.email)
    assert refused.status_code == 429 and "Too many reset links were asked for" in _text(refused)
    assert len(f.outbox(app) - before) == 3
    with time_machine.travel(utcnow() + timedelta(minutes=61), tick=False):
        assert _ask(client, donor.email).status_code == 303  # an hour later, again
    elsewhere = {"REMOTE_ADDR": "203.0.113.7"}
    for n in range(10):  # from one address, whatever the e-mail
        assert _ask(client, f"someone{n}@kindcity.example", environ_base=elsewhere).status_code == 303
    assert _ask(client, "someone-else@kindcity.example", environ_base=elsewhere).status_code == 429
    assert _ask(client, "someone-else@kindcity.example").status_code == 303  # another address may still ask


def test_a_logged_in_user_is_sent_to_the_change_password_page(app, client, session):
    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    response = client.get("/account/reset")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")


def test_a_bad_email_gets_a_clear_error(app, client, session):
    response = _ask(client, "")
    assert response.status_code == 200 and 'aria-invalid="true"' in _text(response)
