"""Mail about an account: confirming a new address, someone registering with an address that has an
account, a link to set a new password. Sent after the commit, in the visitor's language, with links on
the site's public address (links.site_url)."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from .. import mail
from ..models import User
from ..services import accounts
from .links import site_url


def send_confirmation(user: User) -> None:
    """The link that confirms a new account's address; until it is opened the account cannot log in."""
    link = site_url("auth.confirm_email",
                    token=accounts.email_confirmation_token(user, current_app.config["SECRET_KEY"]))
    mail.send(user.email, _("Confirm your e-mail address for kindcity"), "\n\n".join([
        _("Hello %(name)s,", name=user.display_name),
        _("Thank you for joining kindcity. Open this link within %(days)s days to confirm that this address "
          "is yours; then you can log in:", days=accounts.CONFIRM_DAYS),
        link,
        _("If you did not join kindcity, you can ignore this mail: without the link, nobody can use an "
          "account with your address.")]))


def send_already_registered(user: User) -> None:
    """To the owner of an address someone tried to register again: a way back in, and nothing else."""
    minutes = current_app.config["KINDCITY_PASSWORD_RESET_MINUTES"]
    reset = site_url("auth.reset_password",
                     token=accounts.password_reset_token(user, current_app.config["SECRET_KEY"]))
    mail.send(user.email, _("Someone tried to join kindcity with your address"), "\n\n".join([
        _("Hello %(name)s,", name=user.display_name),
        _("Someone, perhaps you, tried to join kindcity with this e-mail address. It already has an account, "
          "so nothing was changed and no new account was made."),
        _("If it was you, log in here:"),
        site_url("auth.login"),
        _("Forgot your password? Set a new one with this link within %(minutes)s minutes:", minutes=minutes),
        reset,
        _("If it was not you, you can ignore this mail: your account and your password stay as they are.")]))


def send_password_reset(user: User) -> None:
    minutes = current_app.config["KINDCITY_PASSWORD_RESET_MINUTES"]
    link = site_url("auth.reset_password",
                    token=accounts.password_reset_token(user, current_app.config["SECRET_KEY"]))
    mail.send(user.email, _("Set a new password for kindcity"), "\n\n".join([
        _("Hello %(name)s,", name=user.display_name),
        _("Someone, we hope you, asked to set a new password for your kindcity account. Open this link "
          "within %(minutes)s minutes and choose a new password:", minutes=minutes),
        link,
        _("The link works once. If you did not ask for it, you can ignore this mail: your password stays "
          "as it is.")]))
