"""The public door: the needs, each need and its impact, the district's impact and donors, and the
residents' referral form. Anyone may read; nothing here needs an account."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)

from . import impact, matching, needs, referrals, sharing  # noqa: E402,F401  (each adds its routes to bp)
