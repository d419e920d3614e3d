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


def ask_charge_failed(pledge_id: int, attempt: int, retry_on: str | None) -> None:
    """In the transaction that recorded a declined instalment charge (``retry_on``: the day of the retry,
    or None after the last attempt)."""
    defer("mail.kr_charge_failed", pledge_id=pledge_id, attempt=attempt, retry_on=retry_on)


@job("mail.kr_charge_failed")
def kr_charge_failed(pledge_id: int, attempt: int, retry_on: str | None) -> None:
    """The donor's card was declined for an instalment of their recurring pledge: when it is tried again,
    or, after the retry, that the instalment stays unpaid and how to pay it by bank transfer."""
    from datetime import date

    from ..i18n import format_day, format_won
    from ..models import Pledge
    from .pooled import _how_to_transfer, _series

    pledge = db.session.get(Pledge, pledge_id)
    series, period = _series(pledge_id)
    if pledge is None or series is None:
        return
    url = site_url("donor.pooled_detail", pledge_id=pledge.id)
    parts = [_("Your card was declined for instalment %(period)s of your recurring pooled pledge (%(amount)s). "
               "Nothing was charged.", period=period, amount=format_won(pledge.amount))]
    if retry_on:
        parts.append(_("We will try your card once more on %(day)s. If it may be over its limit or expired, "
                       "please check it before then.", day=format_day(date.fromisoformat(retry_on))))
    else:
        parts.append(_("It was declined again, so this instalment stays unpaid. You can pay it by bank transfer:"))
        parts.append(_how_to_transfer(pledge.amount, pledge.reference))
    parts.append(_("Your recurring pledge, and the way to stop it: %(url)s", url=url))
    send(series.donor.email,
         _("Your pledge %(reference)s: the card was declined", reference=pledge.reference),
         "\n\n".join(parts), key=f"kr-charge-failed:{pledge.id}:{attempt}")
