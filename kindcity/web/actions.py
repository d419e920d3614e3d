"""One service call as the request's one transaction: commit it, or roll it back and say why.

Views that act and then redirect all do the same thing: call a service; if it refuses (a rule error
or a service error with a stable code), roll back whatever it added and flash the refusal in the
user's language; otherwise commit and flash what was done. ``attempt`` is that, once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import flash

from ..domain.pledges import PledgeRuleError
from ..extensions import db
from ..services import ServiceError
from .messages import message_for

REFUSALS = (PledgeRuleError, ServiceError)


@dataclass(frozen=True)
class Attempt:
    ok: bool
    value: Any = None


def attempt(action: Callable[[], Any], done: str | None = None, *,
            describe: Callable[[Exception], str] = message_for, refusals: tuple = REFUSALS) -> Attempt:
    """Run ``action``; on one of ``refusals`` roll back and flash ``describe(error)``; else commit
    and flash ``done`` (if given). The caller redirects either way."""
    try:
        value = action()
    except refusals as error:
        db.session.rollback()
        flash(describe(error), "error")
        return Attempt(False)
    db.session.commit()
    if done:
        flash(done, "success")
    return Attempt(True, value)
