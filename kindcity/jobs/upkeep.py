"""The site's upkeep, scheduled here in code: each is a job run by the workers on its schedule, and a
`kindcity` command too. Procrastinate defers a periodic job once per period however many workers run
(a unique row per task and period), and the job's lock keeps two runs of one task from overlapping.

Times are UTC (cron). Everything is safe to run again: each task reads what is due now.
"""
from __future__ import annotations

from flask import current_app

from ..domain.time import seoul_today
from ..extensions import db
from . import job

# job name -> cron (minute hour day month weekday), UTC
SCHEDULE: dict[str, str] = {
    "upkeep.expire_needs": "*/10 * * * *",
    "upkeep.release_expired": "*/10 * * * *",
    "figures.refresh": "*/10 * * * *",         # backstop: the district figures (services/figures.py)
    "upkeep.recurring": "5 * * * *",
    "upkeep.match": "20 * * * *",
    "upkeep.purge_referrals": "30 18 * * *",   # 03:30 in Korea
    "upkeep.purge_security_logs": "35 * * * *",
    "upkeep.purge_texts": "35 18 * * *",       # 03:35 in Korea
    "upkeep.reconcile": "45 18 * * *",         # 03:45 in Korea
    "upkeep.purge_rrn": "50 18 * * *",         # 03:50 in Korea
}


@job("upkeep.expire_needs")
def expire_needs() -> list[int]:
    """Open needs past their deadline (Korea time) expire; their donors hear by mail (jobs)."""
    from ..services.needs import expire_overdue

    return expire_overdue(seoul_today())


@job("upkeep.release_expired")
def release_expired() -> list[int]:
    """The holds of unpaid pledges past their expiry are released."""
    from ..services.pledges import release_expired as release

    return release()


@job("upkeep.recurring")
def recurring() -> list:
    """The instalments of recurring pooled pledges that are due are made, each with its mail (a job)."""
    from ..services.recurring import create_due_instalments, retry_declined_charges

    made = create_due_instalments(seoul_today())
    retry_declined_charges(current_app.config)  # a card billing key declined once: its one retry, when due
    return made


@job("upkeep.match")
def match():
    """The matching engine places pooled money (or records its proposal for staff). Like the runs that
    money arriving starts, it is recorded only when it proposes something: no empty run every hour."""
    from ..services import SYSTEM
    from ..services.matching import run_engine

    return run_engine(SYSTEM, "schedule")


@job("upkeep.purge_referrals")
def purge_referrals() -> list[int]:
    """The words of referrals closed longer ago than the retention period are erased."""
    from ..services.referrals import purge_closed

    return purge_closed(current_app.config["KINDCITY_REFERRAL_RETENTION_DAYS"])


@job("upkeep.purge_security_logs")
def purge_security_logs() -> tuple[int, int]:
    """Login attempts and reset-link requests (e-mails, network addresses) older than the windows their
    limits count are deleted."""
    from ..services.accounts import purge_security_logs as purge

    return purge(current_app.config["KINDCITY_LOGIN_WINDOW_MINUTES"])


@job("upkeep.purge_texts")
def purge_texts() -> list[int]:
    """The numbers and words of text cases closed longer ago than the retention period are erased."""
    from ..services.texts import purge_closed

    return purge_closed(current_app.config["KINDCITY_TEXT_RETENTION_DAYS"])


@job("upkeep.purge_rrn")
def purge_rrn() -> int:
    """Resident registration numbers whose retention has ended are erased (docs/receipts.md)."""
    from ..services import SYSTEM
    from ..services.tax_details import purge

    return purge(SYSTEM, seoul_today())


@job("upkeep.reconcile")
def reconcile() -> list:
    """Every money invariant is checked against the journal; a disagreement is recorded (the admin page
    shows the last one) and mailed to the administrators, once per day and admin."""
    from ..services.reconcile import reconcile as run

    problems = run()
    if problems:
        report_disagreement([str(problem) for problem in problems])
    return problems


def report_disagreement(lines: list[str]) -> None:
    from flask_babel import force_locale
    from flask_babel import gettext as _
    from sqlalchemy import select

    from ..mail import send
    from ..models import User
    from ..services import SYSTEM
    from ..services.audit import record
    from ..web.links import site_url

    record(SYSTEM, "reconcile.disagreement", "reconcile", 0, after={"problems": lines[:50], "count": len(lines)})
    admins = db.session.scalars(select(User).where(User.role == "admin", User.active.is_(True))).all()
    day = seoul_today().isoformat()
    with force_locale("ko"):
        subject = _("Reconciliation found %(count)s disagreement(s)", count=len(lines))
        body = "\n\n".join([_("The daily reconciliation of the money found these disagreements:"),
                            "\n".join(lines[:50]), site_url("admin.jobs")])
    for admin in admins:
        send(admin.email, subject, body, key=f"reconcile:{day}:{admin.id}")
