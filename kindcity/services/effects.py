"""What follows, in the same transaction, when a need opens or closes or money moves: one list, in a
fixed order.

The services where these things happen (needs, pledges, statements, impact) call the functions
below; each one calls the services that react, in the order written here, and nothing else reacts.
There is no registry: what runs does not depend on which modules happen to have been imported, or
in what order.

=========================================  ================================================
the event (who calls)                      what follows, in this order
=========================================  ================================================
a need opens (needs.approve)               the engine places pooled money on it
a need closes (needs.cancel,               1. its direct pledges settle: holds released, money
needs.expire_overdue)                         placed on it follows each donor's choice
                                              (refund, the district's fund, a similar need);
                                           2. pooled and offer money on it goes back to its
                                              pledges, and the engine places it again, with what
                                              step 1 left to the district's fund
a resident's gift lands on its need        match offers add to it
(pledges.apply_payment)
money lands on pledges without a need      an offer's money can match from now on; pooled
(pledges.record_payment, statements'       money is placed
import)
unpaid holds end (pledges:                 the engine places pooled money where they were
release_expired, cancel_pledge,
expire_hold)
money reaches the district's fund          the engine places it
(pledges.move_to_pool, place_fund_money;
impact's leftovers)
=========================================  ================================================

The reacting services import the services that call this module (matching imports needs and
pledges), so each function imports them when it is called: importing them at the top would be an
import cycle.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models import Need, Pledge
    from . import Actor


def need_opened(actor: Actor, need: Need) -> None:
    """A need was approved: pooled money is placed on it."""
    from . import matching
    matching.after_need_opened(actor, need)


def need_closed(actor: Actor, need: Need) -> None:
    """A need was cancelled or expired: first its direct pledges settle, then pooled and offer money
    goes back to its pledges and the engine places it again. In this order, so that the engine's run
    also places what the need's donors have just left to the district's fund."""
    from . import matching, pledges
    pledges.settle_closed_need(actor, need)
    matching.after_need_closed(actor, need)


def gift_placed(actor: Actor, need: Need, pledge: Pledge, amount: int, received_at: datetime, poster) -> None:
    """A resident's direct pledge placed ``amount`` won on its need: match offers add to it (the
    caller holds the rows' locks and writes ``need`` back)."""
    from . import matching
    matching.after_gift_placed(actor, need, pledge, amount, received_at, poster)


def unassigned_received(actor: Actor, pledge_ids) -> None:
    """Money landed on pledges that have no need of their own (pooled pledges, match offers)."""
    from . import matching
    matching.after_unassigned_received(actor, pledge_ids)


def holds_released(actor: Actor) -> None:
    """Unpaid holds ended, so needs have room again."""
    from . import matching
    matching.after_holds_released(actor)


def pool_received(actor: Actor) -> None:
    """Money reached the district's pooled fund (구 나눔 기금): the engine places it."""
    from . import matching
    matching.after_pool_received(actor)
