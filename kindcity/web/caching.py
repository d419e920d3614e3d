"""HTTP caching of public pages: validators, Cache-Control, 304, and rendered pages kept in memory.

Register a public GET view with one line, ``@public_page`` (under its route decorator). Then:

1. Reading a page writes nothing: a need past its deadline reads as closed at once
   (``Need.shown_status``, a rule of every query), and the scheduled upkeep (kindcity/jobs/upkeep.py)
   records it. The first moment time alone could change a page (``_upkeep_horizon``) bounds how long a
   data version is trusted without reading it.
2. A cheap *data version* is read in one statement: the newest audit entry, the newest ledger
   transaction and the newest need change (index lookups, whatever the data size). Every change that
   public pages show is audited, journaled or touches a need. Other capabilities whose public pages
   read further tables add them with ``register_version_source``.
3. The weak ETag is a hash of that version, the Korea-time date (pages count "days left"), the
   locale, the URL, the visitor (user id and CSRF secret: a logged-in header carries a form), and
   the release (code, templates, catalogues). ``If-None-Match`` that matches gets 304 at once.
4. Anonymous visitors share the same bytes, so a page rendered for one version is kept in a small
   per-process LRU and served again until the version or the date moves (or KINDCITY_PAGE_CACHE_SECONDS
   pass: a safety net for edits that bypass the audit log, such as re-seeding the district).
   ``KINDCITY_PAGE_CACHE_SIZE = 0`` turns that store off; validators still work.
5. In production a worker reuses, for anonymous visitors, the data version it read less than
   ``KINDCITY_DATA_VERSION_SECONDS`` ago (default 1 s; 0 elsewhere), unless the upkeep horizon has
   passed. A busy page is then served without touching the database, at the price of showing
   someone else's change up to a second late. Logged-in visitors always read the version, so a
   donor or staff member sees their own change at once.

6. The front door (``init_app``, a WSGI middleware) answers an anonymous GET for a page stored
   under the trusted version without entering Flask at all. It serves only visitors whose request
   the app would answer the same way: no cookie at all, or nothing but a signed session cookie that
   holds the chosen language (no login, no flashes, no remember-me cookie). The stored response,
   headers included, is what the app sent for the same URL and language. Anything else, and any
   revalidation (If-None-Match), goes through the app. Install ProxyFix (if any) outside it.
   A page that renders a CSRF token for an anonymous visitor is never stored nor validated.

Cache-Control: ``public, max-age=0, must-revalidate`` for anonymous visitors (any cache may keep the
page but must ask again), ``private, no-cache`` once logged in or when the response sets a cookie.
With ``KINDCITY_SHARED_CACHE_SECONDS`` (1 in production) the anonymous form adds ``s-maxage``: a shared
cache in front of several app servers (deploy/nginx's micro-cache) may serve the page that long
without asking; browsers still revalidate every time.
Pages with flashed messages waiting are never cached: showing them consumes them.
"""
from __future__ import annotations

import hashlib
import threading
import time as clock
from collections import OrderedDict
from datetime import datetime, time, timedelta, timezone
from functools import wraps
from pathlib import Path
from typing import Callable

from flask import Response, current_app, g, make_response, request, session
from flask_login import current_user
from itsdangerous import BadSignature
from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement
from werkzeug.http import parse_cookie

from ..domain.needs import NeedStatus
from ..domain.pledges import HOLDING
from ..domain.time import SEOUL, seoul_today, utcnow
from ..extensions import db
from ..i18n import current_locale
from ..paths import PACKAGE

ANONYMOUS_CACHE_CONTROL = "public, max-age=0, must-revalidate"
PRIVATE_CACHE_CONTROL = "private, no-cache"
NO_STORE = "private, no-store"


def anonymous_cache_control() -> str:
    shared = current_app.config.get("KINDCITY_SHARED_CACHE_SECONDS", 0)
    return f"public, max-age=0, s-maxage={shared}, must-revalidate" if shared else ANONYMOUS_CACHE_CONTROL


def no_store(response: Response) -> Response:
    """A page no browser history, proxy or cache may keep: personal data, a token in its address, an
    unpublished photo, a receipt."""
    response.headers["Cache-Control"] = NO_STORE
    return response
UPKEEP_RECHECK = timedelta(seconds=60)  # bound on trusting a horizon, for writes outside the version
_VERSION_KEY = "kindcity.data_version"

_version_sources: list[Callable[[], ColumnElement]] = []


def register_version_source(source: Callable[[], ColumnElement]) -> None:
    """Add a scalar SQL expression (e.g. the newest row of a table public pages read) to the data
    version. Keep it an index lookup: it runs on every public request."""
    if source not in _version_sources:
        _version_sources.append(source)


def _newest_audit_entry():
    from ..models import AuditEntry
    return select(func.max(AuditEntry.id)).scalar_subquery()


def _newest_ledger_transaction():
    from ..models import LedgerTransaction
    return select(func.max(LedgerTransaction.id)).scalar_subquery()


def _newest_need_change():
    from ..models import Need
    return select(func.max(Need.updated_at)).scalar_subquery()


def _newest_figures():
    from ..services.figures import newest_count
    return newest_count()


for _source in (_newest_audit_entry, _newest_ledger_transaction, _newest_need_change, _newest_figures):
    register_version_source(_source)


# --- per-app state -----------------------------------------------------------------------------

class _LRU:
    """A small thread-safe LRU map (gunicorn threads share one per worker process)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class _State:
    def __init__(self, app):
        self.release = _release_token(app)
        self.pages = _LRU(int(app.config.get("KINDCITY_PAGE_CACHE_SIZE", 256)))
        self.page_seconds = float(app.config.get("KINDCITY_PAGE_CACHE_SECONDS", 60))
        self.horizons = _LRU(64)
        self.front = _LRU(int(app.config.get("KINDCITY_PAGE_CACHE_SIZE", 256)))
        self.version_tokens = _LRU(16)
        # How long an anonymous request may reuse the version another request of this worker read.
        self.trust_seconds = float(app.config.get("KINDCITY_DATA_VERSION_SECONDS", 0))
        self.trusted: tuple | None = None  # (version, when it was read (monotonic), its upkeep horizon)


_state_lock = threading.Lock()


def _state(app=None) -> _State:
    app = app or current_app._get_current_object()
    state = app.extensions.get("kindcity_caching")
    if state is None:
        with _state_lock:
            state = app.extensions.setdefault("kindcity_caching", _State(app))
    return state


def clear_page_cache() -> None:
    """Forget rendered pages, upkeep horizons and the trusted version (tests; after editing data by hand)."""
    state = _state()
    state.pages.clear()
    state.front.clear()
    state.horizons.clear()
    state.trusted = None


def _release_token(app) -> str:
    """Changes when the code, templates or catalogues change, so a new release never answers 304 with
    an old page. The same in every worker of one deployment (file metadata, not process start)."""
    if app.config.get("KINDCITY_RELEASE"):
        return str(app.config["KINDCITY_RELEASE"])
    root = PACKAGE
    folders = [root, Path(app.template_folder)] if app.template_folder else [root]
    digest = hashlib.sha1()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".py", ".html", ".mo", ".json") and "__pycache__" not in path.parts:
                stat = path.stat()
                digest.update(f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode())
    return digest.hexdigest()[:16]


# --- the data version and the upkeep before it ----------------------------------------------------

def _read_version() -> tuple:
    return tuple(db.session.execute(select(*[source() for source in _version_sources])).one())


def _upkeep_horizon(min_open_deadline, min_hold_expiry) -> datetime:
    """The first moment the upkeep could change anything at this version: an open need expires once
    its deadline day is over in Korea; an unpaid hold is released at its expiry."""
    moments = []
    if min_open_deadline is not None:
        moments.append(datetime.combine(min_open_deadline + timedelta(days=1), time.min, SEOUL))
    if min_hold_expiry is not None:
        moments.append(min_hold_expiry if min_hold_expiry.tzinfo else min_hold_expiry.replace(tzinfo=timezone.utc))
    return min(moments) if moments else datetime.max.replace(tzinfo=timezone.utc)


def _read_version_and_horizon() -> tuple[tuple, datetime]:
    from ..models import Need, Pledge

    soonest_deadline = (select(func.min(Need.deadline)).where(Need.status == NeedStatus.OPEN).scalar_subquery())
    soonest_hold = (select(func.min(Pledge.hold_expires_at))
                    .where(Pledge.status.in_([s.value for s in HOLDING])).scalar_subquery())
    row = db.session.execute(select(*[source() for source in _version_sources], soonest_deadline,
                                    soonest_hold)).one()
    return tuple(row[:-2]), _upkeep_horizon(row[-2], row[-1])


def current_data_version() -> tuple:
    """The data version for this request. Once per request."""
    version = request.environ.get(_VERSION_KEY)
    if version is not None:
        return version
    state = _state()
    now = utcnow()
    trusted = state.trusted
    if (trusted is not None and state.trust_seconds > 0 and not current_user.is_authenticated
            and clock.monotonic() - trusted[1] < state.trust_seconds and now < trusted[2]):
        request.environ[_VERSION_KEY] = trusted[0]
        return trusted[0]
    version = _read_version()
    horizon = state.horizons.get(version)
    if horizon is None or now >= horizon[0] or now >= horizon[1]:
        version, moment = _read_version_and_horizon()
        horizon = (moment, now + UPKEEP_RECHECK)
        state.horizons.put(version, horizon)
    state.trusted = (version, clock.monotonic(), min(horizon))
    request.environ[_VERSION_KEY] = version
    return version


# --- the decorator ---------------------------------------------------------------------------------

def _visitor() -> str:
    if current_user.is_authenticated:
        secret = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), "")
        return f"user:{current_user.get_id()}:{hashlib.sha1(str(secret).encode()).hexdigest()[:12]}"
    return "anonymous"


def _etag(state: _State, version: tuple, visitor: str, extra: str = "") -> str:
    token = state.version_tokens.get(version)
    if token is None:
        token = repr(version)
        state.version_tokens.put(version, token)
    parts = "|".join((state.release, token, seoul_today().isoformat(), current_locale(), visitor,
                      request.host_url, request.full_path, extra))
    return hashlib.sha1(parts.encode()).hexdigest()[:32]


def _apply_headers(response: Response, etag: str, anonymous: bool) -> Response:
    private = not anonymous or session.modified or "Set-Cookie" in response.headers
    headers = response.headers
    headers["ETag"] = f'W/"{etag}"'
    headers["Cache-Control"] = PRIVATE_CACHE_CONTROL if private else anonymous_cache_control()
    headers["Vary"] = "Cookie"
    return response


def _front_key(state: _State, environ, visitor: str) -> tuple | None:
    """Where the front door keeps a GET's response: only while the trusted version holds."""
    trusted = state.trusted
    if (trusted is None or state.trust_seconds <= 0 or clock.monotonic() - trusted[1] >= state.trust_seconds
            or utcnow() >= trusted[2]):
        return None
    return (trusted[0], seoul_today(), visitor, environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"),
            environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))


# Session keys of an anonymous visitor that leave a stored public page the same for everyone with
# the same language: the language itself, Flask-Login's marker of a session without a login, and
# the CSRF secret (a page that renders a token from it is never stored: see public_page).
_ANONYMOUS_SESSION_KEYS = frozenset({"lang", "_fresh", "csrf_token"})


def _front_visitor(app, cookie_header: str | None) -> str | None:
    """Who the front door may serve: no cookie at all (""), or only a session cookie holding nothing
    but the language and the anonymous markers above ("lang:en"). Anything else (a login, flashes,
    a remember-me cookie, an unreadable cookie) is None: the app answers."""
    if not cookie_header:
        return ""
    cookies = parse_cookie(cookie_header)
    name = app.config.get("SESSION_COOKIE_NAME", "session")
    serializer = getattr(app.session_interface, "get_signing_serializer", lambda _app: None)(app)
    if set(cookies) != {name} or serializer is None:
        return None
    try:
        data = serializer.loads(cookies[name], max_age=int(app.permanent_session_lifetime.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or set(data) - _ANONYMOUS_SESSION_KEYS:
        return None
    return f"lang:{data.get('lang', '')}"


def public_page(view=None, *, aggregates: bool = False):
    """Validators, 304 and the shared page store for a public GET view (see the module docstring).
    ``aggregates=True`` marks a page showing the district's counted figures (kindcity/web/aggregates.py);
    their newest count is part of the data version, so such a page needs nothing more."""
    if view is None:
        return lambda inner: public_page(inner, aggregates=aggregates)

    @wraps(view)
    def wrapped(*args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(*args, **kwargs)
        if session.get("_flashes"):  # this view shows and consumes them: nobody may keep the page
            response = make_response(view(*args, **kwargs))
            response.headers["Cache-Control"] = PRIVATE_CACHE_CONTROL
            return response
        state = _state()
        version = current_data_version()
        anonymous = not current_user.is_authenticated
        etag = _etag(state, version, _visitor())
        if request.if_none_match.contains_weak(etag):
            return _apply_headers(Response(status=304), etag, anonymous)
        stored = state.pages.get(etag) if anonymous else None
        if stored is not None and clock.monotonic() - stored[0] < state.page_seconds:
            response = Response(stored[1], status=200, content_type=stored[2])
            if stored[3]:
                response.headers["Content-Disposition"] = stored[3]
        else:
            response = make_response(view(*args, **kwargs))
            if response.status_code != 200:
                return response
            if anonymous and g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")):
                # A form for this visitor's session: theirs alone, and not covered by the ETag.
                response.headers["Cache-Control"] = PRIVATE_CACHE_CONTROL
                return response
            if anonymous and not session.modified and not response.headers.getlist("Set-Cookie"):
                state.pages.put(etag, (clock.monotonic(), response.get_data(), response.content_type,
                                       response.headers.get("Content-Disposition")))
        if (anonymous and request.method == "GET" and not session.modified and state.trusted is not None
                and state.trusted[0] == version):
            visitor = _front_visitor(current_app, request.environ.get("HTTP_COOKIE"))
            key = _front_key(state, request.environ, visitor) if visitor is not None else None
            if key is not None:
                request.environ[_FRONT_KEY] = key  # the front door keeps the finished response
        return _apply_headers(response, etag, anonymous)

    wrapped.kindcity_public_page = True
    return wrapped


# --- the front door --------------------------------------------------------------------------------

_FRONT_KEY = "kindcity.front_key"


class FrontDoor:
    """WSGI middleware in front of the app: serves stored responses to anonymous GETs (module docstring, 6)."""

    def __init__(self, app, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app

    def __call__(self, environ, start_response):
        if (environ.get("REQUEST_METHOD") != "GET" or "HTTP_IF_NONE_MATCH" in environ
                or "HTTP_AUTHORIZATION" in environ):
            return self.wsgi_app(environ, start_response)
        state = _state(self.app)
        visitor = _front_visitor(self.app, environ.get("HTTP_COOKIE"))
        if visitor is None:
            return self.wsgi_app(environ, start_response)
        key = _front_key(state, environ, visitor)
        stored = state.front.get(key) if key is not None else None
        if stored is not None and clock.monotonic() - stored[0] < state.page_seconds:
            start_response("200 OK", list(stored[1]))
            return [stored[2]]
        seen: dict = {}

        def capture(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, capture)
        key = environ.get(_FRONT_KEY)
        if (key is None or not seen.get("status", "").startswith("200 ")
                or any(name.lower() == "set-cookie" for name, _ in seen["headers"])):
            return body
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        state.front.put(key, (clock.monotonic(), tuple(seen["headers"]), data))
        return [data]


def init_app(app) -> None:
    """Put the front door before the app (after any other WSGI middleware already installed)."""
    app.wsgi_app = FrontDoor(app, app.wsgi_app)


def public_page_endpoints(app) -> set[str]:
    """Every endpoint registered with ``@public_page`` (the query-count test covers each)."""
    return {endpoint for endpoint, view in app.view_functions.items()
            if getattr(view, "kindcity_public_page", False)}
