"""The web layer: one package per audience, each with its blueprint, views and forms.

public/ (anyone: needs, impact, referrals), account/ (login, registration), donor/ (/me), staff/
(/staff), admin/ (/admin), api/ (/api/v1), webhooks/ (/webhooks). Shared pieces stay here: access
rules, the page cache, parameters, forms' common fields, the message table, links."""
from __future__ import annotations

from flask import Flask, g, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

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
        """The account of a session or remember-me cookie, while the cookie's session version is the
        account's: logging out or a new password raises it, and every copy of the cookie stops working."""
        from ..models import User
        user_id, _, version = token.partition(":")
        if not user_id.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or str(user.session_version) != version:
            return None
        return user

    from . import account, admin, api, donor, public, staff, webhooks

    for blueprint in (public.bp, account.bp, donor.bp, staff.bp, admin.bp, api.bp, webhooks.bp,
                      donor.card_demo_bp, donor.kr_demo_bp):
        app.register_blueprint(blueprint)
    from . import health
    app.register_blueprint(health.bp)
    csrf.exempt(api.bp)
    csrf.exempt(webhooks.bp)  # Stripe, PortOne and SOLAPI sign their webhooks; the signature is checked instead

    app.after_request(security_headers)
    from . import unit_of_work
    unit_of_work.init_app(app)  # a request that fails keeps nothing; views end their work in its unit_of_work
    for code in (400, 403, 404, 405, 413, 429, 500, 503):
        app.register_error_handler(code, _error_page)

    from .context import register_context
    register_context(app)
    from . import static_files
    static_files.init_app(app)

    from . import caching
    caching.init_app(app)  # the front door of the public page cache (a WSGI middleware)
    trust_proxies(app)  # last, so outermost: the front door and every view see the real client


def trust_proxies(app: Flask) -> None:
    """Behind KINDCITY_PROXY_HOPS proxies (nginx: 1), the client's address and scheme are the ones the
    nearest proxies put in X-Forwarded-For and X-Forwarded-Proto; ProxyFix reads exactly that many
    hops from the right, so a client cannot push a forged address past them. With 0 (the default)
    nothing is believed: the address is the connection's. It must wrap every other middleware."""
    hops = app.config.get("KINDCITY_PROXY_HOPS", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


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
        from .unit_of_work import discard
        discard()
    allow = {"Allow": ", ".join(sorted(error.valid_methods))} if getattr(error, "valid_methods", None) else {}
    if request.path.startswith("/api/"):
        from flask import jsonify
        return jsonify({"error": {"status": code, "message": str(ERROR_TITLES.get(code, ""))}}), code, allow
    g.error_code = code
    # A view that says why (abort(400, description=_("..."))) has it shown; Werkzeug's own English
    # descriptions are not for readers.
    detail = error.description if (isinstance(error, HTTPException) and code < 500
                                   and error.description != type(error).description) else None
    return render_template("errors/error.html", code=code, title=ERROR_TITLES.get(code, ERROR_TITLES[500]),
                           detail=detail), code, allow  # a 405 says which methods the address takes
