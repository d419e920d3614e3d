"""Any district runs the site from its own data file: Jongno-gu (Seoul) starts, migrates and shows
itself with nothing of Seo-gu (Gwangju), whose file the site was first built around."""
from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest
from flask_migrate import upgrade

from kindcity.extensions import db
from tests import factories
from tests.conftest import make_test_app
from tests.pgdb import own_database

CHECKOUT = Path(__file__).resolve().parents[2]
DISTRICTS = CHECKOUT / "kindcity" / "data" / "districts"
JONGNO = json.loads((DISTRICTS / "seoul-jongno.json").read_text(encoding="utf-8"))
SEOGU = json.loads((DISTRICTS / "gwangju-seogu.json").read_text(encoding="utf-8"))
# The demo story (make run) is Seo-gu's, and says so; it is the one module allowed to name it.
DEMO = CHECKOUT / "kindcity" / "services" / "demo.py"


def seogu_names() -> set[str]:
    names = {SEOGU[key] for key in ("name_ko", "name_en", "brand_ko", "brand_en", "bank_holder")}
    # The city alone is not Seo-gu: the guard lists every metropolitan city's short name ("광주", "서울")
    # to read addresses, and must keep doing so in any district.
    names |= {"서구", "Seo-gu", "광주광역시", "Gwangju Metropolitan"}
    names |= {item[lang] for key in ("dongs", "centres") for item in SEOGU[key] for lang in ("name_ko", "name_en")}
    return names


def test_the_second_district_is_shaped_like_the_first():
    assert set(JONGNO) == set(SEOGU)
    for key in ("dongs", "categories", "groups", "centres"):
        assert {frozenset(item) for item in JONGNO[key]} == {frozenset(item) for item in SEOGU[key]}, key
    dongs = {dong["code"] for dong in JONGNO["dongs"]}
    assert len(dongs) == 17 and "hyehwa" in dongs and "samcheong" in dongs
    assert {centre["dong"] for centre in JONGNO["centres"] if not centre["is_district_office"]} == dongs
    assert sum(centre["is_district_office"] for centre in JONGNO["centres"]) == 1


def _string_literals(path: Path) -> list[tuple[int, str]]:
    """String constants of a module, without its docstrings (which may give examples)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_no_code_or_template_names_seo_gu():
    names = seogu_names()
    found = []
    for path in sorted((CHECKOUT / "kindcity").rglob("*.py")):
        if path != DEMO:
            found += [f"{path.relative_to(CHECKOUT)}:{line}: {text[:60]!r}"
                      for line, text in _string_literals(path) if any(name in text for name in names)]
    for folder in ("templates", "static"):
        for path in sorted((CHECKOUT / folder).rglob("*")):
            if path.is_file():
                text = path.read_text(encoding="utf-8")
                found += [f"{path.relative_to(CHECKOUT)}: {name}" for name in names if name in text]
    assert found == []


@pytest.fixture
def jongno_url(tmp_path):
    if not os.environ.get("KINDCITY_TEST_DATABASE_URL"):
        yield "sqlite:///" + str(tmp_path / "jongno.sqlite3")
        return
    with own_database("jongno") as url:
        yield url


def test_jongno_starts_migrates_and_shows_itself(jongno_url):
    app = make_test_app(jongno_url, KINDCITY_DISTRICT="seoul-jongno", SERVER_NAME=None)
    runner = app.test_cli_runner()
    with app.app_context():
        upgrade()
        seeded = runner.invoke(args=["seed"])
        assert seeded.exit_code == 0 and "서울특별시 종로구" in seeded.output
        refused = runner.invoke(args=["demo-data"])
        assert refused.exit_code == 1 and "kindcity seed" in refused.output
        staff = factories.user("staff", centre_code="centre-hyehwa")
        need = factories.need(author=staff, title="혜화동 어르신 병원 동행", dong="hyehwa", target=300_000)
        db.session.commit()
        need_id = need.id
    client = app.test_client()
    names = seogu_names()
    for lang in ("ko", "en"):
        pages = {path: client.get(f"{path}?lang={lang}") for path in
                 ("/", "/needs", f"/needs/{need_id}", "/impact", "/matching", "/refer", "/account/register")}
        for path, response in pages.items():
            text = response.get_data(as_text=True)
            assert response.status_code == 200, path
            assert [name for name in names if name in text] == [], f"{path} ({lang}) shows Seo-gu"
        brand = JONGNO["brand_ko" if lang == "ko" else "brand_en"]
        assert brand in pages["/"].get_data(as_text=True)
        needs = pages["/needs"].get_data(as_text=True)
        assert all(dong["name_" + lang] in needs for dong in JONGNO["dongs"])  # the filter lists Jongno's dongs
        assert "혜화동 어르신 병원 동행" in pages[f"/needs/{need_id}"].get_data(as_text=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
