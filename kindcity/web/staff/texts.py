"""The text inbox (문자함) for staff: cases from the district's text line, each resident's thread, replies
by text, passing a case to a dong centre, turning it into a referral, 'not for this site', and the
district's counts (a page and a CSV).

A sender's number is personal data: lists show it masked, only the case's own page shows it whole, and
that page is never stored by a browser or a proxy. The CSV holds counts only. Which cases a staff
member reads is decided by the service (``staff_scope``); another centre's case answers 404.
"""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Response, abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ...domain.texts import CaseAction, allowed_steps, mask_phone
from ...domain.time import utcnow
from ...i18n import current_locale
from ...models import TextCase
from ...services import NotFound
from ...services import texts as text_service
from ...services.reference import reference_lists
from ..access import current_actor
from ..caching import no_store
from ..unit_of_work import unit_of_work
from . import bp

STATUS_LABELS = {"new": _l("Not answered yet"), "open": _l("Answered, open"), "closed": _l("Closed")}
OUTCOME_LABELS = {"answered": _l("Answered"), "referral": _l("Made a referral"),
                  "not_for_site": _l("Not for this site")}
COUNT_DAYS = 365


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your answer (sent by text)"))


class DongForm(FlaskForm):
    dong = SelectField(_l("Dong"), validate_choice=False)


class ReferForm(DongForm):
    urgent = BooleanField(_l("Urgent: help needed today"))


class WhereForm(FlaskForm):
    where = StringField(_l("Where should they go? (office and phone number)"))


class StepForm(FlaskForm):
    pass


def _forms() -> dict:
    dongs, _categories, _groups = reference_lists()
    assign, refer = DongForm(prefix="assign"), ReferForm(prefix="refer")
    locale = current_locale()
    choices = [SelectChoice("", _("Choose the dong"))] + [SelectChoice(dong.code, dong.name(locale)) for dong in dongs]
    assign.dong.choices = refer.dong.choices = choices
    return {"reply": ReplyForm(prefix="reply"), "assign": assign, "refer": refer,
            "not_for_site": WhereForm(prefix="where"), "step": StepForm(prefix="step")}


def _case_or_404(case_id: int) -> TextCase:
    try:
        return text_service.get_for_staff(current_user, case_id)
    except NotFound:
        abort(404)


def _back(case_id: int):
    return redirect(url_for("staff.text_case", case_id=case_id), 303)


@bp.get("/texts")
def texts():
    closed = request.args.get("closed") == "1"
    rows = text_service.inbox(current_user, closed=closed)
    return no_store(make_response(render_template("staff/texts.html", rows=rows, closed=closed, mask=mask_phone,
                                                     status_labels=STATUS_LABELS, outcome_labels=OUTCOME_LABELS)))


@bp.get("/texts/<id:case_id>")
def text_case(case_id: int):
    item = _case_or_404(case_id)
    steps = [step.value for step in allowed_steps(item.status, purged=item.purged_at is not None)]
    return no_store(make_response(render_template(
        "staff/text_case.html", case=item, steps=steps, forms=_forms(), mask=mask_phone,
        status_labels=STATUS_LABELS, outcome_labels=OUTCOME_LABELS)))


def _step(case_id: int, form_class: type[FlaskForm], prefix: str, act, done: str):
    """One step on a case: the case (or 404), the form's token (or 400), then ``act(actor, case_id,
    form)`` in one unit of work that flashes ``done`` or the refusal. Returns the unit's outcome."""
    item = _case_or_404(case_id)
    form = form_class(prefix=prefix)
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work(done) as work:
        work.value = act(current_actor(), item.id, form)
    return work


@bp.post("/texts/<id:case_id>/reply")
def text_reply(case_id: int):
    _step(case_id, ReplyForm, "reply", lambda actor, item, form: text_service.reply(actor, item, form.body.data or ""),
          _("Your answer is being sent by text."))
    return _back(case_id)


@bp.post("/texts/<id:case_id>/assign")
def text_assign(case_id: int):
    _step(case_id, DongForm, "assign",
          lambda actor, item, form: text_service.assign(actor, item, form.dong.data or ""),
          _("The case is passed to the dong's welfare centre."))
    return _back(case_id)


@bp.post("/texts/<id:case_id>/refer")
def text_refer(case_id: int):
    done = _step(case_id, ReferForm, "refer",
                 lambda actor, item, form: text_service.refer(actor, item, form.dong.data or "",
                                                              bool(form.urgent.data)),
                 _("A referral was made from this case."))
    if done.ok:
        return redirect(url_for("staff.referral", referral_id=done.value.id), 303)
    return _back(case_id)


@bp.post("/texts/<id:case_id>/not-for-site")
def text_not_for_site(case_id: int):
    _step(case_id, WhereForm, "where",
          lambda actor, item, form: text_service.not_for_site(actor, item, form.where.data or ""),
          _("The resident is told by text where to go, and the case is closed."))
    return _back(case_id)


@bp.post("/texts/<id:case_id>/<any(close, reopen):step>")
def text_step(case_id: int, step: str):
    if step == CaseAction.CLOSE:
        _step(case_id, StepForm, "step", lambda actor, item, form: text_service.close(actor, item),
              _("The case is closed."))
    else:
        _step(case_id, StepForm, "step", lambda actor, item, form: text_service.reopen(actor, item),
              _("The case is reopened."))
    return _back(case_id)


@bp.get("/texts/counts")
def text_counts():
    since = utcnow() - timedelta(days=COUNT_DAYS)
    months = text_service.monthly_counts(current_user, since)
    days = text_service.daily_counts(current_user, utcnow() - timedelta(days=31))
    return no_store(make_response(render_template("staff/text_counts.html", months=months, days=days,
                                                     outcome_labels=OUTCOME_LABELS)))


@bp.get("/texts/counts.csv")
def text_counts_csv():
    """Counts only, by month: nothing in it names or reaches anyone."""
    months = text_service.monthly_counts(current_user, utcnow() - timedelta(days=COUNT_DAYS))
    out = io.StringIO()
    writer = csv.writer(out)
    outcomes = list(OUTCOME_LABELS)
    writer.writerow(["month", "texts_in", "texts_out", "cases", "answered_cases", "median_first_answer_minutes"]
                    + [f"outcome_{o}" for o in outcomes])
    for m in months:
        writer.writerow([m.month, m.texts_in, m.texts_out, m.cases, m.answered_cases,
                         "" if m.median_first_answer_minutes is None else m.median_first_answer_minutes]
                        + [m.outcomes.get(o, 0) for o in outcomes])
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=text-line-counts.csv"
    return no_store(response)
