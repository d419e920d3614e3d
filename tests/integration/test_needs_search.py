"""The public keyword search: trigram indexes serve it on PostgreSQL, and short Korean words still match."""
from datetime import timedelta

import pytest
from sqlalchemy import text

from kindcity.domain.time import seoul_today
from kindcity.models import Need
from kindcity.models.needs import SEARCH_INDEXES
from kindcity.services import needs as svc
from tests import factories as f
from tests.pgdb import require_postgres


def _explain(session, filters):
    query = svc.public_needs_query(filters, seoul_today())
    connection = session.connection()
    compiled = query.compile(dialect=connection.dialect)
    return "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))


def _short_word_needs():
    return {
        "title": f.need(title="장애인 보장구 수리", summary="요약"),
        "summary": f.need(title="어르신 도시락", summary="복지관 배달"),
        "description": f.need(title="아동 학습지", summary="요약", description="지역아동센터 복지 사업"),
        "none": f.need(title="청소년 교통비", summary="요약", description="버스 카드"),
        "closed": f.need(title="복지 쌀 지원", summary="요약", status="draft"),
    }


def test_korean_two_character_words_match_in_every_searched_column(session):
    needs = _short_word_needs()
    found, total = svc.search_public_needs(svc.NeedFilters(q="복지", per_page=50), seoul_today())
    assert set(found) == {needs["summary"], needs["description"]} and total == 2
    found, _ = svc.search_public_needs(svc.NeedFilters(q="수리", per_page=50), seoul_today())
    assert found == [needs["title"]]
    found, _ = svc.search_public_needs(svc.NeedFilters(q="복지 센터", per_page=50), seoul_today())
    assert found == [needs["description"]]


@pytest.mark.postgres_only
def test_keyword_search_uses_the_trigram_indexes_for_a_three_character_word(session):
    require_postgres("pg_trgm indexes")
    wanted = f.need(title="홀몸 어르신 난방비 지원", deadline=seoul_today() + timedelta(days=3))
    # 2,000 open needs that do not match, so that reading the few that do through the index is cheaper
    # than a scan, as it is on the loaded data; the index must match the query's own expressions
    # (lower(title) and so on) for the planner to use it at all.
    columns = [c.name for c in Need.__table__.columns if c.name not in ("id", "title", "description")]
    session.execute(text(f"INSERT INTO needs (title, description, {', '.join(columns)}) "
                         f"SELECT '청소년 교통비 ' || n, repeat('지역아동센터 학습 지원 ', 40), {', '.join(columns)} "
                         f"FROM needs, generate_series(1, 2000) n "
                         f"WHERE needs.id = :id"), {"id": wanted.id})
    for name in SEARCH_INDEXES:  # what VACUUM would do: the new entries into the index proper
        session.execute(text(f"SELECT gin_clean_pending_list('{name}')"))
    session.execute(text("ANALYZE needs"))
    plan = _explain(session, svc.NeedFilters(q="난방비"))
    for name in SEARCH_INDEXES:
        assert f"Bitmap Index Scan on {name}" in plan, plan
    assert "Seq Scan on needs" not in plan, plan
    found, total = svc.search_public_needs(svc.NeedFilters(q="난방비"), seoul_today())
    assert found == [wanted] and total == 1


@pytest.mark.postgres_only
def test_two_character_words_stay_correct_whichever_way_postgresql_reads_them(session):
    """A 2-character pattern has no trigram: through the index it is a full index scan rechecked row by
    row. Forced onto the index, the same needs are found as by the scan."""
    require_postgres("pg_trgm indexes")
    needs = _short_word_needs()
    session.execute(text("SET LOCAL enable_seqscan = off"))
    found, total = svc.search_public_needs(svc.NeedFilters(q="복지", per_page=50), seoul_today())
    assert set(found) == {needs["summary"], needs["description"]} and total == 2
    assert "Seq Scan on needs" not in _explain(session, svc.NeedFilters(q="복지"))
