"""Access is decided here and only here: one decorator per audience."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort, request
from flask_login import current_user

from ..services import Actor


def client_address() -> str:
    """The client's network address, for every limit per address and every audit entry. Behind a proxy,
    KINDCITY_PROXY_HOPS installs ProxyFix (web/__init__.py: trust_proxies), which makes remote_addr the
    client's instead of the proxy's. At most 64 characters, as the tables keep it, whatever a
    misconfigured proxy passes on."""
    return (request.remote_addr or "unknown")[:64]


def current_actor() -> Actor:
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return Actor(user, client_address())


def _require(check: Callable[[object], bool]):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from ..extensions import login_manager
                return login_manager.unauthorized()
            if not check(current_user):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


login_required = _require(lambda user: True)
staff_required = _require(lambda user: user.is_staff)
admin_required = _require(lambda user: user.is_admin)
donor_required = _require(lambda user: user.role == "donor")
money_staff_required = _require(lambda user: user.handles_bank_account)


def protect_blueprint(blueprint, decorator) -> None:
    """Apply one access rule to every view of a blueprint, so no view can forget it."""

    @blueprint.before_request
    @decorator
    def _check():
        return None
