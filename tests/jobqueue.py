"""Helpers for tests of the PostgreSQL job queue: a database of the test's own with procrastinate's
schema, real `kindcity worker` processes, and an SMTP server on 127.0.0.1 that can refuse."""
from __future__ import annotations

import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from aiosmtpd.controller import Controller
from procrastinate.schema import SchemaManager
from sqlalchemy import text

from kindcity.extensions import db
from tests.pgdb import own_postgres_app

WORKER_CONFIG = {
    "KINDCITY_JOB_QUEUE": "postgres",
    "KINDCITY_JOB_MAX_ATTEMPTS": 3,
    "KINDCITY_JOB_RETRY_BASE_SECONDS": 1,
    "KINDCITY_WORKER_STALLED_SECONDS": 2,
    "KINDCITY_WORKER_STALLED_CRON": "* * * * * */2",  # every 2 seconds (a 6th column: seconds)
    "KINDCITY_WORKER_DELETE_JOBS": "never",  # finished jobs stay, so a test can count them
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def queue_app(label: str, tmp_path: Path, **config):
    """An app on a database of its own, jobs going to the PostgreSQL queue."""
    settings = dict(WORKER_CONFIG, KINDCITY_OUTBOX=str(tmp_path / "outbox"), **config)
    with own_postgres_app(label, **settings) as app:
        with app.app_context():
            with db.engine.begin() as conn:
                conn.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
        yield app


def worker_env(app) -> dict[str, str]:
    cfg = app.config
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": cfg["SQLALCHEMY_DATABASE_URI"],
        "KINDCITY_SECRET_KEY": cfg["SECRET_KEY"],
        "KINDCITY_BASE_URL": "http://kindcity.test",
        "KINDCITY_OUTBOX": cfg["KINDCITY_OUTBOX"],
        "KINDCITY_SMTP_URL": cfg.get("KINDCITY_SMTP_URL", ""),
        "KINDCITY_JOB_QUEUE": "postgres",
    })
    for key in ("KINDCITY_JOB_MAX_ATTEMPTS", "KINDCITY_JOB_RETRY_BASE_SECONDS", "KINDCITY_WORKER_STALLED_SECONDS",
                "KINDCITY_WORKER_STALLED_CRON", "KINDCITY_WORKER_DELETE_JOBS"):
        env[key] = str(cfg[key])
    for key in ("KINDCITY_STRIPE_SECRET_KEY", "KINDCITY_STRIPE_WEBHOOK_SECRET", "KINDCITY_STRIPE_API_BASE",
                "KINDCITY_STRIPE_NETWORK_RETRIES", "KINDCITY_PORTONE_API_SECRET", "KINDCITY_PORTONE_STORE_ID",
                "KINDCITY_PORTONE_WEBHOOK_SECRET", "KINDCITY_PORTONE_API_BASE", "KINDCITY_PORTONE_CHANNEL_CARD",
                "KINDCITY_PORTONE_CHANNEL_EASY_PAY", "KINDCITY_PORTONE_CHANNEL_VIRTUAL_ACCOUNT"):
        if cfg.get(key) not in (None, ""):
            env[key] = str(cfg[key])
    env["KINDCITY_SCHEDULE"] = ";".join(f"{name}={cron}" for name, cron in cfg.get("KINDCITY_SCHEDULE", {}).items())
    env.pop("KINDCITY_TEST_DATABASE_URL", None)
    return env


def start_worker(app, *args: str, log: Path | None = None) -> subprocess.Popen:
    command = [str(Path(sys.executable).parent / "kindcity"), "worker", *args]
    if log is None:
        return subprocess.Popen(command, env=worker_env(app), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                start_new_session=True)
    with open(log, "ab") as out:  # the child keeps its own copy of the file
        return subprocess.Popen(command, env=worker_env(app), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(process: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 15) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def job_statuses(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(text("SELECT CAST(status AS text), count(*) FROM procrastinate_jobs GROUP BY 1"))
        result = {status: count for status, count in rows}
        db.session.remove()
        return result


class RefusingSMTP:
    """An SMTP handler that answers 451 (try again later) to the first ``refuse`` messages, then keeps
    every message; ``hold`` makes it hang inside DATA until released (a worker mid-send). A message
    whose client hung up before the 250 is not kept, as a mail server does not deliver it."""

    def __init__(self, refuse: int = 0):
        self.refuse = refuse
        self.refused = 0
        self.messages: list[email.message.EmailMessage] = []
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        if self.refused < self.refuse:
            self.refused += 1
            return "451 4.3.0 try again later"
        self.entered.set()
        while not self.hold.is_set():
            await asyncio.sleep(0.02)
        if server.transport is None or server.transport.is_closing():
            return "421 4.4.2 connection lost"  # the client hung up before our 250: not delivered
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@contextmanager
def smtp_server(handler):
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}"
    finally:
        handler.hold.set()
        controller.stop()


def count(app, sql: str) -> int:
    """One number from the test database, read outside any request."""
    with app.app_context():
        value = db.session.scalar(text(sql))
        db.session.remove()
        return value


def check_provider_event_is_queued_then_recorded_once(app, tmp_path: Path, *, post, task: str, provider_reads,
                                                      pledge_id: int, event_id: str,
                                                      records_event_first: bool = False) -> None:
    """What every payment provider's webhook must do on the queue (Stripe, PortOne): answer at once with
    nothing read back or recorded and one job waiting; a real worker then records the payment and pays
    the pledge; a replay of the event answers "duplicate" and adds neither a job nor a payment.

    ``post()`` sends the signed event; ``provider_reads()`` counts the provider's read-backs so far;
    ``records_event_first``: the webhook itself keeps the event as an unprocessed row (PortOne)."""
    from sqlalchemy import func, select

    from kindcity.domain.pledges import PledgeStatus
    from kindcity.models import Payment, Pledge, ProviderEvent

    reads_before = provider_reads()
    answer = post()
    assert answer.status_code == 200 and answer.get_json()["outcome"] == "queued"
    assert provider_reads() == reads_before  # answered with nothing done yet
    assert count(app, "SELECT count(*) FROM payments") == 0
    if records_event_first:
        assert count(app, "SELECT count(*) FROM provider_events WHERE processed_at IS NULL") == 1
    assert count(app, f"SELECT count(*) FROM procrastinate_jobs WHERE task_name = '{task}' AND status = 'todo'") == 1
    worker = start_worker(app, log=tmp_path / "worker.log")
    try:
        wait_until(lambda: count(app, f"SELECT count(*) FROM procrastinate_jobs WHERE task_name = '{task}' "
                                      "AND status = 'succeeded'") == 1, 60, what="the event's job")
    finally:
        stop(worker)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment).where(Payment.pledge_id == pledge_id)) == 1
        assert db.session.get(Pledge, pledge_id).status == PledgeStatus.PAID
        assert db.session.scalar(select(ProviderEvent.outcome)
                                 .where(ProviderEvent.event_id == event_id)) == "payment_recorded"
        db.session.remove()
    replay = post()  # the provider delivers it again
    assert replay.status_code == 200 and replay.get_json()["outcome"] == "duplicate"
    assert count(app, f"SELECT count(*) FROM procrastinate_jobs WHERE task_name = '{task}'") == 1
    assert count(app, "SELECT count(*) FROM payments") == 1
