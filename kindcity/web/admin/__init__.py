"""Administrators under /admin: accounts and roles, receiving organisations, the audit log, jobs."""
from __future__ import annotations

from flask import Blueprint

from ..access import admin_required, protect_blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
protect_blueprint(bp, admin_required)

from . import views  # noqa: E402,F401  (adds its routes to bp)
