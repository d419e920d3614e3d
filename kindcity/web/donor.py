"""The donor's own pages."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from .access import donor_required, protect_blueprint

bp = Blueprint("donor", __name__, url_prefix="/me")
protect_blueprint(bp, donor_required)


@bp.get("/")
def dashboard():
    return render_template("donor/dashboard.html", user=current_user)
