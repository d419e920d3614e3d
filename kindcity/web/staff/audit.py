"""The audit log (/staff/audit): filtered by who, what, when and which record, paged by keyset, in the
reader's words (kindcity/web/audit_words.py)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.orm import joinedload
from wtforms import DateField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from ...domain.time import SEOUL
from ...extensions import db
from ...models import AuditEntry, Need, Referral, User
from ...services import needs as need_service
from ...services import referrals as referral_service
from ..audit_words import ACTION_LABELS, ENTITY_LABELS, action_label, entity_label, readable
from ..params import MAX_ID, id_arg

from . import bp

AUDIT_PAGE = 50  # entries per page of the audit log
FILTERS = ("actor", "action", "entity", "entity_id", "since", "until")


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False   # a GET search: it changes nothing

    actor = SelectField(_l("Who"), coerce=int, default=0)
    action = SelectField(_l("What was done"), default="")
    since = DateField(_l("From date"), validators=[Optional()])
    until = DateField(_l("To date"), validators=[Optional()])
    entity = SelectField(_l("Kind of record"), default="")
    entity_id = IntegerField(_l("Record number"), validators=[Optional(), NumberRange(min=1, max=MAX_ID)])


def _day_start(day) -> datetime:
    return datetime.combine(day, time.min, SEOUL)


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    people = db.session.execute(select(User.id, User.display_name).where(User.role.in_(("staff", "admin")))
                                .order_by(User.display_name, User.id)).all()
    form.actor.choices = [SelectChoice(0, _("Anyone"))] + [SelectChoice(i, name) for i, name in people]
    form.action.choices = [SelectChoice("", _("Anything"))] + sorted(
        (SelectChoice(code, str(label)) for code, label in ACTION_LABELS.items()), key=lambda c: c.label)
    form.entity.choices = [SelectChoice("", _("Any"))] + sorted(
        (SelectChoice(code, str(label)) for code, label in ENTITY_LABELS.items()), key=lambda c: c.label)
    return form


def _filtered(query, form: AuditFilterForm):
    if form.actor.data:
        query = query.where(AuditEntry.actor_id == form.actor.data)
    if form.action.data:
        query = query.where(AuditEntry.action == form.action.data)
    if form.entity.data:
        query = query.where(AuditEntry.entity == form.entity.data)
    if form.entity_id.data:
        query = query.where(AuditEntry.entity_id == form.entity_id.data)
    if form.since.data:
        query = query.where(AuditEntry.at >= _day_start(form.since.data))
    if form.until.data:
        query = query.where(AuditEntry.at < _day_start(form.until.data + timedelta(days=1)))
    return query


@bp.get("/audit")
def audit():
    """Newest first, by keyset: ``before=<id>`` is the next (older) page, ``after=<id>`` the previous
    one. Each page is one indexed range read (ix_audit_entries_at_id) with its actors, however deep
    in a log of millions it is; an offset would read and skip every entry before it. The filters ride
    along in every page link, so Next and Previous stay inside what was asked for."""
    form = _filter_form()
    valid = form.validate()
    query = select(AuditEntry).options(joinedload(AuditEntry.actor))
    if not current_user.is_admin:
        needs = need_service.staff_scope(current_user, select(Need.id))
        referrals = referral_service.staff_scope(current_user, select(Referral.id))
        query = query.where(or_(and_(AuditEntry.entity == "need", AuditEntry.entity_id.in_(needs)),
                                and_(AuditEntry.entity == "referral", AuditEntry.entity_id.in_(referrals))))
    if valid:
        query = _filtered(query, form)
    else:  # a filter that cannot be read shows its error and nothing, never the whole log as if it matched
        query = query.where(False)
    before, after = id_arg(request.args, "before"), id_arg(request.args, "after")
    key = tuple_(AuditEntry.at, AuditEntry.id)
    if after is not None:
        cursor = tuple_(select(AuditEntry.at).where(AuditEntry.id == after).scalar_subquery(), after)
        rows = db.session.scalars(query.where(key > cursor).order_by(AuditEntry.at, AuditEntry.id)
                                  .limit(AUDIT_PAGE + 1)).all()
        entries, newer, older = rows[:AUDIT_PAGE][::-1], len(rows) > AUDIT_PAGE, True
    else:
        if before is not None:
            cursor = tuple_(select(AuditEntry.at).where(AuditEntry.id == before).scalar_subquery(), before)
            query = query.where(key < cursor)
        rows = db.session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                                  .limit(AUDIT_PAGE + 1)).all()
        entries, newer, older = rows[:AUDIT_PAGE], before is not None, len(rows) > AUDIT_PAGE
    kept = {name: request.args[name] for name in FILTERS if request.args.get(name)} if valid else {}
    filtered = bool(kept)
    return render_template("staff/audit.html", entries=entries, form=form, filters=kept, filtered=filtered,
                           action_label=action_label, entity_label=entity_label, readable=readable,
                           newer=entries[0].id if newer and entries else None,
                           older=entries[-1].id if older and entries else None)
