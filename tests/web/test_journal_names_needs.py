"""Staff journal tables name a need by its title, with a link, never "Money placed on need 11"."""
from __future__ import annotations

import html
from datetime import timedelta

from kindcity.domain.time import utcnow
from kindcity.services import Actor
from kindcity.services import pledges as pledge_service
from tests import factories as f


def _paid_pledge(need, amount=50_000):
    pledge = pledge_service.create_direct_pledge(Actor(f.user("donor")), pledge_service.PledgeRequest(
        need_id=need.id, amount=amount, units=None, display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    pledge_service.record_payment(Actor(None), pledge.id, amount, source="manual", external_id=f"j-{pledge.id}",
                                  received_at=utcnow())
    return pledge




def test_the_need_money_journal_names_the_need(app, client, session):
    staff = f.user("staff")
    need = f.need(author=staff, title="홀몸 어르신 겨울 난방비", target=500_000)
    pledge = _paid_pledge(need)
    session.commit()
    f.login(client, staff)
    for url in (f"/staff/needs/{need.id}/money", f"/staff/pledges/{pledge.id}"):
        english = html.unescape(client.get(f"{url}?lang=en").get_data(as_text=True))
        assert f'Money placed on <a href="/staff/needs/{need.id}">홀몸 어르신 겨울 난방비</a>' in english, url
        assert f"Money placed on need {need.id}" not in english
        korean = html.unescape(client.get(f"{url}?lang=ko").get_data(as_text=True))
        assert f'<a href="/staff/needs/{need.id}">홀몸 어르신 겨울 난방비</a>에 배분된 돈' in korean
        assert f"{need.id}번 모금에 배분된 돈" not in korean


def test_a_title_with_markup_is_escaped(app, client, session):
    staff = f.user("staff")
    need = f.need(author=staff, title="<b>굵게</b> 모금", target=500_000)
    _paid_pledge(need)
    session.commit()
    f.login(client, staff)
    raw = client.get(f"/staff/needs/{need.id}/money?lang=en").get_data(as_text=True)
    assert "<b>굵게</b>" not in raw and "&lt;b&gt;굵게&lt;/b&gt; 모금</a>" in raw
