"""What a donor's receipts say: their own payments (and refunds), grouped by receiving organisation.

Reads only; the PDF is drawn by ``kindcity.receipts``. A donor asking for someone else's payment gets
NotFound, as if it did not exist.
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import func, select

from ..domain.receipts import GiftType, Party, Receipt, ReceiptLine, receipt_serial, statement_receipts
from ..domain.time import SEOUL
from ..extensions import db
from ..models import DonorTaxDetails, Need, Payment, Pledge, ReceivingOrganisation, Refund, User
from . import NotFound


@cache
def receipt_form() -> dict[str, Any]:
    """The receipt form's fields and codes (kindcity/data/receipt_form.json; docs/receipts.md)."""
    path = resources.files("kindcity.data").joinpath("receipt_form.json")
    return json.loads(path.read_text(encoding="utf-8"))


def gift_type_choices() -> list[tuple[str, str]]:
    """(key, Korean name with its NTS code), for the admin form."""
    return [(item["key"], f"{item['name_ko']} ({item['code']})") for item in receipt_form()["gift_types"]]


def gift_type(key: str, locale: str) -> GiftType | None:
    for item in receipt_form()["gift_types"]:
        if item["key"] == key:
            return GiftType(code=item["code"], name=item["name_en"] if locale == "en" else item["name_ko"],
                            basis=item["basis"])
    return None


def donor_party(user: User) -> Party:
    """An organisation donor is named by its organisation and business number, with the person
    acting for it as representative; anyone else by their own name, and by their resident number,
    masked, if they asked for year-end reporting. Either with the postal address they gave."""
    details = db.session.get(DonorTaxDetails, user.id)
    address = details.postal_address if details is not None else None
    organisation = user.organisation
    if organisation is not None:
        return Party(name=organisation.name, business_number=organisation.business_number,
                     representative=user.display_name, address=address)
    return Party(name=user.display_name, address=address,
                 resident_number=details.rrn_masked if details is not None and details.reports else None)


def default_organisation() -> ReceivingOrganisation | None:
    """The issuer of receipts for pooled money (나눔 기금), which reaches no single need."""
    return db.session.scalar(select(ReceivingOrganisation).order_by(ReceivingOrganisation.is_default.desc(),
                                                                    ReceivingOrganisation.id).limit(1))


def _issuer(org_id: int | None, locale: str, cache: dict[int | None, tuple[Party, GiftType | None]]
            ) -> tuple[Party, GiftType | None]:
    """The organisation that legally received the money: the need's, else the default one (pooled
    money), with the legal type of gifts to it."""
    if org_id not in cache:
        org = db.session.get(ReceivingOrganisation, org_id) if org_id is not None else default_organisation()
        if org is None:
            cache[org_id] = (Party(name=""), None)
        else:
            cache[org_id] = (Party(name=org.name(locale), business_number=org.registration_number or None,
                                   representative=org.representative or None, address=org.address or None,
                                   contact=org.contact or None, seal=org.seal_png),
                             gift_type(org.gift_type, locale))
    return cache[org_id]


def _seoul_day(moment: datetime) -> date:
    return moment.astimezone(SEOUL).date()


def payment_receipt(donor: User, payment_id: int, *, today: date, locale: str) -> Receipt:
    """The receipt of one payment of this donor's. ``refunded`` notes money of the same pledge
    that went back (the statement shows the net)."""
    row = db.session.execute(
        select(Payment.id, Payment.amount, Payment.received_at, Pledge.id.label("pledge_id"), Pledge.donor_id,
               Pledge.reference, Need.title, Need.receiving_org_id)
        .join(Pledge, Payment.pledge_id == Pledge.id)
        .outerjoin(Need, Pledge.need_id == Need.id)
        .where(Payment.id == payment_id)).one_or_none()
    if row is None or row.donor_id != donor.id:
        raise NotFound()
    refunded = db.session.scalar(select(func.coalesce(func.sum(Refund.amount), 0))
                                 .where(Refund.pledge_id == row.pledge_id, Refund.status == "done"))
    line = ReceiptLine(day=_seoul_day(row.received_at), amount=int(row.amount), purpose=row.title,
                       reference=row.reference)
    issuer, kind = _issuer(row.receiving_org_id, locale, {})
    return Receipt(serial=receipt_serial(row.id, row.received_at), issued_on=today, donor=donor_party(donor),
                   issuer=issuer, lines=(line,), refunded=int(refunded or 0), gift_type=kind)


def statement(donor: User, start: date, end: date, *, today: date, locale: str) -> list[Receipt]:
    """Every won this donor gave between ``start`` and ``end`` (Korea-time days, both included):
    payments received, less refunds sent back in the same period; one receipt per issuer."""
    since = datetime.combine(start, time.min, SEOUL)
    until = datetime.combine(end + timedelta(days=1), time.min, SEOUL)
    issuers: dict[int | None, tuple[Party, GiftType | None]] = {}
    by_issuer: dict[Party, list[ReceiptLine]] = defaultdict(list)
    payments = db.session.execute(
        select(Payment.amount, Payment.received_at, Pledge.reference, Need.title, Need.receiving_org_id)
        .join(Pledge, Payment.pledge_id == Pledge.id)
        .outerjoin(Need, Pledge.need_id == Need.id)
        .where(Pledge.donor_id == donor.id, Payment.received_at >= since, Payment.received_at < until)
        .order_by(Payment.received_at, Payment.id))
    for row in payments:
        by_issuer[_issuer(row.receiving_org_id, locale, issuers)[0]].append(ReceiptLine(
            day=_seoul_day(row.received_at), amount=int(row.amount), purpose=row.title, reference=row.reference))
    refunds = db.session.execute(
        select(Refund.amount, Refund.refunded_at, Pledge.reference, Need.title, Need.receiving_org_id)
        .join(Pledge, Refund.pledge_id == Pledge.id)
        .outerjoin(Need, Pledge.need_id == Need.id)
        .where(Pledge.donor_id == donor.id, Refund.status == "done",
               Refund.refunded_at >= since, Refund.refunded_at < until)
        .order_by(Refund.refunded_at, Refund.id))
    for row in refunds:
        by_issuer[_issuer(row.receiving_org_id, locale, issuers)[0]].append(ReceiptLine(
            day=_seoul_day(row.refunded_at), amount=-int(row.amount), purpose=row.title, reference=row.reference,
            refund=True))
    if not by_issuer:
        by_issuer[_issuer(None, locale, issuers)[0]] = []
    return statement_receipts(donor_id=donor.id, donor=donor_party(donor), period=(start, end),
                              issued_on=today, lines_by_issuer=dict(by_issuer),
                              gift_types={party: kind for party, kind in issuers.values() if kind is not None})
