"""The audit log reads as words and can be narrowed: who, what, when, which record, in Korean and
English, with Hangul shown as Hangul, each action named once, and Next/Previous keeping the filters."""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

from sqlalchemy import insert

from kindcity.domain.time import SEOUL, utcnow
from kindcity.models import AuditEntry
from tests import factories as f


def _rows(client, query: str = "", lang: str = "ko") -> str:
    """Only the log's table (the filter form lists every action and person too)."""
    page = html.unescape(client.get(f"/staff/audit?lang={lang}&{query}").get_data(as_text=True))
    found = re.search(r"<tbody>(.*?)</tbody>", page, re.DOTALL)
    return found.group(1) if found else ""


def _entry(session, actor, action="need.approve", entity="need", entity_id=1, at=None, before=None, after=None):
    session.execute(insert(AuditEntry), [{"at": at or utcnow(), "actor_id": actor.id if actor else None,
                                          "action": action, "entity": entity, "entity_id": entity_id,
                                          "before": before, "after": after}])


def test_values_are_readable_and_each_action_named_once(client, session):
    admin = f.user("admin")
    _entry(session, admin, "categories.save", "categories", 7, before={"name_ko": "홀몸 어르신"},
           after={"name_ko": "홀로 사는 어르신", "amount": 1500000})
    _entry(session, admin, "impact.approve", "need", 8)
    _entry(session, admin, "need.approve", "need", 9, before={"status": "awaiting_approval"}, after={"status": "open"})
    session.commit()
    f.login(client, admin)
    rows = _rows(client)
    assert "홀몸 어르신" in rows and "홀로 사는 어르신" in rows and "1,500,000" in rows
    assert "\\ud640" not in rows and "\\u" not in rows
    assert "성과 보고 게시" in rows and "impact.approve" not in rows
    english = _rows(client, lang="en")
    assert english.count("Impact report published") == 1 and "impact.approve" not in english
    assert "Category saved" in english and "Category #7" in english
    assert "Status" in english and "Awaiting approval" in english and "awaiting_approval" not in english
    assert "1,500,000 won" in english or "₩1,500,000" in english
    assert "승인 대기" in rows and "awaiting_approval" not in rows and "1,500,000원" in rows and "한글 이름" in rows


def test_filter_by_who(app, client, session):
    admin, one, other = f.user("admin"), f.user("staff", name="김복지"), f.user("staff", name="이복지")
    _entry(session, one, entity_id=101)
    _entry(session, other, entity_id=102)
    session.commit()
    f.login(client, admin)
    rows = _rows(client, f"actor={one.id}")
    assert "#101" in rows and "#102" not in rows and "김복지" in rows
    assert "#102" in _rows(client, f"actor={other.id}", lang="en")
    assert "#101" not in _rows(client, f"actor={other.id}", lang="en")


def test_filter_by_what(client, session):
    admin = f.user("admin")
    _entry(session, admin, "need.approve", entity_id=201)
    _entry(session, admin, "need.cancel", entity_id=202)
    session.commit()
    f.login(client, admin)
    rows = _rows(client, "action=need.cancel")
    assert "#202" in rows and "#201" not in rows and "취소" in rows
    english = _rows(client, "action=need.approve", lang="en")
    assert "#201" in english and "#202" not in english and "Approved and published" in english


def test_filter_by_when_in_korea_time(client, session):
    admin = f.user("admin")
    # 2026-03-02 00:30 in Seoul is still 2026-03-01 in UTC: the day is Korea's
    _entry(session, admin, entity_id=301, at=datetime(2026, 3, 2, 0, 30, tzinfo=SEOUL))
    _entry(session, admin, entity_id=302, at=datetime(2026, 3, 5, 12, 0, tzinfo=SEOUL))
    _entry(session, admin, entity_id=303, at=datetime(2026, 3, 1, 23, 30, tzinfo=SEOUL))
    session.commit()
    f.login(client, admin)
    rows = _rows(client, "since=2026-03-02&until=2026-03-02")
    assert "#301" in rows and "#302" not in rows and "#303" not in rows
    english = _rows(client, "since=2026-03-03", lang="en")
    assert "#302" in english and "#301" not in english
    assert "#303" in _rows(client, "until=2026-03-01", lang="en")
    assert "#301" not in _rows(client, "until=2026-03-01", lang="en")


def test_filter_by_which_record(client, session):
    admin = f.user("admin")
    _entry(session, admin, entity="need", entity_id=401)
    _entry(session, admin, "pledge.create", entity="pledge", entity_id=401)
    _entry(session, admin, entity="need", entity_id=402)
    session.commit()
    f.login(client, admin)
    rows = _rows(client, "entity=pledge&entity_id=401")
    assert "약정 #401" in rows and "도움이 필요한 곳 #401" not in rows and "#402" not in rows
    english = _rows(client, "entity=need&entity_id=401", lang="en")
    assert "Need #401" in english and "Pledge #401" not in english and "#402" not in english
    assert "Nothing matches." in html.unescape(client.get("/staff/audit?lang=en&entity_id=999999").get_data(as_text=True))


def test_a_bad_filter_is_an_error_not_a_500(client, session):
    admin = f.user("admin")
    session.commit()
    f.login(client, admin)
    _entry(session, admin, entity_id=601)
    session.commit()
    for query in ("since=yesterday", "entity_id=-3", "actor=abc", "action=drop+table"):
        response = client.get(f"/staff/audit?lang=en&{query}")
        assert response.status_code == 200
        assert "#601" not in _rows(client, query, lang="en"), query  # not the whole log as if it matched
        assert "Nothing matches." in response.get_data(as_text=True)
    assert "#601" in _rows(client, lang="en")


def _rows_of(page: str) -> str:
    return re.search(r"<tbody>(.*?)</tbody>", page, re.DOTALL).group(1)


def _pages(page: str) -> str:
    return re.search(r'<nav class="pagination".*?</nav>', page, re.DOTALL).group(0)


def test_pages_keep_the_filters(client, session):
    admin, one, other = f.user("admin"), f.user("staff"), f.user("staff")
    at = utcnow()
    session.execute(insert(AuditEntry), [
        {"at": at - timedelta(seconds=n), "actor_id": (one if n % 2 else other).id, "action": "need.approve",
         "entity": "need", "entity_id": 500_000 + n} for n in range(130)])
    session.commit()
    f.login(client, admin)
    url, seen = f"/staff/audit?actor={one.id}", []
    while url:
        page = html.unescape(client.get(url).get_data(as_text=True))
        seen += [int(n) for n in re.findall(r"#(5\d{5})", _rows_of(page))]
        older = re.search(r'href="(/staff/audit\?[^"]*before=\d+[^"]*)"', _pages(page))
        url = older.group(1) if older else None
        if url:
            assert f"actor={one.id}" in url
    assert seen == [500_000 + n for n in range(1, 130, 2)]
    back = re.search(r'href="(/staff/audit\?[^"]*after=\d+[^"]*)"', _pages(page)).group(1)
    assert f"actor={one.id}" in back
    previous = html.unescape(client.get(back).get_data(as_text=True))
    assert [int(n) for n in re.findall(r"#(5\d{5})", _rows_of(previous))] == seen[:50]


def test_a_needs_staff_page_names_every_action_of_its_history(client, session):
    staff = f.user("staff")
    need = f.need(author=staff)
    _entry(session, staff, "impact.approve", "need", need.id)
    _entry(session, staff, "impact.disburse", "need", need.id)
    session.commit()
    f.login(client, staff)
    english = html.unescape(client.get(f"/staff/needs/{need.id}?lang=en").get_data(as_text=True))
    assert "Impact report published" in english and "Spending recorded" in english
    assert "impact.approve" not in english and "impact.disburse" not in english
    korean = html.unescape(client.get(f"/staff/needs/{need.id}?lang=ko").get_data(as_text=True))
    assert "성과 보고 게시" in korean and "집행 기록" in korean
