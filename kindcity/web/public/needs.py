"""Public pages: what the district needs now, and each need."""
from __future__ import annotations

from flask import current_app, render_template, request

from ...domain.money import percent_of
from ...domain.time import days_left, seoul_today
from ...services import matching as matching_service
from ...services import needs as need_service
from ...services.receipts import default_organisation
from ...services.reference import reference
from ...text import render_markdown
from .. import aggregates
from ..caching import public_page
from ..params import page_number, public_need_or_404

from . import bp


@bp.app_template_global()
def progress(need) -> int:
    """How far the need is, in percent. A need that reached its target (funded, being delivered,
    completed) is 100% even after its leftover money went back to donors."""
    if need.shown_status in DONE_STATUSES:
        return 100
    return percent_of(need.confirmed, need.target)


DONE_STATUSES = ("funded", "delivering", "completed")


@bp.app_template_global()
def reached_target(need) -> bool:
    return need.shown_status in DONE_STATUSES


@bp.app_template_global()
def days_until(deadline) -> int:
    return days_left(deadline, seoul_today())


@bp.app_template_filter("markdown")
def markdown_filter(value):
    return render_markdown(value)


def filters_from_args(args, per_page: int) -> need_service.NeedFilters:
    def _int(name, default=None, low=None, high=None):
        try:
            value = int(args.get(name, ""))
        except ValueError:
            return default
        if low is not None and value < low:
            return default
        if high is not None and value > high:
            return high
        return value

    def _text(name, default=""):
        return args.get(name, default).replace("\x00", "")  # PostgreSQL refuses NUL in any text

    return need_service.NeedFilters(
        q=_text("q").strip()[:100],
        category=_text("category"),
        dong=_text("dong"),
        group=_text("group"),
        status=args.get("status", "open"),
        closing_within_days=_int("closing", None, 0, 366),
        sort=args.get("sort", "deadline"),
        page=page_number(args),
        per_page=per_page,
    )


@bp.get("/")
@public_page
def home():
    today = seoul_today()
    def top3(sort: str, **narrowed):
        return need_service.search_public_needs(need_service.NeedFilters(sort=sort, per_page=3, **narrowed),
                                                today, with_total=False)[0]
    # "Nearly funded" lists only open needs at least half way to their target and not yet there,
    # the closest first: a need at 0% is not nearly funded.
    urgent, nearly, newest = top3("deadline"), top3("nearly_funded", nearly_there=True), top3("newest")
    return render_template("public/home.html", urgent=urgent, nearly=nearly, newest=newest,
                           totals=aggregates.district_totals())


@bp.get("/needs")
@public_page
def needs():
    filters = filters_from_args(request.args, current_app.config["KINDCITY_PAGE_SIZE"])
    items, total = need_service.search_public_needs(filters, seoul_today(), count_up_to=COUNTED_UP_TO)
    places = reference()
    dongs, categories, groups = places.dongs, places.categories, places.groups
    more = total > COUNTED_UP_TO  # "more than 1,000": counting every match grew with the data
    pages = max(1, -(-min(total, COUNTED_UP_TO) // filters.per_page))
    return render_template("public/needs.html", items=items, total=min(total, COUNTED_UP_TO), more=more,
                           filters=filters, pages=pages, dongs=dongs, categories=categories, groups=groups)


COUNTED_UP_TO = 1000  # the list counts its matches up to this many, then says "more than"


@bp.get("/needs/<id:need_id>")
@public_page
def need(need_id: int):
    item = public_need_or_404(need_id)
    return render_template("public/need.html", need=item, supporters=need_service.supporters(item.id),
                           matches=matching_service.matches_on_need(item.id))


@bp.get("/privacy")
@public_page
def privacy():
    """개인정보 처리방침: what this site collects, why, for how long, who sees it, and the reader's rights."""
    return render_template("public/privacy.html", retention_days=current_app.config["KINDCITY_REFERRAL_RETENTION_DAYS"],
                           officer=default_organisation())


@bp.get("/terms")
@public_page
def terms():
    return render_template("public/terms.html", officer=default_organisation())
