"""The whole stack as production runs it, on 127.0.0.1 only: PostgreSQL, gunicorn with several workers
in production mode, nginx with deploy/'s configuration and a certificate made for the run, and
headless Chromium going through nginx. Every process is stopped at the end.

When the job queue lands, its worker joins the fixture below (one `processes.start("worker", ...)`
beside gunicorn's), with a local SMTP server (aiosmtpd, as tests/integration/test_mail_smtp.py) in
place of the outbox.
"""
from __future__ import annotations

import email
import email.policy
import json
import os
import re
import secrets
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.stack import nginx
from tests.stack.conftest import CHECKOUT
from tests.stack.processes import Processes, free_port, urlopen

pytestmark = pytest.mark.stack
VENV_BIN = Path(sys.executable).parent
GUNICORN_WORKERS = 3


@dataclass
class Stack:
    url: str              # https://127.0.0.1:<port>, nginx
    app_url: str          # http://127.0.0.1:<port>, gunicorn itself
    env: dict[str, str]
    folder: Path
    processes: Processes
    tls: ssl.SSLContext   # trusts the run's certificate
    database_url: str

    def kindcity(self, *args: str) -> str:
        result = subprocess.run([str(VENV_BIN / "kindcity"), *args], env=self.env, cwd=self.folder,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"kindcity {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def get(self, path: str, headers: dict[str, str] | None = None):
        with urlopen(self.url + path, headers=headers, context=self.tls) as response:
            return response.status, dict(response.headers), response.read().decode()

    def outbox(self) -> list[email.message.EmailMessage]:
        folder = Path(self.env["KINDCITY_OUTBOX"])
        return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in sorted(folder.glob("*.eml"))] if folder.exists() else []


def _in_process_app(database_url: str):
    """The same database through the app factory, for what the test arranges behind the site's back."""
    from tests.conftest import make_test_app
    return make_test_app(database_url)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from tests.pgdb import own_database, require_postgres

    require_postgres("the stack test")
    folder = tmp_path_factory.mktemp("stack")
    processes = Processes(folder)
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    url = f"https://127.0.0.1:{https_port}"
    with own_database("stack") as database_url:
        env = {
            "PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": str(folder), "LANG": "C.UTF-8",
            "KINDCITY_ENV": "production", "KINDCITY_SECRET_KEY": secrets.token_urlsafe(48),
            "KINDCITY_BASE_URL": url, "DATABASE_URL": database_url, "KINDCITY_RELEASE": "stack-test",
            "KINDCITY_INSTANCE_PATH": str(folder / "instance"), "KINDCITY_OUTBOX": str(folder / "outbox"),
            "KINDCITY_UPLOAD_DIR": str(folder / "uploads"),
            "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{app_port} --workers {GUNICORN_WORKERS} --threads 2 "
                                 "--timeout 60 --graceful-timeout 5",
        }
        stack = Stack(url=url, app_url=f"http://127.0.0.1:{app_port}", env=env, folder=folder,
                      processes=processes, tls=ssl.create_default_context(), database_url=database_url)
        try:
            stack.kindcity("db", "upgrade")
            stack.kindcity("seed")
            processes.start("gunicorn", [str(VENV_BIN / "gunicorn"), "kindcity:create_app()"], env)
            # The job worker starts here once the queue exists: processes.start("worker", [kindcity, "worker"], env)
            processes.wait_http(stack.app_url + "/healthz", "gunicorn", timeout=90)
            config = nginx.render(folder / "nginx", app_servers=[f"127.0.0.1:{app_port}"],
                                  static_folder=CHECKOUT / "static", http_port=http_port, https_port=https_port)
            processes.start("nginx", [nginx.NGINX, "-c", str(config), "-p", str(config.parent),
                                      "-e", str(config.parent / "error.log")], env)
            stack.tls = ssl.create_default_context(cafile=str(config.parent / "fullchain.pem"))
            processes.wait_http(url + "/healthz", "nginx", context=stack.tls)
            yield stack
        finally:
            processes.stop_all()


@pytest.fixture(scope="module")
def browser():
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the stack test needs Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _context(browser, stack: Stack):
    context = browser.new_context(base_url=stack.url, ignore_https_errors=True, locale="ko-KR",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    return context


def _arrange(stack: Stack, **need):
    """A staff member of the district office and an open need, written straight into the database."""
    from kindcity.extensions import db
    from tests import factories

    app = _in_process_app(stack.database_url)
    with app.app_context():
        staff = factories.user("staff", centre_code="district-welfare")
        item = factories.need(author=staff, **need)
        db.session.commit()
        arranged = staff.email, item.id
        db.session.remove()
        db.engine.dispose()
    return arranged


def test_through_nginx_a_donor_registers_pledges_and_staff_record_the_transfer(stack, browser, tmp_path):
    from playwright.sync_api import expect

    from tests.factories import PASSWORD

    staff_email, need_id = _arrange(stack, title="홀몸 어르신 겨울 난방비 (스택)", target=600_000)
    donor = _context(browser, stack)
    page = donor.new_page()

    # A donor registers, in Korean, over TLS through nginx, on a production server with CSRF on.
    page.goto("/account/register")
    page.locator("#display_name").fill("김후원")
    page.locator("#email").fill("donor-stack@example.org")
    page.locator("#password").fill("a-long-password-1")
    page.locator("#confirm").fill("a-long-password-1")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/me/"))
    assert any(cookie["name"] == "session" and cookie["secure"] for cookie in donor.cookies())

    # The donor pledges 200,000원 by bank transfer and reads the reference code.
    page.goto(f"/needs/{need_id}")
    page.locator(f"a[href$='/needs/{need_id}/pledge']").first.click()
    page.locator("#amount").fill("200,000")
    page.locator("main form button[type=submit]").click()
    reference_box = page.locator(".reference")
    expect(reference_box).to_have_text(re.compile(r"^KC[2-9A-Z]{6}$"))
    reference = reference_box.inner_text()

    # Staff import the bank's statement through the same proxy (a multipart upload).
    statement = tmp_path / "statement.csv"
    statement.write_bytes(("거래내역조회\n계좌번호: 000-000-000000\n\n거래일시,적요,출금액,입금액,입금자명,잔액\n"
                           f"2026-11-29 10:12:00,타행이체,,\"200,000\",김후원 {reference},\"200,000\"\n").encode("cp949"))
    staff = _context(browser, stack).new_page()
    staff.goto("/account/login")
    staff.locator("#email").fill(staff_email)
    staff.locator("#password").fill(PASSWORD)
    staff.locator("main form button[type=submit]").click()
    staff.wait_for_url(lambda url: "/account/login" not in url)
    staff.goto("/staff/statements?lang=en")
    staff.locator("#statement").set_input_files(str(statement))
    staff.get_by_role("button", name="Preview").click()
    expect(staff.locator("ul.summary")).to_contain_text("Matched: 1")
    staff.get_by_role("button", name="Record these payments").click()
    expect(staff.locator(".flashes")).to_contain_text("1 payments recorded")

    # The donor's mail with the payment details went out (to the outbox: no SMTP in this run).
    mails = [m for m in stack.outbox() if m["To"] == "donor-stack@example.org" and reference in m["Subject"]]
    assert len(mails) == 1, [m["Subject"] for m in stack.outbox()]
    body = mails[0].get_content()
    assert "광주은행" in body and "200,000원" in body and reference in body

    # Anyone sees the money on the need page within seconds (the micro-cache keeps it a second).
    visitor = _context(browser, stack).new_page()
    deadline = time.monotonic() + 10
    while True:
        visitor.goto(f"/needs/{need_id}")
        if "33%" in visitor.locator(".progress .amounts").inner_text() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(visitor.locator(".progress .amounts")).to_contain_text("200,000원")
    expect(visitor.locator(".progress .amounts")).to_contain_text("33%")
    for context in (donor, staff.context, visitor.context):
        context.close()


def test_the_micro_cache_serves_anonymous_pages_and_follows_a_change_within_seconds(stack):
    deadline = time.monotonic() + 10
    statuses = []
    while time.monotonic() < deadline and "HIT" not in statuses:
        status, headers, _ = stack.get("/needs")
        assert status == 200
        statuses.append(headers.get("X-Cache-Status"))
    assert "HIT" in statuses, statuses  # a second visitor within the second got nginx's copy
    assert "s-maxage=1" in headers["Cache-Control"]

    # A logged-in visitor (any session cookie) goes past the cache.
    _, private, _ = stack.get("/needs", headers={"Cookie": "session=anything"})
    assert private["X-Cache-Status"] == "BYPASS"

    # A change shows within seconds, to visitors served from the cache.
    _arrange(stack, title="스택 캐시 새 수요")
    changed = time.monotonic()
    while "스택 캐시 새 수요" not in stack.get("/needs")[2]:
        assert time.monotonic() - changed < 6, "the new need did not show within 6 s"
        time.sleep(0.2)


def test_static_files_come_from_nginx_with_a_year_for_versioned_names(stack):
    _, _, home = stack.get("/")
    css = re.search(r'href="(/static/site\.css\?v=[0-9a-f]{12})"', home).group(1)
    status, headers, body = stack.get(css)
    assert status == 200 and ".chart-label" in body
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "X-Request-ID" not in headers  # nginx answered, the app never saw it


def test_one_log_line_per_request_names_nginxs_request_id(stack):
    status, headers, _ = stack.get("/impact")
    request_id = headers["X-Request-ID"]
    assert status == 200 and re.fullmatch(r"[0-9a-f]{32}", request_id)
    time.sleep(0.5)
    lines = [json.loads(line) for line in stack.processes.log("gunicorn").splitlines() if line.startswith("{")]
    (line,) = [line for line in lines if line["request_id"] == request_id]
    assert line["path"] == "/impact" and line["status"] == 200 and line["method"] == "GET"
    access = (stack.folder / "nginx" / "kindcity.access.log").read_text(encoding="utf-8").splitlines()
    assert any(json.loads(entry)["request_id"] == request_id for entry in access)


def test_readyz_through_nginx(stack):
    status, _, body = stack.get("/readyz")
    checks = {check["name"]: check for check in json.loads(body)["checks"]}
    assert status == 200 and checks["migrations"]["ok"] and checks["database"]["detail"] == "postgresql"
    assert checks["worker"]["detail"] == "no worker configured"
