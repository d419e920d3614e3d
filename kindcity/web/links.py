"""Absolute links for mail."""
from __future__ import annotations

from flask import current_app, url_for


def site_url(endpoint: str, **values) -> str:
    """An absolute link for mail. KINDCITY_BASE_URL when set (required in production), so a forged Host
    header can never make the site mail someone a link to another server; otherwise the address this
    request came to."""
    base = current_app.config.get("KINDCITY_BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def site_request_context():
    """A request context on the site's public address, so url_for(_external=True) gives links donors can
    open from a command or a job."""
    config = current_app.config
    base = config.get("KINDCITY_BASE_URL") or (f"http://{config['SERVER_NAME']}" if config.get("SERVER_NAME")
                                               else "http://127.0.0.1:5000")
    return current_app.test_request_context("/", base_url=base)
