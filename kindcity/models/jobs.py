"""What the job queue (kindcity/jobs/) keeps beside procrastinate's own tables.

- ``sent_mail``: the dedupe key of each message handed to the mail server, written in the same
  transaction that finishes the mail job, so a job run again (a worker killed after the send, a
  retry) does not send it twice.
- ``job_errors``: the last error of a queued job, for the admin page and `kindcity jobs`.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..domain.time import utcnow
from ..extensions import db
from .types import UTCDateTime


class SentMail(db.Model):
    __tablename__ = "sent_mail"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JobError(db.Model):
    __tablename__ = "job_errors"
    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    task: Mapped[str] = mapped_column(String(128))
    error: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
