"""A donor's details for receipts: a postal address, and year-end reporting (연말정산 간소화) with
their resident registration number, given only with its own consent (docs/receipts.md).

The number is encrypted before it is stored (kindcity/rrn_keys.py) and leaves only in the NTS export
of the receiving organisation's staff; pages, receipts, mail, the audit log and the access log see the
masked form or nothing. Withdrawal keeps it only as long as the law requires, then
``kindcity purge-rrn`` erases it.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time

from flask import current_app
from sqlalchemy import func, select

from ..domain.rrn import RrnError, erase_after, mask_rrn, normalise_rrn
from ..domain.time import SEOUL, utcnow
from ..extensions import db
from ..models import DonorTaxDetails, Need, Payment, Pledge, ReceivingOrganisation, Refund, User
from ..rrn_keys import Keyring, keyring_from_config
from . import Actor, Forbidden, NotFound, ServiceError
from .access_log import record_access
from .audit import record
from .receipts import default_organisation, receipt_form

LEGAL_BASIS_KO = ("소득세법 제160조의3 및 같은 법 시행령 제113조 (기부금영수증 발급명세의 작성·보관·제출), "
                  "개인정보 보호법 제24조의2 제1항 제1호 (법령이 주민등록번호의 처리를 요구하는 경우)")


class TaxDetailsError(ServiceError):
    code = "tax_details_invalid"


def _owner(user_id: int) -> str:
    return f"donor_tax_details:{user_id}"


def keyring() -> Keyring | None:
    return keyring_from_config(current_app.config)


def reporting_available() -> bool:
    return keyring() is not None


def details_for(user: User) -> DonorTaxDetails | None:
    return db.session.get(DonorTaxDetails, user.id)


def _details(user: User) -> DonorTaxDetails:
    details = details_for(user)
    if details is None:
        details = DonorTaxDetails(user_id=user.id)
        db.session.add(details)
    return details


def save_address(actor: Actor, user: User, address: str) -> None:
    details = _details(user)
    had = bool(details.postal_address)
    details.postal_address = address.strip() or None
    db.session.flush()
    record(actor, "tax.address", "user", user.id, before={"address_given": had},
           after={"address_given": bool(details.postal_address)})


def ask_for_reporting(actor: Actor, user: User, number: str, *, consent: bool, today: date) -> str:
    """Store the number (encrypted) and report this donor's gifts from now on; returns the masked
    number. Refused without the consent, or when the site has no key."""
    if not consent:
        raise TaxDetailsError("reporting_consent_required")
    ring = keyring()
    if ring is None:
        raise TaxDetailsError("reporting_unavailable")
    try:
        digits = normalise_rrn(number, today)
    except RrnError as error:
        raise TaxDetailsError(error.code) from None   # no chained error carries the number
    details = _details(user)
    details.rrn_key_id, details.rrn_ciphertext = ring.encrypt(digits, _owner(user.id))
    details.rrn_masked = mask_rrn(digits)
    details.reporting_consent_at, details.reporting_withdrawn_at, details.rrn_erase_after = utcnow(), None, None
    db.session.flush()
    record(actor, "tax.reporting_consent", "user", user.id, after={"reporting": True})
    return details.rrn_masked


def _last_gift_year(user: User, consent_at: datetime) -> int | None:
    """The last tax year with gifts since the start of the year of the consent (a year is reported whole)."""
    since = datetime.combine(date(consent_at.astimezone(SEOUL).year, 1, 1), time.min, SEOUL)
    moment = db.session.scalar(select(func.max(Payment.received_at)).join(Pledge, Payment.pledge_id == Pledge.id)
                               .where(Pledge.donor_id == user.id, Payment.received_at >= since))
    return moment.astimezone(SEOUL).year if moment else None


def withdraw(actor: Actor, user: User, *, today: date) -> None:
    """No more reporting. The number stays only while the issuer must keep what it reported."""
    details = details_for(user)
    if details is None or details.reporting_consent_at is None or details.reporting_withdrawn_at is not None:
        return
    details.reporting_withdrawn_at = utcnow()
    details.rrn_erase_after = erase_after(_last_gift_year(user, details.reporting_consent_at), today)
    if details.rrn_erase_after <= today:
        _erase(details)
    db.session.flush()
    record(actor, "tax.reporting_withdrawn", "user", user.id,
           after={"erase_after": details.rrn_erase_after.isoformat()})


def _erase(details: DonorTaxDetails) -> None:
    details.rrn_ciphertext = details.rrn_key_id = details.rrn_masked = None


def purge(actor: Actor, today: date) -> int:
    """Erase the numbers whose retention has ended (kindcity purge-rrn)."""
    due = db.session.scalars(select(DonorTaxDetails).where(DonorTaxDetails.rrn_erase_after <= today,
                                                           DonorTaxDetails.rrn_ciphertext.is_not(None))).all()
    for details in due:
        _erase(details)
        record(actor, "tax.rrn_erased", "user", details.user_id)
    db.session.flush()
    return len(due)


def rotate(actor: Actor) -> int:
    """Re-encrypt every number not yet under the current key (kindcity rotate-rrn-key)."""
    ring = keyring()
    if ring is None:
        raise TaxDetailsError("reporting_unavailable")
    rows = db.session.scalars(select(DonorTaxDetails).where(DonorTaxDetails.rrn_ciphertext.is_not(None),
                                                            DonorTaxDetails.rrn_key_id != ring.current)).all()
    for details in rows:
        plain = ring.decrypt(details.rrn_key_id, details.rrn_ciphertext, _owner(details.user_id))
        details.rrn_key_id, details.rrn_ciphertext = ring.encrypt(plain, _owner(details.user_id))
    db.session.flush()
    if rows:
        record(actor, "tax.rrn_key_rotated", "rrn_key", 0, after={"key_id": ring.current, "count": len(rows)})
    return len(rows)


def masked_number(user: User) -> str | None:
    """What a receipt prints for a donor who asked for reporting (never the whole number)."""
    details = details_for(user)
    return details.rrn_masked if details is not None and details.reports else None


# --- the NTS export ---------------------------------------------------------------------------------

EXPORT_COLUMNS = ("일련번호", "기부자 성명", "주민등록번호", "주소", "기부금 단체 사업자등록번호", "기부금 유형 코드",
                  "기부금 구분 코드", "기부 기간 시작", "기부 기간 끝", "기부 건수", "기부금액")


def may_export(user: User) -> bool:
    """The receiving organisation's staff: the district office's welfare staff and admins (the
    organisations kindcity serves are the district's; docs/receipts.md)."""
    return user.sees_all_centres


def nts_export(actor: Actor, org_id: int, year: int) -> list[tuple[str, ...]]:
    """One row per reporting donor who gave to this organisation in ``year`` (net of refunds that
    year), in the columns of the per-donor issuance record; the export is audited and each donor's
    number read is in the access log."""
    user = actor.user
    if user is None or not may_export(user):
        raise Forbidden()
    org = db.session.get(ReceivingOrganisation, org_id)
    if org is None:
        raise NotFound()
    ring = keyring()
    if ring is None:
        raise TaxDetailsError("reporting_unavailable")
    since = datetime.combine(date(year, 1, 1), time.min, SEOUL)
    until = datetime.combine(date(year + 1, 1, 1), time.min, SEOUL)
    default = default_organisation()
    pooled = default is not None and default.id == org.id
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])

    def belongs(query):
        return query.where(Need.receiving_org_id == org.id) if not pooled else query.where(
            (Need.receiving_org_id == org.id) | (Pledge.need_id.is_(None)))

    payments = belongs(select(Pledge.donor_id, Payment.amount).join(Pledge, Payment.pledge_id == Pledge.id)
                       .outerjoin(Need, Pledge.need_id == Need.id)
                       .where(Payment.received_at >= since, Payment.received_at < until))
    for donor_id, amount in db.session.execute(payments):
        totals[donor_id][0] += int(amount)
        totals[donor_id][1] += 1
    refunds = belongs(select(Pledge.donor_id, Refund.amount).join(Pledge, Refund.pledge_id == Pledge.id)
                      .outerjoin(Need, Pledge.need_id == Need.id)
                      .where(Refund.status == "done", Refund.refunded_at >= since, Refund.refunded_at < until))
    for donor_id, amount in db.session.execute(refunds):
        totals[donor_id][0] -= int(amount)
    reporting = db.session.execute(
        select(DonorTaxDetails, User).join(User, User.id == DonorTaxDetails.user_id)
        .where(DonorTaxDetails.user_id.in_(list(totals)), DonorTaxDetails.rrn_ciphertext.is_not(None),
               DonorTaxDetails.reporting_consent_at.is_not(None))
        .order_by(User.id)).all()
    code = next(item["code"] for item in receipt_form()["gift_types"] if item["key"] == org.gift_type)
    money = next(item["code"] for item in receipt_form()["gift_kinds"] if item["key"] == "money")
    rows = []
    for number, (details, donor) in enumerate(reporting, start=1):
        amount, count = totals[donor.id]
        if amount <= 0:
            continue
        plain = ring.decrypt(details.rrn_key_id, details.rrn_ciphertext, _owner(donor.id))
        rows.append((f"{year}-{org.id:03d}-{number:05d}", donor.display_name, f"{plain[:6]}-{plain[6:]}",
                     details.postal_address or "", org.registration_number, code, money,
                     f"{year}-01-01", f"{year}-12-31", str(count), str(amount)))
        record_access(actor, "donor", donor.id, "rrn_export")
    record(actor, "tax.nts_export", "receiving_org", org.id, after={"year": year, "donors": len(rows)})
    return rows


def export_years(today: date) -> list[int]:
    return [today.year - offset for offset in range(0, 6)]

