"""The home page, a need's pages and /impact say what is true: "nearly funded" lists only open needs
at least half way and not yet there, closest first, and its empty text does not deny open needs; a
need that reached its target reads as done, not as 95% with money still needed; an impact page with
only anonymous gifts does not begin with "and"; /impact lists the published impact reports."""
from __future__ import annotations

import html
import re
from datetime import timedelta

from kindcity.domain.impact import ReportStatus
from kindcity.domain.needs import NeedStatus
from kindcity.domain.time import seoul_today, utcnow
from kindcity.models import ImpactReport
from kindcity.services import Actor
from kindcity.services import pledges as pledge_service
from kindcity.web.caching import clear_page_cache
from tests import factories as f


def _get(client, url, lang):
    clear_page_cache()
    return html.unescape(client.get(f"{url}{'&' if '?' in url else '?'}lang={lang}").get_data(as_text=True))


def _section(page: str, heading: str) -> str:
    found = re.search(rf"<h2[^>]*>{re.escape(heading)}</h2>(.*?)</section>", page, re.DOTALL)
    assert found, heading
    return found.group(1)


def test_nearly_funded_lists_only_needs_half_way_closest_first(client, session):
    staff = f.user("staff")
    zero = f.need(author=staff, title="영 퍼센트", target=1_000_000)
    f.need(author=staff, title="삼십 퍼센트", target=1_000_000, confirmed=300_000)
    sixty = f.need(author=staff, title="육십 퍼센트", target=1_000_000, confirmed=600_000, reserved=100_000)
    f.need(author=staff, title="약속만 많은", target=1_000_000, confirmed=100_000, reserved=500_000)  # shows 10%
    f.need(author=staff, title="약속이 다 찬", target=1_000_000, confirmed=700_000, reserved=300_000)  # takes no more
    ninety = f.need(author=staff, title="구십 퍼센트", target=1_000_000, confirmed=900_000)
    f.need(author=staff, title="다 모임", target=1_000_000, confirmed=1_000_000, status=NeedStatus.FUNDED)
    session.commit()
    assert zero.id
    for lang, heading in (("ko", "목표 달성 임박"), ("en", "Nearly funded")):
        nearly = _section(_get(client, "/", lang), heading)
        titles = re.findall(r"(영 퍼센트|삼십 퍼센트|육십 퍼센트|구십 퍼센트|다 모임|약속만 많은|약속이 다 찬)", nearly)
        assert titles == ["구십 퍼센트", "육십 퍼센트"], (lang, titles)
    assert ninety.id and sixty.id


def test_nearly_funded_empty_text_does_not_deny_open_needs(client, session):
    f.need(title="막 시작한 모금", target=1_000_000)
    session.commit()
    english = _section(_get(client, "/", "en"), "Nearly funded")
    assert "No open needs right now." not in english
    assert "No open need is at least half way to its target yet." in english
    korean = _section(_get(client, "/", "ko"), "목표 달성 임박")
    assert "목표의 절반 이상 모인 모금이 아직 없습니다." in korean
    assert "진행 중인 모금이 없습니다" not in korean


def test_a_need_that_reached_its_target_reads_as_done(client, session):
    # 6,000,000 raised, 300,000 left over went back to donors: 5,700,000 kept
    done = f.need(title="완료된 모금", target=6_000_000, confirmed=5_700_000, status=NeedStatus.COMPLETED)
    session.commit()
    english = _get(client, f"/needs/{done.id}", "en")
    assert "Target reached" in english and "(100%)" in english and "(95%)" not in english
    assert "Still needed" not in english and "300,000" not in english
    korean = _get(client, f"/needs/{done.id}", "ko")
    assert "목표 달성" in korean and "(100%)" in korean and "더 필요한 금액" not in korean
    assert "5,700,000원 모금" in korean


def test_an_impact_page_with_only_anonymous_gifts_has_no_dangling_and(client, session):
    need = f.need(target=500_000)
    pledge = pledge_service.create_direct_pledge(Actor(f.user("donor")), pledge_service.PledgeRequest(
        need_id=need.id, amount=10_000, units=None, display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    pledge_service.record_payment(Actor(None), pledge.id, 10_000, source="manual", external_id="anon-impact",
                                  received_at=utcnow())
    session.commit()
    english = _get(client, f"/needs/{need.id}/impact", "en")
    assert "1 anonymous gift" in english and "and 1 anonymous gift" not in english
    korean = _get(client, f"/needs/{need.id}/impact", "ko")
    assert "익명 후원 1건" in korean and "그리고 익명" not in korean


def _published(session, staff, title, days_ago):
    need = f.need(author=staff, title=title, status=NeedStatus.COMPLETED, confirmed=1_000_000)
    session.add(ImpactReport(need_id=need.id, status=ReportStatus.PUBLISHED.value, report_due=seoul_today(),
                             units_planned=10, units_delivered=9, unit_name="회", beneficiaries_reached=4,
                             story="", started_by_id=staff.id, approved_by_id=staff.id,
                             published_at=utcnow() - timedelta(days=days_ago)))
    return need


def test_impact_lists_the_published_reports_newest_first(client, session):
    staff = f.user("staff")
    older = _published(session, staff, "지난달 보고", 30)
    newer = _published(session, staff, "어제 보고", 1)
    draft_need = f.need(author=staff, title="초안 보고", status=NeedStatus.DELIVERING, confirmed=1_000_000)
    session.add(ImpactReport(need_id=draft_need.id, status=ReportStatus.DRAFT.value, report_due=seoul_today(),
                             units_planned=1, story="", started_by_id=staff.id))
    session.commit()
    for lang, heading in (("ko", "성과 보고"), ("en", "Impact reports")):
        reports = _section(_get(client, "/impact", lang), heading)
        assert reports.index(f'href="/needs/{newer.id}/impact"') < reports.index(f'href="/needs/{older.id}/impact"')
        assert "초안 보고" not in reports
        assert "All impact reports" not in reports and "성과 보고 전체 보기" not in reports
    assert "4 people reached" in _get(client, "/impact", "en")
    assert "4명에게 도움" in _get(client, "/impact", "ko")


def test_impact_shows_the_latest_twelve_and_links_to_the_rest(client, session):
    staff = f.user("staff")
    needs = [_published(session, staff, f"보고 {n:02d}", n) for n in range(14)]
    session.commit()
    page = _get(client, "/impact", "en")
    shown = [int(n) for n in re.findall(r'href="/needs/(\d+)/impact"', _section(page, "Impact reports"))]
    assert shown == [need.id for need in needs[:12]]
    assert 'href="/impact/reports"' in page and "All impact reports" in page
    listed = _get(client, "/impact/reports", "ko")
    assert [int(n) for n in re.findall(r'href="/needs/(\d+)/impact"', listed)] == [need.id for need in needs]
    assert "성과 보고" in listed
    assert client.get("/impact/reports?page=2").status_code == 404


def test_impact_shows_both_the_fund_placements_and_the_reports(client, session):
    from kindcity.services import needs as need_service

    staff = f.user("staff")
    cancelled = f.need(author=staff, target=300_000)
    urgent = f.need(author=staff, title="가장 급한 모금", target=500_000, deadline=seoul_today() + timedelta(days=3))
    pledge = pledge_service.create_direct_pledge(Actor(f.user("donor")), pledge_service.PledgeRequest(
        need_id=cancelled.id, amount=120_000, units=None, display="anonymous", message="", on_cancel="pool"),
        hold_for=timedelta(days=7))
    pledge_service.record_payment(Actor(None), pledge.id, 120_000, source="manual", external_id="pool-1",
                                  received_at=utcnow())
    need_service.cancel(Actor(staff), cancelled, "사업이 취소되었습니다")
    report_need = _published(session, staff, "보고가 나온 모금", 2)
    session.commit()
    page = _get(client, "/impact", "ko")
    placements = re.search(r'<ul class="plain" id="fund-placements">(.*?)</ul>', page, re.DOTALL).group(1)
    assert f'href="/needs/{urgent.id}"' in placements and "가장 급한 모금" in placements and "120,000원" in placements
    assert "보고가 나온 모금" not in placements
    reports = _section(page, "성과 보고")
    assert f'href="/needs/{report_need.id}/impact"' in reports and "가장 급한 모금" not in reports
