"""Mail to the money staff about payments that need a person: a PortOne payment charged for another amount
than its pledge, which kindcity cancelled at PortOne by itself.

Sent to the active staff with the money permission (they handle the district's account and see donors of
every centre), in Korean, the staff's language; the mail names the pledge's reference and the amounts, with a
link to the pledge behind the staff login, never the donor.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..jobs import defer, job
from ..web.links import site_url
from . import send

STAFF_LOCALE = "ko"


def money_staff():
    from ..models import Role, User

    return list(db.session.scalars(select(User).where(User.active.is_(True), User.money_staff.is_(True),
                                                      User.role.in_([Role.STAFF, Role.ADMIN])).order_by(User.id)))


def ask_mismatch_notice(pledge_id: int, payment_id: str, charged: int, expected: int, cancelled: int,
                        status: str) -> None:
    """In the transaction that recorded the cancellation."""
    defer("mail.kr_mismatch", pledge_id=pledge_id, payment_id=payment_id, charged=charged, expected=expected,
          cancelled=cancelled, status=status)


@job("mail.kr_mismatch")
def kr_mismatch(pledge_id: int, payment_id: str, charged: int, expected: int, cancelled: int, status: str) -> int:
    from ..i18n import format_won
    from ..models import Pledge

    pledge = db.session.get(Pledge, pledge_id)
    people = money_staff()
    if pledge is None or not people:
        current_app.logger.warning("PortOne payment %s cancelled for its amount; no money staff to tell", payment_id)
        return 0
    link = site_url("staff.pledge", pledge_id=pledge.id)
    with force_locale(STAFF_LOCALE):
        subject = _("Payment of another amount cancelled: pledge %(reference)s", reference=pledge.reference)
        body = "\n\n".join([
            _("PortOne charged %(charged)s for pledge %(reference)s, whose payment window was opened for "
              "%(expected)s. Nothing was recorded, and %(cancelled)s was cancelled at PortOne automatically "
              "(payment %(payment)s, cancellation %(status)s).",
              charged=format_won(charged), reference=pledge.reference, expected=format_won(expected),
              cancelled=format_won(cancelled), payment=payment_id, status=status),
            _("Please check the pledge and contact the donor if needed (staff login needed): %(url)s", url=link),
        ])
    for person in people:
        send(person.email, subject, body, key=f"kr-mismatch:{payment_id}:{person.id}")
    return len(people)
