"""Sending a text, as a job: asked for in the transaction that writes the outgoing text (a staff reply, the
automatic first answer), done afterwards by the worker, with retries when the provider is unavailable.

The job carries only the outgoing message's id: it reads the number and the words afresh when it runs, so
a case erased meanwhile sends nothing, and the job queue's table never holds a phone number. Its dedupe
key (``text:<message id>``) is recorded in ``sent_texts`` in the transaction that finishes the job, and is
the job's lock: a job run again (a worker killed after the send, a retry) sends nothing.
"""
from __future__ import annotations

from flask import current_app

from ..extensions import db
from ..jobs import defer, job
from . import OutgoingText, SmsRefused, SmsUnavailable, sms_provider


def text_key(message_id: int) -> str:
    return f"text:{message_id}"


def ask_send(message_id: int) -> None:
    """In the caller's transaction: send outgoing text ``message_id`` once that commits."""
    defer("sms.deliver", lock=f"sms:{text_key(message_id)}", message_id=message_id)


@job("sms.deliver")
def deliver(message_id: int) -> str | None:
    """Hand the text to the provider, unless it went already or its case was erased. A provider that is
    unavailable fails the job, and the queue retries it with backoff; a text the provider refuses (an
    unregistered sending number, a number that cannot receive) is logged and not retried. Returns the
    provider's message id."""
    from ..models import SentText, TextMessage

    key = text_key(message_id)
    if db.session.get(SentText, key) is not None:
        return None
    message = db.session.get(TextMessage, message_id)
    if message is None or message.direction != "out" or not message.body or not message.case.phone:
        return None
    provider = sms_provider(current_app.config)
    try:
        sent = provider.send(OutgoingText(to=message.case.phone, body=message.body, key=key))
    except SmsRefused as error:
        current_app.logger.error("text %s refused by %s: %s", message_id, provider.name, error)
        db.session.add(SentText(key=key, provider_id="refused"))
        return None
    except SmsUnavailable:
        raise  # the queue retries it
    db.session.add(SentText(key=key, provider_id=sent.provider_id[:64]))
    return sent.provider_id
