"""Staff impact screens: start delivery, record spending, return leftovers, write the report with
photos, and have a colleague publish it; plus the overview with overdue reports."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ...domain.impact import ImpactRuleError, allowed_actions, is_report_overdue
from ...domain.matching import DISTRICT_POOL_ID
from ...domain.time import seoul_today
from ...extensions import db
from ...models import Disbursement, LeftoverReturn, Need, Pledge, ReportPhoto
from ...paths import upload_folder
from ...services import NotFound
from ...services import impact as impact_service
from ...services import needs as need_service
from ...services import photos as photo_files
from ...services.needs import PersonalDataFound
from ..access import current_actor
from ..forms import ConfirmForm
from ..messages import impact_personal_data_messages, message_for
from ..unit_of_work import unit_of_work
from . import bp
from .forms import DisbursementForm, PhotoForm, ReportForm, StartDeliveryForm
from .needs import warn_personal_data

def _need_or_404(need_id: int) -> Need:
    try:
        return need_service.get_for_staff(current_user, need_id)
    except NotFound:
        abort(404)


def _report_form(report) -> ReportForm:
    form = ReportForm(obj=report) if report is not None else ReportForm()
    if report is not None and request.method == "GET" and report.beneficiaries_reached is None:
        form.beneficiaries_reached.data = report.need.beneficiary_count
    return form


def _page(need: Need, status: int = 200, **forms):
    """The impact workspace of a need; ``forms`` replaces the default (empty) forms, e.g. with errors."""
    report = impact_service.report_for(need.id)
    today = seoul_today()
    start_form = forms.get("start_form") or StartDeliveryForm()
    if start_form.report_due.data is None:
        start_form.report_due.data = today + timedelta(days=30)
    spend_form = forms.get("spend_form") or DisbursementForm()
    if spend_form.spent_on.data is None:
        spend_form.spent_on.data = today
    try:
        preview = impact_service.preview_leftovers(need) if report is not None and need.status == "delivering" else {}
    except ImpactRuleError:
        preview = {}  # money on the need that no pledge placed: returning it explains the problem
    pledges = {p.id: p for p in db.session.scalars(select(Pledge).where(Pledge.id.in_(list(preview))))} if preview else {}
    returns = db.session.scalars(select(LeftoverReturn).where(LeftoverReturn.need_id == need.id)
                                 .order_by(LeftoverReturn.id)).all()
    spending = db.session.scalars(select(Disbursement).where(Disbursement.need_id == need.id)
                                  .order_by(Disbursement.spent_on, Disbursement.id)).all()
    return render_template(
        "staff/impact_need.html", need=need, report=report, money=impact_service.need_money(need.id),
        spending=spending, returns=returns,
        preview=[(pledges[pid], amount) for pid, amount in preview.items() if pid in pledges],
        fund_part=preview.get(DISTRICT_POOL_ID, 0),
        actions=[a.value for a in allowed_actions(report.status)] if report is not None else [],
        overdue=report is not None and is_report_overdue(report.report_due, today, report.status),
        start_form=start_form, spend_form=spend_form,
        report_form=forms.get("report_form") or _report_form(report),
        photo_form=forms.get("photo_form") or PhotoForm(), confirm_form=ConfirmForm()), status


def _refused(need_id: int, error: Exception):
    if isinstance(error, PersonalDataFound):
        flash(_("This cannot be published yet: the text looks like it contains personal data."), "error")
        for line in impact_personal_data_messages(error.findings):
            flash(line, "error")
    else:
        flash(message_for(error), "error")
    return redirect(url_for("staff.impact_need", need_id=need_id), 303)


@bp.get("/impact")
def impact_overview():
    lists = impact_service.staff_reports(current_user, seoul_today())
    return render_template("staff/impact_overview.html", today=seoul_today(), **lists)


@bp.get("/needs/<id:need_id>/impact")
def impact_need(need_id: int):
    return _page(_need_or_404(need_id))


@bp.post("/needs/<id:need_id>/impact/start")
def impact_start(need_id: int):
    need = _need_or_404(need_id)
    form = StartDeliveryForm()
    if not form.validate_on_submit():
        return _page(need, start_form=form)
    with unit_of_work(flash_refusal=False) as work:
        impact_service.start_delivery(current_actor(), need, report_due=form.report_due.data, today=seoul_today())
    if not work.ok:
        return _refused(need_id, work.error)
    flash(_("Delivery has started. Record the spending, then write the impact report."), "success")
    return redirect(url_for("staff.impact_need", need_id=need_id), 303)


@bp.post("/needs/<id:need_id>/impact/disbursements")
def impact_disburse(need_id: int):
    need = _need_or_404(need_id)
    form = DisbursementForm()
    if not form.validate_on_submit():
        return _page(need, spend_form=form)
    with unit_of_work(flash_refusal=False) as work:
        impact_service.record_disbursement(current_actor(), need, amount=form.amount.data, spent_on=form.spent_on.data,
                                           description=form.description.data or "", today=seoul_today())
    error = work.error
    if isinstance(error, PersonalDataFound):
        form.description.errors.extend(impact_personal_data_messages(error.findings))
        return _page(need, spend_form=form)
    if error is not None:
        target = form.description if getattr(error, "code", "").startswith("description") else form.amount
        if getattr(error, "code", "") in ("disbursement_in_future", "disbursement_too_early"):
            target = form.spent_on
        target.errors.append(message_for(error))
        return _page(need, spend_form=form)
    flash(_("Spending of %(amount)s won recorded.", amount=f"{form.amount.data:,}"), "success")
    return redirect(url_for("staff.impact_need", need_id=need_id), 303)


@bp.get("/needs/<id:need_id>/impact/leftovers")
def impact_leftovers_confirm(need_id: int):
    """One question before the leftovers go back: how much, to whom, and what each donor chose."""
    need = _need_or_404(need_id)
    money = impact_service.need_money(need.id)
    if need.status != "delivering" or money.spent <= 0 or money.held <= 0:
        return redirect(url_for("staff.impact_need", need_id=need_id), 303)
    try:
        preview = impact_service.preview_leftovers(need)
    except ImpactRuleError:
        preview = {}
    pledges = {p.id: p for p in db.session.scalars(select(Pledge).where(Pledge.id.in_(list(preview))))}
    return render_template("staff/leftovers_confirm.html", need=need, money=money, form=ConfirmForm(),
                           fund_part=preview.get(DISTRICT_POOL_ID, 0),
                           preview=[(pledges[pid], amount) for pid, amount in preview.items() if pid in pledges])


@bp.post("/needs/<id:need_id>/impact/leftovers")
def impact_leftovers(need_id: int):
    need = _need_or_404(need_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work(flash_refusal=False) as work:
        returned = impact_service.return_leftovers(current_actor(), need)
    if not work.ok:
        return _refused(need_id, work.error)
    flash(_("%(amount)s won returned to %(count)s pledges, each as its donor chose.",
            amount=f"{sum(r.amount for r in returned):,}", count=len(returned)), "success")
    return redirect(url_for("staff.impact_need", need_id=need_id), 303)


@bp.post("/needs/<id:need_id>/impact/report")
def impact_save(need_id: int):
    need = _need_or_404(need_id)
    form = ReportForm()
    if not form.validate_on_submit():
        return _page(need, report_form=form)
    data = impact_service.ReportInput(form.units_delivered.data, form.beneficiaries_reached.data,
                                      form.delivered_from.data, form.delivered_to.data, form.story.data or "")
    with unit_of_work(flash_refusal=False) as work:
        report = impact_service.save_report(current_actor(), need, data, seoul_today())
        findings = impact_service.report_text_findings(report)
    error = work.error
    if error is not None:
        code = getattr(error, "code", "")
        target = {"units_delivered_invalid": form.units_delivered, "beneficiaries_invalid": form.beneficiaries_reached,
                  "dates_reversed": form.delivered_to, "dates_in_future": form.delivered_to,
                  "story_too_long": form.story}.get(code)
        if target is None:
            return _refused(need_id, error)
        target.errors.append(message_for(error))
        return _page(need, report_form=form)
    flash(_("The report is saved."), "success")
    warn_personal_data(findings, impact_personal_data_messages)
    return redirect(url_for("staff.impact_need", need_id=need_id), 303)


@bp.post("/needs/<id:need_id>/impact/photos")
def impact_photo(need_id: int):
    need = _need_or_404(need_id)
    form = PhotoForm()
    if not form.validate_on_submit():
        return _page(need, photo_form=form)
    upload = form.photo.data
    folder = upload_folder(current_app)
    photo = None
    try:
        with unit_of_work(flash_refusal=False) as work:
            photo = impact_service.add_photo(current_actor(), need, data=upload.read(), filename=upload.filename,
                                             caption=form.caption.data or "", consent=bool(form.consent.data),
                                             folder=folder)
    except Exception:
        if photo is not None:  # the commit failed: the file it was to keep goes too
            photo_files.discard(folder, photo.filename)
        raise
    error = work.error
    if isinstance(error, PersonalDataFound):
        form.caption.errors.extend(impact_personal_data_messages(error.findings))
        return _page(need, photo_form=form)
    if error is not None:
        code = getattr(error, "code", "")
        target = (form.consent if code == "consent_required" else
                  form.caption if code.startswith("caption") else form.photo)
        if not code.startswith(("photo", "consent", "caption")):
            return _refused(need_id, error)
        target.errors.append(message_for(error))
        return _page(need, photo_form=form)
    flash(_("The photo is added. Its metadata (camera, time, location) was removed."), "success")
    return redirect(url_for("staff.impact_need", need_id=need_id), 303)


@bp.post("/needs/<id:need_id>/impact/photos/<id:photo_id>/delete")
def impact_photo_delete(need_id: int, photo_id: int):
    need = _need_or_404(need_id)
    photo = db.session.get(ReportPhoto, photo_id)
    if photo is None or photo.report.need_id != need.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work(flash_refusal=False) as work:
        name = impact_service.remove_photo(current_actor(), photo)
    if not work.ok:
        return _refused(need_id, work.error)
    photo_files.discard(upload_folder(current_app), name)
    flash(_("The photo is removed."), "success")
    return redirect(url_for("staff.impact_need", need_id=need_id), 303)


@bp.post("/needs/<id:need_id>/impact/<any(submit, approve, return):action>")
def impact_act(need_id: int, action: str):
    need = _need_or_404(need_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    actor, today = current_actor(), seoul_today()
    with unit_of_work(flash_refusal=False) as work:
        if action == "submit":
            impact_service.submit_report(actor, need, today)
            message = _("Submitted. A colleague can now check and publish the report.")
        elif action == "approve":
            impact_service.approve_report(actor, need, today)
            message = _("Published. The need is completed and its impact is public.")
        else:
            impact_service.return_report(actor, need)
            message = _("The report is back in draft.")
    if not work.ok:
        return _refused(need_id, work.error)
    flash(message, "success")
    return redirect(url_for("staff.impact_need", need_id=need_id), 303)

