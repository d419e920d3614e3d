"""The live API against its own OpenAPI document, with schemathesis (every check, a fixed seed).

The app serves on 127.0.0.1 (a free port) from a thread of this test, inside the test's rolled-back
transaction; schemathesis's command line reads /api/v1/openapi.json there and tries each operation
with valid and invalid inputs. Any answer the document does not describe (a 500, an undocumented
status, a body off its schema, a 405 without Allow, an accepted parameter the document forbids)
fails the test.
"""
from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from kindcity.domain.needs import NeedStatus
from tests import factories as f

SEED = 20261206
EXAMPLES = 15


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # hundreds of requests: schemathesis reports what failed
        pass


def test_the_live_api_conforms_to_its_document(app, session, tmp_path):
    author = f.user("staff")
    f.need(author=author, title="서울 병원 이동", unit_cost=150_000, units=40, confirmed=300_000)
    f.need(author=author, title="학교 밖 청소년 수학여행", target=2_000_000, dong="pungam")
    f.need(author=author, title="마감된 수요", status=NeedStatus.EXPIRED)
    session.commit()
    # One request at a time: the test's session (and its connection) is not shared between threads.
    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="api-under-test", daemon=True)
    thread.start()
    try:
        run = subprocess.run(
            [str(Path(sys.executable).with_name("schemathesis")), "run",
             f"http://127.0.0.1:{server.server_port}/api/v1/openapi.json",
             "--checks", "all", "--seed", str(SEED), "--max-examples", str(EXAMPLES),
             # No stateful phase: a read-only API has no links between operations to follow.
             "--phases", "examples,coverage,fuzzing",
             "--generation-database", "none", "--workers", "1", "--request-timeout", "20",
             "--header", "Host: kindcity.test", "--no-color"],
            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout or "passed" in run.stdout, run.stdout[-3000:]
