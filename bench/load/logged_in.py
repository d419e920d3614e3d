"""Load benchmark of the logged-in pages: a donor with 1,000 pledges and the staff's working pages.

    .venv/bin/python bench/load/run.py --load-only --database postgresql+psycopg://postgres@127.0.0.1:5432/kindcity_load
    .venv/bin/python bench/load/logged_in.py --database postgresql+psycopg://postgres@127.0.0.1:5432/kindcity_load

On a database loaded by bench/load/run.py (10,000 needs / 200,000 pledges at --scale 1), this adds what
the pages of issue 15 need, once (each step checks what is there first):
- a donor, many@load.example, who holds 1,000 of the loaded paid pledges (moved to them: the journal
  does not name donors, so it still agrees with itself);
- an administrator with money permission, admin@load.example (the password of the loaded accounts);
- audit entries up to 1,000,000 and 200 open referrals, written by the database itself
  (INSERT ... SELECT over generate_series, the fastest way to make rows that need no Python);
- a 10,000-row bank statement, uploaded through the staff page as a person would (its preview).

Then serves kindcity with gunicorn as production does (KINDCITY_ENV=production, page store on: it does
not serve logged-in visitors anyway), logs both in through the real login form, and drives each page
with wrk at --connections (16) for --duration seconds after a warm-up, printing p50, p99 and req/s.
The machine's other work is not stopped: the load average before and after is printed with the
figures. Asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.load.run import (HTTP, app_env, gunicorn, logged_in_cookie, wait_until_database_idle)  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kindcity_load"
PASSWORD = "bench-load-password"
DONOR, ADMIN = "many@load.example", "admin@load.example"
AUDIT_ENTRIES, REFERRALS, DONOR_PLEDGES, STATEMENT_ROWS = 1_000_000, 200, 1_000, 10_000


def prepare(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        one = lambda sql, **kw: conn.execute(text(sql), kw).scalar()  # noqa: E731
        if not one("SELECT count(*) FROM users WHERE email = :e", e=ADMIN):
            conn.execute(text(
                "INSERT INTO users (email, password_hash, display_name, role, centre_id, created_at, "
                "password_changed_at, email_confirmed_at, money_staff, active, session_version) "
                "SELECT :e, password_hash, '관리자', 'admin', (SELECT id FROM centres WHERE is_district_office "
                "ORDER BY id LIMIT 1), now(), now(), now(), true, true, session_version FROM users "
                "WHERE email = 'staff0@load.example'"), {"e": ADMIN})
        if not one("SELECT count(*) FROM users WHERE email = :e", e=DONOR):
            conn.execute(text(
                "INSERT INTO users (email, password_hash, display_name, role, created_at, password_changed_at, "
                "email_confirmed_at, money_staff, active, session_version) SELECT :e, password_hash, '많이 나눈 이웃', "
                "'donor', now(), now(), now(), false, true, session_version FROM users "
                "WHERE email = 'donor1@load.example'"), {"e": DONOR})
        donor_id = one("SELECT id FROM users WHERE email = :e", e=DONOR)
        admin_id = one("SELECT id FROM users WHERE email = :e", e=ADMIN)
        have = one("SELECT count(*) FROM pledges WHERE donor_id = :d", d=donor_id)
        if have < DONOR_PLEDGES:
            conn.execute(text(
                "UPDATE pledges SET donor_id = :d WHERE id IN (SELECT id FROM pledges WHERE donor_id <> :d "
                "AND status = 'paid' ORDER BY id LIMIT :n)"), {"d": donor_id, "n": DONOR_PLEDGES - have})
        have = one("SELECT count(*) FROM audit_entries")
        if have < AUDIT_ENTRIES:
            conn.execute(text(
                "INSERT INTO audit_entries (at, actor_id, action, entity, entity_id) "
                "SELECT now() - g * interval '1 second', :a, 'need.approve', 'need', g % 10000 + 1 "
                "FROM generate_series(1, :n) AS g"), {"a": admin_id, "n": AUDIT_ENTRIES - have})
        have = one("SELECT count(*) FROM referrals")
        if have < REFERRALS:
            conn.execute(text(
                "INSERT INTO referrals (code, dong_id, centre_id, urgency, situation, contact, status, address, "
                "created_at) SELECT 'BENCH' || lpad(g::text, 6, '0'), c.dong_id, c.id, "
                "CASE WHEN g % 3 = 0 THEN 'urgent' ELSE 'normal' END, '이웃 어르신의 난방이 끊긴 것 같습니다', '이웃', "
                "'new', '127.0.0.1', now() - g * interval '1 minute' FROM generate_series(1, :n) AS g, "
                "(SELECT id, dong_id FROM centres WHERE dong_id IS NOT NULL ORDER BY id LIMIT 1) AS c"),
                {"n": REFERRALS - have})
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    engine.dispose()


def statement_preview(app_base: str, cookie: str, url: str) -> str:
    """The path of a 10,000-row statement's preview: the newest such upload, or one uploaded now."""
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT id FROM statement_imports WHERE filename = 'bench-10000.csv' "
                                  "ORDER BY id DESC LIMIT 1")).scalar()
    engine.dispose()
    if found:
        return f"/staff/statements/{found}"
    page = HTTP.open(urllib.request.Request(app_base + "/staff/statements", headers={"Cookie": cookie}), timeout=60)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.read().decode()).group(1)
    if page.headers.get("Set-Cookie"):  # the session now holds the form's CSRF secret
        cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    start = datetime.now(timezone.utc) - timedelta(days=2)
    rows = ["거래일시,적요,출금액,입금액,입금자명,잔액"] + [
        f'{(start + timedelta(seconds=n)).strftime("%Y-%m-%d %H:%M:%S")},타행이체,0,"{10_000 + n}",입금자{n},"{n}"'
        for n in range(STATEMENT_ROWS)]
    boundary = "bench-statement"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="statement"; filename="bench-10000.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n").encode() + "\n".join(rows).encode() + f"\r\n--{boundary}--\r\n".encode()

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    try:
        opener.open(urllib.request.Request(app_base + "/staff/statements", data=body, headers={
            "Cookie": cookie, "Content-Type": f"multipart/form-data; boundary={boundary}"}), timeout=300)
    except urllib.error.HTTPError as answer:
        if answer.code == 303:
            return urllib.parse.urlparse(answer.headers["Location"]).path
        raise
    raise RuntimeError("the statement upload did not answer with its preview")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, args, seconds: int, cookie: str) -> dict:
    command = ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections), "-d", f"{seconds}s", "--timeout",
               "10s", "--latency", "-H", f"Cookie: {cookie}", url]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    found = {}
    for label in ("50", "99"):
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        found[f"p{label}_ms"] = float(value) * _UNITS[unit]
    found["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    found["errors"] = int(errors.group(1)) if errors else 0
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get("KINDCITY_LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load per page")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before each")
    parser.add_argument("--pages", default="", help="only these pages, by name (comma-separated)")
    args = parser.parse_args()

    prepare(args.database)
    load_before = os.getloadavg()
    rows = []
    with gunicorn("kindcity:create_app()", app_env(args.database, True), args, ROOT) as app_base:
        cookies = {"donor": logged_in_cookie(app_base, DONOR, PASSWORD),
                   "staff": logged_in_cookie(app_base, ADMIN, PASSWORD)}
        preview = statement_preview(app_base, cookies["staff"], args.database)
        pages = [("donor /me/", "donor", "/me/"), ("donor /me/impact", "donor", "/me/impact"),
                 ("donor history CSV", "donor", "/me/history.csv"), ("staff money queue", "staff", "/staff/pledges"),
                 ("statement preview", "staff", preview), ("referral queue", "staff", "/staff/referrals"),
                 ("audit log", "staff", "/staff/audit"), ("staff matching", "staff", "/staff/matching")]
        if args.pages:
            wanted = {name.strip() for name in args.pages.split(",")}
            pages = [page for page in pages if page[0] in wanted]
        for name, who, path in pages:
            response = HTTP.open(urllib.request.Request(app_base + path, headers={"Cookie": cookies[who]}),
                                 timeout=120)
            size = len(response.read())
            print(f"  {name} ({path}, {size:,} bytes) ...", flush=True)
            wrk(app_base + path, args, args.warmup, cookies[who])
            rows.append((name, size, wrk(app_base + path, args, args.duration, cookies[who])))
            wait_until_database_idle(args.database)
    print()
    print(f"gunicorn -w {args.workers} --threads {args.threads}; wrk -t{args.wrk_threads} -c{args.connections}, "
          f"{args.duration} s per page after a {args.warmup} s warm-up; {os.cpu_count()} CPUs shared by wrk, "
          f"gunicorn, PostgreSQL and other work; load average {load_before[0]:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after")
    header = f"{'page':<20} {'bytes':>9} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}  errors"
    print(header)
    print("-" * len(header))
    for name, size, found in rows:
        print(f"{name:<20} {size:>9,} {found['rps']:>7.1f} {found['p50_ms']:>8.1f} {found['p99_ms']:>8.1f}  "
              f"{found['errors'] or ''}")


if __name__ == "__main__":
    main()
