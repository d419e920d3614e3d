"""Welfare staff: post needs, approve colleagues' needs, cancel, read the audit log."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ...domain.needs import NeedRuleError, NeedStatus, allowed_actions, check_editable
from ...domain.time import seoul_today
from ...extensions import db
from ...domain.impact import ReportStatus
from ...i18n import current_locale
from ...models import AuditEntry, Dong, ImpactReport, Need
from ...services import NotFound
from ...services import needs as need_service
from ...services import receiving_orgs as receiving_org_service
from ...services import referrals as referral_service
from ...services import texts as text_service
from ...services.receipts import default_organisation
from ...services.needs import NeedInput, PersonalDataFound, shown_as
from ...services.reference import reference_lists
from ..access import current_actor
from ..forms import ConfirmForm
from .forms import NeedForm, ReasonForm
from ..i18n_helpers import localised_choices
from ..messages import message_for, personal_data_messages
from ..params import id_arg

from ..unit_of_work import unit_of_work
from . import bp


def _need_or_404(need_id: int) -> Need:
    try:
        return need_service.get_for_staff(current_user, need_id)
    except NotFound:
        abort(404)


def _fill_choices(form: NeedForm) -> None:
    dongs, categories, groups = reference_lists()
    form.category_id.choices = localised_choices(categories)
    form.dong_id.choices = localised_choices(dongs)
    form.group_id.choices = localised_choices(groups)
    form.receiving_org_id.choices = [(org.id, org.name(current_locale())) for org in receiving_org_service.choosable(
        form.receiving_org_id.data)]


def _input_from(form: NeedForm) -> NeedInput:
    return NeedInput(
        title=form.title.data or "", summary=form.summary.data or "", description=form.description.data or "",
        category_id=form.category_id.data, dong_id=form.dong_id.data, group_id=form.group_id.data,
        beneficiary_count=form.beneficiary_count.data, deadline=form.deadline.data,
        receiving_org_id=form.receiving_org_id.data, target=form.target.data,
        unit_name=form.unit_name.data or None, unit_cost=form.unit_cost.data, units=form.units.data)


FIELD_FOR_CODE = {
    "deadline_in_past": "deadline", "beneficiary_count_invalid": "beneficiary_count",
    "unit_pricing_incomplete": "unit_name", "target_not_units_product": "target", "target_required": "target",
    "target_too_large": "units",
    "target_too_small": "target", "title_summary_required": "title", "reference_unknown": "category_id",
    "receiving_org_unknown": "receiving_org_id",
}


def warn_personal_data(findings, messages=personal_data_messages) -> None:
    """A draft is saved even if the guard finds personal data in it, but its author hears about it on
    the very next page, not only when submitting."""
    if not findings:
        return
    flash(_("Saved as a draft, but it cannot be submitted yet: the text looks like it contains personal "
            "data."), "warning")
    for line in messages(findings):
        flash(line, "warning")


@bp.get("/")
def dashboard():
    base = need_service.staff_scope(current_user, select(Need))
    mine = db.session.scalars(base.where(Need.author_id == current_user.id,
                                         Need.status == NeedStatus.DRAFT).order_by(Need.id.desc())).all()
    barred = need_service.barred_from_approving(current_user.id)
    to_approve = db.session.scalars(base.where(Need.status == NeedStatus.AWAITING_APPROVAL, ~barred)
                                    .order_by(Need.deadline)).all()
    waiting = db.session.scalars(base.where(Need.status == NeedStatus.AWAITING_APPROVAL, barred)
                                 .order_by(Need.deadline)).all()
    open_needs = db.session.scalars(base.where(shown_as(NeedStatus.OPEN, seoul_today())).order_by(Need.deadline)
                                    .limit(50)).all()
    # Funded needs wait for staff to start delivery; delivered ones owe a report by their due day.
    funded = db.session.scalars(base.where(Need.status == NeedStatus.FUNDED).order_by(Need.deadline)
                                .limit(50)).all()
    overdue = db.session.scalars(base.join(ImpactReport, ImpactReport.need_id == Need.id).where(
        Need.status == NeedStatus.DELIVERING, ImpactReport.status != ReportStatus.PUBLISHED,
        ImpactReport.report_due < seoul_today()).order_by(ImpactReport.report_due).limit(50)).all()
    return render_template("staff/dashboard.html", mine=mine, to_approve=to_approve, waiting=waiting,
                           open_needs=open_needs, funded=funded, overdue=overdue,
                           referral_counts=referral_service.open_counts(current_user),
                           text_counts=text_service.open_counts(current_user))


@bp.route("/needs/new", methods=["GET", "POST"])
def new_need():
    form = NeedForm()
    _fill_choices(form)
    if request.method == "GET":
        default = default_organisation()
        form.receiving_org_id.data = default.id if default else None
        # A need posted from a referral (?dong=<code>) starts in the referral's dong; otherwise in the
        # staff member's own centre's dong.
        asked = request.args.get("dong") and db.session.scalar(select(Dong.id).where(Dong.code == request.args["dong"]))
        if asked:
            form.dong_id.data = asked
        elif current_user.centre and current_user.centre.dong_id:
            form.dong_id.data = current_user.centre.dong_id
    referral = _referral_asked()
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            need = need_service.create_need(current_actor(), _input_from(form), seoul_today(),
                                            referral_id=referral.id if referral else None)
            findings = need_service.public_text_findings(need)
        if not work.ok:
            getattr(form, FIELD_FOR_CODE.get(work.error.code, "title")).errors.append(work.message)
        else:
            flash(_("The need is saved as a draft. Submit it when it is ready for a colleague's approval."),
                  "success")
            warn_personal_data(findings)
            return redirect(url_for("staff.need", need_id=need.id))
    return render_template("staff/need_form.html", form=form, need=None, referral=referral)


def _referral_asked():
    """The referral a new need is posted from (?referral=<id>, kept by the form), if this staff member
    may see it; 404 otherwise, as for any referral of another centre."""
    asked = id_arg(request.values, "referral")
    if asked is None:
        return None
    try:
        return referral_service.get_for_staff(current_user, asked)
    except NotFound:
        abort(404)


@bp.route("/needs/<id:need_id>/edit", methods=["GET", "POST"])
def edit_need(need_id: int):
    need = _need_or_404(need_id)
    try:
        check_editable(need.status)  # awaiting approval: sent back to draft first, then submitted again
    except NeedRuleError as error:
        flash(message_for(error), "error")
        return redirect(url_for("staff.need", need_id=need_id), 303)
    form = NeedForm(obj=need)
    _fill_choices(form)
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            need_service.update_need(current_actor(), need, _input_from(form), seoul_today())
            findings = need_service.public_text_findings(need)
        if isinstance(work.error, NeedRuleError):
            flash(work.message, "error")
            return redirect(url_for("staff.need", need_id=need_id))
        if not work.ok:
            getattr(form, FIELD_FOR_CODE.get(work.error.code, "title")).errors.append(work.message)
        else:
            flash(_("Changes saved."), "success")
            warn_personal_data(findings)
            return redirect(url_for("staff.need", need_id=need.id))
    return render_template("staff/need_form.html", form=form, need=need)


@bp.get("/needs/<id:need_id>")
def need(need_id: int):
    item = _need_or_404(need_id)
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "need", AuditEntry.entity_id == item.id)
                               .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())).all()
    bar = (need_service.approval_bar(current_user, item) if item.status == NeedStatus.AWAITING_APPROVAL
           else None)
    referral = None
    if item.referral_id is not None:  # shown only to staff who may see that referral
        try:
            referral = referral_service.get_for_staff(current_user, item.referral_id)
        except NotFound:
            referral = None
    return render_template("staff/need.html", need=item, audit=audit, actions=allowed_actions(item.status),
                           confirm_form=ConfirmForm(), reason_form=ReasonForm(), approval_bar=bar, referral=referral)


@bp.post("/needs/<id:need_id>/<any(submit, approve, return, cancel):action>")
def act(need_id: int, action: str):
    item = _need_or_404(need_id)
    form = ReasonForm() if action == "cancel" else ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    actor, today = current_actor(), seoul_today()
    with unit_of_work(flash_refusal=False) as work:
        if action == "submit":
            need_service.submit(actor, item, today)
            message = _("Submitted. A colleague can now approve it.")
        elif action == "approve":
            need_service.approve(actor, item, today)
            message = _("Approved. The need is now public.")
        elif action == "return":
            need_service.send_back(actor, item)
            message = _("Sent back to draft.")
        else:
            need_service.cancel(actor, item, form.reason.data)
            message = _("The need is cancelled.")
    error = work.error
    if isinstance(error, PersonalDataFound):
        if action == "cancel":
            flash(_("Nothing was cancelled: the public page shows the reason, and it looks like it contains "
                    "personal data."), "error")
        else:
            flash(_("This need cannot be published yet: the text looks like it contains personal data."), "error")
        for line in personal_data_messages(error.findings):
            flash(line, "error")
        return redirect(url_for("staff.need", need_id=need_id)), 303
    if error is not None:
        flash(work.message, "error")
        return redirect(url_for("staff.need", need_id=need_id)), 303
    # a cancelled need's card pages close and card money owed back goes back once the response is made
    flash(message, "success")
    return redirect(url_for("staff.need", need_id=need_id)), 303
