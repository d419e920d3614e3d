"""Resident registration numbers (주민등록번호) for year-end reporting: checks and masking. Pure.

kindcity takes a number only from a donor who asked, with a separate consent, to have their gifts
reported to the NTS (docs/receipts.md). The whole number exists in memory only between the form and
the cipher, and in the NTS export; everywhere else it is masked (``900101-1******``).

The check is the shape and the birth date: thirteen digits, a real date, a 7th digit that says the
century. The old check digit is not tested, since numbers issued from October 2020 on have random
digits after the 7th (주민등록법 시행규칙 개정, 2020-10-05) and a valid number would be refused.
"""
from __future__ import annotations

from datetime import date
from typing import Final

from .errors import DomainError

# The 7th digit: century of birth (and 5-8 for registered foreigners, same centuries).
_CENTURY: Final = {"9": 1800, "0": 1800, "1": 1900, "2": 1900, "5": 1900, "6": 1900,
                   "3": 2000, "4": 2000, "7": 2000, "8": 2000}


class RrnError(DomainError, ValueError):
    """Not a resident registration number (``code``: ``rrn_shape`` or ``rrn_birth_date``). The code
    only: the number itself never goes into an error."""


def normalise_rrn(text: str, today: date) -> str:
    """The thirteen digits of a valid number; a hyphen and spaces in the input do not matter."""
    digits = "".join(ch for ch in text if ch not in " -")
    if len(digits) != 13 or not digits.isascii() or not digits.isdigit():
        raise RrnError("rrn_shape")
    century = _CENTURY[digits[6]]
    try:
        born = date(century + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError as error:
        raise RrnError("rrn_birth_date") from error
    if born > today:
        raise RrnError("rrn_birth_date")
    return digits


def mask_rrn(digits: str) -> str:
    """Birth date and the 7th digit only, as Korean sites show a number: ``900101-1******``."""
    return f"{digits[:6]}-{digits[6]}******"


def erase_after(last_gift_year: int | None, withdrawn_on: date) -> date:
    """When a number given for reporting is erased once the donor withdraws: at once if nothing
    was reported with it, else after the five years the issuer keeps its per-donor record
    (소득세법 제160조의3), counted from the January the last year's gifts were reported."""
    if last_gift_year is None:
        return withdrawn_on
    return date(last_gift_year + 1 + 5, 1, 1)
