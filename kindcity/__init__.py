"""kindcity: the donation matching site of a Korean "good city" district."""
from __future__ import annotations

import os
from typing import Any, Mapping

from flask import Flask

from .config import check_config, instance_folder, load_config
from .paths import default_instance_path, site_path


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` from the caller wins over the environment (tests pass a dict)."""
    app = Flask(
        __name__,
        instance_path=instance_folder(default_instance_path(), (config or {}).get("KINDCITY_INSTANCE_PATH")),
        template_folder=str(site_path("templates")),
        static_folder=str(site_path("static")),
    )
    app.config.update(load_config(app.instance_path))
    if config:
        app.config.update(config)
    app.config["KINDCITY_INSTANCE_PATH"] = app.instance_path
    check_config(app.config)
    os.makedirs(app.instance_path, exist_ok=True)

    from . import db_setup, error_reports, i18n, request_log
    from .web import init_web, params

    error_reports.init_app(app)
    params.init_app(app)  # the bounded <id:...> converter, before any route uses it
    db_setup.init_app(app)
    i18n.init_app(app)
    init_web(app)
    request_log.init_app(app)  # outermost: every request once, the page cache's front door included
    from .cli import register_commands
    from .services.figures import watch_money_tables
    watch_money_tables()  # money moving asks for the district figures' recount

    register_commands(app)
    return app
