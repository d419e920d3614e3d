"""kindcity: the donation matching site of a Korean "good city" district."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from .config import check_config, instance_folder, load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` from the caller wins over the environment (tests pass a dict)."""
    app = Flask(
        __name__,
        instance_path=instance_folder(ROOT, (config or {}).get("KINDCITY_INSTANCE_PATH")),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(app.instance_path))
    if config:
        app.config.update(config)
    app.config["KINDCITY_INSTANCE_PATH"] = app.instance_path
    check_config(app.config)
    os.makedirs(app.instance_path, exist_ok=True)

    from . import db_setup, i18n
    from .web import init_web, params

    params.init_app(app)  # the bounded <id:...> converter, before any route uses it
    db_setup.init_app(app)
    i18n.init_app(app)
    init_web(app)
    from .cli import register_commands

    register_commands(app)
    return app
