"""Welfare staff under /staff: needs and their approval, money (statements, deposits, refunds),
matching, impact reports, referrals, the text inbox and year-end receipts. Every route needs staff."""
from __future__ import annotations

from flask import Blueprint

from ..access import protect_blueprint, staff_required

bp = Blueprint("staff", __name__, url_prefix="/staff")
protect_blueprint(bp, staff_required)

from . import audit, impact, matching, money, needs, receipts, referrals, texts  # noqa: E402,F401  (each adds its routes to bp)
