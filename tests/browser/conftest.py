"""Browser tests: the real app behind a real HTTP server, driven by headless Chromium.

One live server (its own SQLite file, CSRF on) and one Chromium per session; a fresh browser
context per test, so cookies and the chosen language never leak from one test to the next.
The browser is Debian's Chromium (KINDCITY_CHROMIUM or /usr/bin/chromium); Playwright never
downloads one. Without it the tests skip, except under CI, where they fail.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Callable

import pytest
from werkzeug.serving import make_server

from kindcity.extensions import db
from kindcity.services.reference import seed_district
from tests import factories
from tests.conftest import make_test_app

CHROMIUM = os.environ.get("KINDCITY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class LiveServer:
    url: str
    app: object

    def t(self, msgid: str, lang: str = "ko", **variables) -> str:
        """The text the site shows for ``msgid`` in ``lang``, from the live catalogue (not a copy)."""
        from flask_babel import gettext
        with self.app.test_request_context(f"/?lang={lang}"):
            return str(gettext(msgid, **variables))

    def make_user(self, role: str = "staff", **kwargs) -> "UserInfo":
        """Create a user straight in the live server's database; returns plain values."""
        with self.app.app_context():
            person = factories.user(role, **kwargs)
            info = UserInfo(id=person.id, email=person.email, name=person.display_name)
            db.session.commit()
        return info

    def make_need(self, **kwargs) -> "NeedInfo":
        """Create a need (open by default) in the live database. ``author`` is a UserInfo or None."""
        from kindcity.models import User
        with self.app.app_context():
            author = kwargs.pop("author", None)
            if author is not None:
                kwargs["author"] = db.session.get(User, author.id)
            item = factories.need(**kwargs)
            info = NeedInfo(id=item.id, title=item.title)
            db.session.commit()
        return info


@dataclass(frozen=True)
class UserInfo:
    id: int
    email: str
    name: str
    password: str = factories.PASSWORD


@dataclass(frozen=True)
class NeedInfo:
    id: int
    title: str


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    app = make_test_app("sqlite:///" + str(folder / "kindcity-live.sqlite3"),
                        WTF_CSRF_ENABLED=True, SERVER_NAME=None, KINDCITY_OUTBOX=str(folder / "outbox"))
    with app.app_context():
        db.create_all()
        seed_district("gwangju-seogu")
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="kindcity-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: Chromium is required for the browser tests but {CHROMIUM} is missing "
                        "(apt-get install chromium, or set KINDCITY_CHROMIUM)")
        pytest.skip("Chromium not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_context(browser, live_server) -> Callable:
    """Open a fresh context (its own cookies); all are closed at the end of the test."""
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    contexts = []

    def _open(*, phone: bool = False, **kwargs):
        context = browser.new_context(viewport=PHONE if phone else DESKTOP, locale="ko-KR",
                                      base_url=live_server.url, **kwargs)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    """A desktop (1280x900) page in a fresh context."""
    return new_context().new_page()


@pytest.fixture
def phone_page(new_context):
    """A phone (390x844) page in a fresh context."""
    return new_context(phone=True).new_page()


def log_in(page, user: UserInfo) -> None:
    """Log in through the real form (which carries its CSRF token) and wait for the staff or donor page."""
    page.goto("/account/login")
    page.locator("#email").fill(user.email)
    page.locator("#password").fill(user.password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/account/login" not in url)


def no_horizontal_scroll(page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} scrolls sideways at {width}px: scrollWidth={scroll_width}"
