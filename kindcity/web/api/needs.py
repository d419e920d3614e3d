"""The read-only public JSON API, described by an OpenAPI 3 document."""
from __future__ import annotations

from flask import jsonify, request, url_for

from ...domain.time import seoul_today
from ...i18n import current_locale
from ...models import Need
from ...services import needs as need_service
from .requests import check_api_request
from ..caching import public_page
from .openapi import openapi_document
from ..public.needs import filters_from_args

from ..params import public_need_or_404
from . import bp
bp.before_request(check_api_request)  # the query must be one the OpenAPI document allows


def _ref(row, locale: str) -> dict:
    return {"code": row.code, "name": row.name(locale)}


def need_json(need: Need, locale: str) -> dict:
    return {
        "id": need.id,
        "title": need.title,
        "summary": need.summary,
        "description": need.description,
        "status": need.shown_status,
        "category": _ref(need.category, locale),
        "dong": _ref(need.dong, locale),
        "beneficiary_group": _ref(need.group, locale),
        "beneficiary_count": need.beneficiary_count,
        "target_won": need.target,
        "received_won": need.confirmed,
        "reserved_won": need.reserved,
        "gap_won": need.gap,
        "unit_pricing": ({"unit_name": need.unit_name, "unit_cost_won": need.unit_cost, "units": need.units}
                         if need.is_unit_priced else None),
        "deadline": need.deadline.isoformat(),
        "receiving_organisation": need.receiving_org.name(locale),
        "posting_centre": need.centre.name(locale),
        "url": url_for("public.need", need_id=need.id, _external=True),
    }


@bp.get("/needs")
@public_page
def needs():
    per_page = min(100, max(1, request.args.get("per_page", 20, type=int)))
    filters = filters_from_args(request.args, per_page)
    items, total = need_service.search_public_needs(filters, seoul_today(), with_relations=True)
    locale = current_locale()
    return jsonify({"page": filters.page, "per_page": per_page, "total": total,
                    "items": [need_json(n, locale) for n in items]})


@bp.get("/needs/<id:need_id>")
@public_page
def need(need_id: int):
    item = public_need_or_404(need_id)
    return jsonify(need_json(item, current_locale()))


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
