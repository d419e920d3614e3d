"""Forms of the impact screens. Labels and errors go through the translation layer."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .forms import WonField


class StartDeliveryForm(FlaskForm):
    report_due = DateField(_l("Impact report due by"), validators=[InputRequired()])


class DisbursementForm(FlaskForm):
    amount = WonField(_l("Amount spent in won"), validators=[InputRequired()])
    spent_on = DateField(_l("Date of spending"), validators=[InputRequired()])
    description = StringField(_l("What it paid for (public; no personal details)"),
                              validators=[DataRequired(), Length(max=200)])


class ReportForm(FlaskForm):
    units_delivered = IntegerField(_l("Units delivered"), validators=[Optional(), NumberRange(min=0, max=1_000_000)])
    beneficiaries_reached = IntegerField(_l("People reached"),
                                         validators=[Optional(), NumberRange(min=0, max=1_000_000)])
    delivered_from = DateField(_l("Delivered from"), validators=[Optional()])
    delivered_to = DateField(_l("Delivered until"), validators=[Optional()])
    story = TextAreaField(_l("Story (Markdown; public; no names, phone numbers or addresses)"),
                          validators=[Optional(), Length(max=20_000)])


class PhotoForm(FlaskForm):
    photo = FileField(_l("Photo (JPEG, PNG or WebP, at most 8 MB)"),
                      validators=[FileRequired(_l("Please choose a photo."))])
    caption = StringField(_l("Description of the photo, for people who cannot see it (public)"),
                          validators=[DataRequired(), Length(max=200)])
    consent = BooleanField(_l("The people shown in this photo agreed to its publication"))


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
