"""Pledge rules: the lifecycle table, amounts, reference codes, and what a payment does.

A pledge promises an amount. Its payment state moves through this table; every status change
goes through :func:`next_status`.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum

from .errors import DomainError

MIN_PLEDGE = 1_000


class PledgeStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    EXPIRED = "expired"        # the hold ran out; any part already paid stays where it went
    CANCELLED = "cancelled"    # by the donor before paying, or by staff
    CLOSED = "closed"          # its need was cancelled and its money has followed the donor's choice


class PledgeAction(StrEnum):
    PAY_PART = "pay_part"
    PAY_FULL = "pay_full"
    EXPIRE = "expire"
    CANCEL = "cancel"
    CLOSE = "close"


S, A = PledgeStatus, PledgeAction
TRANSITIONS: dict[tuple[PledgeStatus, PledgeAction], PledgeStatus] = {
    (S.AWAITING_PAYMENT, A.PAY_PART): S.PARTLY_PAID,
    (S.AWAITING_PAYMENT, A.PAY_FULL): S.PAID,
    (S.AWAITING_PAYMENT, A.EXPIRE): S.EXPIRED,
    (S.AWAITING_PAYMENT, A.CANCEL): S.CANCELLED,
    (S.AWAITING_PAYMENT, A.CLOSE): S.CLOSED,
    (S.PARTLY_PAID, A.PAY_PART): S.PARTLY_PAID,
    (S.PARTLY_PAID, A.PAY_FULL): S.PAID,
    (S.PARTLY_PAID, A.EXPIRE): S.EXPIRED,
    (S.PARTLY_PAID, A.CLOSE): S.CLOSED,
    (S.PAID, A.CLOSE): S.CLOSED,
    (S.EXPIRED, A.CLOSE): S.CLOSED,
    # Money is never refused: a payment that arrives late or twice is recorded, and whatever the
    # need can no longer take follows the donor's choice (see split_payment).
    (S.EXPIRED, A.PAY_PART): S.EXPIRED,
    (S.EXPIRED, A.PAY_FULL): S.PAID,
    (S.PAID, A.PAY_PART): S.PAID,
    (S.PAID, A.PAY_FULL): S.PAID,
    (S.CANCELLED, A.PAY_PART): S.CANCELLED,
    (S.CANCELLED, A.PAY_FULL): S.CANCELLED,
    (S.CLOSED, A.PAY_PART): S.CLOSED,
    (S.CLOSED, A.PAY_FULL): S.CLOSED,
}
HOLDING = frozenset({S.AWAITING_PAYMENT, S.PARTLY_PAID})  # still reserving part of the gap
ENDED = frozenset({S.CANCELLED, S.EXPIRED, S.CLOSED})  # takes no more money of its own


class OnCancel(StrEnum):
    """What happens to a donor's money if its need is cancelled (the donor chooses)."""

    REFUND = "refund"
    POOL = "pool"
    SIMILAR = "similar"    # staff move it to a similar need


class Display(StrEnum):
    NAME = "name"
    ORGANISATION = "organisation"
    ANONYMOUS = "anonymous"


class PledgeRuleError(DomainError):
    """Base of every refusal of the pledge rules (codes with details)."""

    code = "pledge_rule"


class PledgeTransitionNotAllowed(PledgeRuleError):
    code = "pledge_transition_not_allowed"


def next_status(status: PledgeStatus | str, action: PledgeAction | str) -> PledgeStatus:
    key = (PledgeStatus(status), PledgeAction(action))
    if key not in TRANSITIONS:
        raise PledgeTransitionNotAllowed(status=key[0].value, action=key[1].value)
    return TRANSITIONS[key]


def pledge_amount(*, amount: int | None, units: int | None, unit_cost: int | None, gap: int) -> int:
    """The won a direct pledge promises: an amount, or units x unit cost for a unit-priced need."""
    if units is not None:
        if unit_cost is None:
            raise PledgeRuleError("units_not_priced")
        if units <= 0:
            raise PledgeRuleError("units_invalid")
        amount = units * unit_cost
    if amount is None:
        raise PledgeRuleError("amount_required")
    if amount < MIN_PLEDGE:
        raise PledgeRuleError("amount_too_small", minimum=MIN_PLEDGE)
    if amount > gap:
        raise PledgeRuleError("not_enough_left", gap=gap)
    return amount


# Crockford-style alphabet without 0/O, 1/I/L, U: easy to read out and to type on a bank app.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 6


def donor_may_cancel(status: str, paid: int) -> bool:
    """A donor may withdraw a pledge that still holds its share and has no money on it yet."""
    return status in HOLDING and not paid


def new_reference(randbelow=secrets.randbelow, *, prefix: str = "KC", length: int = REFERENCE_LENGTH) -> str:
    """A short code for the bank transfer memo (입금자명/메모), e.g. 'KC7Q2MXA'; other codes people read
    out or type (a referral's receipt) take their own prefix and length from the same alphabet."""
    return prefix + "".join(REFERENCE_ALPHABET[randbelow(len(REFERENCE_ALPHABET))] for _ in range(length))


@dataclass(frozen=True)
class PaymentSplit:
    """How a payment of ``amount`` on a pledge divides up."""

    to_need: int        # placed on the need (within the pledge's promise and the need's room)
    from_hold: int      # of which comes out of the pledge's own hold
    surplus: int        # beyond the promise, or beyond what the need can still take: follows the donor's choice
    completes: bool     # the promise is now fully paid


def split_payment(*, amount: int, promised: int, paid_before: int, hold_left: int, need_room: int) -> PaymentSplit:
    """Divide a payment. ``hold_left`` is this pledge's remaining reservation on the need;
    ``need_room`` is the need's gap not reserved by anyone (used when the hold has expired)."""
    if amount <= 0:
        raise PledgeRuleError("payment_not_positive")
    owed = max(0, promised - paid_before)
    within_promise = min(amount, owed)
    from_hold = min(within_promise, hold_left)
    extra_room = min(within_promise - from_hold, max(0, need_room))
    to_need = from_hold + extra_room
    surplus = amount - to_need
    return PaymentSplit(to_need=to_need, from_hold=from_hold, surplus=surplus,
                        completes=paid_before + amount >= promised)
