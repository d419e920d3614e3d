"""The donor's own impact: where each of their gifts went and what it paid for."""
from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from ...services import impact as impact_service
from ..params import page_number
from . import bp

IMPACT_PAGE = 20  # needs per page of /me/impact


@bp.get("/impact")
def impact():
    """The donor's totals, then the needs their money is on, IMPACT_PAGE at a time (``?page=n``; a page
    after the last is a 404): only the page's needs are loaded and drawn."""
    try:
        mine = impact_service.donor_impact(current_user, page_number(request.args), IMPACT_PAGE)
    except impact_service.PageNotFound:
        abort(404)
    return render_template("donor/impact.html", mine=mine)
