"""With SENTRY_DSN set, an error in a view reaches the (here: local) Sentry, without personal data."""
from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sentry_sdk

from kindcity.extensions import db
from tests.conftest import make_test_app


COOKIE = "-".join(("a", "visitor's", "session"))  # built, so the source lines Sentry quotes do not hold it


class _Sentry(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_an_error_is_reported_to_sentry_when_a_dsn_is_set(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sentry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        app = make_test_app("sqlite:///" + str(tmp_path / "sentry.sqlite3"), TESTING=False,
                            SENTRY_DSN=f"http://publickey@127.0.0.1:{server.server_port}/7",
                            KINDCITY_RELEASE="2026.12-test")

        with app.app_context():
            db.create_all()  # the error page shows the district's name

        @app.get("/boom")
        def boom():
            raise RuntimeError("the district's test error")

        response = app.test_client().get("/boom", headers={"Cookie": "session=" + COOKIE})
        assert response.status_code == 500
        sentry_sdk.flush(timeout=10)
        with app.app_context():
            db.engine.dispose()
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init(dsn=None)  # the process-wide client off again for the rest of the suite
        server.shutdown()
        server.server_close()
    events = [json.loads(line) for body in _Sentry.received for line in body.splitlines()
              if line.startswith(b"{") and b'"exception"' in line]
    assert events, _Sentry.received
    event = events[0]
    assert event["exception"]["values"][-1]["value"] == "the district's test error"
    assert event["release"] == "2026.12-test" and event["environment"] == "development"
    assert COOKIE not in json.dumps(event)  # the request is reported without its cookies
