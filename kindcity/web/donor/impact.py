"""The donor's own impact: where each of their gifts went and what it paid for."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from ...services import impact as impact_service
from . import bp


@bp.get("/impact")
def impact():
    return render_template("donor/impact.html", mine=impact_service.donor_impact(current_user))
