"""On PostgreSQL the texts the site sends are jobs in procrastinate's queue, deferred in the transaction
that writes them: a rolled-back step leaves no job, the job's arguments hold no phone number nor words,
and running the job twice sends the text once."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from kindcity.domain.time import utcnow
from kindcity.extensions import db
from kindcity.jobs import load_jobs, perform
from kindcity.services import Actor
from kindcity.services import texts as service
from kindcity.services.reference import seed_district
from kindcity.sms import IncomingText
from tests import factories as f
from tests.conftest import make_test_app
from tests.pgdb import own_database

pytestmark = pytest.mark.postgres_only

NUMBER = "01086420975"


@pytest.fixture(scope="module")
def queued_app(tmp_path_factory):
    with own_database("smsqueue") as url:
        app = make_test_app(url, KINDCITY_JOB_QUEUE="postgres", KINDCITY_OUTBOX=str(tmp_path_factory.mktemp("outbox")))
        with app.app_context():
            upgrade()
            seed_district("gwangju-seogu")
            db.session.commit()
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def sms_jobs() -> list[dict]:
    rows = db.session.execute(text("SELECT args FROM procrastinate_jobs WHERE task_name = 'sms.deliver' "
                                   "ORDER BY id")).all()
    return [dict(row.args) for row in rows]


def texts(app) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(Path(app.config["KINDCITY_OUTBOX"]).glob("*.sms.txt"))]


def test_texts_are_queued_in_the_transaction_without_personal_data_and_sent_once(queued_app):
    app = queued_app
    with app.test_request_context():
        result = service.receive(IncomingText(provider_id="queue-1", sender=NUMBER, body="이웃이 걱정돼요",
                                              received_at=utcnow()), max_per_hour=20)
        case_id = result.case.id
        db.session.commit()
        [auto] = sms_jobs()
        assert set(auto) == {"message_id"} and NUMBER not in str(auto)
        assert load_jobs()["sms.deliver"].retry, "a provider error is retried by the queue"

        staff = f.user("staff", centre_code="district-welfare")
        db.session.commit()
        service.reply(Actor(staff), case_id, "되돌려질 답장")
        db.session.rollback()
        assert len(sms_jobs()) == 1, "a rolled-back reply leaves no job"

        service.reply(Actor(staff), case_id, "내일 찾아뵙겠습니다")
        db.session.commit()
        jobs = sms_jobs()
        assert len(jobs) == 2 and all(NUMBER not in str(args) for args in jobs)
        before = len(texts(app))
        for args in jobs + jobs:        # a worker that dies after sending runs the job again
            perform("sms.deliver", args)
        sent = texts(app)[before:]
        assert len(sent) == 2 and f"To: {NUMBER}" in sent[1] and "내일 찾아뵙겠습니다" in sent[1]
