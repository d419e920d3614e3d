"""Staff referral screens (사각지대 제보): the centre's queue, one referral, taking it up, closing it, notes.

A referral holds personal data, so the queue never shows its words (a shared office screen is read over
shoulders): only the referral's own page does, and that page is never stored by a browser or a proxy.
Which referrals a staff member reads is decided by the service (``staff_scope``); another centre's
referral answers 404 here, on its page and on its forms alike.
"""
from __future__ import annotations

from datetime import timedelta

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ...domain.referrals import Outcome, ReferralAction, allowed_actions
from ...domain.time import utcnow
from ...models import Referral
from ...services import NotFound
from ...services import needs as need_service
from ...services import referrals as referral_service
from ...services.access_log import record_access
from ..access import current_actor
from ..caching import no_store
from ..params import page_number
from ..unit_of_work import unit_of_work
from . import bp

QUEUE_PAGE = 50  # referrals a page of the queue

STATUS_LABELS = {"new": _l("New"), "in_review": _l("In review"), "closed": _l("Closed")}
URGENCY_LABELS = {"urgent": _l("Urgent"), "normal": _l("Not urgent")}
OUTCOME_LABELS = {
    Outcome.SUPPORTED.value: _l("Linked to support"),
    Outcome.REFERRED.value: _l("Referred to another agency"),
    Outcome.NO_NEED.value: _l("No help needed now"),
    Outcome.UNREACHABLE.value: _l("Could not be reached"),
    Outcome.DUPLICATE.value: _l("Duplicate of another referral"),
}
# What a line of the referral's history records: a status change (with its note), or a note alone.
HISTORY_LABELS = {"take_up": _l("Taken up"), "close": _l("Closed"), "reopen": _l("Reopened"), None: _l("Note")}
LABELS = {"status": STATUS_LABELS, "urgency": URGENCY_LABELS, "outcome": OUTCOME_LABELS, "history": HISTORY_LABELS}

ACTIONS = {action.value for action in ReferralAction}


class ReferralStepForm(FlaskForm):
    """Take up or reopen, with an optional note. Built with ``prefix=<action>`` so that the forms of one
    page keep their own field ids. No validators: the service checks the note and says what is wrong."""

    note = TextAreaField(_l("Note (optional)"))


class ReferralCloseForm(ReferralStepForm):
    outcome = SelectField(_l("Outcome"), default="", validate_choice=False,
                          choices=[SelectChoice("", _l("Choose the outcome"))]
                          + [SelectChoice(value, label) for value, label in OUTCOME_LABELS.items()])


class ReferralNoteForm(FlaskForm):
    note = TextAreaField(_l("Note"))


def _action_form(action: str) -> ReferralStepForm:
    form_class = ReferralCloseForm if action == ReferralAction.CLOSE else ReferralStepForm
    return form_class(prefix=action if action in ACTIONS else "")


def _referral_or_404(referral_id: int) -> Referral:
    try:
        return referral_service.get_for_staff(current_user, referral_id)
    except NotFound:
        abort(404)


def _back(referral_id: int):
    return redirect(url_for("staff.referral", referral_id=referral_id), 303)


@bp.get("/referrals")
def referrals():
    """The queue, QUEUE_PAGE a page in its own order (``?page=n``; a page after the last is a 404)."""
    closed = request.args.get("closed") == "1"
    page = page_number(request.args)
    total = referral_service.queue_size(current_user, closed=closed)
    pages = max(1, -(-total // QUEUE_PAGE))
    if page > pages:
        abort(404)
    rows = referral_service.queue(current_user, closed=closed, limit=QUEUE_PAGE, offset=(page - 1) * QUEUE_PAGE)
    year = referral_service.summary(current_user, utcnow() - timedelta(days=365))
    return no_store(make_response(render_template("staff/referrals.html", rows=rows, closed=closed, total=total,
                                                     page=page, pages=pages, labels=LABELS, year=year)))


@bp.get("/referrals/<id:referral_id>")
def referral(referral_id: int):
    item = _referral_or_404(referral_id)
    actions = [action.value for action in allowed_actions(item.status, is_assignee=item.assignee_id == current_user.id,
                                                          purged=item.purged_at is not None)]
    forms = {action: _action_form(action) for action in actions}
    with unit_of_work():  # the commit comes after drawing the page: it expires what the page has loaded
        record_access(current_actor(), "referral", item.id, "view", subject_centre_id=item.centre_id)
        page = render_template("staff/referral.html", referral=item, actions=actions, forms=forms,
                               note_form=ReferralNoteForm(), labels=LABELS,
                               needs=need_service.needs_from_referral(current_user, item.id))
    return no_store(make_response(page))


@bp.post("/referrals/<id:referral_id>/act")
def referral_act(referral_id: int):
    item = _referral_or_404(referral_id)
    action = request.form.get("action", "")
    form = _action_form(action)
    if not form.validate_on_submit():
        abort(400)
    done = {"take_up": _("You have taken up this referral."), "close": _("The referral is closed."),
            "reopen": _("The referral is reopened and back in review.")}.get(action)
    outcome = form.outcome.data if isinstance(form, ReferralCloseForm) else None
    with unit_of_work(done):
        referral_service.act(current_actor(), item.id, action, outcome=outcome, note=form.note.data or "")
    return _back(referral_id)


@bp.post("/referrals/<id:referral_id>/notes")
def referral_note(referral_id: int):
    item = _referral_or_404(referral_id)
    form = ReferralNoteForm()
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work(_("Note added.")):
        referral_service.add_note(current_actor(), item.id, form.note.data or "")
    return _back(referral_id)
