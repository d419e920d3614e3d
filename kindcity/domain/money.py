"""Money is an integer number of won. KRW has no minor unit, so there is nothing to round.

We keep won as plain ``int`` (it maps one-to-one onto BIGINT columns and Stripe's KRW amounts)
and guard the edges instead: :func:`to_won` is the only way text or numbers from outside become
money, and it refuses floats outright, so no float ever reaches a balance.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from .errors import DomainError

MAX_WON = 10**13  # ten trillion won: far above any district budget, far below BIGINT


class MoneyError(DomainError, ValueError):
    """A value is not a valid whole-won amount (``details``: the ``value`` given)."""

    def __init__(self, code: str, value: object):
        super().__init__(code, value=value)

    def __str__(self) -> str:
        return f"{self.code}: {self.value!r}"


# Digits may be grouped in threes by commas, spaces or underscores (one kind in one amount), as people
# write them: "1,500,000", "150 000". Digits separated any other way are several numbers, not one:
# "1000 1000" must not be read as 10,001,000.
_GROUPED = re.compile(r"-?(?P<whole>\d+|\d{1,3}(?:,\d{3})+|\d{1,3}(?:[^\S\n]\d{3})+|\d{1,3}(?:_\d{3})+)"
                      r"(?P<fraction>\.\d{1,4})?")
_NUMBERS_AND_SEPARATORS = re.compile(r"[-\d,._\s]*\d[-\d,._\s]*")
_CURRENCY = ("원", "KRW", "krw", "₩", "￦")
# No exponents: "1e999999" would make Python build a million-digit integer, and nobody writes won that way.
MAX_DIGITS = 20


def to_won(value: object) -> int:
    """Turn ``1500000``, ``"1,500,000"`` or ``"1,500,000원"`` into ``1500000``.

    Refuses floats, fractions, negatives, several numbers and absurd sizes with a :class:`MoneyError`
    whose ``code`` says which (``float``, ``not_a_number``, ``not_one_number``, ``fraction``,
    ``negative``, ``too_large``).
    """
    if isinstance(value, bool):
        raise MoneyError("not_a_number", value)
    if isinstance(value, float):
        raise MoneyError("float", value)
    if isinstance(value, int):
        amount = value
    elif isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise MoneyError("fraction", value)
        amount = int(value)
    elif isinstance(value, str):
        text = value.strip()
        for symbol in _CURRENCY:
            text = text.removesuffix(symbol).removeprefix(symbol).strip()
        grouped = _GROUPED.fullmatch(text)
        if grouped is None:
            raise MoneyError("not_one_number" if _NUMBERS_AND_SEPARATORS.fullmatch(text) else "not_a_number", value)
        digits = re.sub(r"[,_\s]", "", grouped["whole"])
        if len(digits) > MAX_DIGITS:
            raise MoneyError("too_large", value)
        text = ("-" if text.startswith("-") else "") + digits + (grouped["fraction"] or "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise MoneyError("not_a_number", value) from None
        if not number.is_finite():
            raise MoneyError("not_a_number", value)
        if number != number.to_integral_value():
            raise MoneyError("fraction", value)
        amount = int(number)
    else:
        raise MoneyError("not_a_number", value)
    if amount < 0:
        raise MoneyError("negative", value)
    if amount > MAX_WON:
        raise MoneyError("too_large", value)
    return amount


def group_digits(amount: int) -> str:
    """``1500000`` -> ``"1,500,000"``."""
    return f"{amount:,}"


def percent_of(part: int, whole: int) -> int:
    """Whole percent, rounded down, clamped to 0..100; for progress bars, never for money."""
    if whole <= 0:
        return 0
    return max(0, min(100, part * 100 // whole))
