"""Paying pooled pledges and match offers by card, and recurring pooled pledges, on the web: the new form
fields, their errors in words (Korean first; English checked with ?lang=en), the series on the pledge
page, stopping it, the dashboard and the staff's transfer queue."""
from __future__ import annotations

import html
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kindcity.domain.pledges import PledgeStatus
from kindcity.domain.recurrence import due_date
from kindcity.domain.time import seoul_today
from kindcity.models import Organisation, Pledge, PooledSeries, PooledTerms
from kindcity.services import Actor, recurring
from kindcity.services import matching as matching_service
from kindcity.services.reconcile import reconcile
from tests import factories as f

TODAY = seoul_today()


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _data(**extra):
    data = {"amount": "1,000,000", "categories": ["medical-transport"], "dongs": ["hwajeong1", "nongseong1"],
            "cap_percent": "50", "display": "anonymous", "message": "", "on_end": "refund", "method": "bank",
            "repeat": "quarterly"}
    data.update(extra)
    return data


def _count(session, donor) -> int:
    return session.scalar(select(func.count(Pledge.id)).where(Pledge.donor_id == donor.id))


def test_the_forms_offer_bank_or_card_and_how_often(client, session):
    org = Organisation(name="착한 가게", kind="good_shop")
    session.add(org)
    session.flush()
    donor = f.user("donor", organisation=org)
    session.commit()
    f.login(client, donor)
    pooled = _text(client.get("/me/pooled/new?lang=en"))
    assert 'name="method"' in pooled and 'value="card"' in pooled and 'value="bank"' in pooled
    assert 'name="repeat"' in pooled and "Every quarter" in pooled and "Every month" in pooled
    assert "Card payment on this site is a demonstration" in pooled  # no Stripe keys in the tests
    offer = _text(client.get("/me/offers/new?lang=en"))
    assert 'name="method"' in offer and 'value="card"' in offer and 'name="repeat"' not in offer
    korean = _text(client.get("/me/pooled/new?lang=ko"))
    assert "분기마다" in korean and "카드" in korean


def test_a_recurring_pooled_pledge_from_the_form_then_stopped(app, client, session):
    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    outbox = Path(app.config["KINDCITY_OUTBOX"])
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    response = client.post("/me/pooled/new?lang=en", data=_data())
    assert response.status_code == 303, _text(response)[:2000]
    first = session.scalars(select(Pledge).where(Pledge.donor_id == donor.id)).one()
    terms = session.get(PooledTerms, first.id)
    series = session.get(PooledSeries, terms.series_id)
    assert (series.frequency, series.amount, terms.period, first.method) == ("quarterly", 1_000_000, 1, "bank")
    page = _text(client.get(response.headers["Location"]))
    assert "Thank you! Your recurring pooled pledge is made, every quarter." in page
    assert "Instalment 1 of a recurring pooled pledge" in page and "How to pay" in page
    assert "Recurring: 1,000,000 won every quarter" in page or "Recurring: ₩1,000,000 every quarter" in page
    assert "The next instalment is due on" in page and "Stop the recurring pledge" in page
    mails = [p.read_text(errors="replace") for p in set(outbox.glob("*.eml")) - before]
    assert len(mails) == 1 and first.reference in mails[0]
    assert "every quarter, instalment 1" in _text(client.get("/me/?lang=en"))
    # the next period: the upkeep makes instalment 2; both are listed on each instalment's page
    [second] = recurring.create_due_instalments(due_date(TODAY, "quarterly", 2))
    session.commit()
    page = _text(client.get(f"/me/pooled/{second.pledge_id}?lang=en"))
    assert first.reference in page and second.reference in page and f"/me/pooled/{first.id}" in page
    # someone else cannot stop it
    stranger = client.application.test_client()
    f.login(stranger, f.user("donor"))
    session.commit()
    assert stranger.post(f"/me/pooled/{first.id}/series/stop").status_code == 404
    stopped = client.post(f"/me/pooled/{first.id}/series/stop")
    assert stopped.status_code == 303
    page = _text(client.get(stopped.headers["Location"]))
    assert "Stopped: no more instalments will be made." in page and "Stopped on" in page
    assert "Stop the recurring pledge" not in page
    session.expire_all()
    assert session.get(Pledge, first.id).status == PledgeStatus.CANCELLED  # nothing received: cancelled
    assert session.get(Pledge, second.pledge_id).status == PledgeStatus.CANCELLED
    assert client.post(f"/me/pooled/{first.id}/series/stop").status_code == 303  # again: nothing changes
    assert reconcile() == []


def test_a_one_off_pooled_pledge_has_no_series_and_cannot_be_stopped_as_one(client, session):
    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    response = client.post("/me/pooled/new?lang=en", data=_data(repeat="once"))
    assert response.status_code == 303
    pledge = session.scalars(select(Pledge).where(Pledge.donor_id == donor.id)).one()
    assert session.get(PooledTerms, pledge.id).series_id is None
    page = _text(client.get(response.headers["Location"]))
    assert "Recurring" not in page and "Stop the recurring pledge" not in page
    assert client.post(f"/me/pooled/{pledge.id}/series/stop").status_code == 404


@pytest.mark.parametrize("extra, field, message", [
    ({"repeat": "weekly"}, "repeat", "Please choose once, every month or every quarter."),
    ({"method": "cash"}, "method", "Please choose a payment method."),
    ({"repeat": "monthly", "ends_on": (TODAY + timedelta(days=10)).isoformat()}, "ends_on",
     "With this last day there would be no second instalment (it is due on"),
    ({"amount": "500"}, "amount", "The smallest pledge is 1,000 won."),
])
def test_bad_input_comes_back_on_its_field_in_words(client, session, extra, field, message):
    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    response = client.post("/me/pooled/new?lang=en", data=_data(**extra))
    page = _text(response)
    assert response.status_code == 200 and message in page
    assert f'id="{field}-error"' in page
    assert _count(session, donor) == 0 and session.scalar(select(func.count(PooledSeries.id))) == 0


def test_bad_input_is_answered_in_korean_first(client, session):
    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    page = _text(client.post("/me/pooled/new?lang=ko", data=_data(repeat="weekly")))
    assert "한 번, 매월, 분기마다 중에서 골라 주세요." in page
    page = _text(client.post("/me/pooled/new?lang=ko", data=_data(
        repeat="monthly", ends_on=(TODAY + timedelta(days=10)).isoformat())))
    assert "두 번째" in page
    assert _count(session, donor) == 0


def test_a_match_offer_refuses_an_unknown_payment_method(client, session):
    sponsor = f.user("donor")
    session.commit()
    f.login(client, sponsor)
    response = client.post("/me/offers/new?lang=en", data={
        "amount": "1,000,000", "ratio_num": "1", "ratio_den": "1", "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + timedelta(days=30)).isoformat(), "display": "anonymous", "on_end": "refund",
        "method": "cheque"})
    assert response.status_code == 200 and "Please choose a payment method." in _text(response)
    assert _count(session, sponsor) == 0


def test_a_card_pooled_pledge_goes_on_to_the_checkout(client, session):
    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    response = client.post("/me/pooled/new?lang=en", data=_data(method="card", repeat="monthly"))
    pledge = session.scalars(select(Pledge).where(Pledge.donor_id == donor.id)).one()
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/me/pledges/{pledge.id}/card")
    assert session.get(PooledSeries, session.get(PooledTerms, pledge.id).series_id).method == "card"
    checkout = client.get(response.headers["Location"])
    assert checkout.status_code == 303 and checkout.headers["Location"].startswith("/demo-checkout/")


def test_the_staff_transfer_queue_lists_bank_pledges_only(client, session):
    manager = f.user("staff", centre_code="district-welfare")
    donor = f.user("donor")
    session.commit()
    bank = matching_service.create_pooled_pledge(Actor(donor), matching_service.PooledRequest(
        amount=10_000, criteria=matching_service.CriteriaInput()), TODAY)
    card = matching_service.create_pooled_pledge(Actor(donor), matching_service.PooledRequest(
        amount=20_000, criteria=matching_service.CriteriaInput(), method="card"), TODAY)
    session.commit()
    f.login(client, manager)
    page = _text(client.get("/staff/matching?lang=en"))
    assert bank.reference in page and card.reference not in page
