"""Bank transfer (계좌이체): the donor transfers with the pledge's reference code; staff confirm the money
on the statement (by hand or by importing it). Nothing is called: this provider only says how long a
transfer pledge holds its share of the need. The money side lives in services/pledges and services/statements.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Mapping

from . import register


@dataclass(frozen=True)
class BankTransfer:
    hold_days: int
    name: str = "bank"
    method: str = "bank"

    def hold_for(self) -> timedelta:
        return timedelta(days=self.hold_days)


@register("bank")
def _from_config(config: Mapping[str, Any]) -> BankTransfer:
    return BankTransfer(hold_days=int(config.get("KINDCITY_BANK_HOLD_DAYS", 7)))
