"""Registration asks for the 개인정보 수집·이용 동의 (items, purpose, retention, the right to refuse)
as a required checkbox; the privacy policy and the terms are linked from every footer. Korean and
English."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from kindcity.models import User

FORM = {"display_name": "김서연", "email": "seoyeon@example.org", "password": "a-long-password",
        "confirm": "a-long-password", "organisation_kind": ""}


@pytest.mark.parametrize("lang, words", [
    ("ko", ("개인정보 수집·이용 동의", "수집하는 내용:", "수집·이용 목적:", "보관 기간:", "동의하지 않으시면:")),
    ("en", ("Consent to the collection and use of personal information", "What we collect:", "Purpose:",
            "How long we keep it:", "If you do not agree:"))])
def test_registration_needs_the_consent_with_its_notice(client, session, lang, words):
    page = client.get(f"/account/register?lang={lang}").get_data(as_text=True)
    for word in words:
        assert word in page, word
    assert 'name="consent"' in page and 'href="/privacy"' in page
    refused = client.post(f"/account/register?lang={lang}", data=FORM)
    assert refused.status_code == 200
    assert ("동의해 주세요" if lang == "ko" else "Please agree") in refused.get_data(as_text=True)
    assert session.scalar(select(User).where(User.email == FORM["email"])) is None
    agreed = client.post(f"/account/register?lang={lang}", data={**FORM, "consent": "y"})
    assert agreed.status_code == 303  # on to the login page: the address is confirmed by mail first
    assert session.scalar(select(User).where(User.email == FORM["email"])) is not None


@pytest.mark.parametrize("lang, title, detail", [
    ("ko", "개인정보 처리방침", "국세청"), ("en", "Privacy policy", "National Tax Service")])
def test_the_privacy_policy_names_this_sites_data(client, session, lang, title, detail):
    page = client.get(f"/privacy?lang={lang}").get_data(as_text=True)
    assert title in page and detail in page
    assert "062-360-7114" in page             # the responsible office's telephone, from its record
    assert "180" in page                      # the referral retention in days, from the configuration
    terms = client.get(f"/terms?lang={lang}").get_data(as_text=True)
    assert ("이용약관" if lang == "ko" else "Terms of use") in terms


@pytest.mark.parametrize("path", ["/", "/needs", "/account/login", "/refer", "/privacy"])
def test_every_footer_links_the_policies(client, session, path):
    page = client.get(path).get_data(as_text=True)
    footer = page[page.index("<footer"):]
    assert 'href="/privacy"' in footer and 'href="/terms"' in footer
