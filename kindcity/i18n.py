"""Korean first, English second: locale choice and the formats people read (won, dates)."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask, g, has_app_context, request, session
from flask_babel import format_date, format_datetime, get_locale, gettext
from markupsafe import Markup

from .domain.money import group_digits
from .extensions import babel

LOCALES = ("ko", "en")


def select_locale() -> str:
    chosen = request.args.get("lang") or session.get("lang")
    return chosen if chosen in LOCALES else "ko"


def current_locale() -> str:
    return str(get_locale() or "ko")


# Titles a Korean name may already end with ("박은혜 목사"): the honorific then joins them ("목사님").
_TITLES = ("목사", "신부", "스님", "장로", "권사", "집사", "전도사", "교수", "선생", "원장", "대표", "사장", "회장",
           "이사장", "관장", "센터장", "총무", "위원장", "팀장", "과장", "부장", "실장")


def addressee(name: str) -> str:
    """How a mail addresses someone. Korean: "김서연 님", "박은혜 목사님" (a title takes 님 without a
    space, and a name already ending in 님 takes nothing more); other languages: the name as it is."""
    name = (name or "").strip()
    if current_locale() != "ko" or not name:
        return name
    if name.endswith("님"):
        return name
    if name.endswith(_TITLES):
        return name + "님"
    return name + " 님"


def format_won(amount: int | None) -> str:
    """1500000 -> '1,500,000원' (Korean) or '₩1,500,000' (English)."""
    digits = group_digits(int(amount or 0))
    if not has_app_context():
        return gettext("%(amount)s won", amount=digits)
    # Pages draw hundreds of amounts (a statement's preview, 500 rows): the pattern is looked up in the
    # catalogue once per locale and request, not once per amount (Flask-Babel's gettext walks g each time).
    locale = str(get_locale())
    patterns = g.setdefault("_won_patterns", {})
    pattern = patterns.get(locale)
    if pattern is None:
        pattern = patterns[locale] = gettext("%(amount)s won")
    return pattern % {"amount": digits}


# A date with its time to the minute, Korea time, without seconds or a raw UTC offset:
# "2026년 12월 7일 오후 3:04" / "Dec 7, 2026, 3:04 PM" (the district's residents read Korea time).
DATETIME_PATTERNS = {"ko": "y년 M월 d일 a h:mm", "en": "MMM d, y, h:mm a"}


def format_day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, DATETIME_PATTERNS.get(current_locale(), DATETIME_PATTERNS["en"]))
    return format_date(value, "long")


# A moment of today or lately, plainly: "11월 30일 오후 12:37" / "Nov 30, 12:37 PM" (Korea time).
MOMENT_PATTERNS = {"ko": "M월 d일 a h:mm", "en": "MMM d, h:mm a"}


def format_moment(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value, MOMENT_PATTERNS.get(current_locale(), MOMENT_PATTERNS["en"]))


def init_app(app: Flask) -> None:
    # Catalogues live in kindcity/translations (relative to the package, the app's root path).
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    app.jinja_env.filters["won"] = format_won
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["moment"] = format_moment
    app.jinja_env.globals["current_locale"] = current_locale
    app.jinja_env.globals["Markup"] = Markup
