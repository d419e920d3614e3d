"""A donor's own pages in pages: /me/ shows 25 pledges a page, newest first, and /me/impact 20 needs,
each under totals that count every pledge; Previous and Next (이전, 다음) in a nav of its own, and a
page after the last is a 404. The history CSV still has every row.

Runs on SQLite and on PostgreSQL (KINDCITY_TEST_DATABASE_URL). Korean first, then English (?lang=en).
"""
from __future__ import annotations

import csv
import html
import io
import re

from sqlalchemy import select

from kindcity.models import Pledge
from tests import factories as f
from tests.web.test_query_counts import add_donor_pledges

EACH_KIND = 15  # 15 pledges of each of four kinds: 60 pledges (3 pages of /me/), 15 needs on /me/impact


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def _nav(page: str) -> str:
    found = re.search(r'<nav class="pagination" aria-label="([^"]+)">(.*?)</nav>', page, re.S)
    assert found, "no pagination nav"
    return found.group(0)


def _references(page: str) -> list[str]:
    return re.findall(r"<code>(Q[DP]\d{6})</code>", page)


def _donor(client, session, each_kind: int = EACH_KIND):
    staff, donor = f.user("staff"), f.user("donor")
    session.commit()
    add_donor_pledges(session, donor, staff, each_kind)
    f.login(client, donor)
    newest_first = session.scalars(select(Pledge.reference).where(Pledge.donor_id == donor.id)
                                   .order_by(Pledge.created_at.desc(), Pledge.id.desc())).all()
    return client, newest_first


def test_my_pledges_come_25_a_page_newest_first_in_korean(client, session):
    client, newest_first = _donor(client, session)
    assert len(newest_first) == 60
    first = _page(client, "/me/?lang=ko")
    nav = _nav(first)
    assert 'aria-label="내 약정 쪽 이동"' in nav and "3쪽 중 1쪽" in nav
    assert 'rel="next"' in nav and "다음" in nav and 'rel="prev"' not in nav
    assert _references(first) == newest_first[:25]
    assert re.search(r"<dt>약정 건수</dt><dd>60</dd>", first)  # every pledge counted, not the page's
    assert re.search(r"<dt>약정 금액 합계</dt><dd>600,000", first)
    # The next page, found by its link as a reader would: the language goes along.
    href = re.search(r'<a rel="next" href="([^"]+)">', nav).group(1)
    assert "page=2" in href and "lang=ko" in href
    second = _page(client, href)
    nav = _nav(second)
    assert "3쪽 중 2쪽" in nav and 'rel="prev"' in nav and "이전" in nav and 'rel="next"' in nav
    assert _references(second) == newest_first[25:50]
    last = _page(client, "/me/?lang=ko&page=3")
    nav = _nav(last)
    assert "3쪽 중 3쪽" in nav and 'rel="prev"' in nav and 'rel="next"' not in nav
    assert _references(last) == newest_first[50:]
    assert client.get("/me/?lang=ko&page=4").status_code == 404


def test_my_pledges_in_english_and_out_of_range_pages(client, session):
    client, newest_first = _donor(client, session)
    first = _page(client, "/me/?lang=en")
    nav = _nav(first)
    assert 'aria-label="Pages of my pledges"' in nav and "Page 1 of 3" in nav and ">Next</a>" in nav
    assert re.search(r"<dt>Number of pledges</dt><dd>60</dd>", first)
    last = _page(client, "/me/?lang=en&page=3")
    assert "Page 3 of 3" in _nav(last) and ">Previous</a>" in _nav(last) and ">Next</a>" not in _nav(last)
    assert client.get("/me/?lang=en&page=4").status_code == 404
    assert client.get("/me/?lang=en&page=999999999999").status_code == 404
    # Unreadable or below one is the first page, as everywhere on the site.
    assert _references(_page(client, "/me/?lang=en&page=x")) == newest_first[:25]
    assert _references(_page(client, "/me/?lang=en&page=0")) == newest_first[:25]


def test_a_donor_without_pledges_has_one_page_and_no_pager(client, session):
    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    page = _page(client, "/me/?lang=en")
    assert "You have not pledged yet." in page and 'class="pagination"' not in page
    assert client.get("/me/?page=2").status_code == 404
    assert client.get("/me/impact?page=2").status_code == 404


def _needs(page: str) -> list[str]:
    return re.findall(r'<h2><a href="/needs/(\d+)/impact">', page)


def test_my_impact_comes_20_needs_a_page_newest_first_under_totals_of_all(client, session):
    client, _ = _donor(client, session, 45)  # 45 needs with the donor's money on them: pages of 20, 20 and 5
    newest_first = session.scalars(select(Pledge.need_id).where(Pledge.reference.like("QD%"),
                                                                Pledge.status == "paid")
                                   .order_by(Pledge.need_id.desc())).all()
    assert len(newest_first) == 45
    first = _page(client, "/me/impact?lang=ko")
    nav = _nav(first)
    assert 'aria-label="내가 도운 필요 쪽 이동"' in nav and "3쪽 중 1쪽" in nav and "다음" in nav
    assert 'rel="prev"' not in nav
    assert _needs(first) == [str(i) for i in newest_first[:20]]
    assert re.search(r"<dd>45</dd>", first)  # needs supported: all of them, on every page
    second = _page(client, re.search(r'<a rel="next" href="([^"]+)">', nav).group(1))
    assert "3쪽 중 2쪽" in _nav(second) and "이전" in _nav(second)
    assert _needs(second) == [str(i) for i in newest_first[20:40]]
    last = _page(client, "/me/impact?lang=en&page=3")
    nav = _nav(last)
    assert 'aria-label="Pages of the needs I supported"' in nav and "Page 3 of 3" in nav
    assert 'rel="prev"' in nav and ">Previous</a>" in nav and 'rel="next"' not in nav
    assert _needs(last) == [str(i) for i in newest_first[40:]]
    assert re.search(r"<dd>45</dd>", last)
    assert client.get("/me/impact?lang=en&page=4").status_code == 404
    assert client.get("/me/impact?lang=ko&page=4").status_code == 404


def test_the_history_csv_still_has_every_pledge(client, session):
    client, newest_first = _donor(client, session)
    response = client.get("/me/history.csv?lang=en")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert sorted(r["Reference code"] for r in rows) == sorted(newest_first)
