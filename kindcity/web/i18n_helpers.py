"""Small helpers for showing reference data in the current language."""
from __future__ import annotations

from wtforms.fields.choices import SelectChoice

from ..i18n import current_locale


def localised_choices(rows) -> list[SelectChoice]:
    locale = current_locale()
    return [SelectChoice(row.id, row.name(locale)) for row in rows]
