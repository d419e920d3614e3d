"""Load benchmark: kindcity's public pages under gunicorn against a bare Flask page of the same size.

    .venv/bin/python bench/load/run.py
    .venv/bin/python bench/load/run.py --reuse              # skip the load, use kindcity_load as it is
    .venv/bin/python bench/load/run.py --duration 10 --connections 32 --modes cached,uncached

Needs PostgreSQL (default postgresql+psycopg://postgres@127.0.0.1:5432/kindcity_load, dropped and
created here) and wrk (`apt-get install -y wrk`). Everything listens on 127.0.0.1 only.

1. Loads 10,000 needs and 200,000 pledges into a fresh database: donors and organisations, payments,
   and the journal (pledged, received, released) written with the ledger's own posting rules, so
   needs' reserved/confirmed agree with the journal. COPY for the big tables.
2. Serves kindcity with gunicorn (KINDCITY_ENV=production, a generated secret, plain-http cookies)
   and, with the same settings, bench/load/baseline.py: a bare Flask app returning a static page as
   large as kindcity's home page.
3. Drives each page with wrk (a warm-up, then bounded slices alternating with the baseline, so both
   see the same machine) and prints requests per second, p99 latency and the ratio to the baseline.
   Mode "cached" is the production default and a visitor without cookies (a first visit): rendered
   pages are kept per worker, keyed by the data version (re-read at most every second), and served
   by the front door without entering Flask. Mode "lang" is a visitor who chose English, "csrf" one
   whose session also holds a CSRF secret (they opened the login form): the front door still serves
   both. Mode "revalidate" sends If-None-Match with the page's ETag: Flask runs and answers 304
   (the cost of the app itself, with the data version trusted). Mode "uncached" turns the stores
   off (KINDCITY_PAGE_CACHE_SIZE=0): every request renders the page from the database.
   Modes "nginx" and "nginx-login" put deploy/nginx/kindcity.conf in front (TLS with a certificate made
   for the run, the one-second micro-cache) of the app and, through a second nginx of the same
   configuration, of the baseline: "nginx" is an anonymous visitor, "nginx-login" a logged-in donor
   (past the micro-cache: every request reaches the app).
4. Stops every process it started. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.error
import urllib.request
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import fresh_database  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from kindcity import create_app  # noqa: E402
from kindcity.domain import ledger as rules  # noqa: E402
from kindcity.domain.needs import NeedStatus  # noqa: E402
from kindcity.domain.pledges import PledgeStatus  # noqa: E402
from kindcity.domain.time import seoul_today, utcnow  # noqa: E402
from kindcity.extensions import db  # noqa: E402
from kindcity.models import BeneficiaryGroup, Category, Centre, Dong, Need, Organisation, User  # noqa: E402
from kindcity.services.accounts import hash_password  # noqa: E402
from kindcity.services.reference import seed_district  # noqa: E402
from kindcity.services.figures import refresh as refresh_figures  # noqa: E402
from kindcity.services.receipts import default_organisation  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kindcity_load"
VENV_BIN = Path(sys.executable).parent
AMOUNTS = (10_000, 20_000, 30_000, 50_000, 100_000, 200_000, 500_000)
TITLES = ("암 환자 서울 병원 이동", "홀몸 어르신 난방비", "학교 밖 청소년 수학여행", "장애인 가정 집수리", "한부모 가정 교복")
# Straight to 127.0.0.1, whatever http_proxy says; nginx's certificate is the run's own.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                   urllib.request.HTTPSHandler(context=ssl._create_unverified_context()))


# --- the data ---------------------------------------------------------------------------------------

def _copy(cursor, table: str, columns: tuple[str, ...], rows) -> int:
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def load(url: str, needs: int, pledges: int, donors: int, seed: int = 2026) -> None:
    """A district with ``needs`` needs and ``pledges`` direct pledges, consistent with its journal."""
    rng = random.Random(seed)
    started = time.perf_counter()
    fresh_database(url)
    # The schema as production builds it: every migration, so the PostgreSQL-only indexes (trigram,
    # expression) and the job queue's schema are there too. The loader's own jobs run in-process.
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-load-" + "x" * 32, "TESTING": True,
                      "KINDCITY_JOB_QUEUE": "inline"})
    now, today = utcnow(), seoul_today()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed_district(app.config["KINDCITY_DISTRICT"])
        db.session.commit()
        centres = db.session.scalars(select(Centre.id).order_by(Centre.id)).all()
        categories = db.session.scalars(select(Category.id)).all()
        dongs = db.session.scalars(select(Dong.id)).all()
        groups = db.session.scalars(select(BeneficiaryGroup.id)).all()
        password = hash_password("bench-load-password")
        receiving_org_id = default_organisation().id  # the district's own (services/receipts.py)
        staff_ids = db.session.execute(insert(User).returning(User.id, sort_by_parameter_order=True), [
            {"email": f"staff{n}@load.example", "password_hash": password, "display_name": f"담당자 {n}",
             "role": "staff", "centre_id": centre, "created_at": now, "password_changed_at": now,
             "email_confirmed_at": now}
            for n, centre in enumerate(centres)]).scalars().all()
        org_ids = db.session.execute(insert(Organisation).returning(Organisation.id, sort_by_parameter_order=True), [
            {"name": f"착한 가게 {n}", "kind": "good_shop", "business_number": f"100-00-{n:05d}", "created_at": now}
            for n in range(donors // 20)]).scalars().all()
        db.session.commit()
        # Donors go in by COPY with the journal below (an ORM INSERT of 20,000 took 638 s): ids after the staff's.
        first_donor = db.session.scalar(select(func.max(User.id))) + 1
        donor_ids = list(range(first_donor, first_donor + donors))
        donor_rows = [(donor_ids[n], f"donor{n}@load.example", password, f"후원자 {n}", "donor", True,
                       org_ids[n // 20] if n % 20 == 0 and n // 20 < len(org_ids) else None, now, now, False, 1, now)
                      for n in range(donors)]
        with_org = {donor_ids[n] for n in range(0, donors, 20) if n // 20 < len(org_ids)}

        # Needs: mostly open; some funded, delivering, completed (full); a few expired or cancelled (no money left).
        statuses = rng.choices([NeedStatus.OPEN, NeedStatus.FUNDED, NeedStatus.DELIVERING, NeedStatus.COMPLETED,
                                NeedStatus.EXPIRED, NeedStatus.CANCELLED], weights=(80, 8, 4, 5, 2, 1), k=needs)
        with_money = [n for n in range(needs) if statuses[n] not in (NeedStatus.EXPIRED, NeedStatus.CANCELLED)]
        weights = [rng.paretovariate(2.5) for _ in with_money]  # some popular needs (hundreds of donors), a long tail
        owners = rng.choices(with_money, weights=weights, k=pledges)
        plan = []   # (need index, donor id, amount, status, created_at)
        for owner in owners:
            full = statuses[owner] != NeedStatus.OPEN
            status = PledgeStatus.PAID if full else rng.choices(
                [PledgeStatus.PAID, PledgeStatus.AWAITING_PAYMENT, PledgeStatus.EXPIRED], weights=(80, 15, 5))[0]
            created = now - timedelta(days=rng.uniform(0, 5) if status == PledgeStatus.AWAITING_PAYMENT
                                      else rng.uniform(8, 365))
            plan.append((owner, rng.choice(donor_ids), rng.choice(AMOUNTS), status, created))
        confirmed, reserved = [0] * needs, [0] * needs
        for owner, _donor, amount, status, _created in plan:
            if status == PledgeStatus.PAID:
                confirmed[owner] += amount
            elif status == PledgeStatus.AWAITING_PAYMENT:
                reserved[owner] += amount
        need_rows = []
        for n in range(needs):
            money = confirmed[n] + reserved[n]
            status = statuses[n]
            if status == NeedStatus.OPEN:
                target = max(500_000, money * rng.choice((12, 15, 20, 30)) // 10 // 10_000 * 10_000 + 10_000)
                deadline = today + timedelta(days=rng.randint(1, 180))
            elif status in (NeedStatus.EXPIRED, NeedStatus.CANCELLED):
                target, deadline = rng.randint(50, 2000) * 10_000, today - timedelta(days=rng.randint(1, 200))
            elif money == 0:  # a full need without pledges cannot be: make it an open one
                status = statuses[n] = NeedStatus.OPEN
                target, deadline = rng.randint(50, 2000) * 10_000, today + timedelta(days=rng.randint(1, 180))
            else:
                target, deadline = money, today + timedelta(days=rng.randint(-120, 60))
            need_rows.append({
                "title": f"{rng.choice(TITLES)} {n + 1}",
                "summary": "서구의 이웃에게 꼭 필요한 도움을 모읍니다. 모금액은 전액 수혜자 지원에 쓰입니다.",
                "description": "## 지원 내용\n\n행정복지센터가 확인한 구체적인 필요입니다.\n\n" * 3,
                "category_id": rng.choice(categories), "dong_id": rng.choice(dongs), "group_id": rng.choice(groups),
                "beneficiary_count": rng.randint(1, 60), "target": target, "deadline": deadline,
                "receiving_org_id": receiving_org_id, "centre_id": centres[n % len(centres)],
                "author_id": staff_ids[n % len(staff_ids)], "approved_by_id": staff_ids[(n + 1) % len(staff_ids)],
                "approved_at": now - timedelta(days=rng.uniform(1, 365)), "status": status.value,
                "cancel_reason": "중복 등록" if status == NeedStatus.CANCELLED else None,
                "created_at": now - timedelta(days=400), "updated_at": now - timedelta(days=rng.uniform(1, 30)),
                "reserved": reserved[n], "confirmed": confirmed[n]})
        # Needs go in by COPY with the journal below (an INSERT of 100,000 rows took 12 minutes): ids from 1.
        assert db.session.scalar(select(func.count(Need.id))) == 0
        need_ids = list(range(1, needs + 1))
        print(f"  users and organisations in {time.perf_counter() - started:.1f} s", flush=True)

    raw = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    import psycopg

    pledge_rows, payment_rows, transactions, lines = [], [], [], []
    for pledge_id, (owner, donor, amount, status, created) in enumerate(plan, start=1):
        need_id = need_ids[owner]
        display = "organisation" if donor in with_org and pledge_id % 2 else ("name", "anonymous")[pledge_id % 2]
        held = amount if status == PledgeStatus.AWAITING_PAYMENT else 0
        paid = amount if status == PledgeStatus.PAID else 0
        expires = created + timedelta(days=7)
        pledge_rows.append((pledge_id, f"L{pledge_id:07d}", donor, need_id, "direct", amount, "bank", display,
                            "힘내세요!" if pledge_id % 5 == 0 else "", "refund", status.value, created, expires,
                            paid, held))
        postings = [(rules.pledged(pledge_id, need_id, amount), created)]
        if status == PledgeStatus.PAID:
            received_at = created + timedelta(hours=rng.uniform(1, 72))
            payment_rows.append((pledge_id, pledge_id, amount, "manual", f"load-{pledge_id}", received_at,
                                 received_at, "", None))
            postings.append((rules.received(pledge_id, amount, need_id=need_id, placed=amount, converted_hold=amount,
                                            memo=f"manual:load-{pledge_id}"), received_at))
        elif status == PledgeStatus.EXPIRED:
            postings.append((rules.released(pledge_id, need_id, amount), expires))
        for posting, at in postings:
            transaction_id = len(transactions) + 1
            transactions.append((transaction_id, posting.entry.value, at, posting.pledge_id, posting.need_id,
                                 posting.memo))
            lines.extend((transaction_id, line.account, line.amount) for line in posting.lines)
    with psycopg.connect(raw) as conn, conn.cursor() as cursor:
        _copy(cursor, "users", ("id", "email", "password_hash", "display_name", "role", "active", "organisation_id",
                                "created_at", "password_changed_at", "money_staff", "session_version",
                                "email_confirmed_at"), donor_rows)
        need_columns = tuple(need_rows[0])
        _copy(cursor, "needs", ("id", *need_columns),
              ((need_id, *(row[column] for column in need_columns)) for need_id, row in zip(need_ids, need_rows)))
        _copy(cursor, "pledges", ("id", "reference", "donor_id", "need_id", "kind", "amount", "method", "display",
                                  "message", "on_cancel", "status", "created_at", "hold_expires_at", "paid", "held"),
              pledge_rows)
        _copy(cursor, "payments", ("id", "pledge_id", "amount", "source", "external_id", "received_at", "recorded_at",
                                   "note", "recorded_by_id"), payment_rows)
        _copy(cursor, "ledger_transactions", ("id", "entry", "created_at", "pledge_id", "need_id", "memo"),
              transactions)
        _copy(cursor, "ledger_lines", ("transaction_id", "account", "amount"), lines)
        for table in ("users", "needs", "pledges", "payments", "ledger_transactions"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        cursor.execute("VACUUM ANALYZE")
    with app.app_context():  # the district figures the public pages read (kindcity/services/figures.py)
        counting = time.perf_counter()
        refresh_figures()
        db.session.commit()
        print(f"  district figures counted in {time.perf_counter() - counting:.1f} s", flush=True)
    print(f"  {len(pledge_rows):,} pledges, {len(payment_rows):,} payments, {len(transactions):,} journal "
          f"transactions, {len(lines):,} lines; loaded in {time.perf_counter() - started:.1f} s", flush=True)


def busiest_open_need(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        need_id = conn.execute(text(
            "SELECT n.id FROM needs n JOIN pledges p ON p.need_id = n.id WHERE n.status = 'open' "
            "GROUP BY n.id ORDER BY count(*) DESC, n.id LIMIT 1")).scalar_one()
    engine.dispose()
    return need_id


def busiest_category(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        code = conn.execute(text(
            "SELECT c.code FROM needs n JOIN categories c ON c.id = n.category_id WHERE n.status = 'open' "
            "GROUP BY c.code ORDER BY count(*) DESC, c.code LIMIT 1")).scalar_one()
    engine.dispose()
    return code


def wait_until_database_idle(url: str, limit: float = 180.0) -> None:
    """Queries of a stopped server may still run in PostgreSQL; the next measurement waits for them."""
    engine = create_engine(url)
    deadline = time.monotonic() + limit
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            busy = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND state = 'active' AND pid <> pg_backend_pid()")).scalar_one()
            conn.rollback()
            if not busy:
                break
            time.sleep(0.5)
    engine.dispose()


# --- serving and driving ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], args: argparse.Namespace, chdir: Path):
    port = free_port()
    command = [str(VENV_BIN / "gunicorn"), "-w", str(args.workers), "--threads", str(args.threads),
               "-b", f"127.0.0.1:{port}", "--chdir", str(chdir), "--log-level", "warning", app_spec]
    # Its request log (one JSON line per request, on in production) is written, as in production, and dropped.
    process = subprocess.Popen(command, env={**os.environ, **env}, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                HTTP.open(base + "/", timeout=10).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start: {' '.join(command)}") from None
                time.sleep(0.2)
        yield base
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """The gunicorn master and its workers: the process group this script started, and only that."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def nginx_in_front(upstream_base: str):
    """deploy/nginx/kindcity.conf, rendered as tests/stack does, in front of ``upstream_base``."""
    from tests.stack import nginx

    folder = Path(tempfile.mkdtemp(prefix="kindcity-bench-nginx-"))
    port = free_port()
    config = nginx.render(folder, app_servers=[upstream_base.removeprefix("http://")],
                          static_folder=ROOT / "static", http_port=free_port(), https_port=port)
    process = subprocess.Popen([nginx.NGINX, "-c", str(config), "-p", str(folder), "-e", str(folder / "error.log")],
                               start_new_session=True)
    try:
        base = f"https://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                HTTP.open(base + "/healthz", timeout=10).read()
                break
            except urllib.error.HTTPError:  # the baseline has no /healthz: nginx answered for it
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {(folder / 'error.log').read_text()}") from None
                time.sleep(0.2)
        yield base
    finally:
        _stop(process)
        shutil.rmtree(folder, ignore_errors=True)


def logged_in_cookie(app_base: str, email: str, password: str) -> str:
    """A donor's session cookie, from the real login form (its CSRF token included)."""
    form = HTTP.open(app_base + "/account/login", timeout=60)
    cookie = form.headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.read().decode()).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    try:
        opener.open(urllib.request.Request(app_base + "/account/login", data=data, headers={"Cookie": cookie}),
                    timeout=60)
    except urllib.error.HTTPError as answer:  # the 302 to the donor's page
        if answer.code != 302:
            raise
        return answer.headers["Set-Cookie"].split(";", 1)[0]
    raise RuntimeError("the login form did not log the donor in")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, args: argparse.Namespace, seconds: int, headers: dict[str, str] | None = None) -> dict:
    command = ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections), "-d", f"{seconds}s",
               "--timeout", "10s", "--latency", url]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*", output)
    return {"rps": rps, "p99_ms": float(value) * _UNITS[unit], "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(0) if socket_errors else ""}


def _combine(slices: list[dict]) -> dict:
    return {"rps": sum(r["rps"] for r in slices) / len(slices), "p99_ms": max(r["p99_ms"] for r in slices),
            "non_2xx": sum(r["non_2xx"] for r in slices),
            "socket_errors": "; ".join(sorted({r["socket_errors"] for r in slices if r["socket_errors"]}))}


def measure(app_base: str, path: str, baseline_base: str, args: argparse.Namespace,
            headers: dict[str, str]) -> tuple[dict, dict]:
    """The page and the baseline in alternating slices, so both see the same machine (other work on it
    comes and goes); between slices the app drains what wrk left queued."""
    wrk(app_base + path, args, args.warmup, headers)
    wrk(baseline_base + "/", args, 1, headers)
    seconds = max(1, args.duration // args.rounds)
    pages, baselines = [], []
    for _ in range(args.rounds):
        baselines.append(wrk(baseline_base + "/", args, seconds, headers))
        pages.append(wrk(app_base + path, args, seconds, headers))
        HTTP.open(app_base + "/healthz", timeout=300).read()
        wait_until_database_idle(args.database)
    return _combine(pages), _combine(baselines)


def session_cookie(app_base: str, first_path: str) -> str:
    """The session cookie a visitor holds after ``first_path``, followed (on the home page) until the
    app stops rewriting it, as a browser would."""
    cookie, url = "", app_base + first_path
    for _ in range(5):
        response = HTTP.open(urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {}), timeout=60)
        response.read()
        if not response.headers.get("Set-Cookie"):
            return cookie
        cookie, url = response.headers["Set-Cookie"].split(";", 1)[0], app_base + "/"
    return cookie


def app_env(url: str, page_cache: bool) -> dict[str, str]:
    return {"DATABASE_URL": url, "KINDCITY_ENV": "production", "KINDCITY_SECRET_KEY": secrets.token_urlsafe(48),
            "KINDCITY_SECURE_COOKIES": "0", "KINDCITY_BASE_URL": "http://127.0.0.1", "KINDCITY_PAGE_CACHE_SIZE": "256" if page_cache else "0"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get("KINDCITY_LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--reuse", action="store_true", help="use the database as it is (no drop, no load)")
    parser.add_argument("--needs", type=int, default=10_000)
    parser.add_argument("--pledges", type=int, default=200_000)
    parser.add_argument("--donors", type=int, default=20_000)
    parser.add_argument("--scale", type=int, default=1,
                        help="multiply needs, pledges and donors (10: 100,000 needs, 2,000,000 pledges, "
                             "about 10,000,000 journal lines)")
    parser.add_argument("--pages", default="", help="only these pages, by name (comma-separated: home, needs list, "
                        "a category, keyword search, need, need's impact, impact dashboard, donor wall)")
    parser.add_argument("--load-only", action="store_true", help="load the data and stop (for kindcity reconcile "
                        "or bench/load/reconcile.py on it)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load per page (and baseline)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating slices the duration is cut into")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before each")
    parser.add_argument("--modes", default="cached,lang,csrf,revalidate,uncached,nginx,nginx-login",
                        help="cached: no cookie (a first visit); lang: a session cookie holding the chosen "
                             "language (English); csrf: a session that also holds a CSRF secret (the visitor "
                             "opened the login form); revalidate: If-None-Match with the page's ETag, answered "
                             "304 by the app; uncached: page stores off, every request renders; nginx: an "
                             "anonymous visitor through deploy/'s nginx (TLS, micro-cache); nginx-login: a "
                             "logged-in donor through nginx")
    args = parser.parse_args()
    if not args.load_only and subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        sys.exit("wrk is not installed: apt-get install -y wrk")

    args.needs, args.pledges, args.donors = (n * args.scale for n in (args.needs, args.pledges, args.donors))
    if not args.reuse:
        print(f"loading {args.needs:,} needs and {args.pledges:,} pledges into {make_url(args.database).database}",
              flush=True)
        load(args.database, args.needs, args.pledges, args.donors)
    if args.load_only:
        return
    need_id, category = busiest_open_need(args.database), busiest_category(args.database)
    # The public pages of issue 15: home, the list, a filtered list, a keyword search, a need, its
    # impact page, the district's impact and the donor wall.
    pages = [("home", "/"), ("needs list", "/needs"), ("a category", f"/needs?category={category}"),
             ("keyword search", "/needs?q=%EB%82%9C%EB%B0%A9%EB%B9%84"), (f"need #{need_id}", f"/needs/{need_id}"),
             ("need's impact", f"/needs/{need_id}/impact"), ("impact dashboard", "/impact"), ("donor wall", "/donors")]
    if args.pages:
        wanted = {name.strip() for name in args.pages.split(",")}
        pages = [(name, path) for name, path in pages if name.split(" #")[0] in wanted]

    rows = []
    load_before = os.getloadavg()
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        with contextlib.ExitStack() as running:
            app_base = running.enter_context(
                gunicorn("kindcity:create_app()", app_env(args.database, mode != "uncached"), args, ROOT))
            cookie = {"lang": lambda: session_cookie(app_base, "/?lang=en"),
                      "csrf": lambda: session_cookie(app_base, "/account/login"),
                      "nginx-login": lambda: logged_in_cookie(app_base, "donor1@load.example", "bench-load-password"),
                      }.get(mode, lambda: "")()
            if mode.startswith("nginx"):
                app_base = running.enter_context(nginx_in_front(app_base))
            sizes, headers = {}, {}
            for name, path in pages:
                headers[path] = {"Cookie": cookie} if cookie else {}
                try:
                    response = HTTP.open(urllib.request.Request(app_base + path, headers=headers[path]), timeout=60)
                    sizes[path] = len(response.read())
                except OSError as error:
                    print(f"  {name} ({path}) is not served: {error}; left out", flush=True)
                    continue
                if mode == "revalidate" and response.headers.get("ETag"):
                    headers[path] = {"If-None-Match": response.headers["ETag"]}
                elif mode == "revalidate":
                    print(f"  {name} ({path}) sends no ETag: measured without one", flush=True)
            baseline_env = {"BASELINE_BYTES": str(sizes["/"])}
            with contextlib.ExitStack() as baseline_running:
                baseline_base = baseline_running.enter_context(
                    gunicorn("baseline:app", baseline_env, args, ROOT / "bench" / "load"))
                if mode.startswith("nginx"):  # the same proxy in front of the baseline (it sends no s-maxage)
                    baseline_base = baseline_running.enter_context(nginx_in_front(baseline_base))
                for name, path in pages:
                    if path in sizes:
                        print(f"  {mode}: {name} ...", flush=True)
                        page, baseline = measure(app_base, path, baseline_base, args, headers[path])
                        rows.append((mode, name, sizes[path], page, baseline))
        wait_until_database_idle(args.database)

    print()
    print(f"gunicorn -w {args.workers} --threads {args.threads} (app and baseline alike); wrk -t{args.wrk_threads} "
          f"-c{args.connections}, {args.rounds} x {max(1, args.duration // args.rounds)} s per page and as many for "
          f"the baseline, alternating, after a {args.warmup} s warm-up; {os.cpu_count()} CPUs shared by wrk, "
          f"gunicorn and PostgreSQL; load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")
    header = (f"{'mode':<10} {'page':<18} {'bytes':>6} {'req/s':>7} {'p99 ms':>8} {'baseline req/s':>15} "
              f"{'p99 ms':>7} {'ratio':>6}  errors")
    print(header)
    print("-" * len(header))
    for mode, name, size, page, baseline in rows:
        ratio = page["rps"] / baseline["rps"] if baseline["rps"] else 0.0
        problems = (f"{page['non_2xx']} non-2xx " if page["non_2xx"] else "") + page["socket_errors"]
        if page["rps"] == 0:
            problems = f"no request finished within wrk's 10 s timeout {problems}".strip()
        print(f"{mode:<10} {name:<18} {size:>6} {page['rps']:>7.0f} {page['p99_ms']:>8.1f} {baseline['rps']:>15.0f} "
              f"{baseline['p99_ms']:>7.1f} {ratio:>6.0%}  {problems}")


if __name__ == "__main__":
    main()
