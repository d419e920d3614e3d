"""The Korean catalogue covers every string in the source, and the site speaks Korean first, English second.

msgids are English; ko/messages.po must translate all of them. When a test here fails because of
new strings, run `make update-messages`, translate the listed msgids in
kindcity/translations/ko/LC_MESSAGES/messages.po, and run this file again.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "kindcity" / "translations"
KO_PO = TRANSLATIONS / "ko" / "LC_MESSAGES" / "messages.po"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
LOCALES = ("ko", "en")

# %(name)s, also with flags/width (%(num)5d); "%%" is a literal percent sign, not a placeholder.
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _makefile_keywords() -> list[str]:
    """The extra -k keywords of `make extract-messages`, so this test extracts exactly as the Makefile does."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for line in makefile.splitlines():
        if "pybabel extract" in line:
            found = re.findall(r"(?:-k|--keyword[= ])\s*(\S+)", line)
            if found:
                return found
    return ["_l", "lazy_gettext"]


def _ids(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _key(message) -> str:
    return _ids(message)[0]


def _read(path: Path, locale: str | None = None):
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages in the current source, extracted with babel.cfg and the Makefile's keywords."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    command = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "--no-location",
               "--sort-output", "-o", str(pot)]
    for keyword in _makefile_keywords():
        command += ["-k", keyword]
    result = subprocess.run(command + ["."], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"pybabel extract failed:\n{result.stderr}"
    catalogue = _read(pot)
    messages = [m for m in catalogue if m.id]
    assert messages, "pybabel extract found no messages: check babel.cfg"
    return messages


@pytest.fixture(scope="module")
def korean():
    return _read(KO_PO, "ko")


@pytest.fixture(scope="session")
def compiled_catalogues():
    """Compile each .po to its .mo when the .mo is missing or older, so `pytest` alone works.

    Written to a temporary file and moved into place, so a parallel run never reads half a file.
    """
    for locale in LOCALES:
        po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        catalogue = _read(po, locale)
        partial = mo.with_name(f"messages.mo.{os.getpid()}.tmp")
        with partial.open("wb") as handle:
            write_mo(handle, catalogue, use_fuzzy=True)  # as `make translations` does
        os.replace(partial, mo)


def test_every_source_string_has_a_korean_translation(extracted, korean):
    missing = []
    for message in extracted:
        entry = korean.get(message.id)
        if entry is None:
            missing.append(f"{_key(message)!r}  (not in ko/messages.po: run `make update-messages`)")
        elif entry.fuzzy:
            missing.append(f"{_key(message)!r}  (marked fuzzy: check the translation and remove the flag)")
        elif not all(s.strip() for s in _strings(entry)):
            missing.append(f"{_key(message)!r}  (empty msgstr)")
    assert not missing, (
        f"{len(missing)} source string(s) lack a Korean translation in {KO_PO.relative_to(ROOT)}:\n  "
        + "\n  ".join(missing)
    )


def test_korean_catalogue_has_one_plural_form_and_no_fuzzy_entries(korean):
    assert korean.num_plurals == 1, korean.plural_forms
    assert not korean.fuzzy, "the ko catalogue header is marked fuzzy"
    fuzzy = [_key(m) for m in korean if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy entries in ko/messages.po: {fuzzy}"
    wrong_forms = [_key(m) for m in korean if m.id and m.pluralizable and len(_strings(m)) != 1]
    assert not wrong_forms, f"Korean plural entries need exactly one msgstr[0]: {wrong_forms}"


def test_english_catalogue_has_two_plural_forms_and_shows_won_first():
    english = _read(EN_PO, "en")
    assert english.num_plurals == 2, english.plural_forms
    assert english["%(amount)s won"].string == "₩%(amount)s"


def test_korean_placeholders_match_the_msgid(korean):
    problems = []
    for entry in korean:
        if not entry.id:
            continue
        expected = set()
        for msgid in _ids(entry):
            expected |= set(PLACEHOLDER.findall(msgid))
        dummy = {name: 1 for name in expected}
        for form in _strings(entry):
            if not form:
                continue  # reported by the completeness test
            found = set(PLACEHOLDER.findall(form))
            if found != expected:
                problems.append(f"{_key(entry)!r}: msgid has {sorted(expected)}, msgstr {form!r} has {sorted(found)}")
                continue
            try:
                form % dummy  # noqa: B018 - a stray % would break the page at render time
            except (KeyError, TypeError, ValueError) as error:
                problems.append(f"{_key(entry)!r}: msgstr {form!r} cannot be formatted ({error})")
    assert not problems, "placeholder mismatches in ko/messages.po:\n  " + "\n  ".join(problems)


@pytest.fixture(scope="module")
def site(compiled_catalogues):
    from kindcity import create_app
    from kindcity.extensions import db
    from kindcity.services.reference import seed_district

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    with app.app_context():
        db.create_all()
        seed_district("gwangju-seogu")
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_home_page_is_korean_by_default_and_english_on_request(site, korean):
    heading = "What our district needs now"
    korean_heading = korean[heading].string
    assert HANGUL.search(korean_heading), korean_heading

    client = site.test_client()
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="ko">' in html
    assert korean_heading in html
    assert heading not in html
    assert "0원" in html  # the won filter, Korean style

    page = client.get("/?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert heading in html
    assert korean_heading not in html
    assert "₩0" in html  # the won filter, English style
