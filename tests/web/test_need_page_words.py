"""A need's public page says what is true for its state: a closed need does not ask to be the first
supporter, and a list of only anonymous gifts does not begin with "and"."""
from __future__ import annotations

import html
from datetime import timedelta

from kindcity.services import Actor
from kindcity.services import needs as need_service
from kindcity.services import pledges as pledge_service
from kindcity.domain.time import utcnow
from tests import factories as f


def _page(client, need, lang):
    return html.unescape(client.get(f"/needs/{need.id}?lang={lang}").get_data(as_text=True))


def test_closed_needs_do_not_ask_for_a_first_supporter(client, session):
    staff = f.user("staff")
    cancelled, open_need = f.need(author=staff), f.need(author=staff)
    need_service.cancel(Actor(staff), cancelled, "사업이 취소되었습니다")
    session.commit()
    assert "Be the first to support this need." in _page(client, open_need, "en")
    english, korean = _page(client, cancelled, "en"), _page(client, cancelled, "ko")
    assert "Be the first" not in english and "No gifts were made to this need." in english
    assert "첫 번째 후원자" not in korean and "이 모금에 들어온 후원이 없습니다." in korean


def test_only_anonymous_gifts_are_counted_without_a_dangling_and(client, session):
    need = f.need(target=500_000)
    donor = f.user("donor")
    pledge = pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
        need_id=need.id, amount=10_000, units=None, display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    pledge_service.record_payment(Actor(None), pledge.id, 10_000, source="manual", external_id="anon",
                                  received_at=utcnow())
    session.commit()
    english, korean = _page(client, need, "en"), _page(client, need, "ko")
    assert "1 anonymous gift" in english and "and 1 anonymous gift" not in english
    assert "익명 후원 1건" in korean and "그리고 익명" not in korean
