"""The donor's receipts as PDF: one per payment received, and a statement for any range of days.

Routes on the donor blueprint (so its access rule applies): a payment that is not the donor's own is
a 404, as if it did not exist. Receipts hold personal data, so nothing may keep a copy.
"""
from __future__ import annotations

from datetime import date

from flask import Response, abort, request
from flask_login import current_user

from ..domain.receipts import PeriodError, statement_period
from ..domain.time import seoul_today
from ..i18n import current_locale
from ..receipts import render_pdf
from ..services import NotFound
from ..services import receipts as receipt_service
from .caching import NO_STORE
from .donor import bp


def _pdf(body: bytes, filename: str) -> Response:
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{filename}"',
        "Cache-Control": NO_STORE,
    })


@bp.get("/receipts/<int:payment_id>.pdf")
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
        abort(400)


@bp.get("/receipts/statement.pdf")
def statement_pdf():
    today = seoul_today()
    try:
        start, end = statement_period(_day_arg("from"), _day_arg("to"), today)
    except PeriodError:
        abort(400)
    locale = current_locale()
    receipts = receipt_service.statement(current_user._get_current_object(), start, end, today=today, locale=locale)
    body = render_pdf(receipts)
    return _pdf(body, f"kindcity-statement-{start.isoformat()}-{end.isoformat()}.pdf")
