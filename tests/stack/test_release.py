"""The release: a wheel built from this checkout, installed (not editable) in a fresh virtual
environment outside the checkout from the lock file, gives the whole site in Korean."""
from __future__ import annotations

import secrets
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.stack.conftest import CHECKOUT, throwaway_database
from tests.stack.processes import free_port, urlopen

pytestmark = pytest.mark.stack
PIP_TIMEOUT = 600  # the first run downloads the locked packages; pip's cache serves later runs


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=PIP_TIMEOUT, **kwargs)
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def build_wheel(folder: Path) -> Path:
    """`pip wheel` on the checkout, as `make wheel` does: setup.py's build step runs in isolation."""
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(folder), str(CHECKOUT)])
    (wheel,) = folder.glob("kindcity-*.whl")
    return wheel


def install_release(wheel: Path, target: Path) -> Path:
    """A fresh venv with the locked dependencies (hashes required) and the wheel on top; returns its bin/."""
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    pip = [str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run(pip + ["--require-hashes", "-r", str(CHECKOUT / "requirements.lock")])
    _run(pip + ["--no-deps", "--no-index", str(wheel)])
    return target / "bin"


def test_the_wheel_carries_the_site(tmp_path):
    wheel = build_wheel(tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("kindcity/site/templates/base.html", "kindcity/site/static/site.css",
                     "kindcity/site/migrations/env.py", "kindcity/site/migrations/alembic.ini",
                     "kindcity/domain/matching/README.md", "kindcity/translations/ko/LC_MESSAGES/messages.mo",
                     "kindcity/translations/en/LC_MESSAGES/messages.mo", "kindcity/fonts/NanumGothic.ttf",
                     "kindcity/data/districts/gwangju-seogu.json"):
        assert expected in names, expected
    versions = {name for name in names if name.startswith("kindcity/site/migrations/versions/")}
    assert len(versions) == len(list((CHECKOUT / "migrations" / "versions").glob("*.py")))


def test_installed_release_migrates_and_serves_korean(tmp_path, processes):
    wheel = build_wheel(tmp_path / "dist")
    bin_dir = install_release(wheel, tmp_path / "venv")
    elsewhere = tmp_path / "elsewhere"  # run from a folder with no checkout in sight
    elsewhere.mkdir()
    with throwaway_database("release", tmp_path) as url:
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
               "KINDCITY_ENV": "production", "KINDCITY_SECRET_KEY": secrets.token_hex(32),
               "KINDCITY_BASE_URL": "https://kindcity.test", "DATABASE_URL": url,
               "KINDCITY_INSTANCE_PATH": str(tmp_path / "instance")}
        where = _run([str(bin_dir / "python"), "-c",
                      "import kindcity, kindcity.paths as p; print(kindcity.__file__); print(p.installed())"],
                     env=env, cwd=elsewhere).stdout.split()
        assert where[0].startswith(str(tmp_path / "venv")) and where[1] == "True", where
        _run([str(bin_dir / "kindcity"), "db", "upgrade"], env=env, cwd=elsewhere)
        _run([str(bin_dir / "kindcity"), "seed"], env=env, cwd=elsewhere)

        port = free_port()
        processes.start("gunicorn", [str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                                     "kindcity:create_app()"], env=env, cwd=elsewhere)
        base = f"http://127.0.0.1:{port}"
        processes.wait_http(base + "/healthz", "gunicorn")
        with urlopen(base + "/") as response:
            home = response.read().decode()
        assert '<html lang="ko"' in home and "착한 도시 서구" in home  # Korean first; the district's data
        assert "본문 바로가기" in home and "로그인" in home  # the Korean catalogue, compiled by the build
        with urlopen(base + "/matching") as response:
            assert "<h2>나눔 기금이란</h2>" in response.read().decode()  # the engine's README.md, read by the app
        with urlopen(base + "/?lang=en") as response:
            english = response.read().decode()
            assert '<html lang="en"' in english and "Skip to content" in english
        css_link = home.split('href="/static/', 1)[1].split('"', 1)[0]
        with urlopen(base + "/static/" + css_link) as response:
            assert response.status == 200 and b"{" in response.read()
        assert (tmp_path / "instance").is_dir()
