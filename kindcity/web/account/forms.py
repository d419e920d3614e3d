"""Forms of the account pages: registration, login, passwords."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional


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
