"""The read-only JSON API under /api/v1, described by its OpenAPI document and checked against it."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import impact, needs  # noqa: E402,F401  (each adds its routes to bp)
