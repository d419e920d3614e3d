import pytest
from sqlalchemy import select

from kindcity.models import Organisation, User
from tests import factories as f


def test_register_organisation_checks_business_number(client, session):
    data = {"display_name": "대표", "email": "shop@example.org", "password": "a-long-password",
            "confirm": "a-long-password", "organisation_kind": "good_shop", "organisation_name": "착한 국밥",
            "business_number": "409-81-23457", "consent": "y"}
    page = client.post("/account/register", data=data, headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "사업자등록번호" in page or "business registration number" in page.lower()
    assert session.scalar(select(User).where(User.email == "shop@example.org")) is None
    data["business_number"] = "4098123456"
    assert client.post("/account/register", data=data).status_code == 303
    org = session.scalar(select(Organisation).where(Organisation.name == "착한 국밥"))
    assert org.business_number == "409-81-23456" and not org.is_verified


def test_register_rejects_a_short_password(client, session):
    page = client.post("/account/register?lang=en", data={
        "display_name": "x", "email": "new@example.org", "password": "short", "confirm": "short"}).get_data(as_text=True)
    assert "at least 10" in page


def test_login_logout_and_wrong_password(client, session):
    donor = f.user("donor")
    session.commit()
    page = client.post("/account/login?lang=en", data={"email": donor.email, "password": "wrong-password"})
    assert page.status_code == 200 and "not correct" in page.get_data(as_text=True)
    f.login(client, donor)
    assert client.get("/me/").status_code == 200
    assert client.get("/account/logout").status_code == 405  # logging out is a POST (CSRF-protected)
    assert client.post("/account/logout").status_code == 302
    assert client.get("/me/").status_code == 302


def test_login_rate_limited_per_account(client, session):
    donor = f.user("donor")
    session.commit()
    for _ in range(5):
        client.post("/account/login", data={"email": donor.email, "password": "wrong"})
    response = client.post("/account/login?lang=en", data={"email": donor.email, "password": f.PASSWORD})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)
    assert client.get("/me/").status_code == 302


def test_login_rate_limited_per_address(client, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "KINDCITY_LOGIN_MAX_FAILURES_PER_ADDRESS", 3)
    target = f.user("donor")
    session.commit()
    for n in range(3):
        client.post("/account/login", data={"email": f"nobody{n}@example.org", "password": "wrong"})
    assert client.post("/account/login", data={"email": target.email, "password": f.PASSWORD}).status_code == 429
    other_address = client.post("/account/login", data={"email": target.email, "password": f.PASSWORD},
                                environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other_address.status_code == 302


@pytest.mark.parametrize("target, expected", [
    ("/staff/", "/staff/"), ("https://evil.example/", "/me/"), ("//evil.example/x", "/me/"),
    ("/\\evil.example", "/me/"), ("javascript:alert(1)", "/me/"),
])
def test_next_redirect_is_safe(client, session, target, expected):
    donor = f.user("donor")
    session.commit()
    response = client.post("/account/login", query_string={"next": target},
                           data={"email": donor.email, "password": f.PASSWORD})
    assert response.headers["Location"] == expected


def test_password_change_logs_out_other_sessions(app, client, session):
    donor = f.user("donor")
    session.commit()
    other = app.test_client()
    f.login(client, donor)
    f.login(other, donor)
    response = client.post("/account/password", data={"current": f.PASSWORD, "new": "another-long-one",
                                                       "confirm": "another-long-one"})
    assert response.status_code == 302
    assert client.get("/me/").status_code == 200
    assert other.get("/me/").status_code == 302
    page = client.post("/account/password?lang=en", data={"current": "wrong", "new": "another-long-two",
                                                           "confirm": "another-long-two"}).get_data(as_text=True)
    assert "current password is not correct" in page


def test_csrf_is_enforced_on_forms(client, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    donor = f.user("donor")
    session.commit()
    response = client.post("/account/login", data={"email": donor.email, "password": f.PASSWORD})
    assert response.status_code == 400
    page = client.get("/account/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    ok = client.post("/account/login", data={"email": donor.email, "password": f.PASSWORD, "csrf_token": token})
    assert ok.status_code == 302


def test_session_cookie_flags(client, session):
    donor = f.user("donor")
    session.commit()
    response = f.login(client, donor)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
