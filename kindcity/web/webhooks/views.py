"""Webhooks: the payment and SMS providers' own door into kindcity.

CSRF-exempt (Stripe cannot carry our token); instead the signature is checked on the raw body. A bad
or stale signature gets 400 and changes nothing. A verified event is recorded as a job in the
transaction that answers 200 at once (Stripe asks for a fast 2xx); the job (kindcity/jobs/card.py)
reads the event's object back from Stripe and acts on it exactly once, retried with backoff while
Stripe is unavailable. The database unavailable answers 503, so that Stripe delivers the event again.
An event already handled answers "duplicate"; events kindcity does not handle get 200 and are ignored.
"""
from __future__ import annotations

from flask import abort, current_app, jsonify, request
from sqlalchemy.exc import OperationalError

from ...domain.time import utcnow
from ...jobs.card import ask_event
from ...payments import InvalidWebhook, app_card_provider, stripe_configured
from ...services import card as card_service
from ...services import texts as text_service
from ...sms import InvalidWebhook as InvalidSmsWebhook
from ...sms import sms_provider, sms_webhook_open

from ..unit_of_work import unit_of_work
from . import bp


@bp.post("/stripe")
def stripe_events():
    if not stripe_configured(current_app.config):
        abort(404)
    provider = app_card_provider(current_app)
    payload = request.get_data(cache=False)  # the exact bytes Stripe signed
    try:
        notice = provider.parse_webhook(payload, request.headers.get("Stripe-Signature"))
    except InvalidWebhook as error:
        current_app.logger.warning("stripe webhook refused: %s", error)
        return jsonify(error="invalid signature or payload"), 400
    if notice.type not in card_service.HANDLED_EVENTS:
        return jsonify(received=True, event=notice.id, outcome="ignored"), 200
    with unit_of_work(catch=(OperationalError,)) as work:
        duplicate = card_service.event_recorded(provider.name, notice.id)
        if not duplicate:
            ask_event(notice)  # the work, read back from Stripe, is a job: Stripe gets its answer now
    if not work.ok:
        current_app.logger.warning("stripe event %s not queued, Stripe will retry: %s", notice.id, work.error)
        return jsonify(error="temporarily unavailable; retry"), 503
    if duplicate:
        return jsonify(received=True, event=notice.id, outcome="duplicate"), 200
    return jsonify(received=True, event=notice.id, outcome="queued"), 200


@bp.post("/sms")
def sms_incoming():
    """Incoming texts (수신) from the SMS provider. A bad, stale or replayed signature gets 400 and changes
    nothing; a text delivered twice is stored once; the database briefly unavailable answers 503 so that
    the provider delivers again. The answer never echoes the number or the words."""
    config = current_app.config
    if not sms_webhook_open(config):
        abort(404)  # the demo takes incoming texts from `kindcity sms receive`, not from the network
    provider = sms_provider(config)
    payload = request.get_data(cache=False)
    now = utcnow()
    try:
        batch = provider.parse_incoming(payload, request.headers, now=now)
    except InvalidSmsWebhook as error:
        current_app.logger.warning("sms webhook refused: %s", error)
        return jsonify(error="invalid signature or payload"), 400
    with unit_of_work(catch=(OperationalError,)) as work:
        if not text_service.remember_webhook_salt(batch.nonce, tolerance_seconds=config["KINDCITY_SMS_WEBHOOK_TOLERANCE"],
                                                  now=now):
            work.discard()
        else:
            results = [text_service.receive(text, max_per_hour=config["KINDCITY_SMS_MAX_PER_HOUR"], now=now)
                       for text in batch.texts]
    if not work.ok:
        current_app.logger.warning("sms webhook not processed, the provider will retry: %s",
                                   type(work.error).__name__)
        return jsonify(error="temporarily unavailable; retry"), 503
    if work.discarded:
        current_app.logger.warning("sms webhook refused: replayed signature")
        return jsonify(error="replayed"), 400
    return jsonify(received=len(results), kept=sum(1 for r in results if r.kept)), 200
