"""The ledger's posting rules: every business event becomes one balanced set of whole-won lines.

Pure: this module decides *what* is posted; ``kindcity.services.journal`` writes it, append-only.

Accounts (a debit is positive, a credit negative; every transaction sums to zero):

    cash                money the receiving organisation holds (bank account, card processor)
    pledge:<id>         money received on a pledge and not yet placed anywhere (credit balance)
    need:<id>           money placed on a need, net of money taken back (credit balance)
    spent:<id>          money disbursed for a need (debit balance); held = -need:<id> - spent:<id>
    pool                the district's pooled fund, money waiting for a need (credit balance)
    promise:<id>        memo: what a donor has promised and not yet paid (debit balance)
    hold:<id>           memo: the part of a need's gap reserved by unpaid promises (credit balance)

The memo pair (promise/hold) records reservations in the same journal, so a hold that is taken,
paid or released is as traceable as money; it never touches ``cash``.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class Entry(StrEnum):
    PLEDGED = "pledged"            # a promise reserves part of a need's gap
    RELEASED = "released"          # an unpaid promise (or part of it) is let go
    RECEIVED = "received"          # money arrives for a pledge
    ALLOCATED = "allocated"        # unplaced pledge money is placed on a need
    MOVED_TO_POOL = "moved_to_pool"
    UNALLOCATED = "unallocated"    # money taken back off a need (need cancelled) onto its pledge
    REFUNDED = "refunded"          # money goes back to the donor
    DISBURSED = "disbursed"        # money spent for a need
    POOL_ALLOCATED = "pool_allocated"  # the district's pooled fund places money on a need
    POOL_RETURNED = "pool_returned"    # ... and takes it back when that need closes
    MATCHED = "matched"            # a match offer adds money to a need


class LedgerError(ValueError):
    """A posting that would not balance or would use a non-whole or non-positive amount."""


CASH = "cash"
POOL = "pool"


def pledge_account(pledge_id: int) -> str:
    return f"pledge:{pledge_id}"


def need_account(need_id: int) -> str:
    return f"need:{need_id}"


def spent_account(need_id: int) -> str:
    return f"spent:{need_id}"


def promise_account(pledge_id: int) -> str:
    return f"promise:{pledge_id}"


def hold_account(need_id: int) -> str:
    return f"hold:{need_id}"


class Line(NamedTuple):
    """One line of a transaction. A named tuple: imports build tens of thousands at a time."""
    account: str
    amount: int  # debit > 0, credit < 0


@dataclass(frozen=True)
class Posting:
    entry: Entry
    lines: tuple[Line, ...]
    pledge_id: int | None = None
    need_id: int | None = None
    memo: str = ""


def _whole_won(amount) -> int:
    if type(amount) is not int:  # not a bool, a float or a Decimal
        raise LedgerError(f"amount must be whole won, got {amount!r}")
    return amount


def _move(debit: str, credit: str, amount: int) -> tuple[Line, Line]:
    if _whole_won(amount) <= 0:
        raise LedgerError(f"amount must be positive, got {amount}")
    return Line(debit, amount), Line(credit, -amount)


def check_balanced(lines: tuple[Line, ...] | list[Line]) -> None:
    total = 0
    for _, amount in lines:
        if _whole_won(amount) == 0:
            raise LedgerError("a line of 0 won")
        total += amount
    if total != 0:
        raise LedgerError(f"lines do not balance: {total:+}")


def _posting(entry: Entry, lines: tuple[Line, ...], **refs) -> Posting:
    check_balanced(lines)
    return Posting(entry, lines, **refs)


def pledged(pledge_id: int, need_id: int, amount: int) -> Posting:
    return _posting(Entry.PLEDGED, _move(promise_account(pledge_id), hold_account(need_id), amount),
                    pledge_id=pledge_id, need_id=need_id)


def released(pledge_id: int, need_id: int, amount: int) -> Posting:
    return _posting(Entry.RELEASED, _move(hold_account(need_id), promise_account(pledge_id), amount),
                    pledge_id=pledge_id, need_id=need_id)


def received(pledge_id: int, amount: int, *, need_id: int | None = None, placed: int = 0,
             converted_hold: int = 0, memo: str = "") -> Posting:
    """Money in. ``placed`` of it goes straight onto the need; ``converted_hold`` of the hold is
    used up by this payment (at most ``placed``); the rest stays on the pledge, unplaced.

    Money placed at once does not pass through the pledge's account: the lines are the net effect
    (cash in; the need credited with what it takes; the pledge with only what is left). Every
    account's balance is what the gross form (in to the pledge, then on to the need) would give, in
    one line fewer each way, which matters when a bank statement posts ten thousand at once."""
    for value in (amount, placed, converted_hold):
        _whole_won(value)
    if not 0 <= converted_hold <= placed <= amount or amount <= 0:
        raise LedgerError("need 0 <= converted_hold <= placed <= amount and amount > 0")
    if placed and need_id is None:
        raise LedgerError("placing money needs a need")
    lines = [Line(CASH, amount)]
    if amount > placed:
        lines.append(Line(pledge_account(pledge_id), placed - amount))
    if placed:
        lines.append(Line(need_account(need_id), -placed))
    if converted_hold:
        lines += _move(hold_account(need_id), promise_account(pledge_id), converted_hold)
    return _posting(Entry.RECEIVED, tuple(lines), pledge_id=pledge_id, need_id=need_id, memo=memo)


def allocated(pledge_id: int, need_id: int, amount: int, *, memo: str = "") -> Posting:
    return _posting(Entry.ALLOCATED, _move(pledge_account(pledge_id), need_account(need_id), amount),
                    pledge_id=pledge_id, need_id=need_id, memo=memo)


def unallocated(pledge_id: int, need_id: int, amount: int, *, memo: str = "") -> Posting:
    return _posting(Entry.UNALLOCATED, _move(need_account(need_id), pledge_account(pledge_id), amount),
                    pledge_id=pledge_id, need_id=need_id, memo=memo)


def moved_to_pool(pledge_id: int, amount: int, *, memo: str = "") -> Posting:
    return _posting(Entry.MOVED_TO_POOL, _move(pledge_account(pledge_id), POOL, amount),
                    pledge_id=pledge_id, memo=memo)


def pool_allocated(need_id: int, amount: int, *, memo: str = "") -> Posting:
    """The district's pooled fund (구 나눔 기금) places money on a need. No pledge: the fund is the
    district's; whose money it was is kept beside the journal (``MatchAllocation``, source 'fund')."""
    return _posting(Entry.POOL_ALLOCATED, _move(POOL, need_account(need_id), amount), need_id=need_id, memo=memo)


def pool_returned(need_id: int, amount: int, *, memo: str = "") -> Posting:
    """A closed need gives the district's pooled money on it back to the fund, to be placed again."""
    return _posting(Entry.POOL_RETURNED, _move(need_account(need_id), POOL, amount), need_id=need_id, memo=memo)


def refunded(pledge_id: int, amount: int, *, memo: str = "") -> Posting:
    return _posting(Entry.REFUNDED, _move(pledge_account(pledge_id), CASH, amount), pledge_id=pledge_id, memo=memo)


def disbursed(need_id: int, amount: int, *, memo: str = "") -> Posting:
    return _posting(Entry.DISBURSED, _move(spent_account(need_id), CASH, amount), need_id=need_id, memo=memo)
