"""Error reports to Sentry (sentry.io or the district's own Sentry) when SENTRY_DSN is set; else nothing.

No personal data is sent: the SDK's defaults leave out cookies, form fields and the client address,
and the stack frames' local variables (a view's form data, the WSGI environ with its cookies) are
left out too.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=app.config.get("KINDCITY_ENV"),
        release=app.config.get("KINDCITY_RELEASE") or None,
        integrations=[FlaskIntegration()],
        traces_sample_rate=0.0,
        include_local_variables=False,
    )
