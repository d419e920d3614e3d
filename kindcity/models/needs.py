"""The need (복지 수요): a concrete, costed welfare need."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DDL, BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text, and_, case, event
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.needs import ContributionKind, NeedStatus
from ..domain.needs import shown_status as shown_status_on
from ..domain.time import seoul_today, utcnow
from ..extensions import db
from .accounts import User
from .places import BeneficiaryGroup, Category, Centre, Dong
from .receipts import ReceivingOrganisation
from .types import UTCDateTime

_STATUSES = ",".join(f"'{s.value}'" for s in NeedStatus)
# The index behind the home page's "nearly funded" (ix_needs_open_nearly_funded), in PostgreSQL's own
# form of services.needs.SORTS["nearly_funded"] and NeedFilters(nearly_there=True) (50%), so that the
# planner matches the expression and proves the predicate; migration growth0001 writes the same text.
NEARLY_FUNDED_ORDER = "((((target - confirmed) - reserved) * 1000::bigint)::numeric / target::numeric)"
NEARLY_FUNDED_WHERE = ("status = 'open' AND confirmed * 100::bigint >= target * 50::bigint "
                       "AND confirmed + reserved < target")
NEARLY_FUNDED_INDEX = "ix_needs_open_nearly_funded"
# The keyword search (services.needs.public_needs_query) filters by lower(column) LIKE '%word%' on these
# columns: a pg_trgm GIN index on each of the same expressions serves any substring of 3+ characters
# (PostgreSQL only; migration search0001 writes the same statements).
SEARCH_COLUMNS = ("title", "summary", "description")
SEARCH_INDEXES = {f"ix_needs_{column}_trgm": column for column in SEARCH_COLUMNS}
POSTGRES_ONLY_INDEXES = frozenset({NEARLY_FUNDED_INDEX, *SEARCH_INDEXES})


class Need(db.Model):
    __tablename__ = "needs"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUSES})", name="status"),
        CheckConstraint("target > 0", name="target_positive"),
        CheckConstraint("beneficiary_count > 0", name="beneficiary_count_positive"),
        CheckConstraint(
            "(unit_cost IS NULL AND units IS NULL) OR (unit_cost > 0 AND units > 0 AND target = unit_cost * units)",
            name="unit_pricing",
        ),
        # The money guard of invariant 1, kept by the database itself: holds and received money
        # together never exceed the target, whatever the application does.
        CheckConstraint("reserved >= 0 AND confirmed >= 0", name="money_not_negative"),
        CheckConstraint("reserved + confirmed <= target", name="never_past_target"),
        # "Closing soon" (ORDER BY deadline, id) read in order: without id, PostgreSQL sorted every
        # need of the first deadline day (458 at ten times the benchmark data) to take the first few.
        Index("ix_needs_status_deadline_id", "status", "deadline", "id"),
        # The newest change is part of the public pages' data version (web/caching.py): an index lookup.
        Index("ix_needs_updated_at", "updated_at"),
        # "Newest" on the home page and the needs list: read in order instead of sorting every open need.
        Index("ix_needs_status_approved_at", "status", "approved_at"),
        # A category of the list: its count and its first page by deadline from the index, not a scan
        # of every need.
        Index("ix_needs_category_status_deadline_id", "category_id", "status", "deadline", "id"),
        # ix_needs_open_nearly_funded and the keyword search's trigram indexes (PostgreSQL only):
        # after_create below.
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    category: Mapped[Category] = relationship(lazy="joined")
    dong_id: Mapped[int] = mapped_column(ForeignKey("dongs.id"))
    dong: Mapped[Dong] = relationship(lazy="joined")
    group_id: Mapped[int] = mapped_column(ForeignKey("beneficiary_groups.id"))
    group: Mapped[BeneficiaryGroup] = relationship(lazy="joined")
    beneficiary_count: Mapped[int] = mapped_column()
    target: Mapped[int] = mapped_column(BigInteger)
    unit_name: Mapped[str | None] = mapped_column(String(40))
    unit_cost: Mapped[int | None] = mapped_column(BigInteger)
    units: Mapped[int | None] = mapped_column()
    deadline: Mapped[date] = mapped_column(Date)
    receiving_org_id: Mapped[int] = mapped_column(ForeignKey("receiving_organisations.id"))
    receiving_org: Mapped[ReceivingOrganisation] = relationship(lazy="joined")
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    # The referral (사각지대 제보) this need was posted from, if any: staff only, never shown publicly.
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    centre: Mapped[Centre] = relationship(lazy="joined")
    status: Mapped[str] = mapped_column(String(20), default=NeedStatus.DRAFT)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    # The version of the text: 1 when created, one more with every edit. Who wrote and who submitted
    # each version is in NeedContribution; the four-eyes rule reads it (domain/needs.py).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # The open approval request: who asked, and when. Cleared when the need is sent back to draft.
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Money already promised to this need: unpaid holds, and money received. Both are caches of
    # the ledger (kindcity reconcile proves they agree) that let one conditional UPDATE keep
    # invariant 1 under concurrency.
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    confirmed: Mapped[int] = mapped_column(BigInteger, default=0)

    @hybrid_property
    def shown_status(self) -> str:
        """The status every page and query shows: past its deadline, an open need reads as expired at
        once (kindcity/domain/needs.py, ``shown_status``); the scheduled upkeep then records it."""
        return shown_status_on(self.status, self.deadline, seoul_today())

    @shown_status.inplace.expression
    @classmethod
    def _shown_status_expression(cls):
        return case((and_(cls.status == NeedStatus.OPEN.value, cls.deadline < seoul_today()),
                     NeedStatus.EXPIRED.value), else_=cls.status)

    @property
    def gap(self) -> int:
        return self.target - self.reserved - self.confirmed

    @property
    def is_unit_priced(self) -> bool:
        return self.unit_cost is not None


_CONTRIBUTION_KINDS = ",".join(f"'{k.value}'" for k in ContributionKind)


class NeedContribution(db.Model):
    """Who created, edited or submitted which version of a need: those people may not approve it."""

    __tablename__ = "need_contributions"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_CONTRIBUTION_KINDS})", name="kind"),
        CheckConstraint("version > 0", name="version_positive"),
        Index("ix_need_contributions_need_user", "need_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"))
    version: Mapped[int] = mapped_column()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# The home page's "nearly funded": the open needs at least half paid in and not fully promised, in the
# order of services.needs.SORTS["nearly_funded"] as PostgreSQL plans it, so that the top 3 are the first
# index entries instead of a sort of every such need (34,018 at 100,000 needs). PostgreSQL only, and
# outside the metadata: the expression is written in its casts, and alembic cannot compare expression
# indexes on SQLite (db_setup.ours leaves it out of the comparison).
event.listen(Need.__table__, "after_create", DDL(
    f"CREATE INDEX {NEARLY_FUNDED_INDEX} ON needs ({NEARLY_FUNDED_ORDER}, (target - confirmed - reserved), id) "
    f"WHERE {NEARLY_FUNDED_WHERE}").execute_if(dialect="postgresql"))


# The keyword search: a trigram GIN index per searched column, on the very expression the query filters
# by (lower(title) etc.), so that `lower(title) LIKE '%word%'` is a bitmap index scan instead of a scan
# of every need. pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
event.listen(Need.__table__, "before_create", DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm")
             .execute_if(dialect="postgresql"))
for _name, _column in SEARCH_INDEXES.items():
    event.listen(Need.__table__, "after_create", DDL(
        f"CREATE INDEX {_name} ON needs USING gin (lower({_column}) gin_trgm_ops)").execute_if(dialect="postgresql"))
