"""The matching engine's tables: the terms of pooled pledges (나눔 기금) and match offers (매칭 기부),
every placement with its one-line reason, every engine run, and the one setting staff control.

A pooled pledge or a match offer is a row of ``pledges`` (kind 'pooled' or 'match', no need); what
only these kinds have lives here, keyed by ``pledge_id``, so the pledge table stays as it is.
Money is never stored here as the only truth: placements and ``MatchOfferTerms.matched`` are
caches of the journal that ``kindcity reconcile`` checks.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.time import utcnow
from ..extensions import db
from .accounts import User
from .money import Pledge
from .needs import Need
from .types import UTCDateTime


class _Criteria:
    """Codes of categories, dongs and beneficiary groups; an empty list means any."""

    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    dongs: Mapped[list[str]] = mapped_column(JSON, default=list)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)


class PooledSeries(_Criteria, db.Model):
    """A recurring pooled pledge (정기 나눔 기금): the terms every instalment repeats, how often, until when.

    Each instalment is a pooled pledge of its own (its own reference code, payment and allocations),
    linked by ``PooledTerms.series_id`` and numbered by ``PooledTerms.period``. The pair is unique, so
    two upkeep runs at the same moment can never make the same instalment twice.
    """

    __tablename__ = "pooled_series"
    __table_args__ = (
        CheckConstraint("frequency IN ('monthly','quarterly')", name="frequency"),
        CheckConstraint("amount >= 1000", name="amount_minimum"),
        CheckConstraint("method IN ('bank','card','portone')", name="method"),
        CheckConstraint("display IN ('name','organisation','anonymous')", name="display"),
        CheckConstraint("on_end IN ('refund','pool')", name="on_end"),
        CheckConstraint("cap_won IS NULL OR cap_won > 0", name="cap_won_positive"),
        CheckConstraint("cap_percent IS NULL OR (cap_percent >= 1 AND cap_percent <= 100)", name="cap_percent_range"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="period_in_order"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    donor: Mapped[User] = relationship(foreign_keys=[donor_id])
    frequency: Mapped[str] = mapped_column(String(10))
    starts_on: Mapped[date] = mapped_column(Date)            # Korea-time day the first instalment was due
    ends_on: Mapped[date | None] = mapped_column(Date)       # the last day: no instalment after it; each one's end
    amount: Mapped[int] = mapped_column(BigInteger)          # won per instalment
    method: Mapped[str] = mapped_column(String(10), default="bank")
    display: Mapped[str] = mapped_column(String(15), default="anonymous")
    message: Mapped[str] = mapped_column(String(300), default="")
    on_end: Mapped[str] = mapped_column(String(10), default="refund")
    cap_won: Mapped[int | None] = mapped_column(BigInteger)
    cap_percent: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # no instalment is made after it
    stopped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PooledTerms(_Criteria, db.Model):
    """What a pooled pledge will fund, its cap per need, its end, and whether the donor paused it."""

    __tablename__ = "pooled_terms"
    __table_args__ = (
        CheckConstraint("cap_won IS NULL OR cap_won > 0", name="cap_won_positive"),
        CheckConstraint("cap_percent IS NULL OR (cap_percent >= 1 AND cap_percent <= 100)", name="cap_percent_range"),
        CheckConstraint("(series_id IS NULL AND period IS NULL) OR (series_id IS NOT NULL AND period >= 1)",
                        name="series_period"),
        # One instalment per period of a series, whoever makes it and however often.
        UniqueConstraint("series_id", "period", name="uq_pooled_terms_series_period"),
    )
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), primary_key=True)
    pledge: Mapped[Pledge] = relationship()
    cap_won: Mapped[int | None] = mapped_column(BigInteger)
    cap_percent: Mapped[int | None] = mapped_column()
    ends_on: Mapped[date | None] = mapped_column(Date)  # Korea-time day; after it nothing more is placed
    paused: Mapped[bool] = mapped_column(default=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # ended: the rest followed the donor's choice
    # An instalment of a recurring pooled pledge: its series and its period (1, 2, ...); else both empty.
    series_id: Mapped[int | None] = mapped_column(ForeignKey("pooled_series.id"))
    series: Mapped[PooledSeries | None] = relationship()
    period: Mapped[int | None] = mapped_column()


class MatchOfferTerms(_Criteria, db.Model):
    """"We add ratio_num won for every ratio_den won residents give to qualifying needs, up to cap."""

    __tablename__ = "match_offer_terms"
    __table_args__ = (
        CheckConstraint("ratio_num > 0 AND ratio_den > 0", name="ratio_positive"),
        CheckConstraint("cap > 0", name="cap_positive"),
        # The database itself keeps the cap: concurrent gifts can never push an offer past it.
        CheckConstraint("matched >= 0 AND matched <= cap", name="matched_within_cap"),
        CheckConstraint("starts_on <= ends_on", name="period_in_order"),
    )
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), primary_key=True)
    pledge: Mapped[Pledge] = relationship()
    ratio_num: Mapped[int] = mapped_column()
    ratio_den: Mapped[int] = mapped_column()
    cap: Mapped[int] = mapped_column(BigInteger)
    # Won this offer has on needs now (a cache of the journal; reconcile proves they agree).
    matched: Mapped[int] = mapped_column(BigInteger, default=0)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MatchRun(db.Model):
    """One run of the engine: what it proposed, and whether (and by whom) it was applied."""

    __tablename__ = "match_runs"
    __table_args__ = (
        CheckConstraint("status IN ('applied','pending','approved','superseded')", name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    trigger: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(12))
    today: Mapped[date] = mapped_column(Date)
    needs_considered: Mapped[int] = mapped_column(default=0)
    pools_considered: Mapped[int] = mapped_column(default=0)
    proposed_total: Mapped[int] = mapped_column(BigInteger, default=0)
    placed_total: Mapped[int] = mapped_column(BigInteger, default=0)
    urgency_score: Mapped[int] = mapped_column(default=0)
    # [{pool_id, need_id, amount, reason, reason_code, completes}], in the engine's order
    proposal: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    fully_funded: Mapped[list[int]] = mapped_column(JSON, default=list)
    fairness: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Allocations that no longer fitted when applied (need or pledge changed meanwhile), with why.
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])


class MatchAllocation(db.Model):
    """One placement of pooled money or of a match on a need, with the reason a donor can read.

    ``reason`` is the engine's English line; the web layer translates by ``reason_code``.

    Source 'pool' is a donor's pooled pledge, 'offer' a match offer, 'fund' the district's pooled
    fund (구 나눔 기금): then ``pledge_id`` is the pledge whose money had gone to the fund (first in,
    first out), so that donor can see where it went; the journal posts the fund's move without a pledge.
    """

    __tablename__ = "match_allocations"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("source IN ('pool','offer','fund')", name="source"),
        Index("ix_match_allocations_pledge_need", "pledge_id", "need_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(5))
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"))
    pledge: Mapped[Pledge] = relationship(foreign_keys=[pledge_id])
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"), index=True)
    need: Mapped[Need] = relationship()
    amount: Mapped[int] = mapped_column(BigInteger)
    reason_code: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    days_left: Mapped[int | None] = mapped_column()  # the need's days to its deadline when placed
    completes: Mapped[bool] = mapped_column(default=False)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("match_runs.id"), index=True)
    gift_pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"))  # the gift a match doubled
    gift_amount: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MatchingSettings(db.Model):
    """One row: whether engine runs apply themselves, or wait for staff to approve them."""

    __tablename__ = "matching_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    auto_apply: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
