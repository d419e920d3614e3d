"""Card jobs: what a card provider must hear of once a change commits, and what its webhook told us.

- ``card.event``: a verified Stripe event, asked for by the webhook in the transaction that answers
  Stripe (kindcity/web/webhooks/views.py), so Stripe gets its 2xx at once. The job reads the event's object
  back from Stripe and acts on it exactly once (``provider_events``); Stripe briefly unavailable fails
  the job and the queue retries it. An event Stripe will not show us (another account's object) is
  logged and not remembered, so `kindcity reconcile --stripe` applies it once that is fixed.

- ``card.settle_pledge``: a card pledge ended or owes a refund: its checkout pages still open are closed
  (nobody pays into a pledge that has ended) and its card refunds due are sent, each refund committed
  on its own with the provider's idempotency key, so a job run twice refunds once.

The provider being briefly unavailable (Stripe 5xx, the network) fails the job, and the queue retries
it with backoff; money paid into a page that could not be closed is still recorded and follows the
donor's choice.
"""
from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app

from ..extensions import db
from ..payments import (CardPaymentsUnavailable, CardProvider, EventNotice, ProviderError, ProviderRefused,
                        app_card_provider, delayed_payment_hold)
from ..services import card as card_service
from . import TryAgain, job, send_refunds_one_by_one


def event_args(notice: EventNotice) -> dict:
    return {"event_id": notice.id, "type": notice.type, "object_id": notice.object_id,
            "created": notice.created.isoformat(), "extra": dict(notice.extra)}


def ask_event(notice: EventNotice) -> None:
    """In the webhook's transaction: the event is handled by a job (one at a time per event)."""
    from . import defer

    defer("card.event", lock=f"card-event:{notice.id}", **event_args(notice))


@job("card.event")
def handle_event(event_id: str, type: str, object_id: str, created: str, extra: dict) -> str:
    provider = app_card_provider(current_app)
    notice = EventNotice(event_id, type, object_id, datetime.fromisoformat(created), extra)
    try:
        result = card_service.handle_event(provider, notice, async_hold=delayed_payment_hold(current_app.config))
    except ProviderRefused as error:
        db.session.rollback()
        current_app.logger.error("stripe event %s (%s) unreadable: %s", event_id, type, error)
        return "unreadable"
    return result.outcome  # ProviderUnavailable and database errors fail the job: the queue retries it


@job("card.settle_pledge")
def settle_pledge(pledge_id: int) -> None:
    try:
        provider = app_card_provider(current_app)
    except CardPaymentsUnavailable:
        return
    failed = close_card_checkouts(current_app, provider, [pledge_id], failures=True)
    refunds = send_card_refunds(current_app, provider, pledge_ids=[pledge_id])
    unsent = [refund_id for refund_id, outcome in refunds.items() if outcome == "not_sent"]
    if failed or unsent:
        raise TryAgain(f"pledge {pledge_id}: checkout pages not closed {failed}, card refunds not sent {unsent}")


def close_card_checkouts(app: Flask, provider: CardProvider, pledge_ids, *, failures: bool = False) -> list[int]:
    """Close the card checkout pages still open for these pledges if they take no more money (cancelled,
    expired, ended). Returns the pledges whose page was closed now, or with ``failures`` those whose
    page could not be closed."""
    closed, failed = [], []
    for pledge_id, session_id in card_service.checkouts_to_close(pledge_ids):
        try:
            if provider.expire_checkout(session_id) is not None:
                closed.append(pledge_id)
        except ProviderError as error:
            failed.append(pledge_id)
            app.logger.warning("checkout %s of pledge %s not closed: %s", session_id, pledge_id, error)
    return failed if failures else closed


def send_card_refunds(app: Flask, provider: CardProvider, *, pledge_ids=None) -> dict[int, str]:
    """Send the card refunds that are due, each in its own transaction. A refund that fails stays due:
    the job's retry, or `kindcity reconcile --stripe`, sends it again with the same idempotency key."""
    from ..services import SYSTEM

    return send_refunds_one_by_one(app, card_service.card_refunds_due(provider, pledge_ids),
                                   lambda refund_id: card_service.send_card_refund(SYSTEM, provider, refund_id),
                                   "card")
