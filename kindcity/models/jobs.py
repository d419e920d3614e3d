"""What the job queue (kindcity/jobs/) keeps beside procrastinate's own tables.

- ``outgoing_mail``: each message asked for, under its dedupe key, written in the transaction that
  asks for it; the delivery job carries only the key (no words of the message in the queue or its
  logs). ``sent_at`` is set, and the body blanked, in the transaction that finishes the delivery, so
  a job run again (a retry, a worker killed after the send) does not send it twice.
- ``job_errors``: the last error of a queued job, for the admin page and `kindcity jobs`.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..domain.time import utcnow
from ..extensions import db
from .types import UTCDateTime


class OutgoingMail(db.Model):
    __tablename__ = "outgoing_mail"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class JobError(db.Model):
    __tablename__ = "job_errors"
    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    task: Mapped[str] = mapped_column(String(128))
    error: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
