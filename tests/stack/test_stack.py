"""The whole stack as production runs it, on 127.0.0.1 only: PostgreSQL, gunicorn with several workers
in production mode, a job worker (`kindcity worker`) delivering mail to an SMTP server on 127.0.0.1
(aiosmtpd, started by the test), nginx with deploy/'s configuration and a certificate made for the run,
and headless Chromium going through nginx. The worker is killed (SIGKILL) in the middle and restarted;
two clients on different loopback addresses (127.0.0.2 and 127.0.0.3) are told apart behind nginx.
Every process is stopped at the end, and every wait is bounded.
"""
from __future__ import annotations

import email
import email.policy
import html
import http.client
import json
import os
import re
import secrets
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tests.stack import nginx
from tests.stack.conftest import CHECKOUT
from tests.stack.processes import Processes, free_port, urlopen

pytestmark = pytest.mark.stack
VENV_BIN = Path(sys.executable).parent
GUNICORN_WORKERS = 3
WORKER_STALLED_SECONDS = 3   # the worker beats every second; /readyz gives up on it after 3
REFERRALS_PER_ADDRESS = 2


class Mailbox:
    """An SMTP server's handler (aiosmtpd): keeps every message it accepts."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, recipient: str, subject_part: str = "") -> list[email.message.EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == recipient and subject_part in m["Subject"]]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Stack:
    url: str              # https://127.0.0.1:<port>, nginx
    app_url: str          # http://127.0.0.1:<port>, gunicorn itself
    env: dict[str, str]
    folder: Path
    processes: Processes
    tls: ssl.SSLContext   # trusts the run's certificate
    database_url: str
    mailbox: Mailbox = field(default_factory=Mailbox)

    def start_worker(self) -> None:
        self.processes.start("worker", [str(VENV_BIN / "kindcity"), "worker"], self.env)

    def readyz(self) -> tuple[int, dict[str, dict]]:
        try:
            with urlopen(self.url + "/readyz", context=self.tls) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        return status, {check["name"]: check for check in json.loads(body)["checks"]}

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
    from aiosmtpd.controller import Controller

    from tests.pgdb import own_database, require_postgres

    require_postgres("the stack test")
    folder = tmp_path_factory.mktemp("stack")
    processes = Processes(folder)
    app_port, http_port, https_port, smtp_port = free_port(), free_port(), free_port(), free_port()
    url = f"https://127.0.0.1:{https_port}"
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        with own_database("stack") as database_url:
            env = {
                "PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": str(folder), "LANG": "C.UTF-8",
                "KINDCITY_ENV": "production", "KINDCITY_SECRET_KEY": secrets.token_urlsafe(48),
                "KINDCITY_BASE_URL": url, "DATABASE_URL": database_url, "KINDCITY_RELEASE": "stack-test",
                "KINDCITY_INSTANCE_PATH": str(folder / "instance"), "KINDCITY_OUTBOX": str(folder / "outbox"),
                "KINDCITY_UPLOAD_DIR": str(folder / "uploads"),
                "KINDCITY_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
                "KINDCITY_PROXY_HOPS": "1",  # nginx's X-Forwarded-For names the visitor
                "KINDCITY_WORKER_STALLED_SECONDS": str(WORKER_STALLED_SECONDS),
                "KINDCITY_JOB_RETRY_BASE_SECONDS": "1",
                "KINDCITY_REFERRAL_MAX_PER_ADDRESS": str(REFERRALS_PER_ADDRESS),
                "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{app_port} --workers {GUNICORN_WORKERS} --threads 2 "
                                     "--timeout 60 --graceful-timeout 5",
            }
            stack = Stack(url=url, app_url=f"http://127.0.0.1:{app_port}", env=env, folder=folder,
                          processes=processes, tls=ssl.create_default_context(), database_url=database_url,
                          mailbox=mailbox)
            try:
                stack.kindcity("db", "upgrade")
                stack.kindcity("seed")
                processes.start("gunicorn", [str(VENV_BIN / "gunicorn"), "kindcity:create_app()"], env)
                stack.start_worker()
                processes.wait_http(stack.app_url + "/healthz", "gunicorn", timeout=90)
                config = nginx.render(folder / "nginx", app_servers=[f"127.0.0.1:{app_port}"],
                                      static_folder=CHECKOUT / "static", http_port=http_port, https_port=https_port)
                processes.start("nginx", [nginx.NGINX, "-c", str(config), "-p", str(config.parent),
                                          "-e", str(config.parent / "error.log")], env)
                stack.tls = ssl.create_default_context(cafile=str(config.parent / "fullchain.pem"))
                processes.wait_http(url + "/healthz", "nginx", context=stack.tls)
                wait_for(lambda: stack.readyz()[0] == 200, 60, "the worker's first heartbeat (/readyz)")
                yield stack
            finally:
                processes.stop_all()
                assert not processes.running
    finally:
        smtp.stop()


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
        staff = factories.user("staff", centre_code="district-welfare", money_staff=True)  # statements
        item = factories.need(author=staff, **need)
        db.session.commit()
        arranged = staff.email, item.id
        db.session.remove()
        db.engine.dispose()
    return arranged


def _ready_again(stack: Stack) -> dict[str, dict]:
    return wait_for(lambda: (lambda status, checks: status == 200 and checks)(*stack.readyz()),
                    WORKER_STALLED_SECONDS + 30, "/readyz to be ready with the worker")


def test_through_nginx_a_donor_registers_pledges_and_staff_record_the_transfer(stack, browser, tmp_path):
    """Mail goes from the worker to the SMTP server; the worker is killed -9 in the middle, and the mail
    asked for while it was down arrives exactly once after it is restarted."""
    from playwright.sync_api import expect

    from tests.factories import PASSWORD

    donor_email = "donor-stack@example.org"
    staff_email, need_id = _arrange(stack, title="홀몸 어르신 겨울 난방비 (스택)", target=600_000)
    donor = _context(browser, stack)
    page = donor.new_page()

    # A donor registers, in Korean, over TLS through nginx, on a production server with CSRF on.
    page.goto("/account/register")
    page.locator("#display_name").fill("김후원")
    page.locator("#email").fill(donor_email)
    page.locator("#password").fill("a-long-password-1")
    page.locator("#confirm").fill("a-long-password-1")
    page.locator("#consent").check()  # 개인정보 수집·이용 동의, required
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account/login"))

    # The worker delivers the confirmation link to the SMTP server; the donor opens it and logs in.
    [confirmation] = wait_for(lambda: stack.mailbox.to(donor_email), 60, "the confirmation mail over SMTP")
    link = re.search(re.escape(stack.url) + r"/account/confirm/\S+", confirmation.get_content()).group(0)
    page.goto(link)
    page.wait_for_url(re.compile(r"/account/login"))
    page.locator("#email").fill(donor_email)
    page.locator("#password").fill("a-long-password-1")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/me/"))
    assert any(cookie["name"] == "session" and cookie["secure"] for cookie in donor.cookies())

    # The worker is killed -9; within the stalled time /readyz tells the monitoring.
    assert stack.processes.stop("worker", signal.SIGKILL) == -signal.SIGKILL
    checks = wait_for(lambda: (lambda status, checks: status == 503 and checks)(*stack.readyz()),
                      WORKER_STALLED_SECONDS + 15, "/readyz to notice the dead worker")
    assert checks["database"]["ok"] and checks["migrations"]["ok"] and not checks["worker"]["ok"]
    assert checks["worker"]["detail"].startswith("no worker heartbeat for ")

    # Meanwhile the donor pledges 200,000원 by bank transfer and reads the reference code.
    page.goto(f"/needs/{need_id}")
    page.locator(f"a[href$='/needs/{need_id}/pledge']").first.click()
    page.locator("#amount").fill("200,000")
    page.locator("main form button[type=submit]").click()
    reference_box = page.locator(".reference")
    expect(reference_box).to_have_text(re.compile(r"^KC[2-9A-Z]{6}$"))
    reference = reference_box.inner_text()
    time.sleep(2)
    assert stack.mailbox.to(donor_email, reference) == []  # the job waits in the queue: nobody runs it

    # A new worker takes the job: the mail with the payment details arrives, once.
    stack.start_worker()
    [instructions] = wait_for(lambda: stack.mailbox.to(donor_email, reference), 60,
                              "the pledge's mail after the worker's restart")
    body = instructions.get_content()
    assert "광주은행" in body and "200,000원" in body and reference in body
    assert _ready_again(stack)["worker"]["detail"].startswith("1 worker(s) alive")

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
    # The worker delivers the payment's thank-you, with the receipt's link, to the SMTP server.
    [thanks] = wait_for(lambda: stack.mailbox.to(donor_email, "200,000"), 60, "the payment thank-you over SMTP")
    assert "/me/receipts/" in thanks.get_content()

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

    # Nothing was sent twice, nothing went to the outbox; the worker logged each job with its request.
    assert len(stack.mailbox.to(donor_email)) == 3, [m["Subject"] for m in stack.mailbox.to(donor_email)]
    assert stack.outbox() == []
    runs = [json.loads(line) for line in stack.processes.log("worker").splitlines() if line.startswith('{"')]
    delivered = [run for run in runs if run["job"] == "mail.deliver" and run["status"] == "succeeded"]
    assert len(delivered) >= 2 and all(re.fullmatch(r"[0-9a-f]{32}", run["request_id"]) for run in delivered)


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
    assert checks["worker"]["ok"] and re.fullmatch(r"1 worker\(s\) alive, last heartbeat [0-9.]+ s ago",
                                                    checks["worker"]["detail"])


class LoopbackClient:
    """HTTPS to nginx from one loopback address of its own (127.0.0.2, 127.0.0.3, ...): to nginx, and so
    to the app behind it, a different visitor. Keeps its cookies; follows no redirect."""

    def __init__(self, stack: Stack, source: str):
        self.stack, self.source, self.cookies = stack, source, {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        url = urlsplit(self.stack.url)
        connection = http.client.HTTPSConnection(url.hostname, url.port, context=self.stack.tls, timeout=15,
                                                 source_address=(self.source, 0))
        headers = {"Referer": self.stack.url + path, "Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body, headers["Content-Type"] = urlencode(form), "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name] = value
            return response.status, text
        finally:
            connection.close()

    def refer(self) -> int:
        status, page = self.request("GET", "/refer?lang=en")
        assert status == 200, page[-2000:]
        token = html.unescape(re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1))
        status, _ = self.request("POST", "/refer?lang=en", form={
            "csrf_token": token, "dong": "hwajeong1", "urgency": "normal", "consent": "y",
            "situation": "The grandmother on the second floor has had no heating since the cold started.",
        })
        return status


def test_two_clients_behind_nginx_each_hit_the_referral_limit_of_their_own_address(stack):
    """KINDCITY_PROXY_HOPS=1: the app takes the address nginx saw (X-Forwarded-For), so each visitor has
    a limit of its own; without it every visitor would share nginx's one limit."""
    first, second = LoopbackClient(stack, "127.0.0.2"), LoopbackClient(stack, "127.0.0.3")
    assert [first.refer() for _ in range(REFERRALS_PER_ADDRESS)] == [303] * REFERRALS_PER_ADDRESS
    assert first.refer() == 429
    assert [second.refer() for _ in range(REFERRALS_PER_ADDRESS)] == [303] * REFERRALS_PER_ADDRESS
    assert second.refer() == 429
    assert first.refer() == 429  # still held back: the other visitor's referrals did not reset its count
    time.sleep(0.5)
    posts = [json.loads(line) for line in stack.processes.log("gunicorn").splitlines() if line.startswith('{"')]
    posts = [(line["client"], line["status"]) for line in posts
             if line["method"] == "POST" and line["path"] == "/refer"]
    assert posts == [("127.0.0.2", 303)] * 2 + [("127.0.0.2", 429)] + [("127.0.0.3", 303)] * 2 + [
        ("127.0.0.3", 429), ("127.0.0.2", 429)]
