"""Requests to the public API are checked against the API's own OpenAPI document.

The document (kindcity/web/api/openapi.py) says which query parameters each operation takes and what
values they may have; openapi-core reads it and checks each request before the view runs, so the
API cannot accept what its document forbids (``lang=xx``, ``period=null``, ``page=abc``). A request
that breaks it gets 400 with an ``Error`` body that names each parameter and the problem. A
parameter that is not an array may be given once: ``status=open&status=funded`` is refused rather
than read as one of them. Parameters the document does not name are ignored, as OpenAPI allows.
"""
from __future__ import annotations

from functools import cache

from flask import jsonify, request
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.validation.request.exceptions import ParameterValidationError

from .openapi import openapi_document


@cache
def _document() -> dict:
    return openapi_document()


@cache
def _openapi() -> OpenAPI:
    return OpenAPI.from_dict(_document())


def _problem(error: ParameterValidationError) -> str:
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None)
    if schema_errors:
        return "; ".join(getattr(e, "message", str(e)) for e in schema_errors)
    if cause is not None and type(cause).__name__ == "CastError":
        return f"{getattr(cause, 'value', '')!r} is not of type {getattr(cause, 'type', '')!r}"
    return str(cause or error)


def _operation_parameters(path: str, method: str) -> list[dict]:
    for template, item in _document()["paths"].items():
        operation = item.get(method)
        if operation is not None and _matches(template, path):
            return operation.get("parameters", [])
    return []


def _matches(template: str, path: str) -> bool:
    parts, wanted = template.strip("/").split("/"), path.strip("/").split("/")
    return len(parts) == len(wanted) and all(p == w or (p.startswith("{") and p.endswith("}"))
                                            for p, w in zip(parts, wanted))


def check_api_request():
    """A before-request hook of the API blueprint: None to go on, or the 400 answer."""
    result = _openapi().unmarshal_request(WerkzeugOpenAPIRequest(request))
    if any(isinstance(error, PathError) for error in result.errors):
        return None  # not a documented operation (the document itself): nothing to check it against
    problems = [{"parameter": error.name, "in": error.location, "problem": _problem(error)}
                for error in result.errors if isinstance(error, ParameterValidationError)]
    for parameter in _operation_parameters(request.path, request.method.lower()):
        name = parameter["name"]
        if (parameter["in"] == "query" and parameter["schema"].get("type") != "array"
                and len(request.args.getlist(name)) > 1):
            problems.append({"parameter": name, "in": "query", "problem": "given more than once"})
    if not problems:
        return None
    from .. import ERROR_TITLES

    response = jsonify({"error": {"status": 400, "message": str(ERROR_TITLES[400]), "details": problems}})
    response.status_code = 400
    return response
