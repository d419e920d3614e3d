"""Form tokens: each form that creates money records carries one, so that the form makes one record
however often it is sent.

The row is written in the same transaction as the record it made: if that rolls back, so does the row,
and the form can be sent again; once it commits, a repeat finds the row and shows the record. Two
sends at once collide on the token, the primary key: the database stops the second, not a read.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..domain.time import utcnow
from ..extensions import db
from .types import UTCDateTime

# Staff payments carry a token of their own (unique with the payment, models/money.py), and a refund
# form records a refund that already exists, once, under a row lock (services/pledges.py).
FORM_KINDS = ("pledge", "pooled", "offer")
_KINDS = ",".join(f"'{kind}'" for kind in FORM_KINDS)


class FormToken(db.Model):
    __tablename__ = "form_tokens"
    __table_args__ = (CheckConstraint(f"kind IN ({_KINDS})", name="kind"),)

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The record the form made (a pledge's id); set in the same transaction.
    object_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
