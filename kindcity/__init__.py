"""kindcity: the donation matching site of a Korean "good city" district."""
from __future__ import annotations

import os
from typing import Any, Mapping

from flask import Flask

from .config import check_config, load_config
from .paths import default_instance_path, site_path


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` from the caller wins over the environment (tests pass a dict)."""
    app = Flask(
        __name__,
        # The one setting read before the configuration: where the configuration's own defaults live.
        instance_path=os.environ.get("KINDCITY_INSTANCE_PATH") or default_instance_path(),
        template_folder=str(site_path("templates")),
        static_folder=str(site_path("static")),
    )
    app.config.update(load_config(app.instance_path))
    if config:
        app.config.update(config)
    check_config(app.config)
    os.makedirs(app.instance_path, exist_ok=True)

    from . import db_setup, error_reports, i18n, request_log
    from .web import init_web

    error_reports.init_app(app)
    db_setup.init_app(app)
    i18n.init_app(app)
    init_web(app)
    request_log.init_app(app)  # outermost: every request once, the page cache's front door included
    from .cli import register_commands

    register_commands(app)
    return app
