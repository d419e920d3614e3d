"""The `kindcity` console command: a Flask CLI group, so `kindcity run` and `kindcity db upgrade` work too."""
from __future__ import annotations

import json
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from .domain.time import seoul_today
from .extensions import db
from .unit_of_work import command, commit, discard


def register_commands(app: Flask) -> None:
    for each in (demo_data, create_admin, expire_needs, check_personal_data, seed_district_cmd,
                 release_expired, reconcile, match, recurring, purge_referrals, purge_security_logs,
                 worker, jobs, sms, purge_texts, rotate_rrn_key, purge_rrn, refresh_figures):
        app.cli.add_command(each)


@click.command("demo-data")
def demo_data():
    """Load the demo district (idempotent) and print the demo logins."""
    from .services.demo import DEMO_DISTRICT, DEMO_LOGINS, DEMO_PASSWORD, DemoUnavailable, load_demo_data

    try:
        with command():
            result = load_demo_data(current_app.config["KINDCITY_DISTRICT"], seoul_today())
    except DemoUnavailable as error:
        raise click.ClickException(f"The demo data tells {DEMO_DISTRICT}'s story; KINDCITY_DISTRICT is {error}. "
                                   "Load your district with `kindcity seed` and create its staff instead.") from None
    _count_figures()
    click.echo(f"Demo data ready: {result['needs_created']} needs created, {result['open']} open.")
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for login in DEMO_LOGINS:
        click.echo(f"  {login.role:6} {login.email:34} {login.note}")


def _count_figures():
    """Count and store the district figures now (kindcity/services/figures.py), so that the public
    pages find them; any recount the commands' changes asked for is then done as well."""
    from .services.figures import refresh

    with command():
        counted_at = refresh()
    return counted_at


@click.command("refresh-figures")
def refresh_figures():
    """Count the district figures of /impact, /donors and the home page again, and store them."""
    click.echo(f"District figures counted at {_count_figures().isoformat()}.")


@click.command("seed")
def seed_district_cmd():
    """Load the district's dongs, categories, groups and centres from its data file (idempotent)."""
    from .services.reference import seed_district

    with command():
        district = seed_district(current_app.config["KINDCITY_DISTRICT"])
    click.echo(f"District data loaded: {district.name_ko}")


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", default="관리자")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_admin(email: str, name: str, password: str):
    """Create an administrator account."""
    from .services import SYSTEM, accounts
    from .services.reference import seed_district

    with command():  # a refusal (the address taken, the password too short) is its words and exit 1
        seed_district(current_app.config["KINDCITY_DISTRICT"])
        user = accounts.create_user(SYSTEM, email=email, password=password, display_name=name, role="admin")
    click.echo(f"Administrator {user.email} created.")


@click.command("expire-needs")
def expire_needs():
    """Expire open needs whose deadline (Korea time) has passed. Safe to run repeatedly."""
    from .services.needs import expire_overdue

    with command():  # then card pages still open close, card money owed back goes back, each donor hears by mail
        expired = expire_overdue(seoul_today())
    click.echo(f"{len(expired)} need(s) expired" + (f": {', '.join(map(str, expired))}" if expired else "."))


@click.command("release-expired")
def release_expired():
    """Release the holds of unpaid pledges past their expiry. Safe to run repeatedly."""
    from .services.pledges import release_expired as release

    with command():  # then a card page still open for an expired pledge closes
        released = release()
    click.echo(f"{len(released)} hold(s) released" + (f": {', '.join(map(str, released))}" if released else "."))


@click.command("purge-referrals")
def purge_referrals():
    """Erase the words of referrals closed longer ago than KINDCITY_REFERRAL_RETENTION_DAYS. Safe to run
    repeatedly."""
    from .services.referrals import purge_closed

    days = current_app.config["KINDCITY_REFERRAL_RETENTION_DAYS"]
    with command():
        purged = purge_closed(days)
    click.echo(f"{len(purged)} referral(s) closed {days} or more days ago erased"
               + (f": {', '.join(map(str, purged))}" if purged else "."))


@click.command("purge-security-logs")
def purge_security_logs():
    """Delete login attempts and password-reset requests (e-mails, network addresses) older than the windows
    their limits count. Safe to run repeatedly."""
    from .services.accounts import RESET_WINDOW_MINUTES
    from .services.accounts import purge_security_logs as purge

    login_minutes = current_app.config["KINDCITY_LOGIN_WINDOW_MINUTES"]
    with command():
        logins, resets = purge(login_minutes)
    click.echo(f"{logins} login attempt(s) older than {login_minutes} minutes and {resets} password-reset "
               f"request(s) older than {RESET_WINDOW_MINUTES} minutes deleted.")


@click.group("sms")
def sms():
    """The text line: simulate an incoming text on the demo provider."""


@sms.command("receive")
@click.option("--from", "sender", required=True, help="The resident's number, e.g. 010-1234-5678.")
@click.argument("text")
def sms_receive(sender: str, text: str):
    """Take TEXT as if the resident at --from had texted the district (what the webhook does for SOLAPI)."""
    import secrets

    from .domain.texts import TextRuleError, normalise_phone
    from .domain.time import utcnow
    from .services.texts import receive
    from .sms import IncomingText

    try:
        number = normalise_phone(sender)
    except TextRuleError:
        raise click.ClickException("--from must be a Korean phone number, e.g. 010-1234-5678") from None
    with command():  # then the automatic answer goes out (to the outbox folder on the demo provider)
        result = receive(IncomingText(provider_id="cli_" + secrets.token_hex(8), sender=number, body=text,
                                      received_at=utcnow()),
                         max_per_hour=current_app.config["KINDCITY_SMS_MAX_PER_HOUR"])
    state = "kept" if result.kept else "counted only (over the hourly limit)"
    click.echo(f"Text received: case {result.case.id}, {state}" + (", urgent" if result.case.urgent else "") + ".")


@click.command("purge-texts")
def purge_texts():
    """Erase the numbers and words of text cases closed longer ago than KINDCITY_TEXT_RETENTION_DAYS. Safe to
    run repeatedly."""
    from .services.texts import purge_closed

    days = current_app.config["KINDCITY_TEXT_RETENTION_DAYS"]
    with command():
        purged = purge_closed(days)
    click.echo(f"{len(purged)} text case(s) closed {days} or more days ago erased"
               + (f": {', '.join(map(str, purged))}" if purged else "."))


@click.command("reconcile")
@click.option("--stripe", "with_stripe", is_flag=True,
              help="Also compare with Stripe: apply undelivered events, send card refunds due, compare records.")
@click.option("--portone", "with_portone", is_flag=True,
              help="Also compare with PortOne: apply payments whose webhook never came, send refunds due, compare.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Check only what moved from this day (Korea time) on: the journal's entries since, and the "
                   "needs and pledges they touch; with --stripe or --portone, also the first day to compare "
                   "(default 30 days ago).")
def reconcile(with_stripe: bool, with_portone: bool, since):
    """Check every money invariant against the journal; print each disagreement; exit 1 if any."""
    from .services.reconcile import reconcile as run

    stripe_problems = _reconcile_stripe(since.date() if since else None) if with_stripe else []
    portone_problems = _reconcile_portone(since.date() if since else None) if with_portone else []
    problems = run(since.date() if since else None) + stripe_problems + portone_problems
    discard()
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} discrepancy(ies) found.", err=True)
        sys.exit(1)
    click.echo("All money is accounted for: journal balanced, needs and pledges agree with it.")


def _reconcile_stripe(since_day) -> list:
    """Catch up with Stripe first (each event and each refund committed on its own), then compare."""
    from datetime import datetime, time, timedelta

    from .domain.time import SEOUL
    from .payments import ProviderError, ProviderRefused, app_card_provider, delayed_payment_hold, stripe_configured
    from .services import card
    from .jobs.card import send_card_refunds

    if not stripe_configured(current_app.config):
        raise click.ClickException("Stripe is not configured (KINDCITY_STRIPE_SECRET_KEY).")
    provider = app_card_provider(current_app)
    since = datetime.combine(since_day or seoul_today() - timedelta(days=30), time.min, SEOUL)
    try:
        missed = card.missed_events(provider, since)
        for notice in missed:
            try:
                result = card.handle_event(provider, notice, async_hold=delayed_payment_hold(current_app.config))
            except ProviderRefused as error:
                discard()
                click.echo(f"could not apply event {notice.id} ({notice.type}): {error}")
                continue
            commit(after_commit=_later)
            click.echo(f"applied missed event {notice.id} ({notice.type}): {result.outcome}")
        for refund_id, outcome in send_card_refunds(current_app, provider).items():
            click.echo(f"card refund {refund_id}: {outcome}")
        problems = card.reconcile_with_provider(provider, since)
    except ProviderError as error:
        discard()
        raise click.ClickException(f"Stripe could not be reached: {error}") from None
    discard()
    click.echo(f"Compared with Stripe since {since.date().isoformat()}: {len(missed)} missed event(s) applied.")
    return problems


def _reconcile_portone(since_day) -> list:
    """Catch up with PortOne (recorded deliveries not yet processed, then every payment of the period whose
    money or cancellations the journal lacks, each committed on its own), send refunds due, then compare."""
    from datetime import datetime, time, timedelta

    from .domain.time import SEOUL
    from .payments import ProviderError
    from .payments.korean import app_kr_provider, portone_configured
    from .services import kr_payments
    from .jobs.portone import close_virtual_accounts, send_kr_refunds

    if not portone_configured(current_app.config):
        raise click.ClickException("PortOne is not configured (KINDCITY_PORTONE_API_SECRET).")
    provider = app_kr_provider(current_app)
    since = datetime.combine(since_day or seoul_today() - timedelta(days=30), time.min, SEOUL)
    try:
        for event_id in kr_payments.unprocessed_events(provider):
            result = kr_payments.process_event(provider, event_id)
            commit(after_commit=_later)
            click.echo(f"processed recorded delivery {event_id}: {result.outcome}")
        states = provider.payments_since(since)
        applied = kr_payments.apply_missed(provider, states)
        commit()  # SQLite: the jobs this asked for (a mismatched payment cancelled) run now; PostgreSQL: the worker
        for payment_id, done in applied.items():
            click.echo(f"applied PortOne payment {payment_id}: " + ", ".join(f"{k}={v}" for k, v in done.items()))
        ended = kr_payments.ended_with_open_virtual_account()
        for pledge_id in close_virtual_accounts(current_app, provider, ended):
            click.echo(f"virtual account of pledge {pledge_id} closed")
        for refund_id, outcome in send_kr_refunds(current_app, provider).items():
            click.echo(f"PortOne refund {refund_id}: {outcome}")
        problems = kr_payments.reconcile_with_portone(provider, provider.payments_since(since), since)
    except ProviderError as error:
        discard()
        raise click.ClickException(f"PortOne could not be reached: {error}") from None
    discard()
    click.echo(f"Compared with PortOne since {since.date().isoformat()}: {len(applied)} payment(s) applied.")
    return problems


@click.command("match")
@click.option("--dry-run", is_flag=True, help="Print the proposal; place nothing.")
def match(dry_run: bool):
    """Run the matching engine on pooled pledges: print its proposal, and apply it (or, when staff have
    turned automatic application off, record it for their approval)."""
    from .services import SYSTEM
    from .services.matching import run_engine

    outcome = run_engine(SYSTEM, "cli", dry_run=dry_run)
    allocations = outcome.result.allocations if outcome.result else ()
    for a in allocations:
        click.echo(f"pledge {a.pool_id} -> need {a.need_id}: {a.amount:,} won [{a.reason_code}] {a.reason}")
    if dry_run:
        discard()
        click.echo(f"Dry run: {len(allocations)} allocation(s), {outcome.proposed:,} won proposed; nothing placed.")
        return
    commit()  # then pooled pledges and offers past their last day: card pages close, card refunds go
    run = outcome.run
    if run.status == "pending":
        click.echo(f"Run {run.id}: {outcome.proposed:,} won proposed; automatic application is off, so it waits "
                   "for staff to approve it.")
        return
    click.echo(f"Run {run.id}: {outcome.placed:,} won placed"
               + (f"; {len(run.skipped)} allocation(s) no longer fitted." if run.skipped else "."))


@click.command("recurring")
def recurring():
    """Make the instalments of recurring pooled pledges that are due (Korea time) and mail each donor how to
    pay it. Safe to run repeatedly, even two at once: no instalment is ever made twice."""
    from .services.recurring import create_due_instalments, retry_declined_charges

    with command():  # each instalment's mail or card charge is a job of the same transaction
        made = create_due_instalments(seoul_today())
        retried = retry_declined_charges(current_app.config)
    click.echo(f"{len(made)} instalment(s) made"
               + (": " + ", ".join(f"{i.reference} (series {i.series_id}, #{i.period})" for i in made) if made else "."))
    if retried:
        click.echo(f"{len(retried)} declined card charge(s) tried again: " + ", ".join(f"pledge {p}" for p, _ in retried))


@click.command("worker")
@click.option("--concurrency", default=1, show_default=True, help="Jobs run at once by this worker.")
@click.option("--queue", "queues", multiple=True, help="Queues to take jobs from (default: all).")
@click.option("--name", default=None, help="The worker's name in the logs.")
def worker(concurrency: int, queues: tuple[str, ...], name: str | None):
    """Run a worker: the jobs the site asks for (mail, card refunds, notices) and the scheduled upkeep
    (kindcity/jobs/upkeep.py). Needs PostgreSQL; run at least one beside the web server."""
    import logging

    from .jobs import queued
    from .jobs.queue import run_worker

    if not queued():
        raise click.ClickException("A worker needs the PostgreSQL job queue (DATABASE_URL=postgresql+psycopg://...); "
                                   "on SQLite, jobs run in the web process after each commit.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    db.session.remove()
    run_worker(current_app._get_current_object(), concurrency=concurrency, queues=list(queues), name=name)


@click.command("jobs")
@click.option("--status", "statuses", multiple=True, default=("failed",), show_default=True,
              type=click.Choice(["todo", "doing", "succeeded", "failed", "cancelled", "aborted"]))
@click.option("--retry", "retry_ids", multiple=True, type=int, help="Put this failed job back in the queue.")
@click.option("--retry-all", is_flag=True, help="Put every failed job back in the queue.")
def jobs(statuses: tuple[str, ...], retry_ids: tuple[int, ...], retry_all: bool):
    """List jobs (the failed ones by default, each with its last error); retry failed ones."""
    from .jobs import queued
    from .jobs.queue import counts, list_jobs, retry_failed

    if not queued():
        raise click.ClickException("There is no job queue on SQLite: jobs run in-process after each commit.")
    if retry_all:
        retry_ids = tuple(row.id for row in list_jobs(db.session, ("failed",), limit=10_000))
    if retry_ids:
        for job_id in retry_ids:
            click.echo(f"job {job_id}: " + ("back in the queue" if retry_failed(db.session, job_id)
                                             else "not failed, left as it is"))
        commit()
        return
    for row in list_jobs(db.session, statuses):
        click.echo(f"{row.id}\t{row.status}\t{row.task}\tattempts={row.attempts}\t"
                   f"{json.dumps(row.args, ensure_ascii=False)}\t{row.error}")
    discard()
    click.echo(", ".join(f"{status}: {count}" for status, count in sorted(counts(db.session).items())) or "no jobs")
    discard()


def _later() -> None:
    """After one of several commits of a catch-up, nothing runs yet: on SQLite the jobs it asked for run
    after the catch-up's last commit that runs them, on PostgreSQL a worker runs them."""


@click.command("check-personal-data")
def check_personal_data():
    """Read text on stdin; print each finding as one JSON line; exit 1 if anything was found.

    The text is checked as typed and as a reader sees it once rendered (as_shown: true; the offset
    is then into the rendered text)."""
    from .services.public_text import personal_data_in

    findings = personal_data_in({"text": sys.stdin.read()})
    for item in findings:
        finding = item.finding
        click.echo(json.dumps({"kind": finding.kind, "masked": finding.masked, "offset": finding.offset,
                               "as_shown": item.as_shown}, ensure_ascii=False))
    sys.exit(1 if findings else 0)


def _create_app():
    from . import create_app

    return create_app()


def main() -> None:
    FlaskGroup(create_app=_create_app, help="kindcity: the good city's donation matching site.")(prog_name="kindcity")


@click.command("rotate-rrn-key")
def rotate_rrn_key():
    """Re-encrypt every resident registration number under the current key (KINDCITY_RRN_KEY_ID or the
    key file's "current"); keep the old key configured until this has run."""
    from .services import SYSTEM
    from .services.tax_details import rotate

    with command():
        count = rotate(SYSTEM)
    click.echo(f"Re-encrypted {count} resident registration numbers.")


@click.command("purge-rrn")
def purge_rrn():
    """Erase the resident registration numbers whose retention has ended."""
    from .services import SYSTEM
    from .services.tax_details import purge

    with command():
        count = purge(SYSTEM, seoul_today())
    click.echo(f"Erased {count} resident registration numbers.")
