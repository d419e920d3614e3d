"""The published impact reports, newest first, for /impact and /impact/reports: one query a page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..domain.impact import ReportStatus
from ..extensions import db
from ..models import ImpactReport, Need

LATEST = 12      # shown on /impact
PER_PAGE = 24    # on /impact/reports


@dataclass(frozen=True)
class PublishedReport:
    need_id: int
    title: str
    summary: str
    published_at: datetime
    beneficiaries_reached: int | None
    units_delivered: int | None
    unit_name: str | None


def published_reports(limit: int = LATEST, offset: int = 0) -> tuple[list[PublishedReport], bool]:
    """At most ``limit`` reports from ``offset``, and whether there are more after them."""
    rows = db.session.execute(
        select(ImpactReport.need_id, Need.title, Need.summary, ImpactReport.published_at,
               ImpactReport.beneficiaries_reached, ImpactReport.units_delivered, ImpactReport.unit_name)
        .join(Need, Need.id == ImpactReport.need_id)
        .where(ImpactReport.status == ReportStatus.PUBLISHED.value)
        .order_by(ImpactReport.published_at.desc(), ImpactReport.id.desc())
        .offset(offset).limit(limit + 1)).all()
    return [PublishedReport(*row) for row in rows[:limit]], len(rows) > limit


def with_fund_placements(placements: int = 10, limit: int = LATEST):
    """/impact's two lists in one statement (its query budget is fixed; see tests/web/test_query_counts.py):
    where the district fund's money went, as ``matching.district_placements`` gives it, and the latest
    published reports with whether there are more. Each side is its own ordered, limited subquery."""
    from sqlalchemy import Integer, String, cast, literal, null, union_all

    from ..models import MatchAllocation
    from .matching import FundPlacement

    fund = (select(literal("fund").label("kind"), MatchAllocation.need_id.label("need_id"), Need.title.label("title"),
                   Need.status.label("text"), MatchAllocation.amount.label("figure"),
                   cast(null(), Integer).label("units"), cast(null(), String).label("unit_name"), MatchAllocation.created_at.label("at"),
                   MatchAllocation.id.label("row_id"))
            .join(Need, Need.id == MatchAllocation.need_id).where(MatchAllocation.source == "fund")
            .order_by(MatchAllocation.id.desc()).limit(placements).subquery())
    reports = (select(literal("report").label("kind"), ImpactReport.need_id, Need.title, Need.summary,
                      ImpactReport.beneficiaries_reached, ImpactReport.units_delivered, ImpactReport.unit_name,
                      ImpactReport.published_at, ImpactReport.id)
               .join(Need, Need.id == ImpactReport.need_id)
               .where(ImpactReport.status == ReportStatus.PUBLISHED.value)
               .order_by(ImpactReport.published_at.desc(), ImpactReport.id.desc()).limit(limit + 1).subquery())
    rows = db.session.execute(union_all(select(fund), select(reports))).all()
    fund_rows = sorted((r for r in rows if r.kind == "fund"), key=lambda r: r.row_id, reverse=True)
    report_rows = sorted((r for r in rows if r.kind == "report"), key=lambda r: (r.at, r.row_id), reverse=True)
    placed = [FundPlacement(r.need_id, r.title, int(r.figure), r.text, r.at) for r in fund_rows]
    shown = [PublishedReport(r.need_id, r.title, r.text, r.at, r.figure, r.units, r.unit_name)
             for r in report_rows[:limit]]
    return placed, (shown, len(report_rows) > limit)
