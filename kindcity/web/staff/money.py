"""Staff money screens: the pledge queue, confirming transfers, statement imports, refunds, per-need money."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from uuid import uuid4

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ...domain.dates import DateRefused, check_day_happened
from ...domain.pledges import HOLDING, PledgeStatus
from ...domain.time import SEOUL, seoul_today, utcnow
from ...extensions import db
from ...models import LedgerTransaction, Need, Payment, Pledge, Refund, StatementImport
from ...services import NotFound
from ...services import needs as need_service
from ...services import pledges as pledge_service
from ...services import statements as statement_service
from ...services.access_log import record_access
from ..access import current_actor, money_staff_required
from ..unit_of_work import unit_of_work
from ..forms import ConfirmForm
from .forms import MatchRowForm, MoveForm, PaymentForm, RefundForm, StatementUploadForm
from ..messages import message_for
from ..params import page_number
from . import bp

STATEMENT_ROWS_SHOWN = 500  # a preview page lists at most this many rows (of the outcome chosen)


def _visible_pledge(pledge_id: int) -> Pledge:
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or pledge.need is None or not need_service.staff_can_see(current_user, pledge.need):
        abort(404)
    return pledge


def happened_at(day: date, pledge: Pledge) -> datetime | None:
    """Noon Korea time on a day typed for this pledge's money (received, refunded), if the site accepts
    it: not after today, not before the pledge was made. Otherwise None, with the reason flashed."""
    try:
        check_day_happened(day, seoul_today(), since=pledge.created_at.astimezone(SEOUL).date())
    except DateRefused as refused:
        flash(message_for(refused), "error")
        return None
    return datetime.combine(day, time(12, 0), SEOUL)


def _scoped_pledges():
    return need_service.staff_pledge_scope(current_user, select(Pledge))


QUEUE_PAGE = 25  # rows of each list on /staff/pledges, and a page of one list (?list=<name>&page=n)
QUEUE_LISTS = ("overdue", "awaiting", "partly", "to_move", "refunds")


def _queue_list(name: str, base, now: datetime):
    """One list of the money queue, in its order (the soonest reservation end first; refunds and money
    to move oldest first), with what its rows show loaded alongside: no query per row. The pledge lists
    are rows of the columns shown, not pledges with their needs: a need loads its category, place,
    group, organisation and centre with it, and PostgreSQL spent 20 ms planning that 7-way join."""
    with_need = base.with_only_columns(
        Pledge.id, Pledge.reference, Pledge.amount, Pledge.paid, Pledge.hold_expires_at, Pledge.status,
        Need.title.label("need_title")).outerjoin(Need, Need.id == Pledge.need_id)
    if name == "overdue":
        return with_need.where(Pledge.status.in_([PledgeStatus.AWAITING_PAYMENT, PledgeStatus.PARTLY_PAID]),
                               Pledge.hold_expires_at <= now + timedelta(days=1)).order_by(
            Pledge.hold_expires_at, Pledge.id)
    if name in ("awaiting", "partly"):
        status = PledgeStatus.AWAITING_PAYMENT if name == "awaiting" else PledgeStatus.PARTLY_PAID
        return with_need.where(Pledge.status == status).order_by(Pledge.hold_expires_at, Pledge.id)
    if name == "to_move":
        return with_need.where(
            Pledge.on_cancel == "similar",
            Pledge.status.in_([PledgeStatus.CLOSED, PledgeStatus.PAID, PledgeStatus.EXPIRED]),
            pledge_service.unplaced_column() > 0).order_by(Pledge.id)
    return (select(Refund).where(Refund.status == "due", Refund.pledge_id.in_(base.with_only_columns(Pledge.id)))
            .options(joinedload(Refund.pledge).joinedload(Pledge.donor)).order_by(Refund.created_at, Refund.id))


def _queue_slice(name: str, base, now: datetime, offset: int) -> tuple[list, int]:
    query = _queue_list(name, base, now)
    size = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if name == "refunds":
        return list(db.session.scalars(query.limit(QUEUE_PAGE).offset(offset)).unique()), size
    return db.session.execute(query.limit(QUEUE_PAGE).offset(offset)).all(), size


@bp.get("/pledges")
def pledges():
    """Every list's first QUEUE_PAGE rows and how many it holds; with ``?list=<name>&page=n`` one list a
    page at a time (a page after the last is a 404, as on /me/). Two queries a list, whatever its size."""
    now = utcnow()
    base = _scoped_pledges()
    shown = request.args.get("list")
    if shown is not None:
        if shown not in QUEUE_LISTS:
            abort(404)
        page = page_number(request.args)
        rows, size = _queue_slice(shown, base, now, (page - 1) * QUEUE_PAGE)
        pages = max(1, -(-size // QUEUE_PAGE))
        if page > pages:
            abort(404)
        return render_template("staff/pledges.html", lists={shown: (rows, size)}, shown=shown, page=page,
                               pages=pages, now=now, unmatched=None)
    lists = {name: _queue_slice(name, base, now, 0) for name in QUEUE_LISTS}
    # Deposits without a known reference name donors of every centre: money staff only.
    unmatched = statement_service.unmatched_rows(50) if current_user.handles_bank_account else None
    return render_template("staff/pledges.html", lists=lists, shown=None, now=now, unmatched=unmatched)


@bp.get("/pledges/<id:pledge_id>")
def pledge(pledge_id: int):
    item = _visible_pledge(pledge_id)
    form = PaymentForm()
    form.amount.data = item.owed or None
    form.received_on.data = datetime.now(SEOUL).date()
    form.token.data = uuid4().hex
    journal = db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.pledge_id == item.id)
                                 .order_by(LedgerTransaction.id)).all()
    unplaced = pledge_service.unplaced(item.id)
    query = request.args.get("q", "")[:100]
    candidates = pledge_service.similar_needs(current_user, item, query) if unplaced > 0 else []
    # The page shows the donor's name and contact: a read of their personal data.
    with unit_of_work():  # the commit comes after drawing the page: it expires what the page has loaded
        record_access(current_actor(), "donor", item.donor_id, "view",
                      subject_centre_id=item.need.centre_id if item.need is not None else None)
        page = render_template("staff/pledge.html", pledge=item, form=form, journal=journal,
                               unplaced=unplaced, move_form=MoveForm(), candidates=candidates, query=query,
                               confirm_form=ConfirmForm(), refund_form=RefundForm(), holding=item.status in HOLDING)
    return page


@bp.post("/pledges/<id:pledge_id>/payments")
def record_payment(pledge_id: int):
    item = _visible_pledge(pledge_id)
    form = PaymentForm()
    if not form.validate_on_submit() or not form.amount.data:
        for field in (form.amount, form.received_on):
            for error in field.errors:
                flash(f"{field.label.text}: {error}", "error")
        if not form.amount.data and not form.amount.errors:
            flash(_("Please enter the amount received."), "error")
        return redirect(url_for("staff.pledge", pledge_id=pledge_id), 303)
    received_at = happened_at(form.received_on.data, item)
    if received_at is None:
        return redirect(url_for("staff.pledge", pledge_id=pledge_id), 303)
    with unit_of_work() as result:
        result.value = pledge_service.record_payment(
            current_actor(), item.id, form.amount.data, source="manual",
            external_id=f"manual:{form.token.data or uuid4().hex}", received_at=received_at)
    if result.ok and not result.value.created:
        flash(_("This payment was already recorded; nothing changed."), "info")
    elif result.ok:
        flash(_("Payment of %(amount)s won recorded.", amount=f"{form.amount.data:,}"), "success")
    return redirect(url_for("staff.pledge", pledge_id=pledge_id), 303)


@bp.post("/pledges/<id:pledge_id>/cancel")
def cancel_pledge(pledge_id: int):
    _visible_pledge(pledge_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work(_("The unpaid part of the pledge is released.")):
        pledge_service.cancel_pledge(current_actor(), pledge_id)
    return redirect(url_for("staff.pledge", pledge_id=pledge_id), 303)


@bp.post("/pledges/<id:pledge_id>/move")
def move(pledge_id: int):
    _visible_pledge(pledge_id)
    form = MoveForm()
    if not form.validate_on_submit():
        flash(_("Please choose a need and give an amount."), "error")
        return redirect(url_for("staff.pledge", pledge_id=pledge_id), 303)
    target = db.session.get(Need, form.need_id.data)
    if target is None or not need_service.staff_can_see(current_user, target):
        flash(_("No such need."), "error")
        return redirect(url_for("staff.pledge", pledge_id=pledge_id), 303)
    with unit_of_work(_("The money is moved to the need.")):
        pledge_service.move_to_need(current_actor(), pledge_id, target.id, form.amount.data)
    return redirect(url_for("staff.pledge", pledge_id=pledge_id), 303)


@bp.post("/refunds/<id:refund_id>")
def record_refund(refund_id: int):
    refund = db.session.get(Refund, refund_id) or abort(404)
    pledge = _visible_pledge(refund.pledge_id)
    form = RefundForm()
    if not form.validate_on_submit():
        flash(_("Please give the date and the bank reference of the refund."), "error")
        return redirect(url_for("staff.pledges"), 303)
    refunded_at = happened_at(form.refunded_on.data, pledge)
    if refunded_at is None:
        return redirect(url_for("staff.pledges"), 303)
    with unit_of_work(_("The refund is recorded.")):
        pledge_service.record_bank_refund(current_actor(), refund_id, refunded_at=refunded_at,
                                          bank_reference=form.bank_reference.data)
    return redirect(url_for("staff.pledges"), 303)


@bp.route("/statements", methods=["GET", "POST"])
@money_staff_required
def statements():
    form = StatementUploadForm()
    if form.validate_on_submit():
        upload = form.statement.data
        with unit_of_work(flash_refusal=False) as work:
            preview = statement_service.preview_statement(current_actor(), upload.filename or "statement.csv",
                                                          upload.read())
        if not work.ok:
            form.statement.errors.append(work.message)
        else:
            return redirect(url_for("staff.statement", import_id=preview.id), 303)
    recent = db.session.scalars(select(StatementImport).order_by(StatementImport.id.desc()).limit(10)).all()
    return render_template("staff/statements.html", form=form, recent=recent)


@bp.get("/statements/<id:import_id>")
@money_staff_required
def statement(import_id: int):
    item, every_row = statement_service.previewed(import_id) or abort(404)
    summary = Counter(row["outcome"] for row in every_row)
    # Staff look for the rows that need them (unmatched, over-paid...) among thousands: one outcome at a time.
    outcome = request.args.get("outcome")
    if outcome not in summary:
        outcome = None
    rows = [row for row in every_row if outcome is None or row["outcome"] == outcome]
    return render_template("staff/statement.html", statement=item, summary=summary, outcome=outcome,
                           rows=rows[:STATEMENT_ROWS_SHOWN], row_count=len(rows), form=ConfirmForm())


@bp.post("/statements/<id:import_id>/commit")
@money_staff_required
def commit_statement(import_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work() as work:  # refused: a row no payment can be recorded from; staff may discard the import
        try:
            counts = statement_service.commit_statement(current_actor(), import_id)
        except NotFound:
            abort(404)
    if not work.ok:
        return redirect(url_for("staff.statement", import_id=import_id), 303)
    flash(_("Statement applied: %(applied)s payments recorded, %(linked)s confirming transfers already recorded "
            "by hand, %(unmatched)s unmatched, %(skipped)s already imported.", **counts), "success")
    return redirect(url_for("staff.statement", import_id=import_id), 303)


@bp.post("/statements/<id:import_id>/discard")
@money_staff_required
def discard_statement(import_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work() as work:
        try:
            statement_service.discard_statement(current_actor(), import_id)
        except NotFound:
            abort(404)
    if not work.ok:
        return redirect(url_for("staff.statement", import_id=import_id), 303)
    flash(_("The statement import was discarded. No payment was recorded from it."), "success")
    return redirect(url_for("staff.statements"), 303)


@bp.post("/bank-rows/<id:row_id>/match")
@money_staff_required
def match_row(row_id: int):
    form = MatchRowForm()
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work(_("The deposit is matched to the pledge.")):
        try:
            statement_service.match_bank_row(current_actor(), row_id, form.reference.data)
        except NotFound:
            abort(404)
    return redirect(url_for("staff.pledges"), 303)


@bp.get("/needs/<id:need_id>/money")
def need_money(need_id: int):
    try:
        need = need_service.get_for_staff(current_user, need_id)
    except NotFound:
        abort(404)
    pledges = db.session.scalars(select(Pledge).where(Pledge.need_id == need.id).order_by(Pledge.id)).all()
    payments = db.session.scalars(select(Payment).join(Pledge).where(Pledge.need_id == need.id)
                                  .order_by(Payment.received_at)).all()
    journal = db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.need_id == need.id)
                                 .order_by(LedgerTransaction.id)).all()
    return render_template("staff/need_money.html", need=need, pledges=pledges, payments=payments, journal=journal)
