"""The impact part of the OpenAPI document (merged into kindcity.web.openapi)."""
from __future__ import annotations

from ..params import MAX_ID

ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
LANG = {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["ko", "en"]}}
BAD_REQUEST = {"description": "A query parameter the document does not allow (each named in error.details)",
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_WON = {"type": "integer", "minimum": 0}
_NOT_FOUND = {"description": "No such public need", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Error"}}}}


def _object(properties: dict, nullable: bool = False) -> dict:
    schema = {"type": "object", "additionalProperties": False, "required": sorted(properties),
              "properties": properties}
    if nullable:
        schema["nullable"] = True
    return schema


_BREAKDOWN = _object({"code": {"type": "string"}, "name": {"type": "string"}, "placed_won": {"type": "integer"},
                      "needs_completed": {"type": "integer", "minimum": 0}})

IMPACT_PATHS = {
    "/api/v1/impact": {"get": {
        "summary": "District impact: money, completed needs, people reached, donors; by category, dong and month",
        "parameters": [{"name": "period", "in": "query", "schema": {
            "type": "string", "enum": ["all", "12m", "this_year", "last_year"]},
            "description": "Korea time"}, LANG],
        "responses": {"200": {"description": "Aggregates for the period", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/DistrictImpact"}}}}, "400": BAD_REQUEST}}},
    "/api/v1/needs/{id}/impact": {"get": {
        "summary": "What one public need's money did: received, spent, returned, the published report",
        "parameters": [ID, LANG],
        "responses": {"200": {"description": "The need's impact", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/NeedImpact"}}}}, "400": BAD_REQUEST, "404": _NOT_FOUND}}},
    "/api/v1/needs/{id}/ledger.csv": {"get": {
        "summary": "The need's public ledger as CSV (UTF-8 with BOM)",
        "description": "Columns: date, entry (in, spent, returned), amount_won, donor (a name the donor chose to "
                       "show, 'anonymous' for gifts added up per month, 'pooled fund'), gifts, note (what spending "
                       "paid for; where returned money went: pool, refund, similar). No personal data.",
        "parameters": [ID],
        "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                      "400": BAD_REQUEST, "404": _NOT_FOUND}}},
}

IMPACT_SCHEMAS = {
    "ImpactBreakdown": _BREAKDOWN,
    "DistrictImpact": _object({
        "period": {"type": "string", "enum": ["all", "12m", "this_year", "last_year"]},
        "from": {"type": "string", "format": "date", "nullable": True},
        "to": {"type": "string", "format": "date", "nullable": True, "description": "Last day, inclusive"},
        "received_won": _WON, "refunded_won": _WON, "spent_won": _WON,
        "needs_completed": {"type": "integer", "minimum": 0},
        "beneficiaries_reached": {"type": "integer", "minimum": 0},
        "donors": {"type": "integer", "minimum": 0},
        "by_category": {"type": "array", "items": {"$ref": "#/components/schemas/ImpactBreakdown"}},
        "by_dong": {"type": "array", "items": {"$ref": "#/components/schemas/ImpactBreakdown"}},
        "by_month": {"type": "array", "items": _object({
            "month": {"type": "string", "pattern": r"^\d{4}-\d{2}$"}, "received_won": _WON})},
        "counted_at": {"type": "string", "format": "date-time",
                       "description": "When these figures were counted: they may be up to a few minutes old"},
    }),
    "ImpactReport": _object({
        "published_at": {"type": "string", "format": "date-time"},
        "unit_name": {"type": "string", "nullable": True},
        "units_planned": {"type": "integer", "minimum": 1},
        "units_delivered": {"type": "integer", "minimum": 0},
        "beneficiaries_reached": {"type": "integer", "minimum": 0},
        "delivered_from": {"type": "string", "format": "date"},
        "delivered_to": {"type": "string", "format": "date"},
        "story": {"type": "string", "description": "Markdown"},
        "photos": {"type": "array", "items": _object({
            "url": {"type": "string"}, "caption": {"type": "string"},
            "width": {"type": "integer", "minimum": 1}, "height": {"type": "integer", "minimum": 1}})},
    }, nullable=True),
    "NeedImpact": _object({
        "need_id": {"type": "integer"}, "title": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "funded", "delivering", "completed", "expired", "cancelled"]},
        "url": {"type": "string"}, "ledger_csv_url": {"type": "string"},
        "money": _object({"received_won": _WON, "spent_won": _WON, "returned_won": _WON, "held_won": _WON}),
        "leftovers": _object({"pool_won": _WON, "refund_won": _WON, "similar_won": _WON}),
        "report": {"$ref": "#/components/schemas/ImpactReport"},
        "disbursements": {"type": "array", "items": _object({
            "date": {"type": "string", "format": "date"}, "amount_won": {"type": "integer", "minimum": 1},
            "description": {"type": "string"}})},
        "supporters": _object({
            "shown": {"type": "array", "items": _object({"name": {"type": "string"},
                                                          "amount_won": {"type": "integer", "minimum": 1}})},
            "anonymous_count": {"type": "integer", "minimum": 0}, "anonymous_won": _WON}),
        "match_offers": {"type": "array", "items": _object({"name": {"type": "string", "nullable": True},
                                                             "amount_won": {"type": "integer", "minimum": 1}})},
    }),
}
