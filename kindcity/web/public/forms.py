"""Forms of the public pages. Labels go through the translation layer."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

PERIOD_CHOICES = [
    SelectChoice("all", _l("All time")),
    SelectChoice("12m", _l("Last 12 months")),
    SelectChoice("this_year", _l("This year")),
    SelectChoice("last_year", _l("Last year")),
]


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    period = SelectField(_l("Period"), choices=PERIOD_CHOICES, default="all")
