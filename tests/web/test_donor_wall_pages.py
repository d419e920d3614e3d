"""The donor wall at scale: /donors shows each group's leading donors and links to the whole group,
paged 100 at a time at /donors?group=<g>&page=n (a page after the last is a 404, as on /me/). Both
slice the stored wall row, so the wall of 87,000 donors is drawn a page at a time."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import delete

from kindcity.domain.time import seoul_today, utcnow
from kindcity.models import DistrictFigures

SIZES = {"good_shops": 3, "good_companies": 0, "churches_and_civic": 60, "residents": 250}


def _name(group: str, n: int) -> str:
    return f"{group}-{n:03d}"


def store_wall(session, sizes=SIZES) -> None:
    """A stored wall of ``sizes`` donors a group, larger givers first (as the recount stores it)."""
    data = {group: [[_name(group, n), "steady" if n < 10 else "neighbour", 5_000_000 - n * 1_000]
                    for n in range(size)] for group, size in sizes.items()}
    session.execute(delete(DistrictFigures).where(DistrictFigures.key == "wall"))
    session.add(DistrictFigures(key="wall", day=seoul_today(), counted_at=utcnow(), data=data))
    session.commit()


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def _names(page: str, group: str) -> list[str]:
    return re.findall(rf'<span class="wall-name">({group}-\d+)</span>', page)


@pytest.fixture
def wall(session):
    store_wall(session)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_wall_shows_each_groups_leading_donors_and_links_to_the_rest(client, wall, lang):
    page = _text(client.get(f"/donors?lang={lang}"))
    assert _names(page, "residents") == [_name("residents", n) for n in range(50)]
    assert _names(page, "churches_and_civic") == [_name("churches_and_civic", n) for n in range(50)]
    assert _names(page, "good_shops") == [_name("good_shops", n) for n in range(3)]
    assert 'href="/donors?group=residents"' in page and 'href="/donors?group=churches_and_civic"' in page
    assert "group=good_shops" not in page  # all three are shown already
    if lang == "ko":
        assert "주민 (250)" in page and "주민 전체 보기 (250)" in page and "아직 없습니다" in page
    else:
        assert "Residents (250)" in page and "All 250 in Residents" in page and "No one yet." in page


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_group_is_paged_a_hundred_at_a_time(client, wall, lang):
    first = _text(client.get(f"/donors?group=residents&lang={lang}"))
    assert _names(first, "residents") == [_name("residents", n) for n in range(100)]
    assert "churches_and_civic-" not in first
    assert 'rel="next" href="/donors?group=residents&lang=' in first and 'rel="prev"' not in first
    assert '<ol class="wall" start="1">' in first
    second = _text(client.get(f"/donors?group=residents&page=2&lang={lang}"))
    assert _names(second, "residents") == [_name("residents", n) for n in range(100, 200)]
    assert '<ol class="wall" start="101">' in second
    assert f'rel="prev" href="/donors?group=residents&page=1&lang={lang}"' in second
    assert f'rel="next" href="/donors?group=residents&page=3&lang={lang}"' in second
    last = _text(client.get(f"/donors?group=residents&page=3&lang={lang}"))
    assert _names(last, "residents") == [_name("residents", n) for n in range(200, 250)]
    assert 'rel="next"' not in last and 'rel="prev"' in last
    if lang == "ko":
        assert "3쪽 중 2쪽" in second and "250 중 101-200번째" in second
    else:
        assert "Page 2 of 3" in second and "101 to 200 of 250" in second


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_past_the_last_page_or_an_unknown_group_is_not_found(client, wall, lang):
    assert client.get(f"/donors?group=residents&page=4&lang={lang}").status_code == 404
    assert client.get(f"/donors?group=churches_and_civic&page=2&lang={lang}").status_code == 404
    assert client.get(f"/donors?group=nobody&lang={lang}").status_code == 404
    assert client.get(f"/donors?group=residents&page=nonsense&lang={lang}").status_code == 200  # the first
    empty = _text(client.get(f"/donors?group=good_companies&lang={lang}"))  # an empty group: one page
    assert ("아직 없습니다" if lang == "ko" else "No one yet.") in empty and 'rel="next"' not in empty


def test_a_recount_is_shown_at_once(client, session, wall):
    """Each process keeps the wall it last decoded; a recount (a new counted_at) replaces it."""
    assert "Residents (250)" in _text(client.get("/donors?lang=en"))
    store_wall(session, {**SIZES, "residents": 120})
    page = _text(client.get("/donors?group=residents&page=2&lang=en"))
    assert "Residents (120)" in page and _names(page, "residents") == [_name("residents", n) for n in range(100, 120)]
