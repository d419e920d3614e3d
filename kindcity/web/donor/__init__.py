"""Donors' pages under /me: pledges and their payment (bank, card, Korean rails), pooled funds and
match offers, receipts, contact choice and where their money went. Every route needs a donor."""
from __future__ import annotations

from flask import Blueprint

from ..access import donor_required, protect_blueprint

bp = Blueprint("donor", __name__, url_prefix="/me")
protect_blueprint(bp, donor_required)

from . import card, contact, impact, korean, pledges, pooled, receipts  # noqa: E402,F401  (each adds its routes to bp)
from .card import demo_bp as card_demo_bp  # noqa: E402,F401  (the demo provider's checkout page)
from .korean import demo_bp as kr_demo_bp  # noqa: E402,F401  (the demo provider's Korean payment window)
