"""Paying a pledge on the Korean rails (PortOne): routes added to the donor blueprint, and the demo window.

The pledge form creates a pledge with ``method='portone'`` and sends the donor to ``kr_pay`` for the chosen
method (domestic card, easy pay, 가상계좌). That page opens PortOne's payment window with the browser SDK
(vendored under static/vendor/portone, see docs/payments.md); when the window closes, the browser goes to
``kr_complete``, which asks PortOne about the payment and records it only if it matches. Without
JavaScript the window cannot open: the page says so and offers bank transfer instead.
Without PortOne settings (and never in production) the demo provider's window stands in for PortOne.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from ... import payments
from ...jobs.portone import ask_settle
from ...domain.pledges import HOLDING
from ...extensions import db
from ...models import KrPayment, Pledge, Refund
from ...payments import CardPaymentsUnavailable, ProviderError
from ...payments.korean import EASY_PAY_PROVIDERS, REFUND_BANKS, app_kr_provider, billing_offered, kr_methods_offered
from ...services import NotFound
from ...services import kr_billing as kr_billing_service
from ...services import kr_payments
from ..access import current_actor
from ..unit_of_work import unit_of_work
from . import bp
from .demo import DemoButtonsForm, demo_blueprint, pressed
from .pledges import _own_pledge
from .card import pledge_page
from ..messages import MESSAGES, message_for

METHOD_LABELS = {
    "card": _l("Card (Korean cards)"),
    "easy_pay": _l("Easy pay (카카오페이, 네이버페이, 토스페이)"),
    "virtual_account": _l("Virtual account (가상계좌)"),
}
# PortOne's pages and the card companies' windows they open: allowed only on the payment page.
PAY_PAGE_CSP = ("default-src 'self'; script-src 'self' https://cdn.portone.io; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data: https:; font-src 'self'; connect-src 'self' https://*.portone.io; "
                "frame-src https:; form-action 'self' https:; frame-ancestors 'none'; base-uri 'self'")


def _provider():
    try:
        return app_kr_provider(current_app)
    except CardPaymentsUnavailable:
        return None


def _back_to(pledge_id: int):
    pledge = db.session.get(Pledge, pledge_id)
    return redirect(pledge_page(pledge) if pledge is not None else url_for("donor.dashboard"), 303)


class SwitchToBankForm(FlaskForm):
    """Only the CSRF token."""


@bp.get("/pledges/<id:pledge_id>/kr/<pay_method>")
def kr_pay(pledge_id: int, pay_method: str):
    """The payment page: PortOne's window opens from here (with JavaScript); without it, bank transfer."""
    pledge = _own_pledge(pledge_id)
    provider = _provider()
    if provider is None or pay_method not in kr_methods_offered(current_app.config):
        flash(str(MESSAGES["kr_method_unavailable"]), "error")
        return _back_to(pledge.id)
    with unit_of_work() as work:
        window = kr_payments.open_window(current_actor(), provider, pledge.id, pay_method,
                                         order_name=_("Donation, pledge %(reference)s", reference=pledge.reference))
    if not work.ok:
        return _back_to(pledge_id)
    response = current_app.make_response(render_template(
        "donor/kr_pay.html", pledge=pledge, window=window, pay_method=pay_method, method_label=METHOD_LABELS[pay_method],
        easy_pay_providers=EASY_PAY_PROVIDERS, form=SwitchToBankForm(),
        complete_url=url_for("donor.kr_complete", pledge_id=pledge.id, _external=True),
        demo_url=url_for("demo_kr.window", pledge_id=pledge.id) if window.demo else None))
    if not window.demo:
        response.headers["Content-Security-Policy"] = PAY_PAGE_CSP
    return response


@bp.get("/pledges/<id:pledge_id>/kr/complete")
def kr_complete(pledge_id: int):
    """The window closed (or PortOne redirected back on a phone): ask PortOne, never the browser."""
    pledge = _own_pledge(pledge_id)
    provider = _provider()
    outcome = "nothing_to_sync"
    if provider is not None:
        with unit_of_work(also=(ProviderError,)) as work:
            outcome = kr_payments.sync_payment(current_actor(), provider, pledge.id)
        if isinstance(work.error, ProviderError):
            current_app.logger.warning("PortOne return for pledge %s: %s", pledge_id, work.error)
        # Money it left owing back goes by the job its transaction asked for (kindcity/jobs/portone.py).
    if request.args.get("code"):
        outcome = "payment_failed" if outcome in ("nothing_to_sync", "payment_not_started") else outcome
    _flash_outcome(pledge_id, outcome)
    return _back_to(pledge_id)


def _flash_outcome(pledge_id: int, outcome: str) -> None:
    pledge = db.session.get(Pledge, pledge_id)
    db.session.refresh(pledge)
    if outcome == "virtual_account_issued":
        flash(_("Your virtual account is ready. Please deposit the amount into it before the time shown."), "success")
    elif outcome in ("amount_mismatch", "currency_mismatch"):
        flash(_("The payment did not match this pledge, so it was not recorded. The welfare office will "
                "contact you."), "error")
    elif outcome == "payment_recorded_unplaced" or (pledge.paid and pledge.refunds):
        flash(_("Your payment arrived after this need was fully funded, so it follows your choice for such money "
                "(a refund, unless you chose otherwise)."), "info")
    elif pledge.paid >= pledge.amount:
        flash(_("Thank you! Your payment is confirmed."), "success")
    elif outcome in ("payment_failed", "payment_not_started", "payment_cancelled_unpaid"):
        flash(_("The payment was not completed and nothing was charged. You can try again from this page."), "info")
    else:
        flash(_("Thank you! We are confirming your payment; this page will show it shortly."), "info")


@bp.post("/pledges/<id:pledge_id>/kr/bank")
def kr_to_bank(pledge_id: int):
    """The no-JavaScript way out: pay this pledge by bank transfer instead."""
    pledge = _own_pledge(pledge_id)
    if not SwitchToBankForm().validate_on_submit():
        abort(400)
    with unit_of_work(_("Your pledge is now paid by bank transfer. Please transfer the money with the reference "
                        "code below.")):
        kr_payments.switch_to_bank(current_actor(), pledge.id,
                                   hold_for=payments.hold_for("bank", current_app.config))
    return _back_to(pledge_id)


class RefundAccountForm(FlaskForm):
    bank = SelectField(_l("Bank"), choices=[SelectChoice("", "")] + [SelectChoice(code, name) for code, name in
                                                                      REFUND_BANKS.items()],
                       validators=[InputRequired()])
    number = StringField(_l("Account number"), validators=[InputRequired(), Length(max=40)])
    holder = StringField(_l("Account holder"), validators=[InputRequired(), Length(max=60)])


@bp.route("/refunds/<id:refund_id>/account", methods=["GET", "POST"])
def kr_refund_account(refund_id: int):
    """Where a 가상계좌 refund goes: asked of the donor, kept only until the refund is done."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status == "done":
        abort(404)
    pledge = _own_pledge(refund.pledge_id)
    form = RefundAccountForm()
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            try:
                kr_payments.save_refund_account(current_actor(), refund_id, bank=form.bank.data,
                                                number=form.number.data, holder=form.holder.data)
            except NotFound:
                abort(404)
            ask_settle(pledge.id)  # the refund goes by a job of this transaction (kindcity/jobs/portone.py)
        if not work.ok:
            form.number.errors = list(form.number.errors) + [work.message]
        else:
            flash(_("Thank you. Your refund will be sent to this account."), "success")
            return _back_to(pledge.id)
    return render_template("donor/kr_refund_account.html", pledge=pledge, refund=refund, form=form)


# --- recurring giving by card billing key (정기결제) ------------------------------------------------------



class BillingKeyForm(FlaskForm):
    """The billing key the browser SDK issued; the server reads it back from PortOne before keeping it."""

    billing_key = StringField(validators=[InputRequired(), Length(max=200)])


@bp.route("/pooled/<id:pledge_id>/kr/billing", methods=["GET", "POST"])
def kr_billing(pledge_id: int):
    """Authorise a Korean card once for a recurring pooled pledge: PortOne's billing key window opens from
    here (JavaScript); the key comes back in a form, is checked with PortOne, and charges each instalment."""
    pledge = _own_pledge(pledge_id)
    provider = _provider()
    if provider is None or provider.demo or not billing_offered(current_app.config):
        flash(str(MESSAGES["kr_method_unavailable"]), "error")
        return redirect(url_for("donor.pooled_detail", pledge_id=pledge.id), 303)
    form = BillingKeyForm()
    if form.validate_on_submit():
        with unit_of_work(also=(ProviderError,)) as work:  # the first instalment is charged by a job of it
            kr_billing_service.register_key(current_actor(), provider, pledge.id, form.billing_key.data)
        if isinstance(work.error, ProviderError):
            current_app.logger.warning("PortOne billing key for pledge %s: %s", pledge.id, work.error)
            flash(str(MESSAGES["billing_key_invalid"]), "error")
            return redirect(url_for("donor.kr_billing", pledge_id=pledge.id), 303)
        if not work.ok:
            return redirect(url_for("donor.pooled_detail", pledge_id=pledge.id), 303)
        flash(_("Your card is registered. Each instalment is charged to it; you can stop at any time."), "success")
        return redirect(url_for("donor.pooled_detail", pledge_id=pledge.id), 303)
    try:
        window = kr_billing_service.billing_window(
            current_actor(), provider, pledge.id,
            issue_name=_("Recurring donation, pledge %(reference)s", reference=pledge.reference))
    except kr_billing_service.BillingError as error:
        flash(message_for(error), "error")
        return redirect(url_for("donor.pooled_detail", pledge_id=pledge.id), 303)
    response = current_app.make_response(render_template("donor/kr_billing.html", pledge=pledge, window=window,
                                                         form=form))
    response.headers["Content-Security-Policy"] = PAY_PAGE_CSP
    return response


# --- the demo provider's window -----------------------------------------------------------------------

demo_bp = demo_blueprint("demo_kr", "/demo-kr", _provider)  # 404 once PortOne is configured


@demo_bp.route("/<id:pledge_id>", methods=["GET", "POST"])
def window(pledge_id: int):
    pledge = db.session.get(Pledge, pledge_id)
    row = kr_payments.current_payment(pledge_id)
    if pledge is None or pledge.donor_id != current_user.id or row is None:
        abort(404)
    form = DemoButtonsForm()
    action = pressed(form)
    if action is not None:
        if action in ("pay", "issue", "deposit", "fail"):
            return _demo_act(pledge.id, row, action)
        return redirect(url_for("donor.kr_complete", pledge_id=pledge.id), 303)
    return render_template("demo/kr_window.html", pledge=pledge, row=row, form=form,
                           method_label=METHOD_LABELS[row.pay_method], payable=pledge.status in HOLDING,
                           back_url=pledge_page(pledge))


def _demo_act(pledge_id: int, row: KrPayment, action: str):
    provider = _provider()
    with unit_of_work() as work:  # refunds it left owing go by a job of this transaction (kindcity/jobs/portone.py)
        outcome = kr_payments.settle_demo(current_actor(), provider, pledge_id, action)
    if not work.ok:
        return redirect(url_for("demo_kr.window", pledge_id=pledge_id), 303)
    _flash_outcome(pledge_id, outcome)
    return _back_to(pledge_id)



# --- what the pledge page shows of the Korean rails ---------------------------------------------------

@bp.app_template_global()
def kr_payment_of(pledge_id: int) -> KrPayment | None:
    return kr_payments.current_payment(pledge_id)


@bp.app_template_global()
def kr_methods() -> list[tuple[str, str]]:
    return [(method, str(METHOD_LABELS[method])) for method in kr_methods_offered(current_app.config)]


@bp.app_template_global()
def refunds_needing_account(pledge: Pledge) -> list[Refund]:
    return [refund for refund in pledge.refunds if refund.status == "due" and kr_payments.refund_needs_account(refund.id)
            and kr_payments.refund_account_of(refund.id) is None]


@bp.app_template_global()
def kr_billing_key_of(series_id: int):
    from ...models import KrBillingKey
    from sqlalchemy import select

    return db.session.scalar(select(KrBillingKey).where(KrBillingKey.series_id == series_id))
