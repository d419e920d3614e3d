"""What a donor's receipts say: their own payments (and refunds), grouped by receiving organisation.

Reads only; the PDF is drawn by ``kindcity.receipts``. A donor asking for someone else's payment gets
NotFound, as if it did not exist.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from ..domain.receipts import Party, Receipt, ReceiptLine, receipt_serial, statement_receipts
from ..domain.time import SEOUL
from ..extensions import db
from ..models import District, Need, Payment, Pledge, Refund, User
from . import NotFound
from .reference import current_district, load_district_data


def donor_party(user: User) -> Party:
    """An organisation donor is named by its organisation and business number, with the person
    acting for it as representative; anyone else by their own name."""
    organisation = user.organisation
    if organisation is not None:
        return Party(name=organisation.name, business_number=organisation.business_number,
                     representative=user.display_name)
    return Party(name=user.display_name)


def _district_issuer(district: District | None, locale: str) -> Party:
    if district is None:
        return Party(name="")
    return Party(name=district.receiving_org_en if locale == "en" and district.receiving_org_en
                 else district.receiving_org_ko)


def _issuer(receiving_org: str | None, district: District | None, locale: str) -> Party:
    """The organisation that legally received the money: the need's, else the district's channel
    (pooled money)."""
    name = (receiving_org or "").strip()
    return Party(name=name) if name else _district_issuer(district, locale)


def donation_type(district: District | None, locale: str) -> dict[str, str] | None:
    """The legal kind of donation (기부금 유형 and its code) the district's data file declares."""
    if district is None:
        return None
    kind = load_district_data(district.code).get("receipt_donation_type")
    if not kind:
        return None
    return {"code": kind["code"], "name": kind["name_en"] if locale == "en" else kind["name_ko"]}


def _seoul_day(moment: datetime) -> date:
    return moment.astimezone(SEOUL).date()


def payment_receipt(donor: User, payment_id: int, *, today: date, locale: str) -> Receipt:
    """The receipt of one payment of this donor's. ``refunded`` notes money of the same pledge
    that went back (the statement shows the net)."""
    row = db.session.execute(
        select(Payment.id, Payment.amount, Payment.received_at, Pledge.id.label("pledge_id"), Pledge.donor_id,
               Pledge.reference, Need.title, Need.receiving_org)
        .join(Pledge, Payment.pledge_id == Pledge.id)
        .outerjoin(Need, Pledge.need_id == Need.id)
        .where(Payment.id == payment_id)).one_or_none()
    if row is None or row.donor_id != donor.id:
        raise NotFound()
    district = current_district()
    refunded = db.session.scalar(select(func.coalesce(func.sum(Refund.amount), 0))
                                 .where(Refund.pledge_id == row.pledge_id, Refund.status == "done"))
    line = ReceiptLine(day=_seoul_day(row.received_at), amount=int(row.amount), purpose=row.title,
                       reference=row.reference)
    return Receipt(serial=receipt_serial(row.id, row.received_at), issued_on=today, donor=donor_party(donor),
                   issuer=_issuer(row.receiving_org, district, locale), lines=(line,),
                   refunded=int(refunded or 0))


def statement(donor: User, start: date, end: date, *, today: date, locale: str) -> list[Receipt]:
    """Every won this donor gave between ``start`` and ``end`` (Korea-time days, both included):
    payments received, less refunds sent back in the same period; one receipt per issuer."""
    since = datetime.combine(start, time.min, SEOUL)
    until = datetime.combine(end + timedelta(days=1), time.min, SEOUL)
    district = current_district()
    by_issuer: dict[Party, list[ReceiptLine]] = defaultdict(list)
    payments = db.session.execute(
        select(Payment.amount, Payment.received_at, Pledge.reference, Need.title, Need.receiving_org)
        .join(Pledge, Payment.pledge_id == Pledge.id)
        .outerjoin(Need, Pledge.need_id == Need.id)
        .where(Pledge.donor_id == donor.id, Payment.received_at >= since, Payment.received_at < until)
        .order_by(Payment.received_at, Payment.id))
    for row in payments:
        by_issuer[_issuer(row.receiving_org, district, locale)].append(ReceiptLine(
            day=_seoul_day(row.received_at), amount=int(row.amount), purpose=row.title, reference=row.reference))
    refunds = db.session.execute(
        select(Refund.amount, Refund.refunded_at, Pledge.reference, Need.title, Need.receiving_org)
        .join(Pledge, Refund.pledge_id == Pledge.id)
        .outerjoin(Need, Pledge.need_id == Need.id)
        .where(Pledge.donor_id == donor.id, Refund.status == "done",
               Refund.refunded_at >= since, Refund.refunded_at < until)
        .order_by(Refund.refunded_at, Refund.id))
    for row in refunds:
        by_issuer[_issuer(row.receiving_org, district, locale)].append(ReceiptLine(
            day=_seoul_day(row.refunded_at), amount=-int(row.amount), purpose=row.title, reference=row.reference,
            refund=True))
    if not by_issuer:
        by_issuer[_district_issuer(district, locale)] = []
    return statement_receipts(donor_id=donor.id, donor=donor_party(donor), period=(start, end),
                              issued_on=today, lines_by_issuer=dict(by_issuer))
