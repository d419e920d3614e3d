"""Versioned static URLs: ``url_for('static', filename='site.css')`` gives ``/static/site.css?v=<hash>``.

The hash is of the file's bytes, so a release that changes a file changes its URL and nothing else
does; nginx (deploy/nginx) and browsers may then keep a versioned file for a year.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask


@lru_cache(maxsize=256)
def _digest(path: Path, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def file_version(folder: str, filename: str) -> str | None:
    path = Path(folder) / filename
    try:
        return _digest(path, path.stat().st_mtime_ns)
    except OSError:
        return None


def init_app(app: Flask) -> None:
    @app.url_defaults
    def _version_static(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and app.static_folder:
            version = file_version(app.static_folder, values.get("filename", ""))
            if version:
                values["v"] = version
