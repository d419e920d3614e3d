"""Administrators: users and roles, organisation verification, categories and dongs, receiving organisations."""
from __future__ import annotations

from flask import Response, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice
from wtforms import BooleanField, DateField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ...domain.time import seoul_today
from ...extensions import db
from ...models import AuditEntry, Category, Centre, Dong, Organisation, ReceivingOrganisation, User
from ...services import accounts
from ...services import receipts as receipt_service
from ...services import receiving_orgs as receiving_org_service
from ...services.access_log import record_access
from ...services.audit import record
from ..caching import NO_STORE, no_store
from ..access import current_actor
from ..forms import ConfirmForm
from ..i18n_helpers import localised_choices

from ..unit_of_work import unit_of_work
from . import bp

ROLE_CHOICES = [SelectChoice("donor", _l("Donor")), SelectChoice("staff", _l("Staff")),
                SelectChoice("admin", _l("Administrator"))]


class UserCreateForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("First password (at least 10 characters)"), validators=[DataRequired()])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    centre_id = SelectField(_l("Welfare centre"), coerce=int)


class UserRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    centre_id = SelectField(_l("Welfare centre"), coerce=int)
    active = BooleanField(_l("Active"))
    money_staff = BooleanField(_l("Handles the district's bank account (imports bank statements, matches deposits "
                                  "without a reference code; these show donors of every centre)"))


class ReferenceForm(FlaskForm):
    code = StringField(_l("Code (letters, digits, hyphens)"),
                       validators=[DataRequired(), Length(max=64), Regexp(r"^[a-z0-9-]+$")])
    name_ko = StringField(_l("Name in Korean"), validators=[DataRequired(), Length(max=80)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=120)])


def _centre_choices():
    centres = db.session.scalars(select(Centre).order_by(Centre.is_district_office.desc(), Centre.id)).all()
    return [SelectChoice(0, _("(none)"))] + localised_choices(centres)


@bp.get("/")
def index():
    return redirect(url_for("admin.users"))


@bp.route("/users", methods=["GET", "POST"])
def users():
    form = UserCreateForm()
    form.centre_id.choices = _centre_choices()
    if form.validate_on_submit():
        centre = db.session.get(Centre, form.centre_id.data) if form.centre_id.data else None
        with unit_of_work(flash_refusal=False) as work:
            accounts.create_user(current_actor(), email=form.email.data, password=form.password.data,
                                 display_name=form.display_name.data, role=form.role.data,
                                 centre_code=centre.code if centre else None)
        if not work.ok:
            form.email.errors.append(work.message)
        else:
            flash(_("The account is created."), "success")
            return redirect(url_for("admin.users"))
    people = db.session.scalars(select(User).order_by(User.role, User.id)).all()
    return render_template("admin/users.html", users=people, form=form)


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    person = db.session.get(User, user_id) or abort(404)
    form = UserRoleForm(obj=person)
    form.centre_id.choices = _centre_choices()
    if request.method == "GET":
        form.centre_id.data = person.centre_id or 0
    if form.validate_on_submit():
        centre = db.session.get(Centre, form.centre_id.data) if form.centre_id.data else None
        with unit_of_work(flash_refusal=False) as work:
            accounts.set_role(current_actor(), person, form.role.data, centre, form.active.data)
            accounts.set_money_staff(current_actor(), person, form.money_staff.data)
        if not work.ok:
            target = form.money_staff if work.error.code == "money_staff_needs_staff" else form.role
            target.errors.append(work.message)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin.users"))
    with unit_of_work():  # the commit comes after drawing the page: it expires what the page has loaded
        if person.role == "donor":
            record_access(current_actor(), "donor", person.id, "view")
        page = render_template("admin/user.html", person=person, form=form)
    return page


@bp.get("/organisations")
def organisations():
    orgs = db.session.scalars(select(Organisation).order_by(Organisation.verified_at.is_not(None),
                                                            Organisation.id)).all()
    return render_template("admin/organisations.html", organisations=orgs, form=ConfirmForm())


@bp.post("/organisations/<id:org_id>/<any(verify, unverify):action>")
def verify(org_id: int, action: str):
    org = db.session.get(Organisation, org_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work(_("Saved.")):
        accounts.verify_organisation(current_actor(), org, action == "verify")
    return redirect(url_for("admin.organisations"), 303)


REFERENCE_MODELS = {"categories": Category, "dongs": Dong}


@bp.route("/<any(categories, dongs):kind>", methods=["GET", "POST"])
def reference(kind: str):
    model = REFERENCE_MODELS[kind]
    form = ReferenceForm()
    if form.validate_on_submit():
        existing = db.session.scalar(select(model).where(model.code == form.code.data))
        before = None
        with unit_of_work(_("Saved.")):
            if existing is None:
                count = len(db.session.scalars(select(model.id)).all())
                existing = model(code=form.code.data, sort=count)
                db.session.add(existing)
            else:
                before = {"name_ko": existing.name_ko, "name_en": existing.name_en}
            existing.name_ko, existing.name_en = form.name_ko.data.strip(), form.name_en.data.strip()
            db.session.flush()
            record(current_actor(), f"{kind}.save", kind, existing.id, before=before,
                   after={"code": existing.code, "name_ko": existing.name_ko, "name_en": existing.name_en})
        return redirect(url_for("admin.reference", kind=kind))
    rows = db.session.scalars(select(model).order_by(model.sort, model.id)).all()
    return render_template("admin/reference.html", kind=kind, rows=rows, form=form)


# --- the job queue: failed jobs and the last money disagreement ----------------------------------

# What a job's arguments may show an admin: what it acts on, never a message's words.
_JOB_ARGS_SHOWN = ("key", "to", "pledge_id", "need_id", "referral_id", "user_id", "kind")


@bp.get("/jobs")
def jobs():
    from ... import jobs as job_queue

    queued = job_queue.queued()
    failed, counts = [], {}
    if queued:
        from ...jobs.queue import counts as job_counts
        from ...jobs.queue import list_jobs

        failed = list_jobs(db.session, ("failed",))
        counts = job_counts(db.session)
    disagreement = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "reconcile.disagreement")
                                      .order_by(AuditEntry.id.desc()).limit(1)).first()
    return render_template("admin/jobs.html", queued=queued, failed=failed, counts=counts, form=ConfirmForm(),
                           shown=_JOB_ARGS_SHOWN, disagreement=disagreement)


@bp.post("/jobs/<id:job_id>/retry")
def retry_job(job_id: int):
    from ... import jobs as job_queue
    from ...jobs.queue import retry_failed

    if not job_queue.queued():
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        retried = retry_failed(db.session, job_id)
        if retried:
            record(current_actor(), "job.retry", "job", job_id)
    flash(_("The job is back in the queue.") if retried else _("This job is no longer failed."),
          "success" if retried else "info")
    return redirect(url_for("admin.jobs"), 303)


# --- receiving organisations (기부금 단체): the issuers of receipts -------------------------------

_ORG_FIELDS_FOR_CODE = {
    "organisation_incomplete": "name_ko", "registration_number_invalid": "registration_number",
    "gift_type_unknown": "gift_type", "default_must_be_active": "is_default", "default_needed": "is_default",
    "seal_too_large": "seal", "seal_not_png": "seal", "organisation_code_taken": "code",
    "organisation_unknown": "code",
}


class ReceivingOrganisationForm(FlaskForm):
    code = StringField(_l("Code (letters, digits, hyphens)"),
                       validators=[DataRequired(), Length(max=64), Regexp(r"^[a-z0-9-]+$")])
    name_ko = StringField(_l("Name in Korean"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[Length(max=200)])
    registration_number = StringField(_l("Registration number (고유번호 or 사업자등록번호)"),
                                      validators=[DataRequired(), Length(max=20)])
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=300)])
    representative = StringField(_l("Representative"), validators=[DataRequired(), Length(max=100)])
    gift_type = SelectField(_l("Legal type of gifts (and the NTS code)"))
    contact = StringField(_l("Contact telephone"), validators=[Length(max=100)])
    seal = FileField(_l("Seal image (PNG; leave empty to keep the current one)"))
    active = BooleanField(_l("Needs may choose it"), default=True)
    is_default = BooleanField(_l("Issues the receipts for pooled money"))


def _organisation_input(form: ReceivingOrganisationForm) -> receiving_org_service.OrganisationInput:
    upload = form.seal.data
    seal = upload.read() if upload and getattr(upload, "filename", "") else None
    return receiving_org_service.OrganisationInput(
        code=form.code.data, name_ko=form.name_ko.data or "", name_en=form.name_en.data or "",
        registration_number=form.registration_number.data or "", address=form.address.data or "",
        representative=form.representative.data or "", gift_type=form.gift_type.data or "",
        contact=form.contact.data or "", active=form.active.data, is_default=form.is_default.data,
        seal_png=seal)


@bp.route("/receiving-organisations", methods=["GET", "POST"], defaults={"org_id": None})
@bp.route("/receiving-organisations/<id:org_id>", methods=["GET", "POST"])
def receiving_organisations(org_id: int | None):
    org = db.session.get(ReceivingOrganisation, org_id) if org_id is not None else None
    if org_id is not None and org is None:
        abort(404)
    form = ReceivingOrganisationForm(obj=org)
    form.gift_type.choices = receipt_service.gift_type_choices()
    if org is not None:
        form.code.data = org.code   # the code names the record; it does not change
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            saved = receiving_org_service.save(current_actor(), org_id, _organisation_input(form))
        if not work.ok:
            getattr(form, _ORG_FIELDS_FOR_CODE.get(work.error.code, "code")).errors.append(work.message)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin.receiving_organisations", org_id=saved.id), 303)
    return render_template("admin/receiving_organisations.html", organisations=receiving_org_service.all_organisations(),
                           org=org, form=form, gift_types=dict(receipt_service.gift_type_choices()))


@bp.get("/receiving-organisations/<id:org_id>/seal.png")
def receiving_organisation_seal(org_id: int):
    org = db.session.get(ReceivingOrganisation, org_id)
    if org is None or not org.seal_png:
        abort(404)
    return Response(org.seal_png, mimetype="image/png", headers={"Cache-Control": NO_STORE})


# --- the access record of personal data (접속기록): filters and the monthly report -----------------

SUBJECT_KIND_LABELS = {"referral": _l("Referral"), "donor": _l("Donor"), "sms_case": _l("Text-message case")}
ACCESS_ACTION_LABELS = {"view": _l("Opened"), "export": _l("Exported"),
                        "rrn_export": _l("Exported with the resident registration number")}
FINDING_LABELS = {"bulk": _l("Many records in a short time"), "night": _l("At night (22:00-06:00)"),
                  "outside_centre": _l("Outside their centre")}


class AccessFilterForm(FlaskForm):
    class Meta:
        csrf = False   # a GET search: it changes nothing

    actor = SelectField(_l("Who"), coerce=int, default=0)
    kind = SelectField(_l("Whose record"), default="")
    subject = IntegerField(_l("Record number"), validators=[Optional(), NumberRange(min=1)])
    action = SelectField(_l("What was done"), default="")
    since = DateField(_l("From date"), validators=[Optional()])
    until = DateField(_l("To date"), validators=[Optional()])


@bp.get("/access-log")
def access_log():
    from ...services import access_review

    form = AccessFilterForm(request.args)
    staff = db.session.scalars(select(User).where(User.role.in_(("staff", "admin"))).order_by(User.display_name))
    form.actor.choices = [SelectChoice(0, _("Anyone"))] + [SelectChoice(u.id, u.display_name) for u in staff]
    form.kind.choices = [SelectChoice("", _("Any"))] + [SelectChoice(k, v) for k, v in SUBJECT_KIND_LABELS.items()]
    form.action.choices = [SelectChoice("", _("Any"))] + [SelectChoice(k, v) for k, v in ACCESS_ACTION_LABELS.items()]
    rows = []
    if form.validate():
        rows = access_review.search(access_review.Filters(
            actor_id=form.actor.data or None, subject_kind=form.kind.data or None, subject_id=form.subject.data,
            action=form.action.data or None, since=form.since.data, until=form.until.data),
            before_id=request.args.get("before", type=int))
    return no_store(make_response(render_template(
        "admin/access_log.html", form=form, rows=rows, kinds=SUBJECT_KIND_LABELS, actions=ACCESS_ACTION_LABELS,
        page=access_review.PAGE, month=seoul_today().strftime("%Y-%m"))))


@bp.get("/access-log/report")
def access_report():
    from datetime import datetime as _datetime

    from ...services import access_review

    try:
        month = _datetime.strptime(request.args.get("month", ""), "%Y-%m").date()
    except ValueError:
        month = seoul_today().replace(day=1)
    findings = access_review.monthly_report(month)
    people = access_review.people({finding.actor_id for finding in findings})
    return no_store(make_response(render_template(
        "admin/access_report.html", month=month, findings=findings, people=people, reasons=FINDING_LABELS)))
