"""Donation receipts (기부금 영수증): serial numbers, statement periods and what a receipt says. Pure.

A receipt follows the fields of the Korean donation receipt form (소득세법 시행규칙 별지 제45호의2
서식; docs/receipts.md). It is a tax receipt only when the donor is identified as the form requires: an
organisation by its registration number, a person by a resident registration number they chose to
give (for 연말정산 간소화). Anyone else gets a statement of giving, titled as such.

Serial numbers are derived, never stored, so they cannot drift or collide:

- one payment: ``KC-<year>-<payment id>``, e.g. ``KC-2026-000123``. The year is the Korea-time year
  the money arrived; the payment id (at least six digits) makes it unique and, since neither ever
  changes, the same payment always gets the same serial.
- a statement: ``KC-<first day>-<last day>-D<donor id>``, e.g. ``KC-20260101-20261231-D000045``,
  with ``-1``, ``-2``... added when the period's money went to more than one receiving
  organisation (each issues its own receipt).

Money is integer won; refunds appear on statements as negative lines, so a total is what the donor
actually gave.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .dates import EARLIEST_DAY
from .errors import DomainError
from .time import SEOUL

MAX_STATEMENT_DAYS = 366 * 10  # a decade; longer ranges are a mistake, not a tax year


class PeriodError(DomainError, ValueError):
    """A statement period that makes no sense (``code``: ``period_start_after_end``, ``period_too_long``,
    ``period_too_early``: before the site's first day, or ``period_too_late``: after this year)."""


def receipt_serial(payment_id: int, received_at: datetime) -> str:
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    return f"KC-{received_at.astimezone(SEOUL).year}-{payment_id:06d}"


def statement_serial(donor_id: int, start: date, end: date, part: int | None = None) -> str:
    serial = f"KC-{start:%Y%m%d}-{end:%Y%m%d}-D{donor_id:06d}"
    return f"{serial}-{part}" if part is not None else serial


def statement_period(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The days a statement covers, both included. Missing ends default to the calendar year:
    nothing given is this year (Korea time); only a start runs to the end of its year; only an end
    starts on 1 January of its year."""
    if start is None and end is None:
        start, end = date(today.year, 1, 1), date(today.year, 12, 31)
    elif start is None:
        start = date(end.year, 1, 1)
    elif end is None:
        end = date(start.year, 12, 31)
    if start > end:
        raise PeriodError("period_start_after_end")
    if start < EARLIEST_DAY:
        raise PeriodError("period_too_early")
    if end > date(today.year, 12, 31):
        raise PeriodError("period_too_late")  # nothing given yet, and 9999-12-31 has no next day to count to
    if (end - start).days >= MAX_STATEMENT_DAYS:
        raise PeriodError("period_too_long")
    return start, end


class RegistrationNumberError(DomainError, ValueError):
    """Not a registration number (사업자등록번호 or 고유번호): ten digits, written 3-2-5."""

    code = "registration_number_invalid"

    def __init__(self, text: str = ""):
        super().__init__()
        self.text = text

    def __str__(self) -> str:
        return self.text


def registration_number(text: str) -> str:
    """Ten digits in the 3-2-5 shape the NTS prints (e.g. ``409-81-23456``); spaces and hyphens in
    the input do not matter."""
    digits = "".join(ch for ch in text if ch not in " -")
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        raise RegistrationNumberError(text)
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


@dataclass(frozen=True)
class Party:
    """A donor or an issuer as the receipt names them."""

    name: str
    business_number: str | None = None     # 사업자등록번호 (or 고유번호) of an organisation
    representative: str | None = None      # the person acting for an organisation (donor or issuer)
    address: str | None = None             # postal address (a donor's only if they gave one)
    contact: str | None = None             # an issuer's telephone
    resident_number: str | None = None     # a person donor's number, already masked (never whole)
    seal: bytes | None = None              # an issuer's seal image (PNG)


@dataclass(frozen=True)
class GiftType:
    """The legal type of gifts to an issuer, with the NTS code (from the form's data file)."""

    code: str
    name: str
    basis: str


@dataclass(frozen=True)
class ReceiptLine:
    day: date                 # Korea-time day the money arrived (or went back, for a refund)
    amount: int               # won; negative for a refund
    purpose: str | None       # the need's title; None for the pooled fund (나눔 기금)
    reference: str            # the pledge's reference code
    refund: bool = False


@dataclass(frozen=True)
class Receipt:
    serial: str
    issued_on: date
    donor: Party
    issuer: Party
    lines: tuple[ReceiptLine, ...]
    period: tuple[date, date] | None = None   # statements only
    refunded: int = 0   # one payment's receipt: money of the same pledge that went back (for a notice)
    gift_type: GiftType | None = None

    @property
    def is_tax_receipt(self) -> bool:
        """A 기부금 영수증 names its donor as the form requires; otherwise it is a statement of giving."""
        return bool(self.donor.business_number or self.donor.resident_number)

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def is_statement(self) -> bool:
        return self.period is not None


def statement_receipts(*, donor_id: int, donor: Party, period: tuple[date, date], issued_on: date,
                       lines_by_issuer: dict[Party, list[ReceiptLine]],
                       gift_types: dict[Party, GiftType] | None = None) -> list[Receipt]:
    """One receipt per receiving organisation (each issues its own), in a stable order: by issuer
    name, lines by day then reference. (For a period without money, pass the default issuer with no
    lines: the donor gets an empty statement rather than an error.)"""
    issuers = sorted(lines_by_issuer, key=lambda party: (party.name, party.business_number or ""))
    if not issuers:
        return []
    several = len(issuers) > 1
    receipts = []
    for index, issuer in enumerate(issuers, start=1):
        lines = sorted(lines_by_issuer[issuer], key=lambda line: (line.day, line.reference, line.refund))
        receipts.append(Receipt(
            serial=statement_serial(donor_id, *period, part=index if several else None),
            issued_on=issued_on, donor=donor, issuer=issuer, lines=tuple(lines), period=period,
            gift_type=(gift_types or {}).get(issuer)))
    return receipts
