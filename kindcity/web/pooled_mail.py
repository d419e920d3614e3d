"""Mail about pooled pledges, match offers and the instalments of recurring pooled pledges: how to pay
(the district's account and the reference code, or a link to pay by card), sent after the commit.

Runs inside a request, or inside the request context that ``kindcity recurring`` opens on the site's
address (KINDCITY_BASE_URL), so links are absolute and the words are in the site's language.
"""
from __future__ import annotations

from flask_babel import gettext as _

from .. import mail
from ..i18n import format_day, format_won
from ..services.recurring import Instalment
from ..services.reference import current_district
from .links import site_url


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


def send_bank_instructions(email: str, *, kind: str, pledge_id: int, reference: str, amount: int,
                           frequency: str | None = None) -> None:
    """Right after a donor makes a pooled pledge or a match offer to pay by bank transfer."""
    if kind == "match":
        opening = _("Thank you for your match offer of %(amount)s.", amount=format_won(amount))
    elif frequency:
        opening = _("Thank you for your recurring pooled pledge of %(amount)s %(frequency)s. This is its first "
                    "instalment; we will write to you when each next one is due.",
                    amount=format_won(amount), frequency=frequency_text(frequency))
    else:
        opening = _("Thank you for your pooled pledge of %(amount)s.", amount=format_won(amount))
    body = "\n\n".join([
        opening, _how_to_transfer(amount, reference),
        _("Nothing is placed or matched until your transfer arrives. Your pledge: %(url)s",
          url=_detail_url(kind, pledge_id))])
    mail.send(email, _("Your pledge %(reference)s: how to pay", reference=reference), body)


def send_instalment(instalment: Instalment) -> None:
    """A new instalment of a recurring pooled pledge is due: its bank details, or its link to pay by card."""
    url = _detail_url("pooled", instalment.pledge_id)
    opening = _("Instalment %(period)s of your recurring pooled pledge (%(amount)s %(frequency)s) is due on %(day)s.",
                period=instalment.period, amount=format_won(instalment.amount),
                frequency=frequency_text(instalment.frequency), day=format_day(instalment.due_on))
    if instalment.method == "card":
        how = _("Pay it by card here (you will be asked to log in): %(url)s", url=url)
    else:
        how = _how_to_transfer(instalment.amount, instalment.reference)
    parts = [opening, how,
             _("Nothing is placed until the money arrives. On the same page you can see every instalment, "
               "and stop the series: %(url)s", url=url)]
    if instalment.ends_on is not None:
        parts.append(_("The series ends on %(day)s.", day=format_day(instalment.ends_on)))
    mail.send(instalment.donor_email,
              _("Your pledge %(reference)s: instalment %(period)s is due", reference=instalment.reference,
                period=instalment.period), "\n\n".join(parts))
