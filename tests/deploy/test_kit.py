"""The deployment kit in deploy/: nginx accepts the site configuration, systemd accepts the units, and
the environment file names every setting the app reads. (tests/stack runs them for real.)"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kindcity.config import load_config
from tests.stack import nginx

CHECKOUT = Path(__file__).resolve().parents[2]
DEPLOY = CHECKOUT / "deploy"
IN_CI = os.environ.get("CI") == "true"
VENV_BIN = Path(sys.executable).parent


def _require(tool: str) -> str:
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if os.path.exists(f"/usr/sbin/{tool}") else None)
    if path is None:
        if IN_CI:
            pytest.fail(f"CI: {tool} is required for the deployment kit's tests (.ci/run installs it)")
        pytest.skip(f"{tool} is not installed")
    return path


def test_nginx_accepts_the_site_configuration(tmp_path):
    _require("nginx")
    config = nginx.render(tmp_path / "nginx", app_servers=["127.0.0.1:8001", "127.0.0.1:8002"],
                          static_folder=CHECKOUT / "static")
    result = nginx.check(config)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr
    assert "[warn]" not in result.stderr.replace('the "user" directive makes sense only', ""), result.stderr


def _directive(text: str, name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]+);", text, re.M)


def test_nginx_body_limit_is_the_apps():
    site = nginx.SITE.read_text(encoding="utf-8")
    (limit,) = _directive(site, "client_max_body_size")
    assert limit.endswith("m")
    app_limit = load_config("/tmp", environ={})["MAX_CONTENT_LENGTH"]
    assert int(limit[:-1]) * 1024 * 1024 == app_limit
    env_file = (DEPLOY / "kindcity.env").read_text(encoding="utf-8")
    assert f"KINDCITY_MAX_CONTENT_LENGTH={app_limit}" in env_file


def test_nginx_passes_what_the_app_needs_to_know():
    site = nginx.SITE.read_text(encoding="utf-8")
    headers = {value.split()[0]: value.split()[1] for value in _directive(site, "proxy_set_header")}
    assert headers["X-Forwarded-For"] == "$remote_addr" and headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["Host"] == headers["X-Forwarded-Host"] == "$http_host" and headers["X-Request-ID"] == "$request_id"
    # The micro-cache is bypassed, and never filled, for anyone with a session or remember-me cookie.
    assert _directive(site, "proxy_cache_bypass") == ["$kindcity_has_session $http_authorization"]
    assert _directive(site, "proxy_no_cache") == ["$kindcity_has_session $http_authorization"]
    assert not _directive(site, "proxy_cache_valid") and not _directive(site, "proxy_ignore_headers")  # the app decides


HARDENING = ("User=kindcity", "NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectSystem=strict", "ProtectHome=yes")


def _units() -> list[Path]:
    return sorted((DEPLOY / "systemd").iterdir())


def test_every_service_is_hardened():
    services = [unit for unit in _units() if unit.suffix == ".service"]
    assert {unit.name for unit in services} >= {"kindcity-web.service", "kindcity-worker.service"}
    for unit in services:
        lines = set(unit.read_text(encoding="utf-8").splitlines())
        missing = [line for line in HARDENING if line not in lines]
        assert not missing, f"{unit.name} lacks {missing}"
        assert "EnvironmentFile=/etc/kindcity/kindcity.env" in lines


def test_there_are_no_timers_the_worker_schedules_the_upkeep():
    """Periodic work is scheduled in code (kindcity/jobs/upkeep.py) and run by the worker: a timer
    beside it would run each task twice, and on every host that has it."""
    from kindcity.jobs.upkeep import SCHEDULE

    assert {unit.name for unit in _units()} == {"kindcity-web.service", "kindcity-worker.service"}
    operations = (CHECKOUT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert ".timer" not in operations and "systemctl enable --now kindcity-web kindcity-worker" in operations
    assert "upkeep.reconcile" in SCHEDULE and "upkeep.expire_needs" in SCHEDULE


def test_systemd_accepts_the_units(tmp_path):
    """`systemd-analyze verify` runs here without systemd as PID 1; the units are rendered with this
    venv's commands (it checks that each ExecStart exists) and the kit's environment file."""
    analyze = _require("systemd-analyze")
    for unit in _units():
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/opt/kindcity/venv/bin/", f"{VENV_BIN}/")
        text = text.replace("/etc/kindcity/kindcity.env", str(DEPLOY / "kindcity.env"))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    result = subprocess.run([analyze, "verify", *sorted(str(path) for path in tmp_path.iterdir())],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_the_environment_file_names_every_setting():
    env_file = (DEPLOY / "kindcity.env").read_text(encoding="utf-8")
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", env_file, re.M))
    read_by_app = set(re.findall(r'env\.get\("([A-Z0-9_]+)"', (CHECKOUT / "kindcity" / "config.py").read_text()))
    assert read_by_app, "config.py reads no settings?"
    assert read_by_app - named == set()
    readme = (CHECKOUT / "README.md").read_text(encoding="utf-8")
    in_readme = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", readme, re.M))
    assert in_readme and in_readme - named == set()
    assert "KINDCITY_INSTANCE_PATH" in named and "GUNICORN_CMD_ARGS" in named
