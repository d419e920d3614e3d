"""Webhooks: the payment and SMS providers' own door into kindcity.

CSRF-exempt (Stripe cannot carry our token); instead the signature is checked on the raw body. A bad
or stale signature gets 400 and changes nothing. The event is handled and committed once, here at the
edge; a failure that a retry could fix (Stripe or the database briefly unavailable) answers 503 so
that Stripe delivers the event again. Events kindcity does not handle get 200 and are ignored.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request
from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..payments import (InvalidWebhook, ProviderRefused, ProviderUnavailable, app_card_provider, delayed_payment_hold,
                        stripe_configured)
from ..domain.time import utcnow
from ..services import card as card_service
from ..services import texts as text_service
from ..sms import InvalidWebhook as InvalidSmsWebhook
from ..sms import sms_provider, sms_webhook_open

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


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
    try:
        result = card_service.handle_event(provider, notice, async_hold=delayed_payment_hold(current_app.config))
        db.session.commit()
    except (ProviderUnavailable, OperationalError) as error:
        db.session.rollback()
        current_app.logger.warning("stripe event %s not processed, Stripe will retry: %s", notice.id, error)
        return jsonify(error="temporarily unavailable; retry"), 503
    except ProviderRefused as error:
        # Stripe will not show us the event's object (another account's, or a test object on a live key):
        # a retry cannot fix that. Not remembered, so `kindcity reconcile --stripe` can apply it once fixed.
        db.session.rollback()
        current_app.logger.error("stripe event %s (%s) unreadable: %s", notice.id, notice.type, error)
        return jsonify(received=True, event=notice.id, outcome="unreadable"), 200
    # Card money this event left owing goes back by a job of the same transaction (kindcity/jobs/card.py).
    return jsonify(received=True, event=notice.id, outcome=result.outcome), 200


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
    try:
        if not text_service.remember_webhook_salt(batch.nonce, tolerance_seconds=config["KINDCITY_SMS_WEBHOOK_TOLERANCE"],
                                                  now=now):
            db.session.rollback()
            current_app.logger.warning("sms webhook refused: replayed signature")
            return jsonify(error="replayed"), 400
        results = [text_service.receive(text, max_per_hour=config["KINDCITY_SMS_MAX_PER_HOUR"], now=now)
                   for text in batch.texts]
        db.session.commit()
    except OperationalError as error:
        db.session.rollback()
        current_app.logger.warning("sms webhook not processed, the provider will retry: %s", type(error).__name__)
        return jsonify(error="temporarily unavailable; retry"), 503
    return jsonify(received=len(results), kept=sum(1 for r in results if r.kept)), 200
