"""The OpenAPI 3 description of the public API. Tests validate real responses against it."""
from __future__ import annotations

from .openapi_impact import BAD_REQUEST, ID, IMPACT_PATHS, IMPACT_SCHEMAS, LANG
from ..params import MAX_PAGE

_REF = {"type": "object", "required": ["code", "name"], "additionalProperties": False,
        "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}

_FILTERS = [
    # An empty filter means "any", as the search form on the site sends it.
    {"name": "q", "in": "query", "schema": {"type": "string"}, "allowEmptyValue": True,
     "description": "Keywords (Korean or English)"},
    {"name": "category", "in": "query", "schema": {"type": "string"}, "allowEmptyValue": True},
    {"name": "dong", "in": "query", "schema": {"type": "string"}, "allowEmptyValue": True},
    {"name": "group", "in": "query", "schema": {"type": "string"}, "allowEmptyValue": True},
    {"name": "status", "in": "query", "schema": {"type": "string", "enum": [
        "open", "funded", "delivering", "completed", "expired", "cancelled", "all"]}},
    {"name": "closing", "in": "query", "schema": {"type": "integer", "minimum": 0},
     "description": "Only needs closing within this many days"},
    {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["deadline", "newest", "nearly_funded", "largest"]}},
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
    LANG,
]


def openapi_document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "kindcity public API", "version": "1.0.0",
                 "description": "Read-only, public data about the district's welfare needs. Money is in whole won."},
        "paths": {
            "/api/v1/needs": {"get": {
                "summary": "List public needs", "parameters": _FILTERS,
                "responses": {"200": {"description": "A page of needs", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/NeedPage"}}}}, "400": BAD_REQUEST}}},
            "/api/v1/needs/{id}": {"get": {
                "summary": "One public need",
                "parameters": [ID, LANG],
                "responses": {
                    "200": {"description": "The need", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Need"}}}},
                    "400": BAD_REQUEST,
                    "404": {"description": "No such public need", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}}}}}},
            **IMPACT_PATHS,
        },
        "components": {"schemas": {
            "Reference": _REF,
            "UnitPricing": {"type": "object", "nullable": True, "required": ["unit_name", "unit_cost_won", "units"],
                            "properties": {"unit_name": {"type": "string"},
                                           "unit_cost_won": {"type": "integer", "minimum": 1},
                                           "units": {"type": "integer", "minimum": 1}}},
            "Need": {"type": "object", "additionalProperties": False, "required": [
                "id", "title", "summary", "description", "status", "category", "dong", "beneficiary_group",
                "beneficiary_count", "target_won", "received_won", "reserved_won", "gap_won", "unit_pricing",
                "deadline", "receiving_organisation", "posting_centre", "url"],
                "properties": {
                    "id": {"type": "integer"}, "title": {"type": "string"}, "summary": {"type": "string"},
                    "description": {"type": "string", "description": "Markdown"},
                    "status": {"type": "string", "enum": ["open", "funded", "delivering", "completed",
                                                          "expired", "cancelled"]},
                    "category": {"$ref": "#/components/schemas/Reference"},
                    "dong": {"$ref": "#/components/schemas/Reference"},
                    "beneficiary_group": {"$ref": "#/components/schemas/Reference"},
                    "beneficiary_count": {"type": "integer", "minimum": 1},
                    "target_won": {"type": "integer", "minimum": 1},
                    "received_won": {"type": "integer", "minimum": 0},
                    "reserved_won": {"type": "integer", "minimum": 0},
                    "gap_won": {"type": "integer", "minimum": 0},
                    "unit_pricing": {"$ref": "#/components/schemas/UnitPricing"},
                    "deadline": {"type": "string", "format": "date"},
                    "receiving_organisation": {"type": "string"},
                    "posting_centre": {"type": "string"},
                    "url": {"type": "string"}}},
            "NeedPage": {"type": "object", "additionalProperties": False,
                         "required": ["page", "per_page", "total", "items"],
                         "properties": {"page": {"type": "integer"}, "per_page": {"type": "integer"},
                                        "total": {"type": "integer"},
                                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Need"}}}},
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["status", "message"],
                "properties": {"status": {"type": "integer"}, "message": {"type": "string"},
                               "details": {"type": "array", "description": "What was wrong with the request",
                                           "items": {"type": "object", "required": ["parameter", "in", "problem"],
                                                     "properties": {"parameter": {"type": "string"},
                                                                    "in": {"type": "string"},
                                                                    "problem": {"type": "string"}}}}}}}},
            **IMPACT_SCHEMAS,
        }},
    }
