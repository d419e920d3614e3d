"""PortOne's webhook door, and what the Korean rails do after a commit.

``POST /webhooks/portone`` is CSRF-exempt; the delivery is verified on its raw body with PortOne's
scheme (Standard Webhooks: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``), by the SDK.
A bad, stale or replayed-too-late signature gets 400 and changes nothing. Then, in this order:
1. the delivery is recorded (table ``provider_events``, keyed by its webhook-id) and committed;
2. one function, ``kr_payments.process_event``, processes the recorded event: it reads the payment back
   from PortOne and applies it, once. Today it runs here, inline; moved onto a job queue, step 2 becomes
   an enqueue in step 1's transaction and the door answers 200 at once.
A delivery already processed answers 200 ``duplicate``; one recorded but not yet processed (PortOne or
the database briefly unavailable) answers 503 so PortOne delivers it again, and the retry processes it.
"""
from __future__ import annotations

from flask import Flask, current_app, jsonify, request
from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..payments import CardPaymentsUnavailable, InvalidWebhook, ProviderError, ProviderUnavailable
from ..payments.korean import app_kr_provider, portone_configured
from ..services import kr_payments
from .webhooks import bp


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
    try:
        recorded = kr_payments.record_event(provider, notice)
        db.session.commit()
    except OperationalError as error:
        db.session.rollback()
        current_app.logger.warning("portone delivery %s not recorded: %s", notice.id, error)
        return jsonify(error="temporarily unavailable; retry"), 503
    if recorded.event_row is None or recorded.duplicate:
        return jsonify(received=True, event=notice.id, outcome=recorded.outcome), 200
    try:
        result = kr_payments.process_event(provider, recorded.event_row)
        db.session.commit()
    except (ProviderUnavailable, OperationalError) as error:
        db.session.rollback()
        current_app.logger.warning("portone event %s recorded, not processed; PortOne will retry: %s", notice.id, error)
        return jsonify(error="temporarily unavailable; retry"), 503
    except ProviderError as error:
        db.session.rollback()
        current_app.logger.error("portone event %s (%s) unreadable: %s", notice.id, notice.type, error)
        return jsonify(received=True, event=notice.id, outcome="unreadable"), 200
    # Refunds this event left owing go back after the response (kindcity/web/after_commit.py).
    return jsonify(received=True, event=notice.id, outcome=result.outcome), 200


def _provider(app: Flask):
    try:
        return app_kr_provider(app)
    except CardPaymentsUnavailable:
        return None


def settle_kr_pledges(pledge_ids) -> None:
    """After a commit: of the pledges that transaction ended or left owing a refund, close the virtual
    accounts still open (nobody pays into a pledge that has ended) and send their refunds through PortOne."""
    if not pledge_ids:
        return
    provider = _provider(current_app)
    if provider is None:
        return
    close_virtual_accounts(current_app, provider, pledge_ids)
    send_kr_refunds(current_app, provider, pledge_ids=pledge_ids)


def close_virtual_accounts(app: Flask, provider, pledge_ids) -> list[int]:
    closed = []
    for pledge_id, payment_id in kr_payments.virtual_accounts_to_close(pledge_ids):
        try:
            if provider.close_virtual_account(payment_id):
                kr_payments.mark_closed(payment_id)
                db.session.commit()
                closed.append(pledge_id)
        except (ProviderError, OperationalError) as error:
            db.session.rollback()
            app.logger.warning("virtual account %s of pledge %s not closed: %s", payment_id, pledge_id, error)
    return closed


def send_kr_refunds(app: Flask, provider, *, pledge_ids=None) -> dict[int, str]:
    """Send the refunds due on pledges paid through PortOne, each in its own transaction. One that fails
    stays due: the next event for its pledge or `kindcity reconcile --portone` sends it again."""
    from ..services import SYSTEM

    done: dict[int, str] = {}
    for refund_id in kr_payments.kr_refunds_due(provider, pledge_ids):
        try:
            done[refund_id] = kr_payments.send_kr_refund(SYSTEM, provider, refund_id)
            db.session.commit()
        except (ProviderError, OperationalError) as error:
            db.session.rollback()
            done[refund_id] = "not_sent"
            app.logger.warning("PortOne refund %s not sent: %s", refund_id, error)
    return done
