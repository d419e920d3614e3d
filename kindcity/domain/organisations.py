"""Organisation rules: the business registration number (사업자등록번호) and its check digit."""
from __future__ import annotations

import re

_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)
_NON_DIGITS = re.compile(r"[\s\-]")

ORGANISATION_KINDS = ("church", "business", "good_shop", "civic")


def normalise_business_number(text: str) -> str | None:
    """Return ``123-45-67890`` for a valid number (any spacing or hyphens), else ``None``.

    The tenth digit is a check digit: the weighted sum of the first nine with weights
    1,3,7,1,3,7,1,3,5, plus the tens digit of (9th digit x 5), taken mod 10, subtracted from 10.
    """
    digits = _NON_DIGITS.sub("", text or "")
    if not re.fullmatch(r"\d{10}", digits):
        return None
    numbers = [int(c) for c in digits]
    total = sum(d * w for d, w in zip(numbers[:9], _WEIGHTS))
    total += (numbers[8] * 5) // 10
    check = (10 - total % 10) % 10
    if check != numbers[9]:
        return None
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"
