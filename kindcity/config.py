"""Configuration, read from the environment by the caller (``create_app``) and never at import time.

Settings are ``KINDCITY_*`` variables plus ``DATABASE_URL``. The embedded default is a SQLite file
in the instance folder (``instance/`` in the checkout, or ``KINDCITY_INSTANCE_PATH``); production
(``KINDCITY_ENV=production``) refuses to start without a real secret.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping

DEV_SECRET = "dev-only-insecure-secret"  # noqa: S105 - refused in production below


class ConfigError(RuntimeError):
    """The configuration cannot run the site safely."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def instance_folder(default: str | None, configured: str | None = None,
                    environ: Mapping[str, str] | None = None) -> str | None:
    """The instance folder: its database by default, the outbox, the uploads. ``configured`` (the factory's
    dict) or ``KINDCITY_INSTANCE_PATH`` moves all of them at once, so two instances started from one
    checkout share no file; else ``default`` (``instance/`` in a checkout; None, Flask's own default, for
    an installed wheel: kindcity.paths). Always absolute (Flask requires it)."""
    env = os.environ if environ is None else environ
    chosen = (configured or env.get("KINDCITY_INSTANCE_PATH") or "").strip()
    return os.path.abspath(os.path.expanduser(chosen)) if chosen else default


def _schedule(text: str) -> dict[str, str]:
    pairs = (part.split("=", 1) for part in text.split(";") if "=" in part)
    return {name.strip(): cron.strip() for name, cron in pairs}


def load_config(instance_path: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    mode = env.get("KINDCITY_ENV", "development")
    production = mode == "production"
    default_db = "sqlite:///" + str(Path(instance_path) / "kindcity.sqlite3")
    cfg: dict[str, Any] = {
        "KINDCITY_ENV": mode,
        "KINDCITY_INSTANCE_PATH": instance_path,
        "SECRET_KEY": env.get("KINDCITY_SECRET_KEY", DEV_SECRET),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(env.get("DATABASE_URL", default_db)),
        "KINDCITY_DISTRICT": env.get("KINDCITY_DISTRICT", "gwangju-seogu"),
        "KINDCITY_RECEIVING_ORG": env.get("KINDCITY_RECEIVING_ORG", ""),
        # Resident registration numbers for year-end reporting (kindcity/rrn_keys.py, docs/receipts.md): keys in
        # the environment or a key file, never in the database. Unset: donors cannot ask for reporting.
        "KINDCITY_RRN_KEYS": env.get("KINDCITY_RRN_KEYS", ""),
        "KINDCITY_RRN_KEY_ID": env.get("KINDCITY_RRN_KEY_ID", ""),
        "KINDCITY_RRN_KEY_FILE": env.get("KINDCITY_RRN_KEY_FILE", ""),
        "KINDCITY_OUTBOX": env.get("KINDCITY_OUTBOX", str(Path(instance_path) / "outbox")),
        # Report photos: outside static/, served only through a route that checks publication.
        "KINDCITY_UPLOAD_DIR": env.get("KINDCITY_UPLOAD_DIR", str(Path(instance_path) / "uploads")),
        "KINDCITY_SMTP_URL": env.get("KINDCITY_SMTP_URL", ""),
        # Jobs (kindcity/jobs/): "auto" queues them on PostgreSQL and runs them in-process on SQLite.
        "KINDCITY_JOB_QUEUE": env.get("KINDCITY_JOB_QUEUE", "auto"),
        "KINDCITY_JOB_MAX_ATTEMPTS": int(env.get("KINDCITY_JOB_MAX_ATTEMPTS", "8")),
        "KINDCITY_JOB_RETRY_BASE_SECONDS": int(env.get("KINDCITY_JOB_RETRY_BASE_SECONDS", "3")),
        "KINDCITY_WORKER_STALLED_SECONDS": float(env.get("KINDCITY_WORKER_STALLED_SECONDS", "30")),
        "KINDCITY_WORKER_STALLED_CRON": env.get("KINDCITY_WORKER_STALLED_CRON", "* * * * *"),
        # "job.name=cron;job.name=cron": another schedule for some upkeep jobs (kindcity/jobs/upkeep.py).
        "KINDCITY_SCHEDULE": _schedule(env.get("KINDCITY_SCHEDULE", "")),
        # Which finished jobs the worker deletes: successful (default), always, never (keep them all).
        "KINDCITY_WORKER_DELETE_JOBS": env.get("KINDCITY_WORKER_DELETE_JOBS", "successful"),
        "KINDCITY_MAIL_FROM": env.get("KINDCITY_MAIL_FROM", "noreply@kindcity.example"),
        # The site's address as donors reach it, for links in mail sent outside a request (`kindcity recurring`).
        "KINDCITY_BASE_URL": env.get("KINDCITY_BASE_URL", ""),
        # Proxies in front of the site whose X-Forwarded-For / -Proto are believed (ProxyFix); 0 believes none, so a
        # visitor cannot forge an address. Behind one nginx: 1. Every limit per address and the audit log use it.
        "KINDCITY_PROXY_HOPS": int(env.get("KINDCITY_PROXY_HOPS", "0")),
        "KINDCITY_LOGIN_MAX_FAILURES_PER_ACCOUNT": int(env.get("KINDCITY_LOGIN_MAX_FAILURES_PER_ACCOUNT", "5")),
        "KINDCITY_LOGIN_MAX_FAILURES_PER_ADDRESS": int(env.get("KINDCITY_LOGIN_MAX_FAILURES_PER_ADDRESS", "20")),
        "KINDCITY_LOGIN_WINDOW_MINUTES": int(env.get("KINDCITY_LOGIN_WINDOW_MINUTES", "15")),
        # Forgotten passwords: how long a reset link works, and how many links per hour per e-mail / per address.
        "KINDCITY_PASSWORD_RESET_MINUTES": int(env.get("KINDCITY_PASSWORD_RESET_MINUTES", "60")),
        "KINDCITY_PASSWORD_RESET_MAX_PER_EMAIL": int(env.get("KINDCITY_PASSWORD_RESET_MAX_PER_EMAIL", "3")),
        "KINDCITY_PASSWORD_RESET_MAX_PER_ADDRESS": int(env.get("KINDCITY_PASSWORD_RESET_MAX_PER_ADDRESS", "10")),
        # Referrals (사각지대 제보): their words are erased this many days after they are closed; a few per hour
        # may be sent from one network address.
        "KINDCITY_REFERRAL_RETENTION_DAYS": int(env.get("KINDCITY_REFERRAL_RETENTION_DAYS", "180")),
        "KINDCITY_REFERRAL_MAX_PER_ADDRESS": int(env.get("KINDCITY_REFERRAL_MAX_PER_ADDRESS", "5")),
        # Text messages (docs/sms.md): SOLAPI when an API key is set, else the demo provider (outbox folder; not in
        # production). The sending number must be registered with SOLAPI beforehand (발신번호 사전등록).
        "KINDCITY_SMS_SENDER": env.get("KINDCITY_SMS_SENDER", ""),
        "KINDCITY_SOLAPI_API_KEY": env.get("KINDCITY_SOLAPI_API_KEY", ""),
        "KINDCITY_SOLAPI_API_SECRET": env.get("KINDCITY_SOLAPI_API_SECRET", ""),
        "KINDCITY_SOLAPI_API_BASE": env.get("KINDCITY_SOLAPI_API_BASE", ""),
        "KINDCITY_SOLAPI_KAKAO_PFID": env.get("KINDCITY_SOLAPI_KAKAO_PFID", ""),
        "KINDCITY_SOLAPI_KAKAO_TEMPLATES": env.get("KINDCITY_SOLAPI_KAKAO_TEMPLATES", ""),
        "KINDCITY_SMS_WEBHOOK_TOLERANCE": int(env.get("KINDCITY_SMS_WEBHOOK_TOLERANCE", "300")),
        # Texts from one number kept in full per hour (the rest only counted); cases' words and numbers are
        # erased this many days after they are closed.
        "KINDCITY_SMS_MAX_PER_HOUR": int(env.get("KINDCITY_SMS_MAX_PER_HOUR", "20")),
        "KINDCITY_TEXT_RETENTION_DAYS": int(env.get("KINDCITY_TEXT_RETENTION_DAYS", "180")),
        "KINDCITY_BANK_HOLD_DAYS": int(env.get("KINDCITY_BANK_HOLD_DAYS", "7")),
        # Card payments (docs/stripe.md): Stripe when a secret key is set, else the demo provider (not in production).
        "KINDCITY_STRIPE_SECRET_KEY": env.get("KINDCITY_STRIPE_SECRET_KEY", ""),
        "KINDCITY_STRIPE_WEBHOOK_SECRET": env.get("KINDCITY_STRIPE_WEBHOOK_SECRET", ""),
        "KINDCITY_STRIPE_ACCOUNT": env.get("KINDCITY_STRIPE_ACCOUNT", ""),
        "KINDCITY_STRIPE_API_BASE": env.get("KINDCITY_STRIPE_API_BASE", ""),
        "KINDCITY_STRIPE_NETWORK_RETRIES": int(env.get("KINDCITY_STRIPE_NETWORK_RETRIES", "2")),
        # Korean rails (docs/payments.md): PortOne when its API secret is set, else the demo (not in production).
        "KINDCITY_PORTONE_STORE_ID": env.get("KINDCITY_PORTONE_STORE_ID", ""),
        "KINDCITY_PORTONE_API_SECRET": env.get("KINDCITY_PORTONE_API_SECRET", ""),
        "KINDCITY_PORTONE_WEBHOOK_SECRET": env.get("KINDCITY_PORTONE_WEBHOOK_SECRET", ""),
        "KINDCITY_PORTONE_CHANNEL_CARD": env.get("KINDCITY_PORTONE_CHANNEL_CARD", ""),
        "KINDCITY_PORTONE_CHANNEL_EASY_PAY": env.get("KINDCITY_PORTONE_CHANNEL_EASY_PAY", ""),
        "KINDCITY_PORTONE_CHANNEL_VIRTUAL_ACCOUNT": env.get("KINDCITY_PORTONE_CHANNEL_VIRTUAL_ACCOUNT", ""),
        "KINDCITY_PORTONE_VIRTUAL_ACCOUNT_HOURS": int(env.get("KINDCITY_PORTONE_VIRTUAL_ACCOUNT_HOURS", "72")),
        "KINDCITY_PORTONE_CHANNEL_BILLING": env.get("KINDCITY_PORTONE_CHANNEL_BILLING", ""),
        # How long after a declined instalment its one retry is charged.
        "KINDCITY_PORTONE_RETRY_HOURS": int(env.get("KINDCITY_PORTONE_RETRY_HOURS", "24")),
        "KINDCITY_PORTONE_API_BASE": env.get("KINDCITY_PORTONE_API_BASE", ""),
        "KINDCITY_CARD_HOLD_MINUTES": int(env.get("KINDCITY_CARD_HOLD_MINUTES", "30")),
        "KINDCITY_PAGE_SIZE": int(env.get("KINDCITY_PAGE_SIZE", "12")),
        # Rendered public pages kept per worker for anonymous visitors (kindcity/web/caching.py); 0 turns it off.
        "KINDCITY_PAGE_CACHE_SIZE": int(env.get("KINDCITY_PAGE_CACHE_SIZE", "256")),
        "KINDCITY_PAGE_CACHE_SECONDS": int(env.get("KINDCITY_PAGE_CACHE_SECONDS", "60")),
        # Anonymous public requests may reuse a data version read this recently (production only by default).
        "KINDCITY_DATA_VERSION_SECONDS": float(env.get("KINDCITY_DATA_VERSION_SECONDS", "1" if production else "0")),
        # How long a process keeps the district's reference data (services/reference.py): 0 reads it each time.
        "KINDCITY_REFERENCE_SECONDS": float(env.get("KINDCITY_REFERENCE_SECONDS", "60" if production else "0")),
        # A shared cache in front of the app servers (deploy/nginx) may keep anonymous public pages this long.
        "KINDCITY_SHARED_CACHE_SECONDS": int(env.get("KINDCITY_SHARED_CACHE_SECONDS", "1" if production else "0")),
        # One JSON line per request on stdout (kindcity/request_log.py); on by default in production.
        "KINDCITY_REQUEST_LOG": _bool(env.get("KINDCITY_REQUEST_LOG"), production),
        # Error reports to Sentry (or a self-hosted Sentry) when set; nothing is sent otherwise.
        "SENTRY_DSN": env.get("SENTRY_DSN", ""),
        # The release's name, the same on every host of one deployment (page validators, error reports).
        "KINDCITY_RELEASE": env.get("KINDCITY_RELEASE", ""),
        # District-wide figures (/impact, its API, /donors, home totals) are counted again by a job this
        # long after money moves (PostgreSQL: one recount for everything that moved meanwhile).
        "KINDCITY_FIGURES_DELAY_SECONDS": float(env.get("KINDCITY_FIGURES_DELAY_SECONDS", "5" if production else "0")),
        "MAX_CONTENT_LENGTH": int(env.get("KINDCITY_MAX_CONTENT_LENGTH", str(12 * 1024 * 1024))),
        "MAX_FORM_MEMORY_SIZE": 512 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("KINDCITY_SECURE_COOKIES"), production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool(env.get("KINDCITY_SECURE_COOKIES"), production),
        "REMEMBER_COOKIE_DURATION": timedelta(days=14),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "ko",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Seoul",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }
    return cfg


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgres://`` and ``postgresql://`` forms and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def check_config(cfg: Mapping[str, Any]) -> None:
    """Fail fast rather than run production with a guessable secret."""
    if not 0 <= int(cfg.get("KINDCITY_PROXY_HOPS") or 0) <= 5:
        raise ConfigError("KINDCITY_PROXY_HOPS must be the number of proxies in front of the site (0 to 5)")
    if cfg.get("KINDCITY_ENV") == "production":
        secret = cfg.get("SECRET_KEY") or ""
        if secret == DEV_SECRET or len(secret) < 32:
            raise ConfigError(
                "KINDCITY_SECRET_KEY must be set to a random value of at least 32 characters in production"
            )
        base = cfg.get("KINDCITY_BASE_URL") or ""
        if not base.startswith(("https://", "http://")):
            # Links in mail (password resets above all) must never follow a request's Host header.
            raise ConfigError("KINDCITY_BASE_URL must be set to the site's public address (https://...) in production")
    check_card_config(cfg)
    check_portone_config(cfg)
    check_sms_config(cfg)


def check_card_config(cfg: Mapping[str, Any]) -> None:
    """Stripe's Checkout lives 30 minutes to 24 hours; production needs the webhook secret and the real API."""
    minutes = cfg.get("KINDCITY_CARD_HOLD_MINUTES", 30)
    if cfg.get("KINDCITY_STRIPE_SECRET_KEY") and not 30 <= minutes <= 23 * 60:
        raise ConfigError("KINDCITY_CARD_HOLD_MINUTES must be between 30 and 1380 with Stripe")
    if cfg.get("KINDCITY_ENV") == "production" and cfg.get("KINDCITY_STRIPE_SECRET_KEY"):
        if not cfg.get("KINDCITY_STRIPE_WEBHOOK_SECRET"):
            raise ConfigError("KINDCITY_STRIPE_WEBHOOK_SECRET must be set when Stripe is used in production")
        if cfg.get("KINDCITY_STRIPE_API_BASE"):
            raise ConfigError("KINDCITY_STRIPE_API_BASE is for tests only; leave it empty in production")


PORTONE_SETTINGS = ("KINDCITY_PORTONE_STORE_ID", "KINDCITY_PORTONE_API_SECRET", "KINDCITY_PORTONE_WEBHOOK_SECRET")
PORTONE_CHANNELS = ("KINDCITY_PORTONE_CHANNEL_CARD", "KINDCITY_PORTONE_CHANNEL_EASY_PAY",
                    "KINDCITY_PORTONE_CHANNEL_VIRTUAL_ACCOUNT")


def check_portone_config(cfg: Mapping[str, Any]) -> None:
    """PortOne is off without its settings; production refuses half a configuration and the test API base."""
    if cfg.get("KINDCITY_ENV") != "production":
        return
    given = [name for name in PORTONE_SETTINGS + PORTONE_CHANNELS if cfg.get(name)]
    if not given:
        return
    missing = [name for name in PORTONE_SETTINGS if not cfg.get(name)]
    if missing:
        raise ConfigError("PortOne is half configured; also set " + ", ".join(missing))
    if not any(cfg.get(name) for name in PORTONE_CHANNELS):
        raise ConfigError("PortOne needs at least one channel key: " + ", ".join(PORTONE_CHANNELS))
    if cfg.get("KINDCITY_PORTONE_API_BASE"):
        raise ConfigError("KINDCITY_PORTONE_API_BASE is for tests only; leave it empty in production")


def check_sms_config(cfg: Mapping[str, Any]) -> None:
    """SOLAPI needs its secret and a registered sending number; the fake-server base address is for tests."""
    if not cfg.get("KINDCITY_SOLAPI_API_KEY"):
        return
    if not cfg.get("KINDCITY_SOLAPI_API_SECRET"):
        raise ConfigError("KINDCITY_SOLAPI_API_SECRET must be set with KINDCITY_SOLAPI_API_KEY")
    from .domain.texts import TextRuleError, check_sender_number

    try:
        check_sender_number(cfg.get("KINDCITY_SMS_SENDER") or "")
    except TextRuleError:
        raise ConfigError("KINDCITY_SMS_SENDER must be the district's registered sending number (발신번호)") from None
    if cfg.get("KINDCITY_ENV") == "production" and cfg.get("KINDCITY_SOLAPI_API_BASE"):
        raise ConfigError("KINDCITY_SOLAPI_API_BASE is for tests only; leave it empty in production")
