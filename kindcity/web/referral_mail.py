"""Mail about referrals (사각지대 제보): an urgent one tells the staff of its centre at once.

The mail says only that an urgent referral came in for a dong, with a link to it: never the situation
nor the contact, which stay behind the staff login (mail is copied, forwarded and kept for years).
Sent after the commit by whoever took the referral in; written in Korean, the staff's language,
whatever language the resident who sent the referral was reading the site in.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import mail
from ..domain.referrals import Urgency
from ..models import Referral
from ..services import referrals as referral_service
from .links import site_url

STAFF_LOCALE = "ko"


def notify_urgent(referral: Referral) -> int:
    """E-mail the active staff of the referral's centre that an urgent referral came in, with a link to it.
    Call it after the commit that took the referral in. Does nothing for a referral that is not urgent.
    Returns how many mails were sent."""
    if referral.urgency != Urgency.URGENT:
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
        mail.send(person.email, subject, body)
    return len(recipients)
