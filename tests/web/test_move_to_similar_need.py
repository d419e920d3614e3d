"""Money a donor left for "a similar need": staff choose among open needs of the same category and dong
first (with a search), not by typing a number, and the donor hears by mail where it went."""
from __future__ import annotations

import email
import email.policy
import html
from datetime import timedelta

from kindcity.domain.time import seoul_today, utcnow
from kindcity.extensions import db
from kindcity.models import Need
from kindcity.services import Actor
from kindcity.services import needs as need_service
from kindcity.services import pledges as pledge_service
from tests import factories as f

TODAY = seoul_today()


def _scene(session):
    staff = f.user("staff", centre_code="district-welfare")
    donor = f.user("donor", name="김나눔")
    source = f.need(author=staff, title="취소된 병원 이동", dong="hwajeong1", category="medical-transport")
    pledge = pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
        need_id=source.id, amount=200_000, units=None, display="anonymous", message="", on_cancel="similar"),
        hold_for=timedelta(days=7))
    pledge_service.record_payment(Actor(staff), pledge.id, 200_000, source="manual", external_id="similar-1",
                                  received_at=utcnow())
    other = f.need(author=staff, title="다른 동 병원 이동", dong="yang", category="medical-transport",
                   deadline=TODAY + timedelta(days=5))
    same_dong = f.need(author=staff, title="같은 동 문화 나들이", dong="hwajeong1", category="culture",
                       deadline=TODAY + timedelta(days=3))
    unrelated = f.need(author=staff, title="풍암동 김장 나눔", dong="pungam", category="culture",
                       deadline=TODAY + timedelta(days=2))
    best = f.need(author=staff, title="화정1동 투석 환자 이동", dong="hwajeong1", category="medical-transport",
                  deadline=TODAY + timedelta(days=20))
    closed = f.need(author=staff, title="이미 채워진 병원 이동", dong="hwajeong1", category="medical-transport",
                    status="funded")
    need_service.cancel(Actor(staff), source, "사업이 취소되었습니다")
    session.commit()
    return staff, donor, pledge, {"best": best, "other": other, "same_dong": same_dong, "unrelated": unrelated,
                                  "closed": closed, "source": source}


def _titles_in_order(page: str, needs: dict) -> list[str]:
    chooser = page.split('id="similar-needs"')[1].split("</fieldset>")[0]
    found = [(chooser.index(n.title), key) for key, n in needs.items() if n.title in chooser]
    return [key for _, key in sorted(found)]


def test_staff_choose_among_similar_needs_first_and_can_search(client, session):
    staff, _, pledge, needs = _scene(session)
    f.login(client, staff)
    page = html.unescape(client.get(f"/staff/pledges/{pledge.id}?lang=en").get_data(as_text=True))
    assert _titles_in_order(page, needs) == ["best", "other", "same_dong", "unrelated"]  # no closed need, not itself
    assert 'name="need_id"' in page and 'type="radio"' in page and "Search needs by title" in page
    searched = html.unescape(client.get(f"/staff/pledges/{pledge.id}?lang=ko&q=김장").get_data(as_text=True))
    assert _titles_in_order(searched, needs) == ["unrelated"]
    assert "제목으로 찾기" in searched
    nothing = html.unescape(client.get(f"/staff/pledges/{pledge.id}?lang=en&q=없는말").get_data(as_text=True))
    assert "No open need matches." in nothing


def test_moving_the_money_mails_the_donor_the_needs_title(app, client, session):
    staff, donor, pledge, needs = _scene(session)
    f.login(client, staff)
    before = f.outbox(app)
    response = client.post(f"/staff/pledges/{pledge.id}/move", data={"need_id": needs["best"].id, "amount": "150,000"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Need, needs["best"].id).confirmed == 150_000
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in f.outbox(app) - before]
    assert [m["To"] for m in mails] == [donor.email]
    assert mails[0]["Subject"] == "기부금이 \"화정1동 투석 환자 이동\"에 쓰입니다"
    body = mails[0].get_content()
    assert "김나눔 님" in body and "150,000원" in body and pledge.reference in body
    assert f"http://kindcity.test/needs/{needs['best'].id}" in body


def test_the_donors_pages_name_needs_by_title_not_number(app, client, session):
    staff, donor, pledge, needs = _scene(session)
    pledge_service.move_to_need(Actor(staff), pledge.id, needs["best"].id, 150_000)
    session.commit()
    f.login(client, donor)
    for lang in ("ko", "en"):
        page = html.unescape(client.get(f"/me/pledges/{pledge.id}?lang={lang}").get_data(as_text=True))
        trail = page.split('class="trail"')[1].split("</ul>")[0]
        assert "화정1동 투석 환자 이동" in trail and "취소된 병원 이동" in trail
        assert "번 모금" not in trail and "need #" not in trail
