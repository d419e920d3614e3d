"""The donor's receipts as PDF: one per payment received, and a statement for any range of days; and
the details a receipt needs (a postal address, year-end reporting with the resident number).

Routes on the donor blueprint (so its access rule applies): a payment that is not the donor's own is
a 404, as if it did not exist. Receipts hold personal data, so nothing may keep a copy.
"""
from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ...domain.receipts import PeriodError, statement_period
from ...domain.time import seoul_today
from ...i18n import current_locale
from ...receipts import render_pdf
from ...services import NotFound
from ...services import receipts as receipt_service
from ...services import tax_details
from ..access import current_actor
from ..caching import NO_STORE, no_store
from ..unit_of_work import unit_of_work
from . import bp
from ..forms import ConfirmForm
from ..messages import MESSAGES, message_for


def _pdf(body: bytes, filename: str) -> Response:
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{filename}"',
        "Cache-Control": NO_STORE,
    })


@bp.get("/receipts/<id:payment_id>.pdf")
def receipt_pdf(payment_id: int):
    locale = current_locale()
    donor = current_user._get_current_object()
    try:
        receipt = receipt_service.payment_receipt(donor, payment_id, today=seoul_today(), locale=locale)
    except NotFound:
        abort(404)
    body = render_pdf([receipt])
    return _pdf(body, f"kindcity-receipt-{receipt.serial}.pdf")




def _day_arg(name: str) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(400, description=MESSAGES["period_not_a_date"])


@bp.get("/receipts/statement.pdf")
def statement_pdf():
    today = seoul_today()
    try:
        start, end = statement_period(_day_arg("from"), _day_arg("to"), today)
    except PeriodError as error:
        abort(400, description=message_for(error))
    locale = current_locale()
    receipts = receipt_service.statement(current_user._get_current_object(), start, end, today=today, locale=locale)
    body = render_pdf(receipts)
    return _pdf(body, f"kindcity-statement-{start.isoformat()}-{end.isoformat()}.pdf")


# --- details for receipts: a postal address, and year-end reporting with the resident number ---------

class ReceiptAddressForm(FlaskForm):
    postal_address = StringField(_l("Postal address for receipts (optional; only on your receipts)"),
                                 validators=[Optional(), Length(max=300)])


class ReportingForm(FlaskForm):
    # A password input: the browser never fills it in again, and a refused form never echoes it.
    resident_number = PasswordField(_l("Resident registration number (13 digits)"),
                                    validators=[DataRequired(), Length(max=20)],
                                    render_kw={"autocomplete": "off", "inputmode": "numeric"})
    consent = BooleanField(_l("I agree that my resident registration number is collected and used to report my "
                              "gifts to the National Tax Service, as described above."))


_REPORTING_FIELD = {"reporting_consent_required": "consent", "reporting_unavailable": "resident_number",
                    "rrn_shape": "resident_number", "rrn_birth_date": "resident_number"}


def _tax_page(address_form: ReceiptAddressForm, reporting_form: ReportingForm):
    donor = current_user._get_current_object()
    return no_store(make_response(render_template(
        "donor/tax.html", details=tax_details.details_for(donor), address_form=address_form,
        reporting_form=reporting_form, withdraw_form=ConfirmForm(prefix="withdraw"),
        available=tax_details.reporting_available(), legal_basis=tax_details.LEGAL_BASIS_KO)))


@bp.get("/receipts/details")
def tax_details_page():
    details = tax_details.details_for(current_user)
    return _tax_page(ReceiptAddressForm(prefix="address", postal_address=details.postal_address if details else None),
                     ReportingForm(prefix="reporting"))


@bp.post("/receipts/details/address")
def tax_address():
    form = ReceiptAddressForm(prefix="address")
    if not form.validate_on_submit():
        return _tax_page(form, ReportingForm(prefix="reporting"))
    with unit_of_work(_("Saved.")):
        tax_details.save_address(current_actor(), current_user._get_current_object(), form.postal_address.data or "")
    return redirect(url_for("donor.tax_details_page"), 303)


@bp.post("/receipts/details/reporting")
def tax_reporting():
    form = ReportingForm(prefix="reporting")
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            tax_details.ask_for_reporting(current_actor(), current_user._get_current_object(),
                                          form.resident_number.data, consent=form.consent.data, today=seoul_today())
        if not work.ok:
            getattr(form, _REPORTING_FIELD.get(work.error.code, "resident_number")).errors.append(work.message)
        else:
            flash(_("Your gifts will be reported for the year-end tax settlement."), "success")
            return redirect(url_for("donor.tax_details_page"), 303)
    form.resident_number.data = ""
    details = tax_details.details_for(current_user)
    return _tax_page(ReceiptAddressForm(prefix="address", postal_address=details.postal_address if details else None),
                     form)


@bp.post("/receipts/details/withdraw")
def tax_withdraw():
    if not ConfirmForm(prefix="withdraw").validate_on_submit():
        abort(400)
    with unit_of_work(_("Your gifts will no longer be reported.")):
        tax_details.withdraw(current_actor(), current_user._get_current_object(), today=seoul_today())
    return redirect(url_for("donor.tax_details_page"), 303)
