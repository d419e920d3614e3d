"""What every template may use: the district, the language switch, the current user's menu."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, request, url_for

from ..i18n import current_locale
from ..services.reference import reference


def language_url(locale: str) -> str:
    args = request.args.to_dict()
    args["lang"] = locale
    return (request.path if request.endpoint else url_for("public.home")) + "?" + urlencode(args)


def need_titles(ids) -> dict[int, str]:
    """Titles of these needs, in one query: pages name a need by its title, never by its number."""
    from sqlalchemy import select

    from ..extensions import db
    from ..models import Need

    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return dict(db.session.execute(select(Need.id, Need.title).where(Need.id.in_(wanted))).all())


def register_context(app: Flask) -> None:
    app.jinja_env.globals["need_titles"] = need_titles  # a global: imported macros see it too
    from .audit_words import action_label
    app.jinja_env.globals["audit_action_label"] = action_label  # one table of audit words (web/audit_words.py)
    app.jinja_env.globals["reference"] = reference  # names of dongs, categories, groups by id (need cards)

    @app.context_processor
    def _inject():
        district = reference().district
        locale = current_locale()
        return {
            "district": district,
            "district_name": (district.name(locale) if district else ""),
            "brand": (district.brand_en if locale == "en" else district.brand_ko) if district else "kindcity",
            "language_url": language_url,
        }

    @app.before_request
    def _remember_language():
        from flask import session
        chosen = request.args.get("lang")
        if chosen in ("ko", "en"):
            session["lang"] = chosen
