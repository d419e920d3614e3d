"""Calls from outside services under /webhooks: Stripe, PortOne and the SMS provider. Each signs its
calls and the signature is checked instead of a form token."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

from . import portone, views  # noqa: E402,F401  (each adds its routes to bp)
