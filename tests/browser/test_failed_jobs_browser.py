"""An administrator finds a mail that could not go out on the jobs page, with the mail server's answer,
and sends it again with one button once the server is back. A real worker and a real queue: PostgreSQL
(this test runs in the PostgreSQL run of `make test`, browser tests included for it)."""
from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from kindcity.extensions import db
from tests import factories as f
from tests.jobqueue import RefusingSMTP, queue_app, smtp_server, start_worker, stop, wait_until

from .conftest import DESKTOP
from .test_accessibility import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]


def test_a_failed_mail_shows_on_the_admin_page_and_is_retried_from_there(browser, tmp_path):
    handler = RefusingSMTP(refuse=10**6)  # refuses everything until the test says otherwise
    with smtp_server(handler) as smtp_url, queue_app("qbrowser", tmp_path, KINDCITY_SMTP_URL=smtp_url,
                                                     WTF_CSRF_ENABLED=True, SERVER_NAME=None) as app:
        with app.app_context():
            admin = f.user("admin", name="관리자")
            donor = f.user("donor")
            db.session.commit()
            admin_email, donor_email = admin.email, donor.email
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        worker = start_worker(app, log=tmp_path / "worker.log")
        context = browser.new_context(viewport=DESKTOP, locale="ko-KR", base_url=f"http://127.0.0.1:{server.server_port}")
        context.set_default_timeout(15_000)
        try:
            def t(msgid, **values):
                from flask_babel import gettext
                with app.test_request_context("/?lang=ko"):
                    return str(gettext(msgid, **values))

            asking = context.new_page()  # the donor asks for a reset link; the mail server refuses it
            asking.goto("/account/reset")
            asking.get_by_label(t("E-mail")).fill(donor_email)
            asking.get_by_role("button", name=t("Send me a link")).click()
            asking.wait_for_url(re.compile(r"/account/login$"))
            asking.close()
            wait_until(lambda: handler.refused >= 3, 60, what="three refused attempts")

            page = context.new_page()
            page.goto("/account/login")
            page.get_by_label(t("E-mail")).fill(admin_email)
            page.get_by_label(t("Password")).fill(f.PASSWORD)
            page.get_by_role("button", name=t("Log in")).click()
            page.goto("/admin/jobs")
            expect(page.get_by_role("heading", level=1)).to_have_text(t("Jobs"))
            row = page.locator("tr", has_text="mail.deliver")
            for _ in range(30):  # the job turns failed once its last attempt is over
                if row.count():
                    break
                page.wait_for_timeout(500)
                page.reload()
            expect(row).to_contain_text("451")  # the mail server's answer
            expect(row).not_to_contain_text("/account/reset/")  # never the words of the mail
            assert_accessible(page)

            handler.refuse = 0  # the mail server is back
            row.get_by_role("button", name=t("Retry")).click()
            expect(page.locator(".flash-success")).to_contain_text(t("The job is back in the queue."))
            wait_until(lambda: len(handler.messages) == 1, 30, what="the retried mail")
            assert handler.messages[0]["To"] == donor_email
            page.reload()
            expect(page.get_by_text(t("No job has failed."))).to_be_visible()
        finally:
            context.close()
            stop(worker)
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
