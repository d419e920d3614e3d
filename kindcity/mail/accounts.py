"""Mail about accounts: the link to set a new password."""
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


@job("mail.reset_link")
def reset_link(user_id: int, request_key: str, locale: str) -> None:
    from ..models import User
    from ..services import accounts

    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return
    cfg = current_app.config
    minutes = cfg["KINDCITY_PASSWORD_RESET_MINUTES"]
    with force_locale(locale):
        link = site_url("auth.reset_password", token=accounts.password_reset_token(user, cfg["SECRET_KEY"]))
        subject = _("Set a new password for kindcity")
        body = "\n\n".join([
            _("Hello %(name)s,", name=addressee(user.display_name)),
            _("Someone, we hope you, asked to set a new password for your kindcity account. Open this link "
              "within %(minutes)s minutes and choose a new password:", minutes=minutes),
            link,
            _("The link works once. If you did not ask for it, you can ignore this mail: your password stays "
              "as it is.")])
    send(user.email, subject, body, key=f"reset:{request_key}")
