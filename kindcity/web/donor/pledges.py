"""The donor's own pages: pledging, their pledges, where the money went, their history as CSV."""
from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta

from flask import (Response, abort, current_app, flash, redirect, render_template, request, stream_with_context,
                   url_for)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select, text
from sqlalchemy.orm import joinedload

from ... import payments
from ...domain.dates import clamp_range
from ...domain.pledges import donor_may_cancel
from ...domain.time import SEOUL, seoul_today
from ...extensions import db
from ...mail.pledges import ask_pledge_instructions
from ...models import LedgerTransaction, Need, Pledge
from ...payments.korean import kr_methods_offered
from ...services import matching as matching_service
from ...services import pledges as pledge_service
from ...services.needs import PersonalDataFound
from ...services.recurring import series_of_pledges
from ...services.reference import current_district
from ..access import current_actor
from ..unit_of_work import unit_of_work
from ..form_tokens import claim_form
from ..forms import ConfirmForm
from .forms import HistoryForm, PledgeForm
from ..messages import personal_data_messages

from ..params import page_number, public_need_or_404
from . import bp


def _own_pledge(pledge_id: int) -> Pledge:
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or pledge.donor_id != current_user.id:
        abort(404)
    return pledge


DASHBOARD_PAGE = 25  # pledges per page of /me/


@bp.get("/")
def dashboard():
    """The donor's pledges, newest first, DASHBOARD_PAGE at a time (``?page=n``; a page after the last is
    a 404), under their totals: one aggregate query, then one page of rows, however many
    pledges the donor has."""
    page = page_number(request.args)
    count, pledged, paid = db.session.execute(
        select(func.count(Pledge.id), func.coalesce(func.sum(Pledge.amount), 0),
               func.coalesce(func.sum(Pledge.paid), 0)).where(Pledge.donor_id == current_user.id)).one()
    pages = max(1, -(-count // DASHBOARD_PAGE))
    if page > pages:
        abort(404)
    # Each pledge's need for its title, without the need's own joined category, place, group,
    # organisation and centre: PostgreSQL took 4 ms to plan that 7-way join, for 25 rows.
    pledges = db.session.scalars(select(Pledge).where(Pledge.donor_id == current_user.id)
                                 .options(joinedload(Pledge.need).lazyload("*"))
                                 .order_by(Pledge.created_at.desc(), Pledge.id.desc())
                                 .offset((page - 1) * DASHBOARD_PAGE).limit(DASHBOARD_PAGE)).all()
    instalments = series_of_pledges(p.id for p in pledges if p.kind == "pooled")
    # Whose money went through the district's pooled fund, and where to: all the donor's pledges, not
    # only this page's (ids only, and the placements are the newest 50).
    mine = select(Pledge.id).where(Pledge.donor_id == current_user.id)
    fund = {"placements": matching_service.district_placements(mine) if count else [],
            "waiting": matching_service.district_waiting_for(mine) if count else 0}
    totals = {"count": count, "pledged": int(pledged), "paid": int(paid)}
    return render_template("donor/dashboard.html", user=current_user, pledges=pledges, instalments=instalments,
                           history_form=HistoryForm(request.args), fund=fund, totals=totals, page=page,
                           pages=pages)


@bp.route("/needs/<id:need_id>/pledge", methods=["GET", "POST"])
def pledge(need_id: int):
    need = public_need_or_404(need_id)
    form = PledgeForm()
    if not need.is_unit_priced:
        del form.units
    if current_user.organisation is None:
        form.display.choices = [c for c in form.display.choices if c.value != "organisation"]
    if not payments.card_available(current_app.config):
        form.method.choices = [c for c in form.method.choices if c.value != "card"]
    offered = kr_methods_offered(current_app.config)
    form.method.choices = [c for c in form.method.choices if not c.value.startswith("kr_") or c.value[3:] in offered]
    if form.validate_on_submit():
        claim, sent_before = claim_form(form, "pledge", lambda pledge_id: url_for("donor.pledge_detail",
                                                                               pledge_id=pledge_id))
        if sent_before:
            return sent_before
        units = form.units.data if "units" in form and form.units.data else None
        method = "portone" if form.method.data.startswith("kr_") else form.method.data
        request_ = pledge_service.PledgeRequest(
            need_id=need.id, amount=None if units else form.amount.data, units=units,
            display=form.display.data, message=form.message.data or "", on_cancel=form.on_cancel.data,
            method=method)
        with unit_of_work(flash_refusal=False) as work:
            created = pledge_service.create_direct_pledge(
                current_actor(), request_, hold_for=payments.hold_for(method, current_app.config))
            claim.made(created.id)
            if created.method not in ("card", "portone"):  # PortOne's window comes next instead
                ask_pledge_instructions(created.id, str(get_locale()))
        if isinstance(work.error, PersonalDataFound):
            form.message.errors.extend(personal_data_messages(work.error.findings))
        elif not work.ok:
            target = form.units if (units and "units" in form) else form.amount
            target.errors.append(work.message)
        else:
            if created.method == "card":
                return redirect(url_for("donor.card_checkout", pledge_id=created.id), 303)
            if created.method == "portone":
                return redirect(url_for("donor.kr_pay", pledge_id=created.id, pay_method=form.method.data[3:]), 303)
            flash(_("Thank you! Your pledge is reserved. Please transfer the money with the reference code below."),
                  "success")
            return redirect(url_for("donor.pledge_detail", pledge_id=created.id))
    return render_template("donor/pledge_form.html", need=need, form=form)


@bp.get("/pledges/<id:pledge_id>")
def pledge_detail(pledge_id: int):
    pledge = _own_pledge(pledge_id)
    journal = db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.pledge_id == pledge.id)
                                 .order_by(LedgerTransaction.id)).all()
    return render_template("donor/pledge.html", pledge=pledge, journal=journal, district=current_district(),
                           cancellable=donor_may_cancel(pledge.status, pledge.paid), form=ConfirmForm())


@bp.get("/pledges/<id:pledge_id>/cancel")
def cancel_confirm(pledge_id: int):
    """One question before the pledge is cancelled: a stray tap on a phone must not undo a gift."""
    pledge = _own_pledge(pledge_id)
    if not donor_may_cancel(pledge.status, pledge.paid):
        return redirect(url_for("donor.pledge_detail", pledge_id=pledge_id))
    back = url_for("donor.pledge_detail", pledge_id=pledge_id)
    return render_template(
        "donor/confirm.html", pledge=pledge, form=ConfirmForm(), question=_("Cancel this pledge?"),
        consequence=_("Its reservation is released, so that others can give to this need instead. Nothing has "
                      "been paid on it, so no money moves."),
        confirm_label=_("Yes, cancel this pledge"), action=url_for("donor.cancel", pledge_id=pledge_id), back=back)


@bp.post("/pledges/<id:pledge_id>/cancel")
def cancel(pledge_id: int):
    _own_pledge(pledge_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work(_("Your pledge is cancelled and its reservation released.")):
        pledge_service.cancel_pledge(current_actor(), pledge_id)  # a card page still open closes after
    return redirect(url_for("donor.pledge_detail", pledge_id=pledge_id), 303)


HISTORY_CHUNK = 500  # pledges read from the database, and rows sent, at a time


@bp.get("/history.csv")
def history_csv():
    form = HistoryForm(request.args)
    if not form.validate():
        abort(400)
    # The columns the file shows, not whole pledges and needs: 1,000 rows as objects cost more than the SQL.
    query = (select(Pledge.created_at, Pledge.reference, Need.title, Pledge.kind, Pledge.amount, Pledge.paid,
                    Pledge.status, Pledge.method, Pledge.display)
             .outerjoin(Need, Need.id == Pledge.need_id).where(Pledge.donor_id == current_user.id)
             .order_by(Pledge.created_at, Pledge.id))
    start, end = clamp_range(form.start.data, form.end.data, seoul_today())  # 9999-12-31 has no next day
    if start:
        query = query.where(Pledge.created_at >= datetime.combine(start, time.min, SEOUL))
    if end:
        query = query.where(Pledge.created_at < datetime.combine(end + timedelta(days=1), time.min, SEOUL))
    # Every row, streamed: read from the database HISTORY_CHUNK at a time and sent as it is written,
    # so a long history never sits whole in memory (neither its rows nor its text).
    statuses, methods, displays = _history_words()
    header = [_("Date"), _("Reference code"), _("Need"), _("Amount (won)"), _("Paid (won)"), _("Status"),
              _("Payment method"), _("Name shown")]
    words = {"match": _("Match offer"), "pooled": _("Pooled fund")}

    def rows():
        out = io.StringIO()
        writer = csv.writer(out)
        # Opened in a spreadsheet by the donor: headers and values in their language, not codes.
        out.write("\ufeff")
        writer.writerow(header)
        if db.session.get_bind().dialect.name == "postgresql":
            # yield_per reads through a server-side cursor, which PostgreSQL plans to return its first
            # tenth fast: here by walking every pledge of the district in date order (ix_pledges_created_at)
            # and keeping the donor's, 110 ms for the benchmark donor instead of 9. All rows are read.
            db.session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
        for n, p in enumerate(db.session.execute(query.execution_options(yield_per=HISTORY_CHUNK)), 1):
            what = p.title if p.title is not None else (words["match"] if p.kind == "match" else words["pooled"])
            writer.writerow([p.created_at.astimezone(SEOUL).date().isoformat(), p.reference, _csv_safe(what),
                             p.amount, p.paid, statuses.get(p.status, p.status), methods.get(p.method, p.method),
                             displays.get(p.display, p.display)])
            if n % HISTORY_CHUNK == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    filename = f"kindcity-history-{seoul_today().isoformat()}.csv"
    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


def _history_words() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Words for a pledge's status, payment method and display choice (the same as on the pages)."""
    return ({"awaiting_payment": _("Awaiting transfer"), "partly_paid": _("Partly paid"), "paid": _("Paid"),
             "expired": _("Reservation expired"), "cancelled": _("Cancelled"), "closed": _("Closed (need ended)")},
            {"bank": _("Bank transfer"), "card": _("Card")},
            {"name": _("My name"), "organisation": _("My organisation's name"), "anonymous": _("Anonymous")})


def _csv_safe(text: str) -> str:
    """Spreadsheets run cells that start with =, +, - or @ as formulas: neutralise them."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


__all__ = ["bp", "Need"]
