"""Ending something for good takes one question first: a stray tap on a phone cancels no pledge. The
question says what will happen to the money; only the answer "yes" (a POST) changes anything."""
from __future__ import annotations

import html
from datetime import timedelta

from sqlalchemy import select

from kindcity.domain.pledges import PledgeStatus
from kindcity.domain.time import seoul_today, utcnow
from kindcity.models import MatchOfferTerms, Pledge, PooledTerms
from kindcity.services import Actor
from kindcity.services import matching as matching_service
from kindcity.services import pledges as pledge_service
from tests import factories as f

TODAY = seoul_today()


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _direct(donor, need, amount=50_000) -> Pledge:
    return pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
        need_id=need.id, amount=amount, units=None, display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))


def test_cancelling_a_pledge_asks_first_and_only_yes_cancels(client, session):
    donor, need = f.user("donor"), f.need(title="어르신 병원 동행", target=500_000)
    session.commit()
    pledge = _direct(donor, need)
    session.commit()
    f.login(client, donor)
    detail = _text(client.get(f"/me/pledges/{pledge.id}?lang=en"))
    assert f'href="/me/pledges/{pledge.id}/cancel"' in detail  # a link to the question, not a one-tap form
    assert f'action="/me/pledges/{pledge.id}/cancel"' not in detail
    question = client.get(f"/me/pledges/{pledge.id}/cancel?lang=en")
    page = _text(question)
    assert question.status_code == 200 and "<h1>Cancel this pledge?</h1>" in page
    assert pledge.reference in page and "어르신 병원 동행" in page and "50,000" in page
    assert "Nothing has been paid on it, so no money moves." in page
    assert f'action="/me/pledges/{pledge.id}/cancel"' in page and "Yes, cancel this pledge" in page
    assert f'href="/me/pledges/{pledge.id}"' in page and "No, keep it" in page
    session.refresh(pledge)
    assert pledge.status == PledgeStatus.AWAITING_PAYMENT  # asking changed nothing
    assert client.post(f"/me/pledges/{pledge.id}/cancel").status_code == 303
    session.refresh(pledge)
    assert pledge.status == PledgeStatus.CANCELLED
    korean = _text(client.get(f"/me/pledges/{pledge.id}/cancel?lang=ko", follow_redirects=True))
    assert "이 약정을 취소할까요?" not in korean  # a cancelled pledge is not asked about again


def test_a_paid_pledge_or_someone_elses_is_never_asked_about(app, client, session):
    donor, need = f.user("donor"), f.need(target=500_000)
    session.commit()
    paid = _direct(donor, need)
    pledge_service.record_payment(Actor(None), paid.id, 50_000, source="manual", external_id="p1",
                                  received_at=utcnow())
    theirs = _direct(f.user("donor"), need)
    session.commit()
    f.login(client, donor)
    response = client.get(f"/me/pledges/{paid.id}/cancel")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/me/pledges/{paid.id}")
    assert client.get(f"/me/pledges/{theirs.id}/cancel").status_code == 404


def test_ending_a_pooled_pledge_says_where_its_money_goes(client, session):
    donor = f.user("donor")
    session.commit()
    pledge = matching_service.create_pooled_pledge(Actor(donor), matching_service.PooledRequest(
        amount=300_000, criteria=matching_service.CriteriaInput(categories=("culture",))), TODAY)
    pledge_service.record_payment(Actor(None), pledge.id, 300_000, source="manual", external_id="p2",
                                  received_at=utcnow())
    session.commit()
    f.login(client, donor)
    detail = _text(client.get(f"/me/pooled/{pledge.id}?lang=en"))
    assert f'href="/me/pooled/{pledge.id}/end"' in detail
    page = _text(client.get(f"/me/pooled/{pledge.id}/end?lang=en"))
    assert "<h1>End this pooled pledge?</h1>" in page
    assert "From now on nothing more is placed from it." in page
    assert "The money not yet placed, ₩300,000, is refunded to you." in page
    korean = _text(client.get(f"/me/pooled/{pledge.id}/end?lang=ko"))
    assert "아직 배분되지 않은 300,000원은(는) 환불해 드립니다." in korean
    assert session.get(PooledTerms, pledge.id).ended_at is None  # asking changed nothing
    client.post(f"/me/pooled/{pledge.id}/end")
    session.expire_all()
    assert session.get(PooledTerms, pledge.id).ended_at is not None
    after = client.get(f"/me/pooled/{pledge.id}/end")
    assert after.status_code == 302  # ended: nothing left to ask


def test_ending_an_unpaid_match_offer_asks_without_talking_of_money(client, session):
    sponsor = f.user("donor")
    session.commit()
    offer = matching_service.create_match_offer(Actor(sponsor), matching_service.OfferRequest(
        amount=100_000, ratio_num=1, ratio_den=1, criteria=matching_service.CriteriaInput(), starts_on=TODAY,
        ends_on=TODAY + timedelta(days=30), display="anonymous"), TODAY)
    session.commit()
    f.login(client, sponsor)
    page = _text(client.get(f"/me/offers/{offer.id}/end?lang=en"))
    assert "<h1>End this match offer?</h1>" in page and "no more gifts are matched" in page
    assert "The money not yet placed" not in page
    assert session.get(MatchOfferTerms, offer.id).ended_at is None
    assert session.scalar(select(Pledge.status).where(Pledge.id == offer.id)) == PledgeStatus.AWAITING_PAYMENT


def test_the_needs_list_folds_the_rarer_filters_until_one_is_used(client, session):
    plain = _text(client.get("/needs?lang=en"))
    assert '<details class="more-filters">' in plain and "More filters</summary>" in plain
    narrowed = _text(client.get("/needs?lang=en&dong=hwajeong1&status=all"))
    assert '<details class="more-filters" open>' in narrowed and "More filters (2)</summary>" in narrowed
