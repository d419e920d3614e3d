"""One JSON line per request (and per job) on stdout, and the request id that ties a request to what it
causes.

The log wraps the whole WSGI app (the page cache's front door included), so a page served without
entering Flask is logged too. The request id is nginx's ``X-Request-ID`` when it sends a sane one
(deploy/nginx sets it to ``$request_id``), else a new one; it is echoed in the response and
``current_request_id()`` hands it to code that queues work, so a job's log lines can name it.
The client address is ``REMOTE_ADDR`` as the app saw it after its own handling (a ProxyFix inside
corrects it in place), so behind the proxy it is the visitor's, not nginx's.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import Flask, has_request_context, request
from werkzeug.wsgi import ClosingIterator

LOGGER = "kindcity.requests"
JOB_LOGGER = "kindcity.job_runs"
REQUEST_ID_KEY = "kindcity.request_id"
USER_ID_KEY = "kindcity.user_id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def current_request_id() -> str | None:
    """The id of the request being served, for a job or a log line it causes; ``None`` outside one."""
    return request.environ.get(REQUEST_ID_KEY) if has_request_context() else None


def _request_id(environ) -> str:
    offered = environ.get("HTTP_X_REQUEST_ID", "")
    return offered if _SANE_ID.match(offered) else uuid.uuid4().hex


class _JsonLines(logging.Handler):
    """Each record's dict as one line of JSON on whatever ``sys.stdout`` is now (gunicorn keeps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(json.dumps(record.msg, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")
            sys.stdout.flush()
        except Exception:  # noqa: BLE001 - logging must never break a request
            self.handleError(record)


def request_logger() -> logging.Logger:
    return _json_logger(LOGGER)


def job_logger() -> logging.Logger:
    return _json_logger(JOB_LOGGER)


def log_job(*, name: str, job_id: int | None, status: str, started: float, attempt: int,
            request_id: str | None, error: BaseException | None = None) -> None:
    """One JSON line for one run of a job: ``status`` is succeeded, failed (for good) or retry (the queue
    will run it again); ``started`` a ``time.perf_counter()``; ``request_id`` that of the request that
    asked for the job (None for scheduled upkeep and commands). The error is named by its type only:
    its message may carry an address or a name, and the admin page keeps it."""
    line = {
        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "job": name,
        "job_id": job_id,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "attempt": attempt,
        "request_id": request_id,
    }
    if error is not None:
        line["error"] = type(error).__name__
    job_logger().info(line)


def _json_logger(name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    if not logger.handlers:
        logger.addHandler(_JsonLines())
        logger.setLevel(logging.INFO)
        logger.propagate = False  # one line, not a second copy through the root logger
    return logger


class RequestLog:
    """WSGI middleware: stamps the request id, then logs the request once its body has been sent."""

    def __init__(self, wsgi_app, logger: logging.Logger | None):
        self.wsgi_app, self.logger = wsgi_app, logger

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        request_id = environ[REQUEST_ID_KEY] = _request_id(environ)
        seen: dict[str, int] = {}

        def start(status, headers, exc_info=None):
            seen["status"] = int(status.split(" ", 1)[0])
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"] + [("X-Request-ID", request_id)]
            return start_response(status, headers, exc_info)

        if self.logger is None:
            return self.wsgi_app(environ, start)

        def log() -> None:
            self.logger.info({
                "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "request_id": request_id,
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "status": seen.get("status", 500),
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": environ.get(USER_ID_KEY),
                "client": environ.get("REMOTE_ADDR"),
            })

        try:
            body = self.wsgi_app(environ, start)
        except BaseException:
            seen.setdefault("status", 500)
            log()
            raise
        return ClosingIterator(body, [log])


def init_app(app: Flask) -> None:
    """Wrap the app last, outside every other middleware, so each request is counted once."""

    @app.after_request
    def _remember_user(response):
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            request.environ[USER_ID_KEY] = current_user.id
        return response

    logger = request_logger() if app.config.get("KINDCITY_REQUEST_LOG") else None
    app.wsgi_app = RequestLog(app.wsgi_app, logger)
