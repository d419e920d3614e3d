"""Accounts: registration, mail confirmation, login and logout, passwords."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/account")

from . import views  # noqa: E402,F401  (adds its routes to bp)
