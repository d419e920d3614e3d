"""Forms. Labels and errors go through the translation layer."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (BooleanField, DateField, EmailField, Field, IntegerField, PasswordField, SelectField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from ..domain.money import MoneyError, group_digits, to_won
from .form_tokens import FormTokenMixin
from .params import MAX_ID


class WonField(Field):
    """A whole-won amount typed the way people type it: 1500000, 1,500,000 or 1,500,000원."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "numeric", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return group_digits(self.data) if isinstance(self.data, int) else ""

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        try:
            self.data = to_won(valuelist[0])
        except MoneyError as error:
            self.data = None
            raise ValueError(
                _l("Please enter one amount only, for example 150,000.") if error.code == "not_one_number"
                else _l("Please enter a whole number of won, for example 150,000.")
                if error.code in ("not_a_number", "fraction", "float")
                else _l("The amount must not be negative.") if error.code == "negative"
                else _l("The amount is too large.")
            ) from None


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me logged in on this device"))


ORG_KIND_CHOICES = [
    SelectChoice("", _l("An individual")),
    SelectChoice("church", _l("A church or religious body")),
    SelectChoice("business", _l("A business")),
    SelectChoice("good_shop", _l("A good shop")),
    SelectChoice("civic", _l("A civic group")),
]


class RegisterForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)],
                               render_kw={"autocomplete": "name"})
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    password = PasswordField(_l("Password (at least 10 characters)"), validators=[DataRequired(), Length(min=10)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Password again"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
                            render_kw={"autocomplete": "new-password"})
    organisation_kind = SelectField(_l("I give as"), choices=ORG_KIND_CHOICES, default="")
    organisation_name = StringField(_l("Organisation name"), validators=[Optional(), Length(max=200)])
    business_number = StringField(_l("Business registration number (10 digits)"),
                                  validators=[Optional(), Length(max=14)], render_kw={"inputmode": "numeric"})
    # 개인정보 수집·이용 동의 (개인정보 보호법 제15조): required, with the notice shown beside it.
    consent = BooleanField(_l("I agree to the collection and use of my personal information as described above."),
                           validators=[DataRequired(message=_l("Please agree to the collection and use of your "
                                                               "personal information, or we cannot open an "
                                                               "account."))])


class PasswordResetForm(FlaskForm):
    new = PasswordField(_l("New password (at least 10 characters)"), validators=[DataRequired(), Length(min=10)],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(), EqualTo("new", message=_l("The passwords do not match."))],
                            render_kw={"autocomplete": "new-password"})


class PasswordChangeForm(PasswordResetForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()],
                            render_kw={"autocomplete": "current-password"})


class PasswordResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})


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


class ConfirmForm(FlaskForm):
    """An empty form: a button that carries the CSRF token."""


DISPLAY_CHOICES = [
    SelectChoice("anonymous", _l("Anonymous (only the amount is shown)")),
    SelectChoice("name", _l("My name")),
    SelectChoice("organisation", _l("My organisation's name")),
]
PAYMENT_METHOD_CHOICES = [
    SelectChoice("bank", _l("Bank transfer (계좌이체)")),
    SelectChoice("card", _l("Card")),
]
# A pledge to a need may also take the Korean rails through PortOne (kindcity/web/donor_kr.py): the
# pledge's method is then 'portone', and the choice says which of its methods the donor pays with.
KR_METHOD_CHOICES = [
    SelectChoice("kr_card", _l("Card (Korean cards)")),
    SelectChoice("kr_easy_pay", _l("Easy pay (카카오페이, 네이버페이, 토스페이)")),
    SelectChoice("kr_virtual_account", _l("Virtual account (가상계좌)")),
]
ON_CANCEL_CHOICES = [
    SelectChoice("refund", _l("Refund it to me")),
    SelectChoice("pool", _l("Move it to the district's pooled fund (나눔 기금)")),
    SelectChoice("similar", _l("Let staff move it to a similar need")),
]


class PledgeForm(FormTokenMixin, FlaskForm):
    amount = WonField(_l("Amount in won (at least 1,000 won)"))
    units = IntegerField(_l("Or a number of units"), validators=[Optional(), NumberRange(min=1, max=100000)])
    display = SelectField(_l("How should your gift be shown?"), choices=DISPLAY_CHOICES, default="anonymous")
    message = StringField(_l("A public message (optional; no personal details)"),
                          validators=[Optional(), Length(max=300)])
    on_cancel = SelectField(_l("If this need is cancelled or closes before it is met, your money should"),
                            choices=ON_CANCEL_CHOICES, default="refund")
    method = SelectField(_l("How will you pay?"), choices=PAYMENT_METHOD_CHOICES + KR_METHOD_CHOICES, default="bank")


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


class HistoryForm(FlaskForm):
    class Meta:
        csrf = False

    start = DateField(_l("From date"), validators=[Optional()])
    end = DateField(_l("To date"), validators=[Optional()])


class StatementUploadForm(FlaskForm):
    statement = FileField(_l("Bank statement (CSV, UTF-8 or CP949/EUC-KR)"),
                          validators=[FileRequired(), FileAllowed(["csv", "txt"], _l("Please upload a CSV file."))])
