"""Mail through SMTP (KINDCITY_SMTP_URL), against a real SMTP server on 127.0.0.1 (aiosmtpd).

Each message is a ``mail.deliver`` job (kindcity/mail/): here on the in-process path, right after the
request's commit. A server that is down never undoes what the request committed, and a message whose
key is recorded as sent is never sent again. The queue's retries and the worker are tested on
PostgreSQL in tests/integration/test_job_queue.py.
"""
from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from kindcity import jobs, mail
from kindcity.models import OutgoingMail, PasswordResetRequest
from tests import factories as f


class Collecting:
    """An SMTP handler that keeps every message; ``gate`` lets a test hold delivery up."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.gate = threading.Event()
        self.gate.set()

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        while not self.gate.is_set():
            await asyncio.sleep(0.01)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(app, monkeypatch):
    handler = Collecting()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setitem(app.config, "KINDCITY_SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    try:
        yield handler
    finally:
        handler.gate.set()
        controller.stop()


def test_a_password_reset_link_goes_out_through_smtp_and_not_to_the_outbox(app, client, session, smtp):
    donor = f.user("donor", name="이순자")
    session.commit()
    before = f.outbox(app)
    assert client.post("/account/reset?lang=en", data={"email": donor.email}).status_code == 303
    [message] = smtp.messages
    assert (message["To"], message["From"]) == (donor.email, app.config["KINDCITY_MAIL_FROM"])
    assert message["Subject"] == "Set a new password for kindcity"
    assert "/account/reset/" in message.get_content() and "Hello 이순자," in message.get_content()
    assert message["Message-ID"].endswith("@kindcity.example>")
    assert f.outbox(app) == before
    [row] = session.scalars(select(OutgoingMail).where(OutgoingMail.key.like("reset:%"))).all()
    assert row.sent_at is not None and row.body == ""  # the link is not kept once sent


def test_a_message_whose_key_was_sent_is_not_sent_again(app, session, smtp):
    with app.test_request_context("/"):
        assert mail.send("a@example.org", "s", "b", key="test:once")
        assert not mail.send("a@example.org", "s", "b", key="test:once")  # asked twice: one message
        session.commit()
        for _ in range(2):  # the same job run twice: a retry, or a worker that died after the send
            jobs.perform("mail.deliver", {"key": "test:once"})
    assert len(smtp.messages) == 1


def test_a_mail_server_that_is_down_is_logged_and_changes_nothing_else(app, client, session, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "KINDCITY_SMTP_URL", f"smtp://127.0.0.1:{_free_port()}")  # nobody listens
    donor = f.user("donor")
    session.commit()
    before = f.outbox(app)
    with caplog.at_level(logging.ERROR, logger="kindcity.jobs"):
        assert client.post("/account/reset", data={"email": donor.email}).status_code == 303
    assert any(r.getMessage().startswith("job mail.deliver") for r in caplog.records)
    assert f.outbox(app) == before  # not written elsewhere either: the log says what was lost
    [row] = session.scalars(select(OutgoingMail)).all()
    assert row.sent_at is None and row.body  # not marked sent: a retry sends it
    assert session.scalar(select(func.count()).select_from(PasswordResetRequest)) == 1  # the request stands


def test_credentials_in_the_address_are_read_back_from_percent_encoding(monkeypatch):
    seen = {}

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            seen["server"] = (host, port)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            seen["tls"] = True

        def login(self, user, password):
            seen["login"] = (user, password)

        def send_message(self, message):
            seen["to"] = message["To"]

    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    message = email.message.EmailMessage()
    message["To"] = "staff@seogu.go.kr"
    mail._send_smtp("smtp+starttls://kindcity%40seogu.go.kr:p%40ss%3Aword@mail.seogu.go.kr:2525", message)
    assert seen == {"server": ("mail.seogu.go.kr", 2525), "tls": True,
                    "login": ("kindcity@seogu.go.kr", "p@ss:word"), "to": "staff@seogu.go.kr"}
