"""Forms of the donor pages: pledging and the history export."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from ..form_tokens import FormTokenMixin
from ..forms import WonField

DISPLAY_CHOICES = [
    SelectChoice("anonymous", _l("Anonymous (only the amount is shown)")),
    SelectChoice("name", _l("My name")),
    SelectChoice("organisation", _l("My organisation's name")),
]


PAYMENT_METHOD_CHOICES = [
    SelectChoice("bank", _l("Bank transfer (계좌이체)")),
    SelectChoice("card", _l("Card")),
]


# A pledge to a need may also take the Korean rails through PortOne (kindcity/web/donor/korean.py): the
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


class HistoryForm(FlaskForm):
    class Meta:
        csrf = False

    start = DateField(_l("From date"), validators=[Optional()])
    end = DateField(_l("To date"), validators=[Optional()])
