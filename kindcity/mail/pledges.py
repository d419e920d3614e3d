"""Mail about a direct pledge to a need: how to pay it by bank transfer (by text too, or instead, when the
donor chose text: kindcity/services/contact.py)."""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from ..domain.time import SEOUL
from ..extensions import db
from ..i18n import addressee, format_won
from ..jobs import defer, job
from ..services.contact import notify
from ..services.reference import current_district, district_brand
from . import send


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


@job("mail.money_moved")
def money_moved(transaction_id: int) -> None:
    """Staff moved a donor's money to another need (the donor chose "a similar need"): tell the donor
    which need, how much, and where to see it. Read afresh from the journal; sent once per move."""
    from ..models import LedgerTransaction, Need, Pledge
    from ..web.links import site_url

    moved = db.session.get(LedgerTransaction, transaction_id)
    if moved is None or moved.pledge_id is None or moved.need_id is None:
        return
    amount = sum(line.amount for line in moved.lines if line.account.startswith("need:"))
    pledge, need = db.session.get(Pledge, moved.pledge_id), db.session.get(Need, moved.need_id)
    with force_locale("ko"):
        subject = _("Your gift went to \"%(title)s\"", title=need.title)
        body = _(
            "Dear %(name)s,\n\n"
            "As you chose, the welfare staff moved %(amount)s of your gift (pledge %(reference)s) to a similar "
            "need: \"%(title)s\".\n\n"
            "See the need: %(need_link)s\nYour giving: %(me_link)s",
            name=addressee(pledge.donor.display_name), amount=format_won(-amount), reference=pledge.reference,
            title=need.title, need_link=site_url("public.need", need_id=need.id), me_link=site_url("donor.dashboard"))
    send(pledge.donor.email, subject, body, key=f"money-moved:{transaction_id}")


@job("mail.payment_thanks")
def payment_thanks(source: str, external_id: str) -> None:
    from sqlalchemy import select

    from ..models import Payment

    payment = db.session.scalar(select(Payment).where(Payment.source == source, Payment.external_id == external_id))
    if payment is not None:
        _thank(payment)


@job("mail.statement_thanks")
def statement_thanks(statement_id: int) -> None:
    from sqlalchemy import select

    from ..models import BankTransaction, Payment

    fingerprints = select(BankTransaction.fingerprint).where(BankTransaction.import_id == statement_id,
                                                             BankTransaction.outcome == "applied")
    for payment in db.session.scalars(select(Payment).where(Payment.source == "statement",
                                                            Payment.external_id.in_(fingerprints))
                                      .order_by(Payment.id)):
        _thank(payment)


def _thank(payment) -> None:
    """Thank the donor for money received, with the link to its donation receipt. Sent once per payment."""
    from ..web.links import site_url

    pledge = payment.pledge
    what = pledge.need.title if pledge.need is not None else None
    with force_locale("ko"):
        subject = _("Thank you: we received %(amount)s", amount=format_won(payment.amount))
        body = "\n\n".join([
            _("Hello %(name)s,", name=addressee(pledge.donor.display_name)),
            (_("We received %(amount)s for \"%(title)s\" (pledge %(reference)s). Thank you.",
               amount=format_won(payment.amount), title=what, reference=pledge.reference) if what else
             _("We received %(amount)s for your pledge %(reference)s. Thank you.",
               amount=format_won(payment.amount), reference=pledge.reference)),
            _("Your donation receipt: %(url)s", url=site_url("donor.receipt_pdf", payment_id=payment.id)),
            _("Every won is in your giving page: %(url)s", url=site_url("donor.dashboard")),
        ])
        text = _("[%(brand)s] We received %(amount)s for pledge %(reference)s. Thank you. Receipt: %(url)s",
                 brand=district_brand(), amount=format_won(payment.amount), reference=pledge.reference,
                 url=site_url("donor.receipt_pdf", payment_id=payment.id))
    # By mail, by text or both, as the donor chose (kindcity/services/contact.py).
    notify(pledge.donor_id, pledge.donor.email, key=f"payment-thanks:{payment.id}", subject=subject, body=body,
           text=text, notice="payment-thanks",
           variables={"reference": pledge.reference, "amount": format_won(payment.amount)})
