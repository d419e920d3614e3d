"""Webhooks: the payment provider's own door into kindcity.

CSRF-exempt (Stripe cannot carry our token); instead the signature is checked on the raw body. A bad
or stale signature gets 400 and changes nothing. The event is handled and committed once, here at the
edge; a failure that a retry could fix (Stripe or the database briefly unavailable) answers 503 so
that Stripe delivers the event again. Events kindcity does not handle get 200 and are ignored.
"""
from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, jsonify, request
from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..payments import (CardPaymentsUnavailable, CardProvider, InvalidWebhook, ProviderError, ProviderRefused,
                        ProviderUnavailable, app_card_provider, delayed_payment_hold, stripe_configured)
from ..services import card as card_service
from ..services import pledges as pledge_service

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
    # Card money this event left owing goes back after the response (kindcity/web/__init__.py).
    return jsonify(received=True, event=notice.id, outcome=result.outcome), 200


def settle_card_pledges(pledge_ids=None) -> None:
    """After a commit: the pledges that transaction ended or left owing a refund (remembered by the
    pledge services as it happened, or handed over by the caller) have their card checkout pages closed
    and their card refunds sent. Nothing to do without card payments."""
    if pledge_ids is None:
        pledge_ids = pledge_service.pledges_to_settle()
    if not pledge_ids:
        return
    try:
        provider = app_card_provider(current_app)
    except CardPaymentsUnavailable:
        return
    close_card_checkouts(current_app, provider, pledge_ids)
    send_card_refunds(current_app, provider, pledge_ids=pledge_ids)


def close_card_checkouts(app: Flask, provider: CardProvider, pledge_ids) -> list[int]:
    """After the caller's commit: close the card checkout pages still open for these pledges if they
    take no more money (cancelled, expired, ended), so nobody pays into a pledge that has ended.
    Best effort: money paid there anyway is still recorded and follows the donor's choice.
    Returns the pledges whose page was closed now."""
    closed = []
    for pledge_id, session_id in card_service.checkouts_to_close(pledge_ids):
        try:
            if provider.expire_checkout(session_id) is not None:
                closed.append(pledge_id)
        except ProviderError as error:
            app.logger.warning("checkout %s of pledge %s not closed: %s", session_id, pledge_id, error)
    return closed


def send_card_refunds(app: Flask, provider: CardProvider, *, pledge_ids=None) -> dict[int, str]:
    """Send the card refunds that are due, each in its own transaction, after the caller's commit.

    A refund that fails here stays due: the next event for its pledge, or `kindcity reconcile --stripe`,
    sends it again with the same idempotency key.
    """
    from ..services import SYSTEM

    done: dict[int, str] = {}
    for refund_id in card_service.card_refunds_due(provider, pledge_ids):
        try:
            done[refund_id] = card_service.send_card_refund(SYSTEM, provider, refund_id)
            db.session.commit()
        except (ProviderError, OperationalError) as error:
            db.session.rollback()
            done[refund_id] = "not_sent"
            app.logger.warning("card refund %s not sent: %s", refund_id, error)
    return done
