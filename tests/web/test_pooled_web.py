"""Pooled pledges and match offers on the web: donors create them and read every allocation with its
reason; staff read the latest run, approve proposals, confirm transfers; the need page shows matches;
the policy page is Korean first, English second. Texts are checked in English (?lang=en).
"""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from kindcity.domain.needs import NeedStatus
from kindcity.domain.pledges import PledgeStatus
from kindcity.domain.time import seoul_today, utcnow
from kindcity.models import MatchRun, Organisation, Pledge, PooledTerms, Refund
from kindcity.services import Actor
from kindcity.services import matching as matching_service
from kindcity.services import pledges as pledge_service
from kindcity.services.reconcile import reconcile
from tests import factories as f

TODAY = seoul_today()


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _pooled_data(**extra):
    data = {"amount": "300,000원", "categories": ["medical-transport"], "dongs": ["hwajeong1", "nongseong1"],
            "cap_percent": "50", "display": "anonymous", "message": "", "on_end": "refund"}
    data.update(extra)
    return data


def _only(session, donor, kind) -> Pledge:
    return session.scalars(select(Pledge).where(Pledge.donor_id == donor.id, Pledge.kind == kind)).one()


def _client_for(app, person):
    other = app.test_client()
    f.login(other, person)
    other.get("/?lang=en")
    return other


def _manager():
    return f.user("staff", centre_code="district-welfare")


def test_donor_creates_a_pooled_pledge_sees_how_to_pay_and_then_the_reasons(client, session):
    donor = f.user("donor")
    f.need(target=400_000, deadline=TODAY + timedelta(days=5), dong="nongseong1")
    session.commit()
    f.login(client, donor)
    form = _text(client.get("/me/pooled/new?lang=en"))
    assert "Give to a pooled fund" in form and 'value="medical-transport"' in form and 'type="checkbox"' in form
    response = client.post("/me/pooled/new?lang=en", data=_pooled_data())
    assert response.status_code == 303, _text(response)[:2000]
    pledge = _only(session, donor, "pooled")
    terms = session.get(PooledTerms, pledge.id)
    assert (pledge.amount, pledge.need_id, pledge.status) == (300_000, None, PledgeStatus.AWAITING_PAYMENT)
    assert (terms.categories, sorted(terms.dongs), terms.cap_percent) == (["medical-transport"],
                                                                           ["hwajeong1", "nongseong1"], 50)
    page = _text(client.get(response.headers["Location"]))
    assert pledge.reference in page and "How to pay" in page and re.search(r"Transfer [^<]*300,000", page)
    assert "If your money arrived today" in page  # proposed, not committed
    assert "Nothing yet." in page
    pledge_service.record_payment(Actor(_manager()), pledge.id, 300_000, source="manual", external_id="w1",
                                  received_at=utcnow())
    session.commit()
    page = _text(client.get(f"/me/pooled/{pledge.id}?lang=en"))
    assert "How to pay" not in page
    assert "deadline in 5 days, in your chosen category and dong; nothing could complete a need it fits" in page
    assert "200,000" in page  # half of the need's target: the cap per need
    assert re.search(r'id="unplaced">[^<]*100,000', page)
    # the donor's other pages take pooled money in their stride
    assert client.get("/me/impact?lang=en").status_code == 200
    assert client.get("/me/history.csv").status_code == 200
    assert client.get(f"/me/pledges/{pledge.id}?lang=en").status_code == 200
    assert reconcile() == []


def test_form_errors_come_back_on_their_fields(client, session):
    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    page = _text(client.post("/me/pooled/new?lang=en", data=_pooled_data(cap_won="50,000", cap_percent="10")))
    assert "Give the cap per need in won or in percent, not both." in page
    page = _text(client.post("/me/pooled/new?lang=en", data=_pooled_data(amount="")))
    assert "Please enter an amount." in page
    page = _text(client.post("/me/pooled/new?lang=en", data=_pooled_data(message="연락처 010-1234-5678")))
    assert "phone number" in page
    assert session.scalars(select(Pledge).where(Pledge.donor_id == donor.id)).all() == []


def test_donor_pauses_resumes_and_ends(client, session):
    donor = f.user("donor")
    session.commit()
    pledge = matching_service.create_pooled_pledge(Actor(donor), matching_service.PooledRequest(
        amount=100_000, criteria=matching_service.CriteriaInput(categories=("culture",))), TODAY)
    pledge_service.record_payment(Actor(None), pledge.id, 100_000, source="manual", external_id="p1",
                                  received_at=utcnow())
    session.commit()
    f.login(client, donor)
    client.get("/?lang=en")
    response = client.post(f"/me/pooled/{pledge.id}/pause")
    assert response.status_code == 303
    assert "Paused: nothing more is placed" in _text(client.get(response.headers["Location"]))
    assert session.get(PooledTerms, pledge.id).paused is True
    client.post(f"/me/pooled/{pledge.id}/resume")
    session.expire_all()
    assert session.get(PooledTerms, pledge.id).paused is False
    page = _text(client.get(client.post(f"/me/pooled/{pledge.id}/end").headers["Location"]))
    assert "Ended: money not yet placed follows your choice." in page and "End this pledge" not in page
    assert session.scalar(select(Refund.amount).where(Refund.pledge_id == pledge.id)) == 100_000
    other = _client_for(client.application, f.user("donor"))
    session.commit()
    assert other.get(f"/me/pooled/{pledge.id}").status_code == 404
    assert other.post(f"/me/pooled/{pledge.id}/pause").status_code == 404
    assert reconcile() == []


def test_a_match_offer_doubles_a_gift_and_the_need_page_shows_it(client, session):
    org = Organisation(name="○○엘리베이터", kind="business")
    session.add(org)
    session.flush()
    sponsor = f.user("donor", organisation=org)
    need = f.need(target=1_000_000, category="education", group="out-of-school-youth", title="수학여행")
    session.commit()
    f.login(client, sponsor)
    form = _text(client.get("/me/offers/new?lang=en"))
    assert "Offer to match residents' gifts" in form
    response = client.post("/me/offers/new?lang=en", data={
        "amount": "5,000,000", "ratio_num": "1", "ratio_den": "1", "groups": ["out-of-school-youth"],
        "starts_on": TODAY.isoformat(), "ends_on": (TODAY + timedelta(days=30)).isoformat(),
        "display": "organisation", "message": "", "on_end": "refund"})
    assert response.status_code == 303, _text(response)[:2000]
    offer = _only(session, sponsor, "match")
    pledge_service.record_payment(Actor(None), offer.id, 5_000_000, source="manual", external_id="o1",
                                  received_at=utcnow())
    resident = f.user("donor")
    gift = pledge_service.create_direct_pledge(Actor(resident), pledge_service.PledgeRequest(
        need_id=need.id, amount=50_000, units=None, display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    pledge_service.record_payment(Actor(None), gift.id, 50_000, source="manual", external_id="g1",
                                  received_at=utcnow())
    session.commit()
    public = _text(client.get(f"/needs/{need.id}?lang=en"))
    assert "Match +50,000 won, ○○엘리베이터" in public or "Match +₩50,000, ○○엘리베이터" in public
    page = _text(client.get(f"/me/offers/{offer.id}?lang=en"))
    assert "1 resident's gift of" in page and "Matches a resident's gift of" in page and "수학여행" in page
    assert reconcile() == []


def test_dashboard_links_to_the_new_pages(client, session):
    donor = f.user("donor")
    session.commit()
    matching_service.create_pooled_pledge(Actor(donor), matching_service.PooledRequest(
        amount=10_000, criteria=matching_service.CriteriaInput()), TODAY)
    session.commit()
    f.login(client, donor)
    page = _text(client.get("/me/?lang=en"))
    assert "/me/pooled/new" in page and "/me/offers/new" in page
    pledge = _only(session, donor, "pooled")
    assert f"/me/pooled/{pledge.id}" in page


def test_staff_see_the_latest_run_and_approve_when_automatic_application_is_off(client, session):
    manager, centre_staff = _manager(), f.user("staff")
    need = f.need(target=100_000)
    donor = f.user("donor")
    session.commit()
    pledge = matching_service.create_pooled_pledge(Actor(donor), matching_service.PooledRequest(
        amount=100_000, criteria=matching_service.CriteriaInput()), TODAY)
    session.commit()
    # a dong centre's staff may read, not change
    reader = _client_for(client.application, centre_staff)
    assert "Only the district welfare office" in _text(reader.get("/staff/matching"))
    assert reader.post("/staff/matching/auto-apply").status_code == 403
    f.login(client, manager)
    client.get("/?lang=en")
    page = _text(client.get("/staff/matching"))
    assert "The engine has not run yet." in page and pledge.reference in page
    client.post("/staff/matching/auto-apply")
    assert "Off: each run waits" in _text(client.get("/staff/matching"))
    response = client.post(f"/staff/matching/pledges/{pledge.id}/payments",
                           data={"amount": "100,000", "received_on": TODAY.isoformat(), "token": "t1"})
    assert response.status_code == 303
    page = _text(client.get("/staff/matching"))
    assert "Waiting for approval" in page and "completes the need" in page
    session.expire_all()
    assert session.get(type(need), need.id).confirmed == 0
    run = session.scalar(select(MatchRun).order_by(MatchRun.id.desc()))
    assert reader.post(f"/staff/matching/runs/{run.id}/approve").status_code == 403
    client.post(f"/staff/matching/runs/{run.id}/approve")
    session.expire_all()
    assert session.get(MatchRun, run.id).status == "approved"
    assert session.get(type(need), need.id).status == NeedStatus.FUNDED
    assert reconcile() == []


@pytest.mark.parametrize("url, expected", [("/staff/matching", 302), ("/me/pooled/new", 302), ("/me/offers/new", 302),
                                           ("/matching", 200)])
def test_anonymous_access(client, session, url, expected):
    assert client.get(url).status_code == expected


def test_staff_cannot_open_donor_pages_and_donors_cannot_open_staff_pages(client, session):
    donor, staff = f.user("donor"), f.user("staff")
    session.commit()
    f.login(client, donor)
    assert client.get("/staff/matching").status_code == 403
    other = _client_for(client.application, staff)
    assert other.get("/me/pooled/new").status_code == 403


POLICY_TEXT = """# title

[한국어](#한국어) · [English](#english)

---

## 한국어

### 엔진이 추구하는 것

1. **수요를 끝까지 채웁니다.**

| 코드 | 한국어 |
| --- | --- |
| `completes` | 목표 금액이 채워집니다 |

---

## English

### What the engine aims for

1. **Complete needs.**

---

## Benchmark

BENCHMARK_TABLE_GOES_HERE
"""


def test_policy_page_shows_the_readers_language_only(client, session, monkeypatch, tmp_path):
    from kindcity.web.public import matching as public_matching

    policy = tmp_path / "matching.md"
    policy.write_text(POLICY_TEXT, encoding="utf-8")
    monkeypatch.setattr(public_matching, "POLICY", policy)
    korean = _text(client.get("/matching"))
    assert "수요를 끝까지 채웁니다" in korean and "Complete needs." not in korean
    assert "<table>" in korean and "<code>completes</code>" in korean
    english = _text(client.get("/matching?lang=en"))
    assert "Complete needs." in english and "수요를 끝까지 채웁니다" not in english
    for page in (korean, english):
        assert "BENCHMARK_TABLE_GOES_HERE" not in page and "# title" not in page
    footer = _text(client.get("/?lang=en"))
    assert 'href="/matching"' in footer


def test_policy_page_has_a_summary_when_the_document_is_missing(client, session, monkeypatch, tmp_path):
    from kindcity.web.public import matching as public_matching

    monkeypatch.setattr(public_matching, "POLICY", tmp_path / "missing.md")
    page = _text(client.get("/matching?lang=en"))
    assert "Only money that has been received is placed." in page and 'id="policy-ko"' not in page


def test_policy_page_renders_the_real_policy(client, session):
    from kindcity.web.public import matching as public_matching

    assert public_matching.POLICY.exists(), "the engine's README.md ships with the site"
    for lang, heading in (("ko", "엔진이 추구하는 것"), ("en", "What the engine aims for")):
        page = _text(client.get(f"/matching?lang={lang}"))
        assert public_matching.policy_section(lang) is not None
        assert heading in page, lang

def test_the_district_fund_is_shown_on_impact_staff_matching_and_the_donors_page(client, session):
    staff, manager, donor = f.user("staff"), _manager(), f.user("donor")
    cancelled = f.need(author=staff, target=300_000, title="취소된 병원 이동")
    urgent = f.need(target=500_000, deadline=TODAY + timedelta(days=3), title="서울 병원 왕복 교통비")
    pledge = pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
        need_id=cancelled.id, amount=150_000, units=None, display="anonymous", message="", on_cancel="pool"),
        hold_for=timedelta(days=7))
    pledge_service.record_payment(Actor(staff), pledge.id, 150_000, source="manual", external_id="fund-web",
                                  received_at=utcnow())
    from kindcity.services import needs as need_service
    need_service.cancel(Actor(staff), cancelled, "사업이 취소되었습니다")
    session.commit()
    assert session.get(type(urgent), urgent.id).confirmed == 150_000

    impact_en = _text(client.get("/impact?lang=en"))
    assert "The district's pooled fund (구 나눔 기금)" in impact_en
    fund_part = impact_en.split('id="district-fund"')[1].split("</section>")[0]
    assert "서울 병원 왕복 교통비" in fund_part and "150,000" in fund_part and "Waiting for a need" in fund_part
    impact_ko = _text(client.get("/impact?lang=ko"))
    assert "배분을 기다리는 돈" in impact_ko and "서울 병원 왕복 교통비" in impact_ko

    page = _text(_client_for(client.application, manager).get("/staff/matching?lang=en"))
    fund_part = page.split('id="district-fund"')[1].split("</section>")[0]
    assert "서울 병원 왕복 교통비" in fund_part and "Where the fund went" in fund_part
    assert "District pooled fund" in page.split('id="latest-h"')[1]  # the proposal names the fund, not a code
    reader = _client_for(client.application, donor)
    mine = _text(reader.get("/me/?lang=en"))
    part = mine.split('id="my-fund"')[1].split("</section>")[0]
    assert "My money in the district's pooled fund" in part and "서울 병원 왕복 교통비" in part and "150,000" in part
    mine_ko = _text(reader.get("/me/?lang=ko"))
    assert "구 나눔 기금에 맡긴 내 돈" in mine_ko


def test_the_staff_matching_page_names_dongs_groups_and_triggers_in_words(client, session):
    manager = _manager()
    # two needs pooled money can reach: one in 양동 that it completes, one in 화정1동 it can only bring closer
    small = f.need(target=100_000, dong="yang", group="elderly-alone", deadline=TODAY + timedelta(days=5))
    big = f.need(target=2_000_000, dong="hwajeong1", group="cancer-patients", deadline=TODAY + timedelta(days=6))
    donor = f.user("donor")
    session.commit()
    pledge = matching_service.create_pooled_pledge(Actor(donor), matching_service.PooledRequest(
        amount=600_000, criteria=matching_service.CriteriaInput()), TODAY)
    pledge_service.record_payment(Actor(manager), pledge.id, 600_000, source="manual", external_id="words",
                                  received_at=utcnow())
    session.commit()
    assert session.get(type(big), big.id).confirmed == 500_000 and session.get(type(small), small.id).status == "funded"
    for lang, dong, group, trigger, wrong in (("en", "Hwajeong 1-dong", "Cancer patients", "Pooled money received", None),
                                              ("ko", "화정1동", "암 환자", "나눔 기금 입금", "하나도 배분받지 못함")):
        page = _text(_client_for(client.application, manager).get(f"/staff/matching?lang={lang}"))
        flagged = page.split('id="left-behind"')[1].split("</p>")[0]
        assert dong in flagged and group in flagged
        assert "hwajeong1" not in flagged and "cancer-patients" not in flagged
        runs = page.split('id="runs-h"')[1].split("</table>")[0]
        assert trigger in runs and "money_received" not in runs
        if wrong:
            assert wrong not in page  # a dong that just got 500,000 won did get something
