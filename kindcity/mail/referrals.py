"""Mail about referrals (사각지대 제보): an urgent one tells the staff of its centre at once.

The mail says only that an urgent referral came in for a dong, with a link to it: never the situation
nor the contact, which stay behind the staff login (mail is copied, forwarded and kept for years).
A job asked for in the transaction that takes the referral in; written in Korean, the staff's language,
whatever language the resident who sent the referral was reading the site in.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from ..domain.referrals import Urgency
from ..extensions import db
from ..jobs import defer, job
from ..web.links import site_url
from . import send

STAFF_LOCALE = "ko"


def ask_urgent_notice(referral_id: int) -> None:
    """In the transaction that takes the referral in (a referral that is not urgent gets no mail)."""
    defer("mail.urgent_referral", referral_id=referral_id)


@job("mail.urgent_referral")
def urgent_referral(referral_id: int) -> int:
    """E-mail the active staff of the referral's centre that an urgent referral came in, with a link to it.
    Returns how many mails were asked for."""
    from ..models import Referral
    from ..services import referrals as referral_service

    referral = db.session.get(Referral, referral_id)
    if referral is None or referral.urgency != Urgency.URGENT:
        return 0
    recipients = referral_service.urgent_recipients(referral)
    if not recipients:
        current_app.logger.warning("urgent referral %s: neither its centre %s nor the district office has "
                                   "active staff to tell",
                                   referral.id, referral.centre_id)
        return 0
    link = site_url("staff.referral", referral_id=referral.id)
    with force_locale(STAFF_LOCALE):
        dong = referral.dong.name(STAFF_LOCALE)
        subject = _("Urgent referral received for %(dong)s", dong=dong)
        body = "\n\n".join([
            _("An urgent referral was received for %(dong)s.", dong=dong),
            _("Open it here (staff login needed): %(url)s", url=link),
            _("The details are only on the site, never in mail."),
        ])
    for person in recipients:
        send(person.email, subject, body, key=f"urgent-referral:{referral.id}:{person.id}")
    return len(recipients)
