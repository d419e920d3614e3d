"""Open impact data: district aggregates, one need's impact, and each need's public ledger as CSV."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Response, jsonify, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...i18n import current_locale
from ...services import impact as impact_service
from .. import aggregates
from ..params import public_need_or_404
from . import bp
from ..caching import public_page
from ..public.impact import period_from_args

LEDGER_COLUMNS = ["date", "entry", "amount_won", "donor", "gifts", "note"]  # the JSON's field names
LEDGER_HEADERS = [_l("Date"), _l("What"), _l("Amount (won)"), _l("Donor"), _l("Gifts"), _l("Note")]


def _ledger_words() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Words for the ledger's codes: its entries, its unnamed donors, where returned money went."""
    return ({"in": _("Money in"), "spent": _("Spent"), "returned": _("Returned")},
            {"anonymous": _("Anonymous"), "pooled fund": _("Pooled fund")},
            {"pool": _("To the pooled fund"), "refund": _("Refund"), "similar": _("Staff move it to a similar need")})


def _breakdown_json(rows, locale: str) -> list[dict]:
    return [{"code": row.ref.code, "name": row.ref.name(locale), "placed_won": row.placed,
             "needs_completed": row.completed} for row in rows]


@bp.get("/impact")
@public_page(aggregates=True)
def impact():
    summary = aggregates.district_impact(period_from_args())
    locale = current_locale()
    last_day = (summary.end - timedelta(days=1)).isoformat() if summary.end is not None else None
    return jsonify({
        "period": summary.period,
        "from": summary.start.isoformat() if summary.start else None,
        "to": last_day,
        "received_won": summary.received,
        "refunded_won": summary.refunded,
        "spent_won": summary.spent,
        "needs_completed": summary.needs_completed,
        "beneficiaries_reached": summary.beneficiaries_reached,
        "donors": summary.donors,
        "by_category": _breakdown_json(summary.by_category, locale),
        "by_dong": _breakdown_json(summary.by_dong, locale),
        "by_month": [{"month": month, "received_won": amount} for month, amount in summary.by_month],
        "counted_at": summary.computed_at.isoformat(),
    })


def _report_json(report) -> dict | None:
    if report is None:
        return None
    return {
        "published_at": report.published_at.isoformat(),
        "unit_name": report.unit_name,
        "units_planned": report.units_planned,
        "units_delivered": report.units_delivered,
        "beneficiaries_reached": report.beneficiaries_reached,
        "delivered_from": report.delivered_from.isoformat(),
        "delivered_to": report.delivered_to.isoformat(),
        "story": report.story,
        "photos": [{"url": url_for("public.impact_photo", name=p.filename, _external=True), "caption": p.caption,
                    "width": p.width, "height": p.height} for p in report.photos],
    }


@bp.get("/needs/<id:need_id>/impact")
@public_page
def need_impact(need_id: int):
    need = public_need_or_404(need_id)
    data = impact_service.need_impact(need)
    money = data.money
    return jsonify({
        "need_id": need.id,
        "title": need.title,
        "status": need.status,
        "url": url_for("public.need_impact", need_id=need.id, _external=True),
        "ledger_csv_url": url_for("api.need_ledger_csv", need_id=need.id, _external=True),
        "money": {"received_won": money.money_in, "spent_won": money.spent, "returned_won": money.taken_back,
                  "held_won": money.held},
        "leftovers": {"pool_won": data.leftovers.get("pool", 0), "refund_won": data.leftovers.get("refund", 0),
                      "similar_won": data.leftovers.get("similar", 0)},
        "report": _report_json(data.report),
        "disbursements": [{"date": d.spent_on.isoformat(), "amount_won": d.amount, "description": d.description}
                          for d in data.disbursements],
        "supporters": {"shown": [{"name": c.name, "amount_won": c.amount} for c in data.shown],
                       "anonymous_count": data.anonymous_count, "anonymous_won": data.anonymous_amount},
        "match_offers": [{"name": c.name, "amount_won": c.amount} for c in data.match_offers],
    })


def _csv_safe(text: str) -> str:
    """Spreadsheets run cells that start with =, +, - or @ as formulas: neutralise them."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@bp.get("/needs/<id:need_id>/ledger.csv")
@public_page
def need_ledger_csv(need_id: int):
    need = public_need_or_404(need_id)
    out = io.StringIO()
    writer = csv.writer(out)
    # A person opens this file in a spreadsheet: headers and values in the reader's language, not codes.
    writer.writerow([str(label) for label in LEDGER_HEADERS])
    entries, donors, notes = _ledger_words()
    for row in impact_service.public_ledger(need):
        note = notes.get(row.note, row.note) if row.entry == "returned" else row.note
        writer.writerow([row.day, entries.get(row.entry, row.entry), row.amount,
                         _csv_safe(donors.get(row.donor, row.donor)),
                         "" if row.gifts is None else row.gifts, _csv_safe(note)])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=kindcity-need-{need.id}-ledger.csv"})
