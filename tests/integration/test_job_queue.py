"""The PostgreSQL job queue with real `kindcity worker` processes, each test on a database of its own.

Jobs are deferred in the transaction of the change (kindcity/jobs/): a rollback leaves none, a commit
leaves exactly one, even if the worker that runs it dies; a mail goes out once however often its job
runs; two workers share the work without running anything twice; periodic upkeep fires once per
period; a job that keeps failing ends failed, with its error, and is retried by hand.
"""
from __future__ import annotations

import json
import re
import signal
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from kindcity import jobs
from kindcity.domain.needs import NeedStatus
from kindcity.domain.time import seoul_today
from kindcity.extensions import db
from kindcity.models import AuditEntry, JobError, Need, OutgoingMail, User
from kindcity.services import Actor
from kindcity.services import needs as need_service
from tests import factories as f
from tests.jobqueue import (RefusingSMTP, job_statuses, queue_app, smtp_server, start_worker, stop, wait_until)

pytestmark = pytest.mark.postgres_only


def _jobs(app, task: str | None = None) -> list:
    with app.app_context():
        query = "SELECT id, task_name, CAST(status AS text) AS status, args, attempts FROM procrastinate_jobs"
        rows = db.session.execute(text(query + (" WHERE task_name = :task" if task else "") + " ORDER BY id"),
                                  {"task": task}).all()
        db.session.remove()
        return rows


def _count(app, model, *where) -> int:
    with app.app_context():
        value = db.session.scalar(select(func.count()).select_from(model).where(*where))
        db.session.remove()
        return value


def _idle(app) -> bool:
    statuses = job_statuses(app)
    return not statuses.get("todo") and not statuses.get("doing")


def test_a_change_that_rolls_back_leaves_no_job_and_one_that_commits_leaves_one(tmp_path):
    with queue_app("qrollback", tmp_path) as app, app.app_context():
        staff = f.user("staff", centre_code="district-welfare")
        donor = f.user("donor")
        need = f.need(author=staff)
        db.session.commit()
        need_service.cancel(Actor(staff), need, "이 수요는 취소합니다")  # asks for the donors' notice
        assert _jobs_in_session() == 1  # the job is there, inside the open transaction
        db.session.add(User(email=donor.email, password_hash="x", display_name="중복", role="donor"))
        with pytest.raises(IntegrityError):
            db.session.flush()  # the service's transaction fails after deferring
        db.session.rollback()
        assert _jobs_in_session() == 0
        assert db.session.get(Need, need.id).status == NeedStatus.OPEN
        need_service.cancel(Actor(staff), db.session.get(Need, need.id), "이 수요는 취소합니다")
        db.session.commit()
        [job] = _jobs(app, "mail.donor_notices")  # (and the district figures' recount: their own test)
        assert (job.task_name, job.status, job.args) == ("mail.donor_notices", "todo",
                                                         {"kind": "closed", "need_id": need.id})


def _kindcity(app, *args: str):
    """A `kindcity` command, as the console runs it (in an app context of its own)."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    return result


def _jobs_in_session() -> int:
    """Jobs other than the district figures' recount (which any need change asks for: its own test)."""
    return db.session.scalar(text("SELECT count(*) FROM procrastinate_jobs WHERE task_name <> 'figures.refresh'"))


def test_a_worker_killed_mid_send_loses_nothing_and_the_mail_arrives_once(tmp_path):
    """SMTP refuses the first attempt; the second hangs inside DATA, where the worker is killed -9. A new
    worker finds the dead worker's job (no heartbeat), runs it again, and the mail arrives exactly once."""
    handler = RefusingSMTP(refuse=1)
    handler.hold.clear()
    with smtp_server(handler) as smtp_url, queue_app("qcrash", tmp_path, KINDCITY_SMTP_URL=smtp_url) as app:
        with app.app_context():
            donor = f.user("donor", name="김복순")
            db.session.commit()
            email = donor.email
        client = app.test_client()
        assert client.post("/account/reset?lang=en", data={"email": email}).status_code == 303  # a real request
        first = start_worker(app, log=tmp_path / "first.log")
        second = None
        try:
            wait_until(handler.entered.is_set, 60, what="the retried send to reach DATA")
            assert handler.refused == 1 and handler.messages == []
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            doing = [job for job in _jobs(app, "mail.deliver") if job.status == "doing"]
            assert len(doing) == 1  # left behind by the dead worker
            handler.entered.clear()
            handler.hold.set()  # the dead worker's connection is gone: that copy is never delivered
            second = start_worker(app, log=tmp_path / "second.log")
            wait_until(lambda: len(handler.messages) == 1 and _idle(app), 60, what="the mail after the restart")
            time.sleep(3)  # room for a duplicate to show up, if there were one
        finally:
            stop(first)
            if second is not None:
                stop(second)
        assert len(handler.messages) == 1
        [message] = handler.messages
        assert message["To"] == email and message["Subject"] == "Set a new password for kindcity"
        assert _count(app, OutgoingMail, OutgoingMail.key.like("reset:%"), OutgoingMail.sent_at.is_not(None)) == 1
        assert {job.status for job in _jobs(app, "mail.deliver")} == {"succeeded"}


def test_each_run_is_one_json_line_on_the_workers_stdout_naming_the_request(tmp_path):
    """SMTP refuses the first attempt: two lines for the one job, a retry then a success, both with the
    id of the request that asked for the mail (it travels in the job's arguments under a reserved key,
    which the job function never sees)."""
    handler = RefusingSMTP(refuse=1)
    with smtp_server(handler) as smtp_url, queue_app("qlog", tmp_path, KINDCITY_SMTP_URL=smtp_url) as app:
        with app.app_context():
            donor = f.user("donor")
            db.session.commit()
            email = donor.email
        response = app.test_client().post("/account/reset?lang=en", data={"email": email},
                                          headers={"X-Request-ID": "nginx-0123456789abcdef"})
        assert response.status_code == 303
        [asked] = _jobs(app)  # the request asks for the reset mail; composing it asks for its delivery
        assert asked.task_name == "mail.reset_link" and asked.args[jobs.REQUEST_ID_ARG] == "nginx-0123456789abcdef"
        log = tmp_path / "worker.log"
        worker = start_worker(app, log=log)
        try:
            wait_until(lambda: len(handler.messages) == 1 and _idle(app), 60, what="the mail after one refusal")
        finally:
            stop(worker)
        [delivery] = _jobs(app, "mail.deliver")
        assert delivery.args == {"key": delivery.args["key"], jobs.REQUEST_ID_ARG: "nginx-0123456789abcdef"}
    runs = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.startswith('{"')]
    runs = [run for run in runs if run["job"] in ("mail.reset_link", "mail.deliver")]
    assert [(run["job"], run["job_id"], run["status"], run["attempt"], run.get("error")) for run in runs] == [
        ("mail.reset_link", asked.id, "succeeded", 1, None),
        ("mail.deliver", delivery.id, "retry", 1, "SMTPDataError"),
        ("mail.deliver", delivery.id, "succeeded", 2, None)]
    assert {run["request_id"] for run in runs} == {"nginx-0123456789abcdef"}
    assert all(run["duration_ms"] >= 0 and run["time"].endswith("+00:00") for run in runs)
    assert handler.messages[0]["To"] == email


def test_two_workers_drain_a_thousand_jobs_and_none_runs_twice(tmp_path):
    with queue_app("qdrain", tmp_path) as app:
        with app.app_context(), app.test_request_context("/"):
            from kindcity import mail

            for n in range(1000):
                mail.send(f"donor{n}@example.org", f"message {n}", f"body {n}", key=f"drain:{n}")
            db.session.commit()
        assert job_statuses(app) == {"todo": 1000}
        workers = [start_worker(app, log=tmp_path / f"worker{n}.log") for n in range(2)]
        try:
            wait_until(lambda: _idle(app), 240, interval=0.5, what="the queue to drain")
        finally:
            for worker in workers:
                stop(worker)
        deliveries = _jobs(app, "mail.deliver")
        assert len(deliveries) == 1000 and {job.status for job in deliveries} == {"succeeded"}
        written = list((tmp_path / "outbox").glob("*.eml"))  # the effect: one file per message
        assert len(written) == 1000
        import email as email_module

        recipients = {email_module.message_from_bytes(p.read_bytes())["To"] for p in written}
        assert recipients == {f"donor{n}@example.org" for n in range(1000)}
        assert _count(app, OutgoingMail, OutgoingMail.sent_at.is_not(None)) == 1000
        started = [len(re.findall(r"Starting job mail\.deliver\[", (tmp_path / f"worker{n}.log").read_text()))
                   for n in range(2)]
        assert sum(started) == 1000 and min(started) > 0, started  # both worked, and no job ran twice


def test_a_periodic_task_fires_once_per_period_with_two_workers(tmp_path):
    """expire-needs every 2 seconds here (every 10 minutes in production): two workers, one job per
    period, and each overdue need expired once."""
    schedule = {"upkeep.expire_needs": "* * * * * */2"}
    with queue_app("qperiodic", tmp_path, KINDCITY_SCHEDULE=schedule) as app:
        with app.app_context():
            overdue = [f.need(deadline=seoul_today() - timedelta(days=1)).id for _ in range(3)]
            db.session.commit()
        workers = [start_worker(app, log=tmp_path / f"worker{n}.log") for n in range(2)]
        try:
            wait_until(lambda: len({job.args["timestamp"] for job in _jobs(app, "upkeep.expire_needs")}) >= 4, 60,
                       interval=0.5, what="four periods")
        finally:
            for worker in workers:
                stop(worker)
        runs = _jobs(app, "upkeep.expire_needs")
        per_period: dict[int, int] = {}
        for job in runs:
            per_period[job.args["timestamp"]] = per_period.get(job.args["timestamp"], 0) + 1
        assert set(per_period.values()) == {1}, per_period  # never twice for one period
        with app.app_context():
            assert all(db.session.get(Need, need_id).status == NeedStatus.EXPIRED for need_id in overdue)
            expiries = db.session.scalar(select(func.count()).select_from(AuditEntry)
                                         .where(AuditEntry.action == "need.expire"))
            db.session.remove()
        assert expiries == 3  # each need expired once, by one run


def test_a_mail_that_keeps_failing_ends_failed_with_its_error_and_is_retried_by_hand(tmp_path):
    handler = RefusingSMTP(refuse=10**6)
    with smtp_server(handler) as smtp_url, queue_app("qfailed", tmp_path, KINDCITY_SMTP_URL=smtp_url) as app:
        with app.app_context(), app.test_request_context("/"):
            from kindcity import mail

            mail.send("donor@example.org", "subject", "body", key="fail:1")
            db.session.commit()
        worker = start_worker(app, log=tmp_path / "worker.log")
        try:
            wait_until(lambda: [j.status for j in _jobs(app, "mail.deliver")] == ["failed"], 60, what="the job to fail")
            [job] = _jobs(app, "mail.deliver")
            assert handler.refused == 3  # KINDCITY_JOB_MAX_ATTEMPTS = 3 attempts, each refused, then no more
            with app.app_context():
                assert "451" in db.session.get(JobError, job.id).error
                db.session.remove()
            listing = _kindcity(app, "jobs")
            assert listing.exit_code == 0 and f"{job.id}\tfailed\tmail.deliver" in listing.output
            assert "SMTPDataError" in listing.output
            handler.refuse = 0  # the mail server is back
            retried = _kindcity(app, "jobs", "--retry", str(job.id))
            assert retried.exit_code == 0 and "back in the queue" in retried.output
            wait_until(lambda: len(handler.messages) == 1 and _idle(app), 30, what="the retried mail")
        finally:
            stop(worker)
        assert [job.status for job in _jobs(app, "mail.deliver")] == ["succeeded"]
        assert _kindcity(app, "jobs", "--retry", str(job.id)).output.strip().endswith("not failed, left as it is")
