"""Forms of the staff pages: needs, money, statements, impact reports."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from ..forms import WonField
from ..params import MAX_ID


class NeedForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    summary = StringField(_l("Summary (one sentence)"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description (Markdown; no names, phone numbers or addresses)"),
                                validators=[Optional(), Length(max=10000)])
    category_id = SelectField(_l("Category"), coerce=int, validators=[InputRequired()])
    dong_id = SelectField(_l("Dong"), coerce=int, validators=[InputRequired()])
    group_id = SelectField(_l("Beneficiary group"), coerce=int, validators=[InputRequired()])
    beneficiary_count = IntegerField(_l("Number of beneficiaries"),
                                     validators=[InputRequired(), NumberRange(min=1, max=100000)])
    target = WonField(_l("Target amount in won (leave empty when using unit pricing)"))
    unit_name = StringField(_l("Unit (e.g. round trip to Seoul)"), validators=[Optional(), Length(max=40)])
    unit_cost = WonField(_l("Cost per unit in won"))
    units = IntegerField(_l("Number of units"), validators=[Optional(), NumberRange(min=1, max=100000)])
    deadline = DateField(_l("Deadline"), validators=[InputRequired()])
    receiving_org_id = SelectField(_l("Receiving organisation (legally receives the money and issues receipts)"),
                                   coerce=int, validators=[InputRequired()])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class PaymentForm(FlaskForm):
    amount = WonField(_l("Amount received in won"), validators=[InputRequired()])
    received_on = DateField(_l("Date on the bank statement"), validators=[InputRequired()])
    token = StringField(widget=TextInput(input_type="hidden"))


class RefundForm(FlaskForm):
    refunded_on = DateField(_l("Date the refund was sent"), validators=[InputRequired()])
    bank_reference = StringField(_l("Bank reference of the refund"), validators=[DataRequired(), Length(max=100)])


class MoveForm(FlaskForm):
    need_id = IntegerField(_l("Number of the need to move the money to"),
                           validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])
    amount = WonField(_l("Amount in won"), validators=[InputRequired()])


class MatchRowForm(FlaskForm):
    reference = StringField(_l("Reference code of the pledge (e.g. KC7Q2MXA)"),
                            validators=[DataRequired(), Length(max=16)])


class StatementUploadForm(FlaskForm):
    statement = FileField(_l("Bank statement (CSV, UTF-8 or CP949/EUC-KR)"),
                          validators=[FileRequired(), FileAllowed(["csv", "txt"], _l("Please upload a CSV file."))])


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
