"""Mail about accounts: confirming a new address, someone registering with an address that has an
account, the link to set a new password. Each is asked for in the transaction of the change and composed
by a job in the visitor's language, with links on the site's public address (links.site_url)."""
from __future__ import annotations

from uuid import uuid4

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from ..extensions import db
from ..jobs import defer, job
from ..web.links import site_url
from ..i18n import addressee
from . import send


def ask_reset_link(user_id: int, locale: str) -> None:
    """In the transaction that records the reset request: the link goes out once it commits. Each
    request is its own message (a fresh key), however many the donor asks for."""
    defer("mail.reset_link", user_id=user_id, request_key=uuid4().hex, locale=locale)


def _mail_account(user_id: int, locale: str, key: str, compose) -> None:
    """The one way these mails go out: to an active account only, in the visitor's language, greeted by
    name; ``compose(user)`` gives the subject and the paragraphs after the greeting."""
    from ..models import User

    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return
    with force_locale(locale):
        subject, paragraphs = compose(user)
        body = "\n\n".join([_("Hello %(name)s,", name=addressee(user.display_name)), *paragraphs])
    send(user.email, subject, body, key=key)


def _reset_url(user) -> str:
    from ..services import accounts

    return site_url("auth.reset_password",
                    token=accounts.password_reset_token(user, current_app.config["SECRET_KEY"]))


@job("mail.reset_link")
def reset_link(user_id: int, request_key: str, locale: str) -> None:
    minutes = current_app.config["KINDCITY_PASSWORD_RESET_MINUTES"]
    _mail_account(user_id, locale, f"reset:{request_key}", lambda user: (
        _("Set a new password for kindcity"),
        [_("Someone, we hope you, asked to set a new password for your kindcity account. Open this link "
           "within %(minutes)s minutes and choose a new password:", minutes=minutes),
         _reset_url(user),
         _("The link works once. If you did not ask for it, you can ignore this mail: your password stays "
           "as it is.")]))


def ask_confirmation(user_id: int, locale: str) -> None:
    """In the registration's transaction: the link that confirms a new account's address."""
    defer("mail.confirm_address", user_id=user_id, request_key=uuid4().hex, locale=locale)


def ask_already_registered(user_id: int, locale: str) -> None:
    """In the transaction that refused a second registration: a way back in for the owner, nothing else."""
    defer("mail.already_registered", user_id=user_id, request_key=uuid4().hex, locale=locale)


@job("mail.confirm_address")
def confirm_address(user_id: int, request_key: str, locale: str) -> None:
    from ..services import accounts

    _mail_account(user_id, locale, f"confirm:{request_key}", lambda user: (
        _("Confirm your e-mail address for kindcity"),
        [_("Thank you for joining kindcity. Open this link within %(days)s days to confirm that this address "
           "is yours; then you can log in:", days=accounts.CONFIRM_DAYS),
         site_url("auth.confirm_email",
                  token=accounts.email_confirmation_token(user, current_app.config["SECRET_KEY"])),
         _("If you did not join kindcity, you can ignore this mail: without the link, nobody can use an "
           "account with your address.")]))


@job("mail.already_registered")
def already_registered(user_id: int, request_key: str, locale: str) -> None:
    minutes = current_app.config["KINDCITY_PASSWORD_RESET_MINUTES"]
    _mail_account(user_id, locale, f"already-registered:{request_key}", lambda user: (
        _("Someone tried to join kindcity with your address"),
        [_("Someone, perhaps you, tried to join kindcity with this e-mail address. It already has an account, "
           "so nothing was changed and no new account was made."),
         _("If it was you, log in here:"),
         site_url("auth.login"),
         _("Forgot your password? Set a new one with this link within %(minutes)s minutes:", minutes=minutes),
         _reset_url(user),
         _("If it was not you, you can ignore this mail: your account and your password stay as they are.")]))
