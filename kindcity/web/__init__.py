"""The web layer: one blueprint per audience (public, auth, donor, staff, admin, api)."""
from __future__ import annotations

from flask import Flask, g, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from ..extensions import csrf, db, login_manager


def init_web(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load_user(token: str):
        from ..models import User
        user_id, _, stamp = token.partition(":")
        if not user_id.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or user.session_stamp != stamp:
            return None
        return user

    from . import admin, api, auth, donor, public, staff, staff_money, staff_referrals  # noqa: F401  (staff_money, staff_referrals add staff routes)
    from . import staff_receipts  # noqa: F401  (adds year-end reporting to the staff blueprint)
    from . import api_impact, donor_impact, impact, staff_impact  # noqa: F401  (add impact routes to api, donor, staff)
    from . import donor_receipts  # noqa: F401  (adds the receipt routes to the donor blueprint)
    from . import donor_card, webhooks  # noqa: F401  (donor_card adds card payment routes to the donor blueprint)
    from . import donor_pooled, public_matching, staff_matching  # noqa: F401  (matching routes on donor, public, staff)
    from . import public_referrals  # noqa: F401  (adds the residents' referral routes to the public blueprint)

    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(donor.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(impact.bp)
    app.register_blueprint(donor_card.demo_bp)
    app.register_blueprint(webhooks.bp)
    csrf.exempt(api.bp)
    csrf.exempt(webhooks.bp)  # Stripe signs its webhooks; the signature is checked on the raw body instead

    app.after_request(security_headers)
    app.after_request(_after_commit)
    app.teardown_request(_rollback_on_error)
    for code in (400, 403, 404, 405, 413, 429, 500, 503):
        app.register_error_handler(code, _error_page)

    from .context import register_context
    register_context(app)

    from . import caching
    caching.init_app(app)  # the front door of the public page cache (a WSGI middleware)


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self' https://checkout.stripe.com; frame-ancestors 'none'; "
       "base-uri 'self'; object-src 'none'")


def security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def _after_commit(response):
    """The in-process path (SQLite, kindcity/jobs/): after the view's commit, the jobs its transactions
    asked for run here, in this process. On PostgreSQL they are in the queue and a worker runs them;
    with nothing asked for this costs nothing."""
    from ..jobs import anything_to_run, run_committed

    if db.session.registry.has() and anything_to_run():
        db.session.rollback()  # views commit at the edge: nothing of theirs is left open to carry along
        run_committed()
    return response


def _rollback_on_error(exc):
    if exc is not None:
        db.session.rollback()


ERROR_TITLES = {
    400: _l("The request could not be understood"),
    403: _l("You do not have access to this page"),
    404: _l("Page not found"),
    405: _l("This action is not allowed here"),
    413: _l("The upload is too large"),
    429: _l("Too many requests"),
    500: _l("Something went wrong on our side"),
    503: _l("The service is briefly unavailable"),
}


def _error_page(error):
    code = error.code if isinstance(error, HTTPException) else 500
    if code >= 500:
        db.session.rollback()
    if request.path.startswith("/api/"):
        from flask import jsonify
        return jsonify({"error": {"status": code, "message": str(ERROR_TITLES.get(code, ""))}}), code
    g.error_code = code
    return render_template("errors/error.html", code=code, title=ERROR_TITLES.get(code, ERROR_TITLES[500])), code
