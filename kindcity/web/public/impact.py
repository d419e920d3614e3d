"""Public impact pages: the district dashboard, each need's impact, the donor wall, report photos."""
from __future__ import annotations

import re
from datetime import timedelta

from flask import abort, current_app, render_template, request, send_from_directory
from flask_login import current_user
from sqlalchemy import select

from ...domain.impact import PERIODS, WALL_GROUP_ORDER, WallGroup, format_tenths
from ...domain.time import SEOUL
from ...extensions import db
from ...i18n import current_locale, format_won
from ...models import ReportPhoto
from ...paths import upload_folder
from ...services import impact as impact_service
from ...services import impact_reports
from ...services import needs as need_service
from ...services.photos import STORED_NAME
from .. import aggregates
from ..caching import no_store, public_page
from ..params import page_number, public_need_or_404
from . import bp
from .charts import columns, horizontal_bars
from .forms import PeriodForm

_PHOTO_NAME = re.compile(STORED_NAME)
WALL_LEADING = 50  # donors of each group on /donors itself
WALL_PAGE = 100  # donors a page of /donors?group=<g>



@bp.app_template_global()
def tenths(value: int) -> str:
    return format_tenths(value)


@bp.app_template_filter("seoul_date")
def seoul_date(value):
    """The Korea-time calendar day of a UTC timestamp."""
    return value.astimezone(SEOUL).date() if value is not None else None


def period_from_args() -> str:
    period = request.args.get("period", "all")
    return period if period in PERIODS else "all"


@bp.get("/impact")
@public_page(aggregates=True)
def impact():
    period = period_from_args()
    summary = aggregates.district_impact(period)
    locale = current_locale()
    charts = {
        "category": horizontal_bars([(row.ref.name(locale), row.placed, format_won(row.placed))
                                     for row in summary.by_category]),
        "dong": horizontal_bars([(row.ref.name(locale), row.placed, format_won(row.placed))
                                 for row in summary.by_dong]),
        "month": columns([(month[2:].replace("-", "."), amount, format_won(amount))
                          for month, amount in summary.by_month]),
    }
    tables = {
        "category": [(row.ref.name(locale), format_won(row.placed), row.completed) for row in summary.by_category],
        "dong": [(row.ref.name(locale), format_won(row.placed), row.completed) for row in summary.by_dong],
        "month": [(month, format_won(amount)) for month, amount in summary.by_month],
    }
    form = PeriodForm(request.args)
    form.period.data = period
    last_day = summary.end - timedelta(days=1) if summary.end else None
    fund_placements, reports = impact_reports.with_fund_placements(placements=10)  # one statement for both
    return render_template("impact/dashboard.html", summary=summary, charts=charts, tables=tables, form=form,
                           period=period, last_day=last_day, fund_placements=fund_placements, reports=reports)


@bp.get("/impact/reports")
@public_page
def impact_reports_list():
    """Every published impact report, newest first, a page at a time (one query a page)."""
    page = page_number(request.args)
    reports, more = impact_reports.published_reports(impact_reports.PER_PAGE,
                                                     (page - 1) * impact_reports.PER_PAGE)
    if page > 1 and not reports:
        abort(404)
    return render_template("impact/reports.html", reports=reports, more=more, page=page)


@bp.get("/needs/<id:need_id>/impact")
@public_page
def need_impact(need_id: int):
    item = public_need_or_404(need_id)
    return render_template("impact/need.html", need=item, impact=impact_service.need_impact(item),
                           shown_by_name=SHOWN_BY_NAME)


# The largest gifts named on a need's impact page; the rest are counted and added up. A popular need
# has hundreds (753 at ten times the benchmark data): listing them all made the page 38 kB and most
# of its 100 ms, and no one reads such a list on a phone. The API still lists every name.
SHOWN_BY_NAME = 100


@bp.get("/donors")
@public_page(aggregates=True)
def donors():
    """The wall: each group's WALL_LEADING leading donors and a link to the whole group, or with
    ``?group=<g>&page=n`` one group WALL_PAGE at a time (a page after the last is a 404, as on /me/).
    Both slice the stored wall row: one query, whatever the number of donors."""
    asked = request.args.get("group")
    if asked is None:
        entries, sizes, counted_at = aggregates.donor_wall_slices(
            {group: (0, WALL_LEADING) for group in WALL_GROUP_ORDER})
        return render_template("impact/wall.html", wall=entries, sizes=sizes, counted_at=counted_at,
                               groups=WALL_GROUP_ORDER)
    try:
        group = WallGroup(asked)
    except ValueError:
        abort(404)
    page = page_number(request.args)
    start = (page - 1) * WALL_PAGE
    entries, sizes, counted_at = aggregates.donor_wall_slices({group: (start, start + WALL_PAGE)})
    pages = max(1, -(-sizes[group] // WALL_PAGE))
    if page > pages:
        abort(404)
    return render_template("impact/wall_group.html", group=group, entries=entries[group], size=sizes[group],
                           first=start + 1, counted_at=counted_at, page=page, pages=pages)


@bp.get("/impact/photos/<name>")
def impact_photo(name: str):
    """A report photo: public once its report is published; before that, only staff who see the need."""
    if not _PHOTO_NAME.fullmatch(name):
        abort(404)
    item = db.session.scalar(select(ReportPhoto).where(ReportPhoto.filename == name))
    if item is None:
        abort(404)
    if not item.report.is_published:
        if not (current_user.is_authenticated and current_user.is_staff
                and need_service.staff_can_see(current_user, item.report.need)):
            abort(404)
    response = send_from_directory(upload_folder(current_app), name, mimetype=item.content_type)
    response.headers["Content-Disposition"] = "inline"
    if not item.report.is_published:
        no_store(response)
    return response

