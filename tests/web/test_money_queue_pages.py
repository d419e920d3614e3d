"""The staff money queue (/staff/pledges) shows each list's first 25 rows and how many it holds, and
links to the whole list, 25 a page at /staff/pledges?list=<name>&page=n (a page after the last is a
404, as on /me/), at a fixed number of queries."""
from __future__ import annotations

import html
import re

import pytest

from tests import factories as f
from tests.web.test_query_counts import add_donor_pledges, counting


@pytest.fixture
def queue(client, session):
    staff, donor = f.user("staff"), f.user("donor")
    session.commit()
    add_donor_pledges(session, donor, staff, 60)  # 60 awaiting (all within a day), 60 to move, 60 refunds
    session.commit()
    f.login(client, staff)
    return client


def _get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def _references(page: str) -> list[str]:
    return re.findall(r"<code>(Q[DP]\d{6})</code>", page)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_queue_shows_each_lists_first_rows_and_links_to_all(queue, lang):
    page = _get(queue, f"/staff/pledges?lang={lang}")
    assert len(_references(page)) == 25 * 4  # overdue, awaiting, to move, refunds; partly paid is empty
    for name in ("overdue", "awaiting", "to_move", "refunds"):
        assert f'href="/staff/pledges?list={name}"' in page
    assert "list=partly" not in page
    if lang == "ko":
        assert "입금 대기 (60)" in page and "입금 대기 전체 보기 (60)" in page
    else:
        assert "Awaiting transfer (60)" in page and "All 60 in Awaiting transfer" in page


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_list_is_paged_in_its_order(queue, lang):
    pages = [_get(queue, f"/staff/pledges?list=awaiting&page={n}&lang={lang}") for n in (1, 2, 3)]
    rows = [_references(p) for p in pages]
    assert [len(r) for r in rows] == [25, 25, 10] and len(set(sum(rows, []))) == 60
    assert "Partly paid" not in pages[1] and "일부 입금" not in pages[1]  # only the list asked for
    assert f'rel="next" href="/staff/pledges?list=awaiting&page=3&lang={lang}"' in pages[1]
    assert f'rel="prev" href="/staff/pledges?list=awaiting&page=1&lang={lang}"' in pages[1]
    assert 'rel="next"' not in pages[2]
    assert ("3쪽 중 2쪽" if lang == "ko" else "Page 2 of 3") in pages[1]
    refunds = _get(queue, f"/staff/pledges?list=refunds&page=3&lang={lang}")
    assert refunds.count('name="bank_reference"') == 10
    assert queue.get(f"/staff/pledges?list=awaiting&page=4&lang={lang}").status_code == 404
    assert queue.get(f"/staff/pledges?list=partly&page=2&lang={lang}").status_code == 404
    assert queue.get(f"/staff/pledges?list=nonsense&lang={lang}").status_code == 404


def test_every_page_of_a_list_costs_the_same(queue):
    counts = []
    for url in ("/staff/pledges?list=awaiting", "/staff/pledges?list=awaiting&page=3",
                "/staff/pledges?list=refunds&page=2"):
        with counting() as statements:
            assert queue.get(url).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1] == counts[2] <= 40, counts
