"""A small SOLAPI-shaped HTTP server on 127.0.0.1, for the real ``solapi`` SDK to talk to.

It checks each API call's ``Authorization`` header the way SOLAPI documents it (HMAC-SHA256 over date +
salt with the API secret, the date recent, each salt used once), keeps the messages it accepted, and
answers ``POST /messages/v4/send-many/detail`` with the response shape the SDK validates. A test can make
it fail the next calls (a 5xx, or a refusal of the message). ``incoming_headers`` signs an incoming text
as SOLAPI signs its requests, for delivering it to kindcity's webhook.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_KEY = "NCSFAKEKINDCITY01"
API_SECRET = "fake-solapi-secret-0123456789abcdef0123456789"
SENDER = "0623607114"
_AUTH = re.compile(r"^HMAC-SHA256 (.+)$", re.IGNORECASE)


def sign(date: str, salt: str, secret: str = API_SECRET) -> str:
    return hmac.new(secret.encode(), (date + salt).encode(), hashlib.sha256).hexdigest()


def incoming_headers(*, secret: str = API_SECRET, api_key: str = API_KEY, date: datetime | None = None,
                     salt: str | None = None) -> dict[str, str]:
    stamp = (date or datetime.now(timezone.utc)).isoformat()
    salt = salt or uuid.uuid4().hex
    return {"Authorization": f"HMAC-SHA256 ApiKey={api_key}, Date={stamp}, salt={salt}, signature={sign(stamp, salt, secret)}",
            "Content-Type": "application/json"}


class FakeSolapi:
    def __init__(self):
        self.sent: list[dict] = []
        self.refused_auth = 0
        self.fail_next: list[int] = []      # HTTP statuses for the next send calls
        self._salts: set[str] = set()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = fake.handle(self.path, self.headers.get("Authorization"), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reset(self):
        with self._lock:
            self.sent.clear()
            self.fail_next.clear()
            self.refused_auth = 0

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _authorised(self, header: str | None) -> bool:
        match = _AUTH.match(header or "")
        if not match:
            return False
        params = {k.strip().lower(): v.strip() for k, _, v in (p.partition("=") for p in match.group(1).split(","))}
        try:
            date = datetime.fromisoformat(params["date"])
        except (KeyError, ValueError):
            return False
        if params.get("apikey") != API_KEY or abs(datetime.now(timezone.utc) - date) > timedelta(minutes=15):
            return False
        if params.get("salt") in self._salts:
            return False
        self._salts.add(params["salt"])
        return hmac.compare_digest(params.get("signature", ""), sign(params["date"], params["salt"]))

    def handle(self, path: str, authorization: str | None, body: bytes) -> tuple[int, dict]:
        with self._lock:
            if not self._authorised(authorization):
                self.refused_auth += 1
                return 403, {"errorCode": "SignatureDoesNotMatch", "errorMessage": "bad signature"}
            if path != "/messages/v4/send-many/detail":
                return 404, {"errorCode": "NotFound", "errorMessage": path}
            if self.fail_next:
                status = self.fail_next.pop(0)
                if status >= 500:
                    return status, {"errorCode": "InternalError", "errorMessage": "try again"}
                return status, {"errorCode": "ValidationError", "errorMessage": "refused"}
            request = json.loads(body)
            group = f"G4V{next(self._ids):012d}"
            listed, failed = [], []
            for message in request["messages"]:
                registered = message.get("from") == SENDER   # 발신번호 사전등록: only the registered number sends
                item = {"messageId": f"M4V{next(self._ids):012d}", "statusCode": "2000" if registered else "1062",
                        "statusMessage": "정상 접수" if registered else "발신번호 미등록",
                        "customFields": message.get("customFields")}
                if registered:
                    self.sent.append(message)
                    listed.append(item)
                else:
                    failed.append({**item, "to": message.get("to"), "from": message.get("from"),
                                   "type": message.get("type") or "SMS", "country": "82", "accountId": "12345"})
            return 200, self._response(group, listed, failed)

    @staticmethod
    def _response(group: str, listed: list, failed: list) -> dict:
        total = len(listed) + len(failed)
        now = datetime.now(timezone.utc).isoformat()
        cash = {"requested": 0, "replacement": 0, "refund": 0, "sum": 0}
        return {
            "failedMessageList": failed,
            "messageList": listed,
            "groupInfo": {
                "count": {"total": total, "sentTotal": 0, "sentSuccess": 0, "sentPending": len(listed),
                          "sentReplacement": 0, "refund": 0, "registeredFailed": len(failed),
                          "registeredSuccess": len(listed)},
                "countForCharge": {}, "balance": cash, "point": cash, "app": {"profit": {}, "appId": None},
                "log": [], "status": "SENDING", "allowDuplicates": False, "isRefunded": False, "accountId": "12345",
                "masterAccountId": None, "apiVersion": "4", "groupId": group, "price": {},
                "dateCreated": now, "dateUpdated": now,
            },
        }
