"""Card payment for donors: routes added to the donor blueprint, and the demo provider's checkout page.

A card pledge is created by the donor pledge view like any other (its hold is the card hold); the donor
is then sent to the provider's checkout page. Pooled pledges, their instalments and match offers paid by
card take the same way (they hold nothing on a need: see ``services.card.start_checkout``). Stripe brings
them back to ``card_return`` (paid) or ``card_cancelled`` (left the page); the webhook records the money,
and ``card_return`` asks Stripe at once too, so the donor sees the payment without waiting for the webhook.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ...domain.pledges import HOLDING
from ...extensions import db
from ...models import Pledge
from ...payments import (CardPaymentsUnavailable, CardProvider, ProviderError, ProviderRefused, ProviderUnavailable,
                        app_card_provider, delayed_payment_hold)
from ...services import card as card_service
from ..access import current_actor
from ..unit_of_work import unit_of_work
from . import bp
from .demo import DemoButtonsForm, demo_blueprint, pressed
from .pledges import _own_pledge



def _card_provider() -> CardProvider | None:
    try:
        return app_card_provider(current_app)
    except CardPaymentsUnavailable:
        return None


DETAIL_ENDPOINTS = {"pooled": "donor.pooled_detail", "match": "donor.offer_detail"}


def pledge_page(pledge: Pledge) -> str:
    """The donor's page of this pledge: a pooled pledge and a match offer have their own."""
    return url_for(DETAIL_ENDPOINTS.get(pledge.kind, "donor.pledge_detail"), pledge_id=pledge.id)


def _back_to(pledge_id: int):
    pledge = db.session.get(Pledge, pledge_id)
    return redirect(pledge_page(pledge) if pledge is not None else url_for("donor.dashboard"), 303)


@bp.get("/pledges/<id:pledge_id>/card")
def card_checkout(pledge_id: int):
    """Send the donor to the provider's checkout page for this pledge (the same session on every visit)."""
    pledge = _own_pledge(pledge_id)
    provider = _card_provider()
    if provider is None:
        flash(_("Card payments are not available on this site."), "error")
        return _back_to(pledge.id)
    with unit_of_work(also=(ProviderUnavailable, ProviderRefused)) as work:
        url = card_service.start_checkout(
            current_actor(), provider, pledge.id,
            success_url=url_for("donor.card_return", pledge_id=pledge.id, _external=True),
            cancel_url=url_for("donor.card_cancelled", pledge_id=pledge.id, _external=True),
            product_name=_("Donation, pledge %(reference)s", reference=pledge.reference))
    if isinstance(work.error, ProviderUnavailable):
        current_app.logger.warning("card checkout for pledge %s: %s", pledge_id, work.error)
        flash(_("The card payment service is not answering. Please try again in a moment."), "error")
    elif isinstance(work.error, ProviderRefused):
        current_app.logger.error("card checkout for pledge %s refused: %s", pledge_id, work.error)
        flash(_("The card payment could not be started. Please try again later or contact the welfare office."),
              "error")
    if not work.ok:
        return _back_to(pledge_id)
    return redirect(url, 303)


@bp.get("/pledges/<id:pledge_id>/card/return")
def card_return(pledge_id: int):
    """Back from a paid checkout: ask the provider now rather than wait for the webhook."""
    pledge = _own_pledge(pledge_id)
    provider = _card_provider()
    outcome = "nothing_to_sync"
    if provider is not None:
        with unit_of_work(also=(ProviderError,)) as work:
            outcome = card_service.sync_checkout(current_actor(), provider, pledge.id,
                                                 async_hold=delayed_payment_hold(current_app.config))
        if isinstance(work.error, ProviderError):
            current_app.logger.warning("card return for pledge %s: %s", pledge_id, work.error)
    pledge = db.session.get(Pledge, pledge_id)
    db.session.refresh(pledge)
    _flash_card_return(pledge, outcome)
    return _back_to(pledge_id)


def _flash_card_return(pledge: Pledge, outcome: str) -> None:
    """What the donor is told on coming back from paying: a pledge to a need, or a pooled pledge or
    match offer (no need of its own: the engine places its money)."""
    pooled = pledge.need_id is None
    if outcome == "payment_recorded_unplaced" or (not pooled and pledge.paid and pledge.refunds):
        flash(_("Your payment arrived after this pledge had ended, so it follows your choice for such money "
                "(a refund to your card, unless you chose otherwise).") if pooled else
              _("Your payment arrived after this need was fully funded, so it follows your choice for such money "
                "(a refund to your card, unless you chose otherwise)."), "info")
    elif pledge.paid >= pledge.amount:
        flash(_("Thank you! Your card payment is confirmed; the matching engine puts it to work.") if pooled else
              _("Thank you! Your card payment is confirmed."), "success")
    elif outcome == "awaiting_delayed_payment":
        flash(_("Thank you! Your payment is on its way; we will confirm it when it arrives."), "info")
    else:
        flash(_("Thank you! We are confirming your card payment; this page will show it shortly."), "info")


@bp.get("/pledges/<id:pledge_id>/card/cancelled")
def card_cancelled(pledge_id: int):
    pledge = _own_pledge(pledge_id)
    if pledge.status in HOLDING and pledge.need_id is None and not pledge.paid:
        flash(_("You left the card payment page. Nothing was charged: you can pay by card from this page "
                "whenever you like."), "info")
    elif pledge.status in HOLDING and pledge.hold_expires_at is not None:
        flash(_("You left the card payment page. Your share stays reserved for a short while: you can pay by card "
                "again or cancel the pledge."), "info")
    return _back_to(pledge_id)


# --- the demo provider's checkout page --------------------------------------------------------------

demo_bp = demo_blueprint("demo_checkout", "/demo-checkout", _card_provider)  # 404 once Stripe is configured


@demo_bp.route("/<session_id>", methods=["GET", "POST"])
def checkout(session_id: str):
    pledge = db.session.scalar(select(Pledge).where(Pledge.checkout_session_id == session_id,
                                                    Pledge.donor_id == current_user.id))
    if pledge is None:
        abort(404)
    form = DemoButtonsForm()
    payable = pledge.status in HOLDING and not pledge.paid
    action = pressed(form)
    if action is not None:
        if action == "pay" and payable:
            return _demo_pay(pledge.id, session_id)
        if action == "decline":
            flash(_("Demonstration: the card was declined. No money moved; you can try again."), "error")
            return redirect(url_for("demo_checkout.checkout", session_id=session_id), 303)
        return redirect(url_for("donor.card_cancelled", pledge_id=pledge.id), 303)
    return render_template("demo/checkout.html", pledge=pledge, form=form, payable=payable,
                           back_url=pledge_page(pledge))


def _demo_pay(pledge_id: int, session_id: str):
    provider = _card_provider()
    with unit_of_work() as work:  # card money it left owing goes back after the response
        card_service.settle_demo_checkout(current_actor(), provider, session_id,
                                          async_hold=delayed_payment_hold(current_app.config))
    if not work.ok:
        return redirect(url_for("demo_checkout.checkout", session_id=session_id), 303)
    return redirect(url_for("donor.card_return", pledge_id=pledge_id), 303)
