"""Figures as people read them: times without seconds or UTC offsets, the staff ledger in words and
won, and home-page figures that mean what their labels say."""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone

from kindcity.i18n import format_day
from kindcity.services import Actor
from kindcity.services import pledges as pledge_service
from tests import factories as f


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_moment_reads_to_the_minute_in_korea_time(app):
    moment = datetime(2026, 12, 7, 6, 4, 16, tzinfo=timezone.utc)  # 15:04:16 in Seoul
    with app.test_request_context("/?lang=ko"):
        assert format_day(moment) == "2026년 12월 7일 오후 3:04"
    with app.test_request_context("/?lang=en"):
        assert format_day(moment) == "Dec 7, 2026, 3:04 PM"
        assert format_day(moment.date()) == "December 7, 2026"


def test_the_staff_ledger_names_accounts_in_words_and_amounts_in_won(app, client, session):
    staff = f.user("staff")
    need = f.need(author=staff, target=1_000_000)
    donor = f.user("donor")
    session.commit()
    pledge = pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
        need_id=need.id, amount=30_000, units=None, display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    session.commit()
    f.login(client, staff)
    page = _text(client.get(f"/staff/pledges/{pledge.id}?lang=en"))
    ledger = page.split("<table", 1)[1] if "<table" in page else page
    assert f"Promised by pledge {pledge.id}, not yet paid" in page
    assert f'Reserved on <a href="/staff/needs/{need.id}">{need.title}</a>' in page  # the need by its title
    assert "+₩30,000" in page and "-₩30,000" in page
    assert "+30000" not in ledger and "-30000" not in ledger
    assert not re.search(r"\d{1,2}:\d{2}:\d{2}", page), "times are shown to the minute"
    assert "+0900" not in page and "GMT" not in page
    korean = _text(client.get(f"/staff/pledges/{pledge.id}?lang=ko"))
    assert f'<a href="/staff/needs/{need.id}">{need.title}</a>에 예약된 금액' in korean and "+30,000원" in korean


def test_the_home_page_says_what_its_total_counts_and_lists_only_needs_people_gave_to_as_nearly_funded(
        client, session):
    empty_small = f.need(title="아직 아무도 돕지 않은 작은 모금", target=100_000)
    big_nearly = f.need(title="거의 다 모인 큰 모금", target=5_000_000, confirmed=4_750_000)
    half = f.need(title="절반 모인 모금", target=1_000_000, confirmed=500_000)
    session.commit()
    page = _text(client.get("/"))
    assert "지금까지 복지 수요에 모인 금액" in page
    section = page.split('id="h-2"', 1)[1].split("</section>", 1)[0]
    assert big_nearly.title in section and half.title in section
    assert empty_small.title not in section  # 0% is not "nearly funded", however small its gap
    assert section.index(big_nearly.title) < section.index(half.title)  # 95% before 50%
    english = _text(client.get("/impact?lang=en"))
    assert "Donations received" in english
