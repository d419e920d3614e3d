from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from kindcity.domain.needs import NeedStatus
from kindcity.domain.time import seoul_today
from kindcity.extensions import db
from tests import factories as f


def test_home_shows_open_needs_and_totals(client, session):
    need = f.need(title="암 환자 서울 병원 이동 지원", confirmed=250_000)
    f.need(title="비공개 초안", status=NeedStatus.DRAFT)
    session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "암 환자 서울 병원 이동 지원" in page
    assert "비공개 초안" not in page
    assert f"/needs/{need.id}" in page
    assert "250,000원" in page


def test_needs_filters_and_korean_search(client, session):
    f.need(title="홀몸 어르신 난방비", dong="yang", category="housing", group="elderly-alone")
    f.need(title="청소년 수학여행", dong="nongseong1", category="education", group="out-of-school-youth",
           deadline=seoul_today() + timedelta(days=5))
    session.commit()
    page = client.get("/needs", query_string={"q": "난방"}).get_data(as_text=True)
    assert "홀몸 어르신 난방비" in page and "청소년 수학여행" not in page
    page = client.get("/needs", query_string={"dong": "nongseong1", "group": "out-of-school-youth"}).get_data(as_text=True)
    assert "청소년 수학여행" in page and "홀몸 어르신 난방비" not in page
    page = client.get("/needs", query_string={"closing": "7"}).get_data(as_text=True)
    assert "청소년 수학여행" in page and "홀몸 어르신 난방비" not in page
    page = client.get("/needs", query_string={"category": "housing"}).get_data(as_text=True)
    assert "홀몸 어르신 난방비" in page and "청소년 수학여행" not in page


def test_needs_pagination(client, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "KINDCITY_PAGE_SIZE", 2)
    for n in range(5):
        f.need(title=f"페이지 수요 {n}", deadline=seoul_today() + timedelta(days=10 + n))
    session.commit()
    first = client.get("/needs", query_string={"q": "페이지 수요"}).get_data(as_text=True)
    third = client.get("/needs", query_string={"q": "페이지 수요", "page": 3}).get_data(as_text=True)
    assert "페이지 수요 0" in first and "페이지 수요 1" in first and "페이지 수요 2" not in first
    assert "페이지 수요 4" in third and 'rel="next"' not in third
    assert client.get("/needs", query_string={"page": "abc"}).status_code == 200


def test_the_list_counts_matches_up_to_a_bound_then_says_more(client, session, app, monkeypatch):
    """Counting every match grew with the data (a common word at ten times the needs); the list counts
    up to COUNTED_UP_TO and then says "more than", and still pages through what it counted."""
    from kindcity.web.public import needs as needs_view

    monkeypatch.setattr(needs_view, "COUNTED_UP_TO", 4)
    monkeypatch.setitem(app.config, "KINDCITY_PAGE_SIZE", 2)
    for n in range(6):
        f.need(title=f"많이 찾는 수요 {n}", deadline=seoul_today() + timedelta(days=10 + n))
    session.commit()
    many = client.get("/needs", query_string={"q": "많이 찾는 수요", "lang": "en"}).get_data(as_text=True)
    assert "More than 4 needs found" in many and "Page 1 of more than 2" in many
    second = client.get("/needs", query_string={"q": "많이 찾는 수요", "page": 2, "lang": "ko"}).get_data(as_text=True)
    assert "많이 찾는 수요 2" in second and 'rel="next"' not in second
    assert "4건 이상" in second  # Korean first

    few = client.get("/needs", query_string={"q": "많이 찾는 수요 5", "lang": "en"}).get_data(as_text=True)
    assert "1 need found" in few and "More than" not in few


def test_need_page_shows_units_deadline_and_organisations(client, session):
    need = f.need(title="서울 병원 이동", unit_cost=150_000, units=40)
    session.commit()
    page = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "6,000,000원" in page and "150,000원" in page and "40" in page
    assert "광주광역시 서구" in page  # receiving organisation
    assert "화정1동 행정복지센터" in page  # posting centre
    assert f"{need.deadline.year}년" in page


def test_markdown_is_rendered_safely(client, session):
    need = f.need(description="**굵게**\n\n<script>alert(1)</script>\n\n[link](javascript:alert(1)) <img src=x onerror=alert(1)>")
    session.commit()
    page = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "<strong>굵게</strong>" in page
    assert "<script>alert(1)" not in page and "<img" not in page
    assert "&lt;script&gt;" in page  # shown as text, harmless
    assert 'href="javascript:' not in page


def test_draft_and_unknown_needs_are_404_in_the_users_language(client, session):
    draft = f.need(status=NeedStatus.AWAITING_APPROVAL)
    session.commit()
    assert client.get(f"/needs/{draft.id}").status_code == 404
    korean = client.get("/needs/999999").get_data(as_text=True)
    english = client.get("/needs/999999?lang=en").get_data(as_text=True)
    assert "페이지를 찾을 수 없습니다" in korean
    assert "Page not found" in english


def test_security_headers(client, session):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "<script" not in response.get_data(as_text=True)
    assert " style=" not in response.get_data(as_text=True)


def test_request_size_limit(client, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = client.post("/account/login", data={"email": "a" * 5000, "password": "x"})
    assert response.status_code == 413


def test_readyz_reports_a_database_that_stops_answering(client, session, monkeypatch):
    """/healthz only says the process is up; /readyz (tests/web/test_operations.py) asks the database."""
    assert client.get("/healthz").json == {"status": "ok"}

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["checks"][0]["ok"] is False


def test_a_need_past_its_deadline_reads_as_closed_everywhere_before_the_upkeep_records_it(app, client, session):
    need = f.need(title="어제 마감된 수요", deadline=seoul_today() - timedelta(days=1))
    session.commit()
    page = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "어제 마감된 수요" in page and "마감됨(마감일 지남)" in page and "이곳에 약정하기" not in page
    assert "어제 마감된 수요" not in client.get("/needs").get_data(as_text=True)  # not among the open ones
    assert "어제 마감된 수요" in client.get("/needs?status=expired").get_data(as_text=True)
    assert client.get(f"/api/v1/needs/{need.id}").json["status"] == "expired"
    session.refresh(need)
    assert need.status == NeedStatus.OPEN  # reading wrote nothing
    assert app.test_cli_runner().invoke(args=["expire-needs"]).exit_code == 0  # the scheduled upkeep
    session.refresh(need)
    assert need.status == NeedStatus.EXPIRED


@pytest.mark.parametrize("path", ["/", "/needs", "/account/login", "/account/register"])
def test_language_switch(client, session, path):
    korean = client.get(path).get_data(as_text=True)
    english = client.get(path + "?lang=en").get_data(as_text=True)
    assert '<html lang="ko">' in korean and '<html lang="en">' in english
    assert 'hreflang="en"' in korean and 'hreflang="ko"' in english
    # the choice is remembered for the next page
    assert '<html lang="en">' in client.get("/needs").get_data(as_text=True)
