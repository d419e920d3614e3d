"""Referrals (사각지대 제보), the resident's side: routes added to the public blueprint.

A resident tells welfare staff, privately, about a neighbour who may be falling through the net: the
form at /refer (anyone may send it, logged in or not; no JavaScript needed), then a receipt page at
/refer/<code> that says only how far the referral has got, when it arrived and which centre has it.
What the resident wrote never appears on any page they can reach again: it is for staff only.

These pages carry a form or a receipt code, so they are never public pages (no @public_page), and
their answers are never kept by any cache (``no-store``): after an error, the form holds the words.
"""
from __future__ import annotations

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ...domain.referrals import ReferralInputError, Urgency, normalise_code
from ...extensions import db
from ...mail.referrals import ask_urgent_notice
from ...i18n import current_locale
from ...services import NotFound
from ...services import needs as need_service
from ...services import referrals as referral_service
from ...services.reference import reference_lists
from ...services.referrals import ReferralRequest
from ..access import client_address
from ..caching import no_store
from ..messages import message_for
from ..unit_of_work import unit_of_work
from . import bp

URGENCY_CHOICES = [
    SelectChoice(Urgency.URGENT.value, _l("Urgent: help is needed today")),
    SelectChoice(Urgency.NORMAL.value, _l("Not urgent: help is needed, but not today")),
]


class ReferralForm(FlaskForm):
    """What a resident sends. The checks are the domain's (``check_submission``, via the service), so
    the fields carry no validators of their own: each refusal comes back naming its field."""

    dong = SelectField(_l("Dong where the person lives"), validate_choice=False)
    urgency = RadioField(_l("How urgent is it?"), choices=URGENCY_CHOICES, validate_choice=False)
    situation = TextAreaField(_l("What did you see?"), render_kw={"rows": 6, "required": True})
    contact = StringField(_l("How can staff reach you? (optional)"))
    consent = BooleanField(_l("I agree to the collection and use of this information as described above."),
                           render_kw={"required": True})


class ReferralLookupForm(FlaskForm):
    """Look a referral up by its receipt code (a GET form: nothing changes)."""

    class Meta:
        csrf = False

    code = StringField(_l("Receipt code"), render_kw={"autocomplete": "off", "autocapitalize": "characters",
                                                      "spellcheck": "false"})


def _no_store(response):
    """A page with a receipt code or a resident's words: no cache keeps it, no search engine lists it."""
    response.headers["X-Robots-Tag"] = "noindex"
    return no_store(response)


def _render_form(form: ReferralForm, status: int = 200, problem: str | None = None):
    dongs = reference_lists()[0]
    locale = current_locale()
    form.dong.choices = [SelectChoice("", _("Choose the dong"))] + [SelectChoice(d.code, d.name(locale))
                                                                    for d in dongs]
    page = render_template("public/refer.html", form=form, problem=problem,
                           retention_days=current_app.config["KINDCITY_REFERRAL_RETENTION_DAYS"])
    return _no_store(make_response(page, status))


@bp.route("/refer", methods=["GET", "POST"])
def refer():
    form = ReferralForm()
    if form.validate_on_submit():
        cfg = current_app.config
        sent = ReferralRequest(dong=form.dong.data or "", urgency=form.urgency.data or "",
                               situation=form.situation.data or "", contact=form.contact.data,
                               consent=bool(form.consent.data))
        with unit_of_work(flash_refusal=False) as work:
            referral = referral_service.submit(client_address(), sent,
                                               max_per_address=cfg["KINDCITY_REFERRAL_MAX_PER_ADDRESS"])
            code = referral.code
            if referral.urgency == Urgency.URGENT:
                db.session.flush()
                ask_urgent_notice(referral.id)  # the centre's staff get a link (never the words) by mail
        error = work.error
        if isinstance(error, ReferralInputError):
            for problem in getattr(error, "problems", None) or [error]:  # every mistake at once, on its field
                getattr(form, problem.field, form.situation).errors.append(message_for(problem))
            return _render_form(form)
        if error is not None:
            status = 429 if error.code == "referral_rate_limited" else 503
            return _render_form(form, status, problem=work.message)
        flash(_("Thank you. What you told us has been sent to the welfare staff."), "success")
        return redirect(url_for("public.referral_status", code=code), 303)
    return _render_form(form)


@bp.get("/refer/status")
def referral_lookup():
    form = ReferralLookupForm(formdata=request.args)
    typed = normalise_code(form.code.data or "")
    if not typed:
        return _no_store(make_response(render_template("public/referral_lookup.html", form=form)))
    try:
        referral = referral_service.status_of(typed)
    except NotFound:
        form.code.errors = [_("No referral has this code. Please check it and try again.")]
        return _no_store(make_response(render_template("public/referral_lookup.html", form=form), 404))
    return redirect(url_for("public.referral_status", code=referral.code), 303)


@bp.get("/refer/<code>")
def referral_status(code: str):
    try:
        referral = referral_service.status_of(code)
    except NotFound:
        abort(404)
    if referral.code != code:  # typed in lower case or with spaces: one address per referral
        return redirect(url_for("public.referral_status", code=referral.code), 303)
    # Only what the template is given can be shown: never the situation, contact, outcome or notes.
    receipt = {"code": referral.code, "status": referral.status, "received": referral.created_at,
               "centre": referral.centre.name(current_locale()),
               "help_arranged": need_service.help_arranged(referral.id)}  # that, never which need
    return _no_store(make_response(render_template("public/referral_status.html", receipt=receipt)))
