"""Referrals (사각지대 제보), the resident's side: the form at /refer and the receipt at /refer/<code>.

A resident, signed in or not, tells welfare staff privately about a neighbour who may need help. The
receipt shows only the status, the day it arrived and the centre it went to; what the resident wrote
never appears on a page they (or anyone else) can reach again. Wording is asserted in English (?lang=en).
"""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from kindcity.models import AuditEntry, Referral
from kindcity.services import Actor
from kindcity.services import referrals as referral_service
from tests import factories as f

SITUATION = "Grandfather Kim at the end of Ssangchon-ro 12 has not been seen for three days; his boiler is silent."
CONTACT = "neighbour Park 010-2468-1357"
GOOD = {"dong": "hwajeong1", "urgency": "urgent", "situation": SITUATION, "contact": CONTACT, "consent": "y"}


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _send(client, address: str = "203.0.113.20", lang: str = "en", **changes):
    data = {key: value for key, value in {**GOOD, **changes}.items() if value is not None}
    return client.post(f"/refer?lang={lang}", data=data, environ_base={"REMOTE_ADDR": address})


def _count(session) -> int:
    return session.scalar(select(func.count(Referral.id)))


def _received(session) -> int:
    return session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "referral.receive"))


def _error_on(page: str, field: str) -> str:
    """The error text shown under one field (the `field` macro's, or the fieldsets' own)."""
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.DOTALL)
    assert match, f"no error shown on {field}"
    return " ".join(match.group(1).split())


def test_the_form_is_in_korean_by_default_with_the_emergency_note_and_the_consent_notice(client, session, app):
    response = client.get("/refer")
    page = _text(response)
    assert response.status_code == 200 and '<html lang="ko">' in page
    assert response.headers["Cache-Control"] == "private, no-store"
    assert 'href="tel:119"' in page and 'href="tel:112"' in page
    assert page.index('href="tel:119"') < page.index("<form method=\"post\"")  # the emergency note comes first
    assert '<option value="hwajeong1">화정1동</option>' in page and '<option value="yang">양동</option>' in page
    assert 'name="consent" required type="checkbox"' in page and 'aria-describedby="consent-terms"' in page
    assert 'name="urgency" type="radio" value="urgent"' in page and 'value="normal"' in page

    english = _text(client.get("/refer?lang=en"))
    assert "In an emergency, call 119 or 112" in english
    assert "Nobody watches this form around the clock." in english
    assert "Consent to the collection and use of personal information" in english
    days = app.config["KINDCITY_REFERRAL_RETENTION_DAYS"]
    assert f"until the case is closed, then for {days} more days. After that the words are erased." in english
    assert "only the welfare staff of the dong community centre and the district office. It is never published." \
        in english
    assert "Urgent: help is needed today" in english and "no heating or no food" in english
    assert "You do not need to give your own name." in english and "You may leave this empty." in english
    assert '<option value="hwajeong1">Hwajeong 1-dong</option>' in english


def test_the_footer_of_every_page_links_to_the_form(client, session):
    for path in ("/", "/needs", "/account/login"):
        assert 'href="/refer"' in _text(client.get(path)), path
    home = _text(client.get("/?lang=en"))
    hero = home.split('class="hero"', 1)[1].split("</section>", 1)[0]
    assert '<a class="button secondary" href="/refer">Tell us about a neighbour in need</a>' in hero


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "donor"])
def test_a_referral_goes_to_the_dongs_centre_and_the_receipt_shows_its_code_and_status_only(
        client, session, signed_in):
    if signed_in:
        donor = f.user("donor")
        session.commit()
        f.login(client, donor)
    response = _send(client, address="203.0.113.21")
    assert response.status_code == 303
    [referral] = session.scalars(select(Referral)).all()
    assert referral.centre.code == "centre-hwajeong1" and referral.dong.code == "hwajeong1"
    assert (referral.urgency, referral.status) == ("urgent", "new")
    assert (referral.situation, referral.contact, referral.address) == (SITUATION, CONTACT, "203.0.113.21")
    assert re.fullmatch(r"RF[2-9A-HJKMNP-TV-Z]{8}", referral.code)
    assert response.headers["Location"].endswith(f"/refer/{referral.code}")

    receipt = client.get(response.headers["Location"])
    page = _text(receipt)
    assert receipt.status_code == 200 and receipt.headers["Cache-Control"] == "private, no-store"
    assert f'<strong class="reference">{referral.code}</strong>' in page
    assert "Thank you. What you told us has been sent to the welfare staff." in page
    assert "Please keep this code" in page
    assert "<dd>Received, not looked at yet</dd>" in page
    assert "<dd>Hwajeong 1-dong Community Service Centre</dd>" in page
    assert ("The welfare staff of Hwajeong 1-dong Community Service Centre will look at it. Urgent referrals are "
            "looked at the same working day.") in page
    assert SITUATION not in page and "Ssangchon" not in page and CONTACT not in page and "2468" not in page


def test_the_receipt_is_in_korean_for_a_korean_visitor(client, session):
    response = _send(client, lang="ko")
    page = _text(client.get(response.headers["Location"]))
    assert '<html lang="ko">' in page and "<dd>화정1동 행정복지센터</dd>" in page


@pytest.mark.parametrize("changes, field, message", [
    ({"situation": "  help me  "}, "situation", "Please tell us a little more: at least 10 characters."),
    ({"situation": "x" * 2001}, "situation", "Please keep it to 2000 characters; staff will ask for more."),
    ({"consent": None}, "consent", "Please agree to how we use this information, or we cannot take it."),
    ({"dong": "gangnam"}, "dong", "Please choose the dong where the person lives."),
    ({"dong": None}, "dong", "Please choose the dong where the person lives."),
    ({"urgency": "tomorrow"}, "urgency", "Please choose how urgent it is."),
    ({"urgency": None}, "urgency", "Please choose how urgent it is."),
    ({"contact": "x" * 101}, "contact", "Please keep your contact details to 100 characters."),
], ids=["too-short", "too-long", "no-consent", "unknown-dong", "no-dong", "bad-urgency", "no-urgency",
        "long-contact"])
def test_each_bad_input_is_named_on_its_field_and_nothing_is_written(client, session, changes, field, message):
    audited = _received(session)
    response = _send(client, **changes)
    page = _text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    assert _error_on(page, field) == message
    assert page.count('class="error"') == 1  # on that field only
    assert _count(session) == 0 and _received(session) == audited
    if field != "situation":
        assert SITUATION in page  # what was typed is kept for the next try


def test_the_limit_per_address_answers_429_and_writes_nothing(client, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "KINDCITY_REFERRAL_MAX_PER_ADDRESS", 3)  # the view follows the setting
    for _ in range(3):
        assert _send(client, address="198.51.100.7").status_code == 303
    audited = _received(session)
    refused = _send(client, address="198.51.100.7")
    page = _text(refused)
    assert refused.status_code == 429 and refused.headers["Cache-Control"] == "private, no-store"
    assert "Too many referrals were sent from here. Please wait 60 minutes" in page and 'role="alert"' in page
    assert SITUATION in page  # nothing typed is lost
    assert _count(session) == 3 and _received(session) == audited
    assert _send(client, address="198.51.100.8").status_code == 303  # another address is not held back
    assert _count(session) == 4


def test_the_receipt_never_shows_the_words_the_outcome_or_the_notes_whatever_staff_did(client, session):
    code = _send(client).headers["Location"].rsplit("/", 1)[1]
    referral = session.scalar(select(Referral).where(Referral.code == code))
    staff = f.user("staff", centre_code="centre-hwajeong1")
    session.commit()
    actor = Actor(staff, "test")
    referral_service.act(actor, referral.id, "take_up", note="Visited on Tuesday: the door was locked.")
    session.commit()
    page = _text(client.get(f"/refer/{code}?lang=en"))
    assert "<dd>Being looked at by staff</dd>" in page
    assert "is looking into it" in page and "Visited on Tuesday" not in page

    referral_service.act(actor, referral.id, "close", outcome="supported",
                         note="Emergency livelihood support arranged with his daughter.")
    session.commit()
    response = client.get(f"/refer/{code}?lang=en")
    page = _text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    assert "<dd>Closed</dd>" in page and "we do not show what was found or done" in page
    for secret in (SITUATION, "Ssangchon", CONTACT, "2468", "Visited on Tuesday", "livelihood", "daughter",
                   "supported", "Linked to support", staff.display_name):
        assert secret not in page, secret


def test_a_code_is_found_however_it_is_typed_and_an_unknown_one_is_404(client, session):
    code = _send(client).headers["Location"].rsplit("/", 1)[1]
    typed = f" {code[:5].lower()} {code[5:].lower()} "
    found = client.get("/refer/status", query_string={"code": typed})
    assert found.status_code == 303 and found.headers["Location"].endswith(f"/refer/{code}")
    lower = client.get(f"/refer/{code.lower()}")
    assert lower.status_code == 303 and lower.headers["Location"].endswith(f"/refer/{code}")

    form = client.get("/refer/status?lang=en")
    assert form.status_code == 200 and 'name="code"' in _text(form)
    missing = client.get("/refer/status", query_string={"code": "RFZZZZZZZZ", "lang": "en"})
    assert missing.status_code == 404 and missing.headers["Cache-Control"] == "private, no-store"
    assert _error_on(_text(missing), "code") == "No referral has this code. Please check it and try again."
    unknown = client.get("/refer/RFZZZZZZZZ?lang=en")
    assert unknown.status_code == 404 and "Page not found" in _text(unknown)
    assert "Hwajeong" not in _text(unknown)


def test_csrf_is_enforced_on_the_form(client, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert _send(client).status_code == 400
    assert _count(session) == 0
    page = client.get("/refer").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert _send(client, csrf_token=token).status_code == 303
    assert _count(session) == 1


def test_a_referral_never_appears_on_a_public_page_or_the_api(client, session):
    code = _send(client).headers["Location"].rsplit("/", 1)[1]
    staff = f.user("staff", centre_code="centre-hwajeong1")
    session.commit()
    referral = session.scalar(select(Referral).where(Referral.code == code))
    referral_service.act(Actor(staff, "test"), referral.id, "take_up", note="Visiting him this afternoon.")
    session.commit()
    for path in ("/", "/?lang=en", "/needs", "/needs?status=all&lang=en", "/needs?q=Grandfather", "/api/v1/needs",
                 "/api/v1/needs?q=Grandfather", "/impact", "/impact?lang=en"):
        response = client.get(path)
        assert response.status_code == 200, path
        page = _text(response)
        for secret in (SITUATION, "Ssangchon", "boiler", CONTACT, "2468", "Visiting him", code):
            assert secret not in page, (path, secret)


def test_every_mistake_is_shown_at_once_so_it_is_mended_in_one_go(client, session):
    page = _text(_send(client, dong=None, urgency=None, situation="short", contact="x" * 101, consent=None))
    assert {field: _error_on(page, field) for field in ("dong", "urgency", "situation", "contact", "consent")} == {
        "dong": "Please choose the dong where the person lives.",
        "urgency": "Please choose how urgent it is.",
        "situation": "Please tell us a little more: at least 10 characters.",
        "contact": "Please keep your contact details to 100 characters.",
        "consent": "Please agree to how we use this information, or we cannot take it."}
    assert _count(session) == 0


def test_an_urgent_referral_tells_the_centres_staff_by_mail_once_it_is_taken_in(client, session, app):
    from pathlib import Path

    staff = f.user("staff", centre_code="centre-hwajeong1")
    session.commit()
    outbox = Path(app.config["KINDCITY_OUTBOX"])
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    assert _send(client).status_code == 303
    [sent] = set(outbox.glob("*.eml")) - before
    mail = sent.read_text(errors="replace")
    assert staff.email in mail and "Grandfather" not in mail and "010-2468" not in mail
    before = set(outbox.glob("*.eml"))
    assert _send(client, urgency="normal").status_code == 303
    assert set(outbox.glob("*.eml")) == before  # not urgent: the queue is enough
