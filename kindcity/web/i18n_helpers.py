"""Small helpers for showing reference data in the current language."""
from __future__ import annotations

from ..i18n import current_locale


def localised_choices(rows) -> list[tuple[int, str]]:
    locale = current_locale()
    return [(row.id, row.name(locale)) for row in rows]
