"""One pledge per form under real concurrency, on PostgreSQL: the same pledge form and token sent ten
times at once makes exactly one pledge, and every answer shows it.

Each request runs in its own thread with its own database session and commits for real, so this runs
in a database of its own (created and dropped here), like tests/integration/test_concurrency.py.
"""
from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from kindcity.extensions import db
from kindcity.models import FormToken, LedgerTransaction, Need, Pledge
from kindcity.services.reconcile import reconcile
from tests import factories as f
from tests.pgdb import own_postgres_app

pytestmark = pytest.mark.postgres_only
SENDS = 10


@pytest.fixture(scope="module")
def live_app():
    with own_postgres_app("formtokens", SQLALCHEMY_ENGINE_OPTIONS={"pool_size": SENDS + 5,
                                                                  "max_overflow": 5}) as app:
        yield app


def test_ten_simultaneous_sends_of_one_pledge_form_make_one_pledge(live_app):
    with live_app.app_context():
        donor, need = f.user("donor"), f.need(target=5_000_000)
        db.session.commit()
        need_id, donor_id = need.id, donor.id
        first = live_app.test_client()
        f.login(first, donor)
        cookie = first.get_cookie(live_app.config["SESSION_COOKIE_NAME"], domain="kindcity.test")
        clients = [first]
        for _ in range(SENDS - 1):  # ten tabs of one logged-in donor (a new login would end the others)
            client = live_app.test_client()
            client.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
            clients.append(client)
        page = first.get(f"/me/needs/{need_id}/pledge").get_data(as_text=True)
        token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', page).group(1)
        db.session.remove()

    data = {"amount": "100,000", "display": "anonymous", "message": "", "on_cancel": "refund", "method": "bank",
            "form_token": token}
    barrier = threading.Barrier(SENDS)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def send(client):
        barrier.wait()
        response = client.post(f"/me/needs/{need_id}/pledge", data=data)
        with lock:
            answers.append((response.status_code, response.headers.get("Location", "")))

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    with live_app.app_context():
        pledges = db.session.scalars(select(Pledge).where(Pledge.donor_id == donor_id)).all()
        assert len(pledges) == 1, answers
        [pledge] = pledges
        assert len(answers) == SENDS
        assert sorted(code for code, _ in answers) == [302] + [303] * (SENDS - 1), answers
        assert {location.rsplit("/", 1)[-1] for _, location in answers} == {str(pledge.id)}
        assert db.session.get(Need, need_id).reserved == 100_000
        assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)
                                 .where(LedgerTransaction.pledge_id == pledge.id)) == 1
        assert db.session.get(FormToken, token).object_id == pledge.id
        assert reconcile() == []
        db.session.remove()
