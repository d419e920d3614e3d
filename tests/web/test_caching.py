"""Public pages send validators and cache headers, answer 304 when unchanged, and never serve stale data.

Runs on SQLite and on PostgreSQL (KINDCITY_TEST_DATABASE_URL).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from flask import request_started

from kindcity.domain.needs import NeedStatus
from kindcity.domain.pledges import PledgeStatus
from kindcity.domain.time import SEOUL, seoul_today, utcnow
from kindcity.services import Actor
from kindcity.services import pledges as pledge_service
from kindcity.web.caching import ANONYMOUS_CACHE_CONTROL, PRIVATE_CACHE_CONTROL, clear_page_cache
from tests import factories as f

PUBLIC = ["/", "/needs", "/needs/{id}", "/api/v1/needs", "/api/v1/needs/{id}", "/impact?period=12m", "/donors",
          "/needs/{id}/impact", "/api/v1/impact", "/api/v1/needs/{id}/impact", "/api/v1/needs/{id}/ledger.csv"]


@pytest.fixture
def need(session):
    clear_page_cache()
    item = f.need(title="캐시 확인 수요", target=1_000_000, deadline=seoul_today() + timedelta(days=20))
    session.commit()
    return item


def _get(client, path, etag=None, **kwargs):
    headers = {"If-None-Match": etag} if etag else {}
    return client.get(path, headers=headers, **kwargs)


@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_send_a_weak_etag_and_answer_304_when_unchanged(client, need, path):
    path = path.format(id=need.id)
    first = _get(client, path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.headers["Cache-Control"] == ANONYMOUS_CACHE_CONTROL
    assert "Cookie" in first.headers["Vary"]

    again = _get(client, path, etag)
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == ANONYMOUS_CACHE_CONTROL

    other = _get(client, path, 'W/"something-else"')
    assert other.status_code == 200 and other.get_data() == first.get_data()


def test_a_pledge_changes_the_etag_and_the_page(client, session, need):
    path = f"/needs/{need.id}"
    before = _get(client, path)
    assert "900,000원" not in before.get_data(as_text=True)
    donor = f.user("donor")
    session.commit()
    pledge_service.create_direct_pledge(
        Actor(donor, "test"), pledge_service.PledgeRequest(need_id=need.id, amount=100_000, units=None,
                                                           display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    session.commit()
    after = _get(client, path, before.headers["ETag"])
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert "<dd>900,000원</dd>" in after.get_data(as_text=True)  # still needed


def test_a_new_need_shows_at_once_on_cached_lists(client, session, need):
    listing = _get(client, "/needs")
    assert "캐시 확인 수요" in listing.get_data(as_text=True)
    f.need(title="방금 올라온 수요")
    session.commit()
    fresh = _get(client, "/needs", listing.headers["ETag"])
    assert fresh.status_code == 200 and "방금 올라온 수요" in fresh.get_data(as_text=True)
    assert fresh.headers["ETag"] != listing.headers["ETag"]


def test_an_audited_change_without_money_changes_the_etag(client, session, need):
    """A need cancelled by staff: audited, so every public page revalidates."""
    from kindcity.services import needs as need_service

    home = _get(client, "/")
    staff = f.user("staff")
    session.commit()
    need_service.cancel(Actor(staff, "test"), need, "중복 등록")
    session.commit()
    assert _get(client, "/", home.headers["ETag"]).status_code == 200


def test_language_and_login_give_their_own_etag_and_private_pages(client, session, need):
    korean = _get(client, "/")
    _get(client, "/?lang=en")
    english = _get(client, "/")  # the choice is remembered: same URL, another language
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert korean.headers["ETag"] != english.headers["ETag"]
    assert _get(client, "/", english.headers["ETag"]).status_code == 304

    donor = f.user("donor")
    session.commit()
    f.login(client, donor)
    welcome = _get(client, "/")  # shows the welcome message: not cacheable
    assert "ETag" not in welcome.headers and welcome.headers["Cache-Control"] == PRIVATE_CACHE_CONTROL
    mine = _get(client, "/")
    assert mine.status_code == 200 and mine.headers["Cache-Control"] == PRIVATE_CACHE_CONTROL
    assert mine.headers["ETag"] not in (korean.headers["ETag"], english.headers["ETag"])
    assert _get(client, "/", english.headers["ETag"]).status_code == 200  # not the anonymous page
    assert "/me/" in mine.get_data(as_text=True)  # the donor's menu
    revalidated = _get(client, "/", mine.headers["ETag"])
    assert revalidated.status_code == 304 and revalidated.headers["Cache-Control"] == PRIVATE_CACHE_CONTROL


def test_a_response_that_sets_a_cookie_is_private(client, need):
    response = _get(client, "/?lang=en")
    assert "Set-Cookie" in response.headers
    assert response.headers["Cache-Control"] == PRIVATE_CACHE_CONTROL


def test_pending_flash_messages_are_never_cached_away(client, session, need):
    with client.session_transaction() as browser:
        browser["_flashes"] = [("success", "플래시 메시지 확인")]
    shown = _get(client, "/", 'W/"anything"')
    assert "플래시 메시지 확인" in shown.get_data(as_text=True)
    assert "ETag" not in shown.headers and shown.headers["Cache-Control"] == PRIVATE_CACHE_CONTROL
    assert "플래시 메시지 확인" not in _get(client, "/").get_data(as_text=True)


def test_a_deadline_passing_changes_the_validator_without_a_write(client, session, need):
    """A need whose deadline passes reads as closed on the first look after midnight (Korea time),
    though nothing in the database changed: the old ETag must not be confirmed."""
    path = f"/needs/{need.id}"
    before = _get(client, path)
    assert _get(client, path, before.headers["ETag"]).status_code == 304
    after_deadline = datetime.combine(need.deadline + timedelta(days=1), time(0, 5), SEOUL)
    with time_machine.travel(after_deadline, tick=False):
        later = _get(client, path, before.headers["ETag"])
        assert later.status_code == 200 and "마감됨(마감일 지남)" in later.get_data(as_text=True)
        session.refresh(need)
        assert need.status == NeedStatus.OPEN  # the page read wrote nothing
        assert _get(client, path, later.headers["ETag"]).status_code == 304


def test_an_unpaid_hold_released_by_the_upkeep_shows_at_once(app, client, session, need):
    donor = f.user("donor")
    session.commit()
    pledge = pledge_service.create_direct_pledge(
        Actor(donor, "test"), pledge_service.PledgeRequest(need_id=need.id, amount=300_000, units=None,
                                                           display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(hours=2))
    session.commit()
    path = f"/needs/{need.id}"
    held = _get(client, path)
    assert "700,000원" in held.get_data(as_text=True)  # still needed while the hold lasts
    with time_machine.travel(utcnow() + timedelta(hours=3), tick=False):
        assert _get(client, path, held.headers["ETag"]).status_code == 304  # a read releases nothing
        session.refresh(pledge)
        assert pledge.status == PledgeStatus.AWAITING_PAYMENT
        assert app.test_cli_runner().invoke(args=["release-expired"]).exit_code == 0  # the scheduled upkeep
        released = _get(client, path, held.headers["ETag"])
        assert released.status_code == 200 and "1,000,000원" in released.get_data(as_text=True)
        session.refresh(pledge)
        assert pledge.status == PledgeStatus.EXPIRED


def test_the_page_store_can_be_turned_off(app, client, session, need, monkeypatch):
    monkeypatch.setitem(app.config, "KINDCITY_PAGE_CACHE_SIZE", 0)
    app.extensions.pop("kindcity_caching", None)
    try:
        first = _get(client, "/")
        assert first.status_code == 200 and "ETag" in first.headers
        assert _get(client, "/", first.headers["ETag"]).status_code == 304
        assert _get(client, "/").get_data() == first.get_data()
    finally:
        app.extensions.pop("kindcity_caching", None)


def _paid_gift(session, need, amount: int) -> None:
    donor = f.user("donor")
    session.commit()
    pledge = pledge_service.create_direct_pledge(
        Actor(donor, "test"), pledge_service.PledgeRequest(need_id=need.id, amount=amount, units=None,
                                                           display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(days=7))
    session.commit()
    pledge_service.record_payment(Actor(f.user("staff"), "test"), pledge.id, amount, source="manual",
                                  external_id=f"gift-{pledge.id}", received_at=utcnow())
    session.commit()


def test_district_figures_are_counted_when_money_moves_and_say_when(client, session, need):
    from kindcity.services.figures import refresh

    assert client.get("/api/v1/impact").get_json()["received_won"] == 0
    with time_machine.travel(datetime(2026, 11, 30, 12, 37, tzinfo=SEOUL), tick=False):
        refresh()  # the job, run at 12:37
        session.commit()
        assert "집계 시각: 11월 30일 오후 12:37." in client.get("/impact").get_data(as_text=True)
        assert "Counted at Nov 30, 12:37 PM." in client.get("/donors?lang=en").get_data(as_text=True)
        assert "집계 시각: 11월 30일 오후 12:37." in client.get("/?lang=ko").get_data(as_text=True)
    _paid_gift(session, need, 30_000)  # asks for the recount; the committer runs it after its commit
    assert client.get("/api/v1/impact").get_json()["received_won"] == 30_000


def test_a_new_count_alone_changes_the_validator_of_the_pages_that_show_it(client, session, need):
    """The figures are counted by a job after the change that asked for it: the count moves the data
    version, so a revalidating visitor is never told the page with the old figures is still current."""
    from kindcity.services.figures import refresh

    first = client.get("/impact")
    assert client.get("/impact", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    refresh()
    session.commit()
    again = client.get("/impact", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    _paid_gift(session, need, 30_000)
    page = client.get("/impact", headers={"If-None-Match": again.headers["ETag"]})
    assert page.status_code == 200 and "30,000원" in page.get_data(as_text=True)


def test_not_found_is_not_cached(client, need):
    missing = _get(client, "/needs/987654321")
    assert missing.status_code == 404 and "ETag" not in missing.headers


def test_a_new_day_changes_the_etag(client, need):
    """Pages count the days left, so the same data gives another page tomorrow (Korea time)."""
    today = _get(client, "/needs")
    tomorrow = datetime.combine(seoul_today() + timedelta(days=1), time(9, 0), SEOUL)
    with time_machine.travel(tomorrow, tick=False):
        assert _get(client, "/needs", today.headers["ETag"]).status_code == 200


# --- production mode: a worker trusts the data version for a moment, and the front door serves ---------

@pytest.fixture
def trusting(app, monkeypatch):
    """Production's setting: anonymous requests reuse a data version read less than N seconds ago."""
    def configure(seconds: float):
        monkeypatch.setitem(app.config, "KINDCITY_DATA_VERSION_SECONDS", seconds)
        app.extensions.pop("kindcity_caching", None)
    yield configure
    app.extensions.pop("kindcity_caching", None)


def _count_statements(client, path, **kwargs):
    from sqlalchemy import event

    from kindcity.extensions import db

    statements = []

    def _count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _count)
    try:
        response = client.get(path, **kwargs)
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)
    return response, statements


def test_the_front_door_serves_cookie_less_visitors_without_the_app(app, session, need, trusting, monkeypatch):
    trusting(3600)
    visitor = app.test_client()
    first, statements = _count_statements(visitor, "/needs")
    assert first.status_code == 200 and statements  # rendered by the app
    import kindcity.web.public.needs as public_views

    def must_not_run(*args, **kwargs):
        raise AssertionError("the view ran")

    monkeypatch.setattr(public_views.need_service, "search_public_needs", must_not_run)
    started = []
    with request_started.connected_to(lambda sender, **extra: started.append(sender), app):
        again, statements = _count_statements(visitor, "/needs")
    assert again.status_code == 200 and statements == [] and started == []  # Flask never saw it
    assert again.get_data() == first.get_data()
    for header in ("ETag", "Cache-Control", "Content-Security-Policy", "Vary", "Content-Type"):
        assert again.headers[header] == first.headers[header]


def test_the_front_door_lets_visitors_with_a_cookie_through(app, session, need, trusting):
    trusting(3600)
    app.test_client().get("/")  # Korean, stored for cookie-less visitors
    english = app.test_client()
    english.get("/needs?lang=en")
    page = english.get("/")
    assert '<html lang="en">' in page.get_data(as_text=True)

    donor = f.user("donor")
    session.commit()
    f.login(english, donor)
    english.get("/")  # the welcome message
    mine = english.get("/")
    assert mine.headers["Cache-Control"] == PRIVATE_CACHE_CONTROL and "/me/" in mine.get_data(as_text=True)


def test_a_change_shows_once_the_trusted_moment_is_over(app, session, need, trusting):
    import time as clock

    trusting(0.2)
    visitor = app.test_client()
    assert "곧 보일 수요" not in visitor.get("/needs").get_data(as_text=True)
    f.need(title="곧 보일 수요")
    session.commit()
    clock.sleep(0.3)
    assert "곧 보일 수요" in visitor.get("/needs").get_data(as_text=True)


def test_the_front_door_shows_the_upkeep_once_its_horizon_passes(app, session, need, trusting):
    trusting(3600)
    donor = f.user("donor")
    session.commit()
    pledge = pledge_service.create_direct_pledge(
        Actor(donor, "test"), pledge_service.PledgeRequest(need_id=need.id, amount=300_000, units=None,
                                                           display="anonymous", message="", on_cancel="refund"),
        hold_for=timedelta(hours=2))
    session.commit()
    visitor = app.test_client()
    path = f"/needs/{need.id}"
    assert "<dd>700,000원</dd>" in visitor.get(path).get_data(as_text=True)
    assert "<dd>700,000원</dd>" in visitor.get(path).get_data(as_text=True)  # from the front door
    with time_machine.travel(utcnow() + timedelta(hours=3), tick=False):
        assert app.test_cli_runner().invoke(args=["release-expired"]).exit_code == 0  # the scheduled upkeep
        released = visitor.get(path).get_data(as_text=True)
    assert "<dd>1,000,000원</dd>" in released
    session.refresh(pledge)
    assert pledge.status == PledgeStatus.EXPIRED


def _served_by_the_app(app, client, path, **kwargs):
    started = []
    with request_started.connected_to(lambda sender, **extra: started.append(sender), app):
        response = client.get(path, **kwargs)
    return response, bool(started)


def test_the_front_door_serves_a_visitor_whose_session_holds_only_the_language(app, session, need, trusting):
    trusting(3600)
    visitor = app.test_client()
    visitor.get("/needs?lang=en")
    for _ in range(3):  # until the app stops rewriting the cookie (Flask-Login marks it once)
        response, _through_app = _served_by_the_app(app, visitor, "/needs")
    response, through_app = _served_by_the_app(app, visitor, "/needs")
    assert not through_app and '<html lang="en">' in response.get_data(as_text=True)
    korean, through_app = _served_by_the_app(app, app.test_client(), "/needs")
    assert '<html lang="ko">' in korean.get_data(as_text=True)  # not the English visitor's page


@pytest.mark.parametrize("cookie", [("remember_token", "1|abc"), ("other", "1")])
def test_the_front_door_lets_other_cookies_through(app, session, need, trusting, cookie):
    trusting(3600)
    app.test_client().get("/needs")
    _response, through_app = _served_by_the_app(app, app.test_client(), "/needs")
    assert not through_app  # stored for cookie-less visitors
    visitor = app.test_client()
    visitor.set_cookie(*cookie, domain=app.config["SERVER_NAME"])
    _response, through_app = _served_by_the_app(app, visitor, "/needs")
    assert through_app


def test_a_forged_or_fuller_session_goes_through_the_app(app, session, need, trusting):
    from kindcity.web.caching import _front_visitor

    trusting(3600)
    serializer = app.session_interface.get_signing_serializer(app)
    with app.app_context():
        assert _front_visitor(app, None) == "" and _front_visitor(app, "") == ""
        assert _front_visitor(app, "session=" + serializer.dumps({"lang": "en", "_fresh": False})) == "lang:en"
        assert _front_visitor(app, "session=" + serializer.dumps({"lang": "en", "csrf_token": "x"})) == "lang:en"
        assert _front_visitor(app, "session=" + serializer.dumps({"csrf_token": "x", "_remember": "clear"})) is None
        assert _front_visitor(app, "session=" + serializer.dumps({"_user_id": "1:2"})) is None
        assert _front_visitor(app, "session=" + serializer.dumps({"_flashes": [("info", "x")]})) is None
        assert _front_visitor(app, "session=eyJsYW5nIjoiZW4ifQ.forged.signature") is None


def test_a_visitor_who_opened_a_form_is_still_served_by_the_front_door(app, session, need, trusting):
    trusting(3600)
    visitor = app.test_client()
    visitor.get("/account/login")  # the session now holds a CSRF secret
    for _ in range(3):
        _served_by_the_app(app, visitor, "/needs")
    response, through_app = _served_by_the_app(app, visitor, "/needs")
    assert not through_app and "csrf_token" not in response.get_data(as_text=True)


def test_a_public_page_with_a_form_for_an_anonymous_visitor_is_not_kept(app, session, need, trusting,
                                                                        monkeypatch):
    """A CSRF token is the visitor's own: such a page is private, without a validator, never stored."""
    from flask_wtf.csrf import generate_csrf

    import kindcity.web.public.needs as public_views

    trusting(3600)

    real = public_views.render_template

    def with_a_form(*args, **kwargs):
        generate_csrf()
        return real(*args, **kwargs)

    monkeypatch.setattr(public_views, "render_template", with_a_form)
    visitor = app.test_client()
    visitor.get("/needs")  # the session gets its CSRF secret
    for _ in range(3):
        response, through_app = _served_by_the_app(app, visitor, "/needs")
        assert response.status_code == 200 and through_app and "ETag" not in response.headers
        assert response.headers["Cache-Control"] == PRIVATE_CACHE_CONTROL
