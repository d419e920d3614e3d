"""Webhooks: the payment provider's own door into kindcity.

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
from ..services import card as card_service

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
