"""Money is an integer number of won. KRW has no minor unit, so there is nothing to round.

We keep won as plain ``int`` (it maps one-to-one onto BIGINT columns and Stripe's KRW amounts)
and guard the edges instead: :func:`to_won` is the only way text or numbers from outside become
money, and it refuses floats outright, so no float ever reaches a balance.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

MAX_WON = 10**13  # ten trillion won: far above any district budget, far below BIGINT


class MoneyError(ValueError):
    """A value is not a valid whole-won amount."""

    def __init__(self, code: str, value: object):
        super().__init__(f"{code}: {value!r}")
        self.code = code
        self.value = value


_SEPARATORS = re.compile(r"[,\s_]")
# Plain digits with an optional zero fraction ("1500000", "1500000.00"). No exponents: "1e999999"
# would make Python build a million-digit integer, and nobody writes won that way.
_PLAIN_NUMBER = re.compile(r"-?\d{1,20}(?:\.\d{1,4})?")


def to_won(value: object) -> int:
    """Turn ``1500000``, ``"1,500,000"`` or ``"1,500,000원"`` into ``1500000``.

    Refuses floats, fractions, negatives and absurd sizes with a :class:`MoneyError` whose
    ``code`` says which (``float``, ``not_a_number``, ``fraction``, ``negative``, ``too_large``).
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
        text = _SEPARATORS.sub("", value.strip())
        for suffix in ("원", "KRW", "krw", "₩", "￦"):
            text = text.removesuffix(suffix).removeprefix(suffix)
        if not _PLAIN_NUMBER.fullmatch(text):
            raise MoneyError("not_a_number", value)
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
