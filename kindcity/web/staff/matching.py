"""Staff and the matching engine: routes added to the staff blueprint.

Every staff member sees the latest runs, their proposals with reasons, and how each dong and group
fared. Administrators and the district welfare office (the money of pooled pledges and match offers
is the district's, not one centre's) turn automatic application off and on, approve proposals, run
the engine, confirm the transfers of pooled pledges and match offers, and record their refunds.
"""
from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from ...domain.matching import DISTRICT_POOL_ID
from ...domain.pledges import PledgeStatus
from ...domain.time import SEOUL
from ...extensions import db
from ...i18n import current_locale
from ...models import BeneficiaryGroup, Dong, MatchOfferTerms, MatchRun, Need, Pledge, PooledTerms, Refund
from ...services import matching as matching_service
from ...services import pledges as pledge_service
from ..access import current_actor
from ..unit_of_work import unit_of_work
from ..donor.pooled import reason_text
from ..forms import ConfirmForm
from .forms import PaymentForm, RefundForm
from . import bp
from .money import happened_at

def _manager_only() -> None:
    if not matching_service.can_manage(current_user):
        abort(403)


def _proposal_rows(run: MatchRun | None) -> list[dict]:
    """A run's proposal with need titles, pledge references and reasons in the reader's language."""
    if run is None or not run.proposal:
        return []
    need_ids = {a["need_id"] for a in run.proposal}
    pool_ids = {a["pool_id"] for a in run.proposal}
    titles = dict(db.session.execute(select(Need.id, Need.title).where(Need.id.in_(need_ids))).all())
    references = dict(db.session.execute(select(Pledge.id, Pledge.reference).where(Pledge.id.in_(pool_ids))).all())
    terms = {t.pledge_id: t for t in db.session.scalars(select(PooledTerms).where(PooledTerms.pledge_id.in_(pool_ids)))}
    fund = _("District pooled fund")
    return [{**a, "title": titles.get(a["need_id"], ""),
             "reference": fund if a["pool_id"] == DISTRICT_POOL_ID else references.get(a["pool_id"], ""),
             "text": reason_text(a["reason_code"], reason=a["reason"], days_left=a.get("days_left"),
                                 terms=terms.get(a["pool_id"]))} for a in run.proposal]


TRIGGER_WORDS = {
    "money_received": _l("Pooled money received"), "need_opened": _l("A need opened"),
    "holds_released": _l("Unpaid reservations ended"), "need_closed": _l("A need closed"),
    "resumed": _l("A donor resumed a pooled pledge"), "pool_received": _l("Money reached the district's fund"),
    "schedule": _l("Scheduled run"), "cli": _l("Run from the command line"), "staff": _l("Run by staff"),
}


def _left_behind_names(run: MatchRun | None) -> list[str]:
    """The dongs and groups a run flagged, by their names in the reader's language, not their codes."""
    if run is None or not run.fairness:
        return []
    dongs, groups = run.fairness.get("left_behind_dongs", []), run.fairness.get("left_behind_groups", [])
    if not dongs and not groups:
        return []
    locale = current_locale()
    named = {("dong", d.code): d.name(locale) for d in db.session.scalars(select(Dong).where(Dong.code.in_(dongs)))}
    named |= {("group", g.code): g.name(locale)
              for g in db.session.scalars(select(BeneficiaryGroup).where(BeneficiaryGroup.code.in_(groups)))}
    return [named.get(("dong", c), c) for c in dongs] + [named.get(("group", c), c) for c in groups]


@bp.get("/matching")
def matching():
    runs = matching_service.latest_runs(10)
    latest = runs[0] if runs else None
    # Bank transfers only: card payments arrive through the card provider, never by a staff member's hand.
    awaiting = db.session.scalars(select(Pledge).where(
        Pledge.kind.in_(["pooled", "match"]), Pledge.method == "bank",
        Pledge.status.in_([PledgeStatus.AWAITING_PAYMENT, PledgeStatus.PARTLY_PAID]))
        .order_by(Pledge.created_at).limit(200)).all()
    refunds = db.session.scalars(select(Refund).join(Pledge, Pledge.id == Refund.pledge_id).where(
        Refund.status == "due", Pledge.kind.in_(["pooled", "match"])).options(contains_eager(Refund.pledge))
        .order_by(Refund.created_at).limit(200)).all()  # each refund's pledge from the same query
    payment_form = PaymentForm()
    payment_form.received_on.data = datetime.now(SEOUL).date()
    payment_form.token.data = uuid4().hex
    active = {
        "pooled": db.session.scalar(select(db.func.count(PooledTerms.pledge_id)).where(PooledTerms.ended_at.is_(None))),
        "offers": db.session.scalar(select(db.func.count(MatchOfferTerms.pledge_id))
                                    .where(MatchOfferTerms.ended_at.is_(None))),
    }
    return render_template("staff/matching.html", runs=runs, latest=latest, rows=_proposal_rows(latest),
                           fund=matching_service.district_summary(), trigger_words=TRIGGER_WORDS,
                           left_behind=_left_behind_names(latest),
                           fund_placements=matching_service.district_placements(limit=20),
                           settings=matching_service.settings(create=False), can_manage=matching_service.can_manage(current_user),
                           awaiting=awaiting, refunds=refunds, active=active, form=ConfirmForm(),
                           payment_form=payment_form, refund_form=RefundForm())


def _done(ok_message: str, action) -> None:
    with unit_of_work(ok_message):
        action()


@bp.post("/matching/auto-apply")
def matching_auto_apply():
    _manager_only()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    on = not matching_service.settings().auto_apply
    _done(_("Runs now apply themselves.") if on else _("Runs now wait for staff approval."),
          lambda: matching_service.set_auto_apply(current_actor(), on))
    return redirect(url_for("staff.matching"), 303)


@bp.post("/matching/runs/<id:run_id>/approve")
def matching_approve(run_id: int):
    _manager_only()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    _done(_("The proposal is applied."), lambda: matching_service.approve_run(current_actor(), run_id))
    return redirect(url_for("staff.matching"), 303)


@bp.post("/matching/run")
def matching_run():
    _manager_only()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    _done(_("The engine ran."), lambda: matching_service.run_engine(current_actor(), "staff"))
    return redirect(url_for("staff.matching"), 303)


def _pooled_or_offer(pledge_id: int) -> Pledge:
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or pledge.kind not in ("pooled", "match"):
        abort(404)
    return pledge


@bp.post("/matching/pledges/<id:pledge_id>/payments")
def matching_payment(pledge_id: int):
    _manager_only()
    pledge = _pooled_or_offer(pledge_id)
    form = PaymentForm()
    if not form.validate_on_submit() or not form.amount.data:
        flash(_("Please enter the amount received."), "error")
        return redirect(url_for("staff.matching"), 303)
    received_at = happened_at(form.received_on.data, pledge)
    if received_at is None:
        return redirect(url_for("staff.matching"), 303)
    _done(_("Payment of %(amount)s won recorded for %(reference)s.", amount=f"{form.amount.data:,}",
            reference=pledge.reference),
          lambda: pledge_service.record_payment(current_actor(), pledge.id, form.amount.data, source="manual",
                                                external_id=f"manual:{form.token.data or uuid4().hex}",
                                                received_at=received_at))
    return redirect(url_for("staff.matching"), 303)


@bp.post("/matching/refunds/<id:refund_id>")
def matching_refund(refund_id: int):
    _manager_only()
    refund = db.session.get(Refund, refund_id) or abort(404)
    pledge = _pooled_or_offer(refund.pledge_id)
    form = RefundForm()
    if not form.validate_on_submit():
        flash(_("Please give the date and the bank reference of the refund."), "error")
        return redirect(url_for("staff.matching"), 303)
    refunded_at = happened_at(form.refunded_on.data, pledge)
    if refunded_at is None:
        return redirect(url_for("staff.matching"), 303)
    _done(_("Refund recorded."), lambda: pledge_service.record_bank_refund(
        current_actor(), refund_id, refunded_at=refunded_at, bank_reference=form.bank_reference.data))
    return redirect(url_for("staff.matching"), 303)
