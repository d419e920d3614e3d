"""Joining as a donor without telling anyone which addresses have accounts: a new address is confirmed by
a link in a mail before it can log in; an address that has an account gets the same answer on screen,
and its owner a mail with a way back in. Wording is asserted in English (?lang=en) unless it is Korean."""
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

PASSWORD = "a-long-password"


def _register(client, address: str, lang: str = "en", **changes):
    data = {"display_name": "김서연", "email": address, "password": PASSWORD, "confirm": PASSWORD,
            "organisation_kind": "", "consent": "y", **changes}
    return client.post(f"/account/register?lang={lang}", data=data)


def _mail(app, before: set[Path]) -> list:
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in sorted(f.outbox(app) - before)]


def _link(message, route: str) -> str:
    found = re.search(rf"https?://[^/\s]+(/account/{route}/\S+)", message.get_content())
    assert found, message.get_content()
    return found.group(1)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _answer(client, response, address: str) -> tuple:
    """What a visitor sees: the status, where it sends them, and the message on the next page."""
    flashed = _text(client.get("/account/login?lang=en")).replace(address, "ADDRESS")
    return (response.status_code, response.headers.get("Location"),
            re.search(r"Thank you\. We have sent a mail to ADDRESS[^<]*", flashed).group(0))


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(app, client, session):
    owner = f.user("donor", email="taken@example.org", name="박순자")
    session.commit()
    answers, mails = [], []
    for address in ("taken@example.org", "new@example.org"):
        before = f.outbox(app)
        response = _register(client, address)
        answers.append(_answer(client, response, address))
        [message] = _mail(app, before)
        mails.append(message)
    assert answers[0] == answers[1]
    assert answers[0][:2] == (303, "/account/login")

    to_owner, to_new = mails
    assert to_owner["To"] == "taken@example.org"
    assert to_owner["Subject"] == "Someone tried to join kindcity with your address"
    body = to_owner.get_content()
    assert "Hello 박순자," in body and "nothing was changed and no new account was made" in body
    assert "http://kindcity.test/account/login" in body and _link(to_owner, "reset")
    assert to_new["To"] == "new@example.org" and to_new["Subject"] == "Confirm your e-mail address for kindcity"

    session.expire_all()
    assert session.get(User, owner.id).password_hash == f._HASH  # the account is left as it was
    assert session.get(User, owner.id).display_name == "박순자"
    assert session.scalar(select(func.count(User.id)).where(User.email == "taken@example.org")) == 1


def test_the_owner_can_set_a_new_password_with_the_link_in_that_mail(app, client, session):
    owner = f.user("donor", email="owner@example.org")
    session.commit()
    before = f.outbox(app)
    _register(client, "owner@example.org")
    path = _link(_mail(app, before)[0], "reset")
    assert client.post(path, data={"new": "the-owners-new-one", "confirm": "the-owners-new-one"}).status_code == 303
    f.login(app.test_client(), owner, "the-owners-new-one")


def test_a_new_donor_confirms_the_address_then_logs_in(app, client, session):
    before = f.outbox(app)
    response = _register(client, "Seoyeon@Example.org")
    assert response.status_code == 303
    person = session.scalar(select(User).where(User.email == "seoyeon@example.org"))
    assert person.role == "donor" and person.password_hash.startswith("$argon2")
    assert PASSWORD not in person.password_hash and person.email_confirmed_at is None
    [message] = _mail(app, before)
    assert "Hello 김서연," in message.get_content() and "within 3 days" in message.get_content()
    confirm = _link(message, "confirm")

    # Not before the address is confirmed: the right password sends the link again.
    before = f.outbox(app)
    refused = client.post("/account/login?lang=en", data={"email": "seoyeon@example.org", "password": PASSWORD})
    assert refused.status_code == 200
    assert "Please confirm your e-mail address first: we have sent a new link to seoyeon@example.org" in _text(refused)
    assert len(_mail(app, before)) == 1
    assert client.get("/me/").status_code == 302
    wrong = client.post("/account/login?lang=en", data={"email": "seoyeon@example.org", "password": "wrong-one"})
    assert "not correct" in _text(wrong) and len(_mail(app, before)) == 1  # a wrong password learns nothing

    opened = client.get(confirm + "?lang=en")
    assert opened.status_code == 303 and opened.headers["Location"] == "/account/login"
    assert opened.headers["Cache-Control"] == "private, no-store"
    assert client.get("/me/").status_code == 302  # the link alone logs nobody in
    assert "Your e-mail address is confirmed" in _text(client.get("/account/login?lang=en"))
    assert client.post("/account/login", data={"email": "seoyeon@example.org", "password": PASSWORD}).status_code == 302
    assert client.get("/me/").status_code == 200
    assert session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "user.confirm_email", AuditEntry.entity_id == person.id)) == 1

    again = app.test_client().get(confirm + "?lang=en")  # it works once
    assert again.status_code == 303


def test_a_confirmation_link_expires_or_does_not_work_when_altered(app, client, session):
    before = f.outbox(app)
    _register(client, "late@example.org")
    confirm = _link(_mail(app, before)[0], "confirm")
    with time_machine.travel(utcnow() + timedelta(days=3, minutes=1), tick=False):
        late = client.get(confirm + "?lang=en")
    assert late.status_code == 400 and "This link has expired" in _text(late)
    altered = client.get(confirm[:-3] + ("AAA" if not confirm.endswith("AAA") else "BBB") + "?lang=en")
    assert altered.status_code == 400 and "This link does not work" in _text(altered)
    assert session.scalar(select(User.email_confirmed_at).where(User.email == "late@example.org")) is None


def test_a_reset_link_confirms_an_address_nobody_confirmed(app, client, session):
    """Someone registered another person's address; the owner takes the account back with a reset link."""
    _register(client, "squatted@example.org")
    before = f.outbox(app)
    assert _register(client, "squatted@example.org", password="the-owner-s-own-one",
                     confirm="the-owner-s-own-one").status_code == 303
    path = _link(_mail(app, before)[0], "reset")
    assert client.post(path, data={"new": "taken-back-now", "confirm": "taken-back-now"}).status_code == 303
    assert client.get("/me/").status_code == 200
    person = session.scalar(select(User).where(User.email == "squatted@example.org"))
    assert person.email_confirmed_at is not None


def test_the_owner_is_mailed_at_most_as_often_as_reset_links_and_the_answer_never_changes(app, client, session):
    f.user("donor", email="popular@example.org")
    session.commit()
    before = f.outbox(app)
    answers = set()
    for _ in range(5):
        answers.add(_answer(client, _register(client, "popular@example.org"), "popular@example.org"))
    assert len(answers) == 1
    assert len(_mail(app, before)) == 3  # KINDCITY_PASSWORD_RESET_MAX_PER_EMAIL an hour
    assert session.scalar(select(func.count(PasswordResetRequest.id)).where(
        PasswordResetRequest.email == "popular@example.org")) == 3


def test_the_mail_to_the_owner_is_in_korean_for_a_korean_visitor(app, client, session):
    f.user("donor", email="korean@example.org", name="김영호")
    session.commit()
    before = f.outbox(app)
    _register(client, "korean@example.org", lang="ko")
    [message] = _mail(app, before)
    assert message["Subject"] == "[kindcity] 누군가 이 주소로 가입하려고 했습니다"
    assert "김영호 님, 안녕하세요." in message.get_content()


def test_two_registrations_of_one_new_address_at_once_answer_alike(app, client, session, monkeypatch):
    """A double click: the second registration looks before the first has committed, finds no account,
    and meets the first at the unique address. It answers as for an address that has one, not 500."""
    from kindcity.services import accounts

    f.user("donor", email="twice@example.org")
    session.commit()
    real = accounts.find_user_by_email
    looks = []

    def not_yet_committed(email):  # the first look misses the account the other request is making
        looks.append(email)
        return None if len(looks) == 1 else real(email)

    monkeypatch.setattr(accounts, "find_user_by_email", not_yet_committed)
    response = _register(client, "twice@example.org")
    assert response.status_code == 303 and len(looks) == 2
    assert session.scalar(select(func.count()).select_from(User).where(User.email == "twice@example.org")) == 1
