"""The access record of personal data (개인정보처리시스템 접속기록, docs/privacy.md): who read or
exported whose personal data, when, from where, and what they did. Append-only: the application
has no path that changes or deletes a row, and the database refuses to (a trigger on both engines)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.time import utcnow
from ..extensions import db
from .accounts import User
from .types import UTCDateTime


class AccessRecord(db.Model):
    __tablename__ = "access_records"
    __table_args__ = (Index("ix_access_records_subject", "subject_kind", "subject_id"),
                      Index("ix_access_records_actor_at", "actor_id", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[User | None] = relationship()
    # The actor's centre when they acted: a later move does not rewrite where they worked.
    actor_centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"))
    address: Mapped[str | None] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(32))    # referral, donor, sms_case
    subject_id: Mapped[int] = mapped_column()
    # The centre the subject belongs to, when it has one (a referral's dong centre): "outside their centre".
    subject_centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"))
    action: Mapped[str] = mapped_column(String(32))          # view, export, rrn_export


APPEND_ONLY_SQL = {
    "postgresql": [
        """CREATE OR REPLACE FUNCTION access_records_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'access_records is append-only';
END;
$$ LANGUAGE plpgsql""",
        "CREATE TRIGGER access_records_append_only BEFORE UPDATE OR DELETE ON access_records "
        "FOR EACH ROW EXECUTE FUNCTION access_records_append_only()",
    ],
    "sqlite": [
        "CREATE TRIGGER access_records_no_update BEFORE UPDATE ON access_records "
        "BEGIN SELECT RAISE(ABORT, 'access_records is append-only'); END",
        "CREATE TRIGGER access_records_no_delete BEFORE DELETE ON access_records "
        "BEGIN SELECT RAISE(ABORT, 'access_records is append-only'); END",
    ],
}

for _dialect, _statements in APPEND_ONLY_SQL.items():
    for _statement in _statements:
        event.listen(AccessRecord.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect))
