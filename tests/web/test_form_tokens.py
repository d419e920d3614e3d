"""One record per form, however often it is sent: pledges, pooled pledges and match offers.

A form carries a token made when it is shown; sending it again (a double tap, a reload, a retry after a
lost answer) makes nothing new and shows what the first send made. Runs on SQLite and PostgreSQL;
simultaneous sends are in tests/integration/test_form_token_concurrency.py.
"""
from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import func, select

from kindcity.domain.time import seoul_today
from kindcity.models import FormToken, LedgerTransaction, Pledge
from tests import factories as f

TOKEN = re.compile(r'name="form_token" type="hidden" value="([^"]+)"')


def form_token(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    found = TOKEN.findall(page)
    assert len(found) == 1, "the form carries exactly one token"
    return found[0]


def _pledges(session, donor) -> list[Pledge]:
    return session.scalars(select(Pledge).where(Pledge.donor_id == donor.id).order_by(Pledge.id)).all()


def test_pledge_form_sent_three_times_makes_one_pledge_and_shows_it(client, session):
    donor, need = f.user("donor"), f.need(target=1_000_000)
    session.commit()
    f.login(client, donor)
    token = form_token(client, f"/me/needs/{need.id}/pledge")
    data = {"amount": "100,000", "display": "anonymous", "message": "", "on_cancel": "refund",
            "method": "bank", "form_token": token}
    first = client.post(f"/me/needs/{need.id}/pledge?lang=en", data=data)
    assert first.status_code == 302
    [pledge] = _pledges(session, donor)
    for _ in range(2):
        again = client.post(f"/me/needs/{need.id}/pledge?lang=en", data=data)
        assert again.status_code == 303
        assert again.headers["Location"].endswith(f"/me/pledges/{pledge.id}")
    assert [p.id for p in _pledges(session, donor)] == [pledge.id]
    session.refresh(need)
    assert need.reserved == 100_000
    assert session.scalar(select(func.count()).select_from(LedgerTransaction)
                          .where(LedgerTransaction.pledge_id == pledge.id)) == 1
    shown = html.unescape(client.get(f"/me/pledges/{pledge.id}?lang=en").get_data(as_text=True))
    assert "This form was already sent, so nothing new was made." in shown
    assert session.get(FormToken, token).object_id == pledge.id


def test_a_refused_send_does_not_use_up_the_token(client, session):
    donor, need = f.user("donor"), f.need(target=200_000)
    session.commit()
    f.login(client, donor)
    token = form_token(client, f"/me/needs/{need.id}/pledge")
    data = {"display": "anonymous", "message": "", "on_cancel": "refund", "method": "bank", "form_token": token}
    refused = client.post(f"/me/needs/{need.id}/pledge?lang=en", data=data | {"amount": "500,000"})
    assert refused.status_code == 200 and "Not enough is left" in html.unescape(refused.get_data(as_text=True))
    assert token in refused.get_data(as_text=True)  # the corrected form is the same form
    assert session.get(FormToken, token) is None
    assert client.post(f"/me/needs/{need.id}/pledge", data=data | {"amount": "150,000"}).status_code == 302
    [pledge] = _pledges(session, donor)
    assert pledge.amount == 150_000


def test_each_showing_of_the_form_is_a_new_pledge(client, session):
    donor, need = f.user("donor"), f.need(target=1_000_000)
    session.commit()
    f.login(client, donor)
    tokens = {form_token(client, f"/me/needs/{need.id}/pledge") for _ in range(2)}
    assert len(tokens) == 2
    for token in tokens:
        client.post(f"/me/needs/{need.id}/pledge", data={"amount": "10,000", "display": "anonymous",
                                                         "on_cancel": "refund", "form_token": token})
    assert len(_pledges(session, donor)) == 2


def test_someone_elses_token_is_refused(app, client, session):
    donor, other, need = f.user("donor"), f.user("donor"), f.need(target=1_000_000)
    session.commit()
    f.login(client, donor)
    token = form_token(client, f"/me/needs/{need.id}/pledge")
    data = {"amount": "10,000", "display": "anonymous", "on_cancel": "refund", "form_token": token}
    assert client.post(f"/me/needs/{need.id}/pledge", data=data).status_code == 302
    thief = app.test_client()
    f.login(thief, other)
    assert thief.post(f"/me/needs/{need.id}/pledge", data=data).status_code == 400
    assert _pledges(session, other) == []


def test_pooled_pledge_form_sent_twice_makes_one(client, session):
    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    token = form_token(client, "/me/pooled/new")
    data = {"amount": "300,000", "categories": ["medical-transport"], "cap_percent": "50", "display": "anonymous",
            "message": "", "on_end": "refund", "repeat": "once", "method": "bank", "form_token": token}
    first = client.post("/me/pooled/new", data=data)
    assert first.status_code == 303
    again = client.post("/me/pooled/new", data=data)
    [pledge] = _pledges(session, donor)
    assert pledge.kind == "pooled"
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Location"].endswith(f"/me/pooled/{pledge.id}")


def test_recurring_pooled_form_sent_twice_makes_one_series(client, session):
    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    token = form_token(client, "/me/pooled/new")
    data = {"amount": "100,000", "display": "anonymous", "message": "", "on_end": "refund", "repeat": "monthly",
            "method": "bank", "form_token": token}
    assert client.post("/me/pooled/new", data=data).status_code == 303
    assert client.post("/me/pooled/new", data=data).status_code == 303
    assert len(_pledges(session, donor)) == 1


def test_match_offer_form_sent_twice_makes_one(client, session):
    sponsor = f.user("donor")
    session.commit()
    f.login(client, sponsor)
    token = form_token(client, "/me/offers/new")
    data = {"amount": "5,000,000", "ratio_num": "1", "ratio_den": "1", "starts_on": seoul_today().isoformat(),
            "ends_on": (seoul_today() + timedelta(days=30)).isoformat(), "display": "anonymous", "message": "",
            "on_end": "refund", "method": "bank", "form_token": token}
    first = client.post("/me/offers/new", data=data)
    again = client.post("/me/offers/new", data=data)
    [offer] = _pledges(session, sponsor)
    assert offer.kind == "match"
    assert (first.status_code, again.status_code) == (303, 303)
    assert again.headers["Location"].endswith(f"/me/offers/{offer.id}")


def test_a_token_of_one_kind_does_not_answer_another(client, session):
    donor, need = f.user("donor"), f.need(target=1_000_000)
    session.commit()
    f.login(client, donor)
    token = form_token(client, f"/me/needs/{need.id}/pledge")
    client.post(f"/me/needs/{need.id}/pledge", data={"amount": "10,000", "display": "anonymous",
                                                     "on_cancel": "refund", "form_token": token})
    response = client.post("/me/pooled/new", data={"amount": "300,000", "display": "anonymous", "on_end": "refund",
                                                   "repeat": "once", "form_token": token})
    assert response.status_code == 400
    assert [p.kind for p in _pledges(session, donor)] == ["direct"]
