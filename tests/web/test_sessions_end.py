"""Sessions that really end: after logging out, changing the password or resetting it, a saved copy of
the old session cookie or of the old remember-me cookie opens nothing, on any device."""
from __future__ import annotations

import pytest

from tests import factories as f

HOST = "kindcity.test"  # the test app's SERVER_NAME: the client keeps its cookies under it
NEW = "a-brand-new-password"


def _log_in_remembered(client, donor) -> dict[str, str]:
    response = client.post("/account/login", data={"email": donor.email, "password": f.PASSWORD, "remember": "y"})
    assert response.status_code == 302
    saved = {name: client.get_cookie(name, domain=HOST) for name in ("session", "remember_token")}
    assert all(saved.values()), "the login should set a session cookie and a remember-me cookie"
    return {name: cookie.value for name, cookie in saved.items()}


def _replay(app, name: str, value: str):
    """A fresh browser holding only a saved copy of one cookie, asking for the donor's page."""
    thief = app.test_client()
    thief.set_cookie(name, value, domain=HOST)
    return thief.get("/me/")


def _logout(app, client, donor):
    assert client.post("/account/logout").status_code == 302


def _change_password(app, client, donor):
    response = client.post("/account/password", data={"current": f.PASSWORD, "new": NEW, "confirm": NEW})
    assert response.status_code == 302


def _reset_password(app, client, donor):
    from tests.web.test_password_reset import _reset_path

    path = _reset_path(app, app.test_client(), donor)  # asked for and used in another browser
    assert app.test_client().post(path, data={"new": NEW, "confirm": NEW}).status_code == 303


@pytest.mark.parametrize("ending", [_logout, _change_password, _reset_password],
                         ids=["logout", "password change", "password reset"])
@pytest.mark.parametrize("cookie", ["session", "remember_token"])
def test_a_saved_cookie_opens_nothing_after_the_session_ends(app, client, session, ending, cookie):
    donor = f.user("donor")
    session.commit()
    saved = _log_in_remembered(client, donor)
    assert _replay(app, cookie, saved[cookie]).status_code == 200  # the copy works while the session lasts
    ending(app, client, donor)
    replayed = _replay(app, cookie, saved[cookie])
    assert replayed.status_code == 302 and "/account/login" in replayed.headers["Location"]


def test_logging_out_ends_the_session_on_every_device_and_a_new_login_works(app, client, session):
    donor = f.user("donor")
    session.commit()
    phone, laptop = app.test_client(), app.test_client()
    f.login(phone, donor)
    f.login(laptop, donor)
    assert phone.post("/account/logout?lang=en").status_code == 302
    assert "You have logged out, on this device and on every other." in phone.get("/?lang=en").get_data(as_text=True)
    assert laptop.get("/me/").status_code == 302
    f.login(phone, donor)
    assert phone.get("/me/").status_code == 200


def test_the_session_goes_on_on_the_device_that_changed_the_password(app, client, session):
    donor = f.user("donor")
    session.commit()
    saved = _log_in_remembered(client, donor)
    _change_password(app, client, donor)
    assert client.get("/me/").status_code == 200
    assert _replay(app, "session", client.get_cookie("session", domain=HOST).value).status_code == 200
    assert _replay(app, "session", saved["session"]).status_code == 302
