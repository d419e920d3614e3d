"""The admin page of the job queue, on the in-process path (the queue itself: tests/integration/
test_job_queue.py and tests/browser/test_failed_jobs_browser.py, on PostgreSQL)."""
from __future__ import annotations

import email
import email.policy

from kindcity import jobs
from tests import factories as f


def test_without_a_queue_the_page_says_where_jobs_run(app, client, session):
    admin = f.user("admin")
    session.commit()
    f.login(client, admin)
    page = client.get("/admin/jobs?lang=en").get_data(as_text=True)
    assert "There is no job queue on this database (SQLite)" in page and "needs PostgreSQL" in page
    assert client.post("/admin/jobs/1/retry").status_code == 404  # nothing to retry


def test_a_reconciliation_disagreement_shows_on_the_page_and_mails_each_admin(app, client, session):
    admins = [f.user("admin"), f.user("admin")]
    f.user("staff")
    session.commit()
    before = f.outbox(app)
    with app.test_request_context("/"):
        from kindcity.jobs.upkeep import report_disagreement

        report_disagreement(["need 7: confirmed 10,000 but the journal says 9,000"])
        session.commit()
        assert jobs.run_committed() == 2  # one mail job per admin
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in f.outbox(app) - before]
    assert sorted(m["To"] for m in mails) == sorted(a.email for a in admins)
    assert all("need 7: confirmed 10,000" in m.get_content() for m in mails)
    f.login(client, admins[0])
    page = client.get("/admin/jobs?lang=en").get_data(as_text=True)
    assert "The last reconciliation found disagreements" in page and "need 7: confirmed 10,000" in page
