"""Mail about a direct pledge to a need: how to pay it by bank transfer (by text too, or instead, when the
donor chose text: kindcity/services/contact.py)."""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from ..domain.time import SEOUL
from ..extensions import db
from ..jobs import defer, job
from ..services.reference import current_district
from ..services.contact import notify
from ..services.reference import district_brand


def ask_pledge_instructions(pledge_id: int, locale: str) -> None:
    """In the transaction that makes the pledge."""
    defer("mail.pledge_instructions", pledge_id=pledge_id, locale=locale)


@job("mail.pledge_instructions")
def pledge_instructions(pledge_id: int, locale: str) -> None:
    from ..models import Pledge

    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None:
        return
    district = current_district()
    with force_locale(locale):
        body = _(
            "Thank you for your pledge of %(amount)s won to \"%(need)s\".\n\n"
            "Please transfer it to:\n  %(bank)s %(account)s (%(holder)s)\n"
            "and write this reference code as the sender name or memo: %(reference)s\n\n"
            "Your pledge is held for you until %(until)s.",
            amount=f"{pledge.amount:,}", need=pledge.need.title, bank=district.bank_name if district else "",
            account=district.bank_account if district else "", holder=district.bank_holder if district else "",
            reference=pledge.reference, until=pledge.hold_expires_at.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M"))
        subject = _("Your pledge %(reference)s: how to pay", reference=pledge.reference)
    with force_locale("ko"):  # texts are in plain Korean, whatever the page's language
        text = _("[%(brand)s] Pledge %(reference)s: please send %(amount)s won to %(bank)s %(account)s "
                 "(%(holder)s) with %(reference)s as the sender name, by %(until)s.",
                 brand=district_brand(), reference=pledge.reference, amount=f"{pledge.amount:,}", bank=district.bank_name if district else "",
                 account=district.bank_account if district else "", holder=district.bank_holder if district else "",
                 until=pledge.hold_expires_at.astimezone(SEOUL).strftime("%m/%d %H:%M"))
    notify(pledge.donor_id, pledge.donor.email, key=f"pledge-instructions:{pledge.id}", subject=subject, body=body,
           text=text, notice="pledge-instructions",
           variables={"reference": pledge.reference, "amount": f"{pledge.amount:,}",
                      "account": f"{district.bank_name} {district.bank_account}" if district else ""})
