"""Mail about pooled pledges, match offers and the instalments of recurring pooled pledges: how to pay
(the district's account and the reference code, or a link to pay by card). Jobs asked for in the
transaction that makes the pledge or the instalment; they read the pledge afresh when they run.
"""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from ..extensions import db
from ..i18n import format_day, format_won
from ..jobs import defer, job
from ..services.reference import current_district
from ..web.links import site_url
from . import send


def frequency_text(frequency: str) -> str:
    return _("every month") if frequency == "monthly" else _("every quarter")


def _detail_url(kind: str, pledge_id: int) -> str:
    endpoint = "donor.offer_detail" if kind == "match" else "donor.pooled_detail"
    return site_url(endpoint, pledge_id=pledge_id)


def _how_to_transfer(amount: int, reference: str) -> str:
    district = current_district()
    return _("Please transfer %(amount)s to:\n  %(bank)s %(account)s (%(holder)s)\n"
             "and write this reference code as the sender name or memo: %(reference)s",
             amount=format_won(amount), bank=district.bank_name if district else "",
             account=district.bank_account if district else "", holder=district.bank_holder if district else "",
             reference=reference)


def _series(pledge_id: int):
    from ..models import PooledTerms

    terms = db.session.get(PooledTerms, pledge_id)
    return (terms.series, terms.period) if terms is not None and terms.series is not None else (None, None)


def ask_bank_instructions(pledge_id: int, locale: str) -> None:
    """In the transaction that makes a pooled pledge or a match offer paid by bank transfer."""
    defer("mail.bank_instructions", pledge_id=pledge_id, locale=locale)


@job("mail.bank_instructions")
def bank_instructions(pledge_id: int, locale: str) -> None:
    from ..models import Pledge

    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None:
        return
    series, _period = _series(pledge_id)
    amount = pledge.amount
    with force_locale(locale):
        if pledge.kind == "match":
            opening = _("Thank you for your match offer of %(amount)s.", amount=format_won(amount))
        elif series is not None:
            opening = _("Thank you for your recurring pooled pledge of %(amount)s %(frequency)s. This is its first "
                        "instalment; we will write to you when each next one is due.",
                        amount=format_won(amount), frequency=frequency_text(series.frequency))
        else:
            opening = _("Thank you for your pooled pledge of %(amount)s.", amount=format_won(amount))
        body = "\n\n".join([
            opening, _how_to_transfer(amount, pledge.reference),
            _("Nothing is placed or matched until your transfer arrives. Your pledge: %(url)s",
              url=_detail_url(pledge.kind, pledge.id))])
        subject = _("Your pledge %(reference)s: how to pay", reference=pledge.reference)
    send(pledge.donor.email, subject, body, key=f"bank-instructions:{pledge.id}")


def ask_instalment_mail(pledge_id: int) -> None:
    """In the transaction that makes a new instalment of a recurring pooled pledge."""
    defer("mail.instalment", pledge_id=pledge_id)


@job("mail.instalment")
def instalment(pledge_id: int) -> None:
    """A new instalment is due: its bank details, or its link to pay by card. In the site's language."""
    from ..models import Pledge
    from ..services.recurring import due_date

    pledge = db.session.get(Pledge, pledge_id)
    series, period = _series(pledge_id)
    if pledge is None or series is None:
        return
    url = _detail_url("pooled", pledge.id)
    opening = _("Instalment %(period)s of your recurring pooled pledge (%(amount)s %(frequency)s) is due on %(day)s.",
                period=period, amount=format_won(pledge.amount), frequency=frequency_text(series.frequency),
                day=format_day(due_date(series.starts_on, series.frequency, period)))
    if pledge.method == "card":
        how = _("Pay it by card here (you will be asked to log in): %(url)s", url=url)
    else:
        how = _how_to_transfer(pledge.amount, pledge.reference)
    parts = [opening, how,
             _("Nothing is placed until the money arrives. On the same page you can see every instalment, "
               "and stop the series: %(url)s", url=url)]
    if series.ends_on is not None:
        parts.append(_("The series ends on %(day)s.", day=format_day(series.ends_on)))
    send(series.donor.email,
         _("Your pledge %(reference)s: instalment %(period)s is due", reference=pledge.reference, period=period),
         "\n\n".join(parts), key=f"instalment:{pledge.id}")
