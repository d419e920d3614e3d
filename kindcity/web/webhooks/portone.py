"""PortOne's webhook door.

``POST /webhooks/portone`` is CSRF-exempt; the delivery is verified on its raw body with PortOne's
scheme (Standard Webhooks: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``), by the SDK.
A bad, stale or replayed-too-late signature gets 400 and changes nothing. Then, in one transaction,
the delivery is recorded (table ``provider_events``, keyed by its webhook-id) and a ``portone.event``
job is deferred (kindcity/jobs/portone.py); PortOne gets its 200 ``queued`` at once. The job reads the
payment back from PortOne and applies it, once. A delivery already recorded answers 200 ``duplicate``
and asks for nothing: its job exists (it was deferred with the record), and a processed event is a
no-op for the job anyway.
"""
from __future__ import annotations

from flask import current_app, jsonify, request
from sqlalchemy.exc import OperationalError

from ...jobs.portone import ask_event
from ...payments import InvalidWebhook
from ...payments.korean import app_kr_provider, portone_configured
from ...services import kr_payments
from ..unit_of_work import unit_of_work
from . import bp


@bp.post("/portone")
def portone_events():
    if not portone_configured(current_app.config):
        return jsonify(error="not found"), 404
    provider = app_kr_provider(current_app)
    payload = request.get_data(cache=False)  # the exact bytes PortOne signed
    try:
        notice = provider.parse_webhook(payload, request.headers)
    except InvalidWebhook as error:
        current_app.logger.warning("portone webhook refused: %s", error)
        return jsonify(error="invalid signature or payload"), 400
    with unit_of_work(catch=(OperationalError,)) as work:
        recorded = kr_payments.record_event(provider, notice)
        if recorded.event_row is None:
            work.discard()
            outcome = recorded.outcome
        elif not recorded.recorded_now:
            work.discard()
            outcome = "duplicate"
        else:
            ask_event(recorded.event_row)  # the work, read back from PortOne, is a job: PortOne gets its answer now
    if not work.ok:
        current_app.logger.warning("portone delivery %s not recorded: %s", notice.id, work.error)
        return jsonify(error="temporarily unavailable; retry"), 503
    if work.discarded:
        return jsonify(received=True, event=notice.id, outcome=outcome), 200
    return jsonify(received=True, event=notice.id, outcome="queued"), 200
