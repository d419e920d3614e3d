"""Events from payment providers, remembered so that each is acted on exactly once.

A row is written in the same transaction as the event's effects: if the effects roll back, so does the
row, and the provider's retry is processed afresh; if they commit, a second delivery finds the row and
changes nothing. Two deliveries at once collide on the unique (provider, event_id) key.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..domain.time import utcnow
from ..extensions import db
from .types import UTCDateTime


class ProviderEvent(db.Model):
    __tablename__ = "provider_events"
    __table_args__ = (
        UniqueConstraint("provider", "event_id", name="uq_provider_events_provider_event_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(80))
    object_id: Mapped[str] = mapped_column(String(128))
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())          # when the provider created the event
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(40), default="")
    summary: Mapped[str] = mapped_column(String(300), default="")     # no personal data: ids, states, amounts
