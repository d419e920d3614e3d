"""The district's reference data (dongs, categories, groups, the district) kept per process.

Public pages name a need's category, dong and group from services.reference.reference(): with
KINDCITY_REFERENCE_SECONDS > 0 (production) a process reads it once in that window; with 0 once per
request. Either way the names are the database's.
"""
from __future__ import annotations

import pytest
from sqlalchemy import update

from kindcity.models import Category
from kindcity.services import reference as reference_module
from kindcity.web.caching import clear_page_cache
from tests import factories as f


@pytest.fixture
def reads(monkeypatch):
    """How many times the reference data was read from the database."""
    count = [0]
    real = reference_module._read_reference

    def counted():
        count[0] += 1
        return real()

    monkeypatch.setattr(reference_module, "_read_reference", counted)
    return count


@pytest.fixture
def kept(app, session):
    """Reference data kept for 60 s in this process, then as the rest of the suite has it."""
    app.config["KINDCITY_REFERENCE_SECONDS"] = 60
    app.extensions.pop(reference_module._REFERENCE, None)
    clear_page_cache()
    try:
        yield app
    finally:
        app.config["KINDCITY_REFERENCE_SECONDS"] = 0
        app.extensions.pop(reference_module._REFERENCE, None)
        clear_page_cache()


def test_a_card_names_its_category_dong_and_group(client, session):
    need = f.need(title="기준 정보가 붙은 수요")
    session.commit()
    clear_page_cache()
    page = client.get("/needs?sort=newest").get_data(as_text=True)
    card = page[page.index("기준 정보가 붙은 수요"):]
    meta = card[card.index('<p class="meta">'):card.index("</p>")]
    for place in (need.category, need.dong, need.group):
        assert place.name_ko in meta


def test_without_keeping_each_request_reads_it_once(client, session, reads):
    for n in range(3):
        f.need(title=f"수요 {n}")
    session.commit()
    clear_page_cache()
    reads[0] = 0
    assert client.get("/needs?sort=newest").status_code == 200
    assert reads[0] == 1  # for the three cards, the filters and the header alike
    assert client.get("/").status_code == 200
    assert reads[0] == 2


def test_a_process_keeps_it_for_its_window_then_reads_it_again(kept, client, session, monkeypatch, reads):
    need = f.need(title="이름이 바뀌는 분류의 수요")
    session.commit()
    clock = [1_000.0]
    monkeypatch.setattr(reference_module, "monotonic", lambda: clock[0])
    old_name = need.category.name_ko

    reads[0] = 0
    assert old_name in client.get("/needs?sort=newest").get_data(as_text=True)
    assert reads[0] == 1

    # A re-seed renames the category: within the window the page still shows the kept name, unread.
    session.execute(update(Category).where(Category.id == need.category_id).values(name_ko="새 이름의 분류"))
    session.commit()
    clear_page_cache()
    clock[0] += 59
    assert old_name in client.get("/needs?sort=newest").get_data(as_text=True)
    assert client.get("/").status_code == 200
    assert reads[0] == 1

    clear_page_cache()
    clock[0] += 2
    page = client.get("/needs?sort=newest").get_data(as_text=True)
    assert reads[0] == 2
    assert "새 이름의 분류" in page
