from __future__ import annotations

import pytest

from tests.sms.fake_solapi import API_KEY, API_SECRET, SENDER, FakeSolapi


@pytest.fixture(scope="session")
def fake_solapi_server():
    fake = FakeSolapi()
    yield fake
    fake.close()


@pytest.fixture
def solapi_on(app, fake_solapi_server, monkeypatch):
    """The app uses SOLAPI (the fake, through the real SDK) for this test; the fake starts empty."""
    fake_solapi_server.reset()
    for key, value in {"KINDCITY_SOLAPI_API_KEY": API_KEY, "KINDCITY_SOLAPI_API_SECRET": API_SECRET,
                       "KINDCITY_SOLAPI_API_BASE": fake_solapi_server.url, "KINDCITY_SMS_SENDER": "062-360-7114",
                       "KINDCITY_SMS_MAX_PER_HOUR": 20}.items():
        monkeypatch.setitem(app.config, key, value)
    assert SENDER == "0623607114"
    return fake_solapi_server
