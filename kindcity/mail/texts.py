"""Mail about the text line: an urgent text tells the duty staff (the district office's) at once.

Like the mail about an urgent referral, it says only that an urgent text came in, with a link to the
case: never the number nor the words, which stay behind the staff login.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from ..extensions import db
from ..jobs import defer, job
from ..web.links import site_url
from . import send

STAFF_LOCALE = "ko"


def ask_urgent_notice(case_id: int) -> None:
    defer("mail.urgent_text", case_id=case_id)


@job("mail.urgent_text")
def urgent_text(case_id: int) -> int:
    """E-mail the duty staff that an urgent text came in. Returns how many mails were asked for."""
    from ..models import TextCase
    from ..services import texts as text_service

    case = db.session.get(TextCase, case_id)
    if case is None or not case.urgent or case.purged_at is not None:
        return 0
    recipients = text_service.duty_staff(case)
    if not recipients:
        current_app.logger.warning("urgent text case %s: no active staff to tell", case.id)
        return 0
    link = site_url("staff.text_case", case_id=case.id)
    with force_locale(STAFF_LOCALE):
        subject = _("Urgent text received")
        body = "\n\n".join([
            _("A text that may be urgent came in to the district's text line."),
            _("Open it here (staff login needed): %(url)s", url=link),
            _("The number and the words are only on the site, never in mail."),
        ])
    for person in recipients:
        send(person.email, subject, body, key=f"urgent-text:{case.id}:{person.id}")
    return len(recipients)
