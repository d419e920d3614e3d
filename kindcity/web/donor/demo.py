"""What the demo providers' payment pages share: the card checkout (card.py) and the Korean payment
window (korean.py) stand in for Stripe's and PortOne's pages when no real provider is configured.

Each is a blueprint that only a demo provider serves (404 when a real provider is configured, or in
production), for donors only, with a form that is only its CSRF token: the pressed button says what
happens.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, request
from flask_wtf import FlaskForm

from ..access import donor_required, protect_blueprint


class DemoButtonsForm(FlaskForm):
    """Only the CSRF token: the pressed button says what happens."""


def demo_blueprint(name: str, url_prefix: str, provider: Callable[[], object | None]) -> Blueprint:
    """A donors' blueprint that answers only while ``provider()`` is a demo provider."""
    blueprint = Blueprint(name, __name__, url_prefix=url_prefix)
    protect_blueprint(blueprint, donor_required)

    @blueprint.before_request
    def _demo_only():
        current = provider()
        if current is None or not current.demo:
            abort(404)  # a real provider is configured, or this is production

    return blueprint


def pressed(form: FlaskForm) -> str | None:
    """The button pressed on a POST ("" for none; 400 if the form's token is not valid); None on a GET."""
    if request.method != "POST":
        return None
    if not form.validate_on_submit():
        abort(400)
    return request.form.get("action", "")
