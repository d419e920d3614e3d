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
