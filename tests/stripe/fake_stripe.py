"""A small Stripe-shaped HTTP server on 127.0.0.1, for the real ``stripe`` library to talk to.

Stateful enough for what kindcity uses: Checkout Sessions (create with Stripe's validation of currency,
whole-won amounts and ``expires_at``; retrieve with ``expand``; list; expire), PaymentIntents, Charges,
Refunds, Disputes, and the Events list. Idempotency keys behave like Stripe's: the same key and the same
parameters replay the first answer; the same key with other parameters is an ``idempotency_error``.

The test drives "Stripe's side" with the methods below (``pay``, ``expire``, ``refund``, ...), each of which
records the events Stripe would send; ``tests/stripe/conftest.py`` signs and delivers them.
"""
from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

API_KEY = "sk_test_kindcity_fake_0123456789"
API_VERSION = "2025-01-27.acacia"
CHECKOUT_MIN_SECONDS = 30 * 60
CHECKOUT_MAX_SECONDS = 24 * 3600


class StripeFailure(Exception):
    def __init__(self, status: int, kind: str, message: str, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status, self.kind, self.message, self.code, self.param = status, kind, message, code, param

    def body(self) -> dict:
        error = {"type": self.kind, "message": self.message}
        if self.code:
            error["code"] = self.code
        if self.param:
            error["param"] = self.param
        return {"error": error}


def decode_params(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding (``a[b][0][c]=v``) back into nested dicts and lists."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    return node


def _whole(value, name: str) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise StripeFailure(400, "invalid_request_error", f"Invalid integer: {value}", param=name)
    return int(value)


class FakeStripe:
    def __init__(self):
        self._lock = threading.RLock()
        self._seq = itertools.count(1)  # ids stay unique across resets, as Stripe's are
        self.reset()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake._serve(self, "GET")

            def do_POST(self):
                fake._serve(self, "POST")

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="fake-stripe", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def reset(self) -> None:
        with self._lock:
            self.objects: dict[str, dict[str, dict]] = {k: {} for k in
                                                        ("checkout.session", "payment_intent", "charge", "refund",
                                                         "dispute")}
            self.events: list[dict] = []
            self.requests: list[dict] = []
            self.refund_status = "succeeded"
            self._idempotent: dict[str, tuple[str, int, dict]] = {}
            self._faults: list[list] = []
            self._clock = 0

    # --- time, ids, faults --------------------------------------------------------------------------

    def now(self) -> int:
        """Stripe's clock; the events it records carry increasing ``created`` times."""
        with self._lock:
            self._clock = max(self._clock + 1, int(time.time()))
            return self._clock

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._seq):06d}"

    def fail_next(self, method: str, path_prefix: str, *, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` matching requests with ``status`` (Stripe having a bad moment)."""
        with self._lock:
            self._faults.append([method, path_prefix, status, times])

    def calls(self, method: str, path_prefix: str) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if r["method"] == method and r["path"].startswith(path_prefix)]

    # --- Stripe's side: what donors and the dashboard do --------------------------------------------

    def session(self, session_id: str) -> dict:
        return self.objects["checkout.session"][session_id]

    def only_session(self) -> dict:
        sessions = list(self.objects["checkout.session"].values())
        assert len(sessions) == 1, sessions
        return sessions[0]

    def pay(self, session_id: str, *, asynchronous: bool = False, amount: int | None = None) -> dict:
        """The donor pays on the Checkout page: a PaymentIntent and a Charge, and checkout.session.completed."""
        with self._lock:
            session = self.session(session_id)
            assert session["status"] == "open", session["status"]
            amount = session["amount_total"] if amount is None else amount
            created = self.now()
            intent_id, charge_id = self._new_id("pi"), self._new_id("ch")
            self.objects["payment_intent"][intent_id] = {
                "id": intent_id, "object": "payment_intent", "amount": amount, "currency": session["currency"],
                "amount_received": 0 if asynchronous else amount,
                "status": "processing" if asynchronous else "succeeded", "latest_charge": charge_id,
                "metadata": dict(session["_intent_metadata"]), "created": created}
            self.objects["charge"][charge_id] = {
                "id": charge_id, "object": "charge", "amount": amount, "amount_refunded": 0,
                "currency": session["currency"], "status": "pending" if asynchronous else "succeeded",
                "paid": not asynchronous, "refunded": False, "disputed": False, "payment_intent": intent_id,
                "metadata": {}, "created": created}
            session.update(status="complete", payment_status="unpaid" if asynchronous else "paid",
                           payment_intent=intent_id)
            return self._event("checkout.session.completed", session)

    def async_succeeds(self, session_id: str) -> dict:
        with self._lock:
            session = self.session(session_id)
            intent = self.objects["payment_intent"][session["payment_intent"]]
            intent.update(status="succeeded", amount_received=intent["amount"])
            self.objects["charge"][intent["latest_charge"]].update(status="succeeded", paid=True)
            session["payment_status"] = "paid"
            return self._event("checkout.session.async_payment_succeeded", session)

    def async_fails(self, session_id: str) -> dict:
        with self._lock:
            session = self.session(session_id)
            intent = self.objects["payment_intent"][session["payment_intent"]]
            intent["status"] = "requires_payment_method"
            self.objects["charge"][intent["latest_charge"]].update(status="failed", paid=False)
            return self._event("checkout.session.async_payment_failed", session)

    def expire(self, session_id: str) -> dict:
        with self._lock:
            session = self.session(session_id)
            assert session["status"] == "open", session["status"]
            session["status"] = "expired"
            return self._event("checkout.session.expired", session)

    def refund(self, intent_id: str, amount: int, *, metadata: dict | None = None,
               status: str | None = None) -> dict:
        """A refund made on Stripe's side (the dashboard); returns the refund object."""
        with self._lock:
            return self._create_refund({"payment_intent": intent_id, "amount": str(amount),
                                        "metadata": metadata or {}}, status=status)

    def settle_refund(self, refund_id: str, status: str = "succeeded", failure_reason: str | None = None) -> dict:
        """A pending refund reaches its end: refund.updated."""
        with self._lock:
            refund = self.objects["refund"][refund_id]
            refund.update(status=status, failure_reason=failure_reason)
            if status in ("failed", "canceled"):
                self.objects["charge"][refund["charge"]]["amount_refunded"] -= refund["amount"]
            return self._event("refund.updated", refund)

    def dispute(self, charge_id: str, reason: str = "fraudulent") -> dict:
        with self._lock:
            charge = self.objects["charge"][charge_id]
            dispute_id = self._new_id("dp")
            dispute = {"id": dispute_id, "object": "dispute", "amount": charge["amount"], "charge": charge_id,
                       "payment_intent": charge["payment_intent"], "currency": charge["currency"],
                       "reason": reason, "status": "needs_response", "created": self.now()}
            self.objects["dispute"][dispute_id] = dispute
            charge["disputed"] = True
            return self._event("charge.dispute.created", dispute)

    def _event(self, kind: str, obj: dict) -> dict:
        event = {"id": self._new_id("evt"), "object": "event", "api_version": API_VERSION, "created": self.now(),
                 "data": {"object": self._public(obj)}, "livemode": False, "pending_webhooks": 1,
                 "request": {"id": None, "idempotency_key": None}, "type": kind}
        self.events.append(event)
        return event

    @staticmethod
    def _public(obj: dict) -> dict:
        return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}

    # --- the HTTP API ---------------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        if method == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            raw = handler.rfile.read(length).decode("utf-8")
        else:
            raw = parts.query
        params = decode_params(parse_qsl(raw, keep_blank_values=True))
        key = handler.headers.get("Idempotency-Key")
        with self._lock:
            self.requests.append({"method": method, "path": parts.path, "params": params,
                                  "idempotency_key": key, "account": handler.headers.get("Stripe-Account")})
            status, body, replayed = self._answer(handler, method, parts.path, params, raw, key)
        payload = json.dumps(body).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("Request-Id", f"req_{next(self._seq)}")
        if replayed:
            handler.send_header("Idempotent-Replayed", "true")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(payload)

    def _answer(self, handler, method, path, params, raw, key) -> tuple[int, dict, bool]:
        if handler.headers.get("Authorization") != f"Bearer {API_KEY}":
            return 401, StripeFailure(401, "invalid_request_error", "Invalid API Key provided").body(), False
        for fault in self._faults:
            if fault[0] == method and path.startswith(fault[1]) and fault[3] > 0:
                fault[3] -= 1
                return fault[2], StripeFailure(fault[2], "api_error", "Something went wrong on Stripe's end.").body(), False
        if method == "POST" and key:
            seen = self._idempotent.get(key)
            if seen is not None:
                if seen[0] != path + "?" + raw:
                    failure = StripeFailure(400, "idempotency_error",
                                            "Keys for idempotent requests can only be used with the same parameters "
                                            "they were first used with.")
                    return 400, failure.body(), False
                return seen[1], copy.deepcopy(seen[2]), True
        try:
            body = self._route(method, path, params)
            status = 200
        except StripeFailure as failure:
            return failure.status, failure.body(), False
        if method == "POST" and key:
            self._idempotent[key] = (path + "?" + raw, status, copy.deepcopy(body))
        return status, body, False

    def _route(self, method: str, path: str, params: dict) -> dict:
        routes = [
            ("POST", r"/v1/checkout/sessions", self._create_session),
            ("GET", r"/v1/checkout/sessions", lambda p: self._list("checkout.session", p)),
            ("GET", r"/v1/checkout/sessions/([\w]+)", lambda p, i: self._get("checkout.session", i, p)),
            ("POST", r"/v1/checkout/sessions/([\w]+)/expire", self._expire_session),
            ("GET", r"/v1/payment_intents/([\w]+)", lambda p, i: self._get("payment_intent", i, p)),
            ("GET", r"/v1/charges", lambda p: self._list("charge", p)),
            ("GET", r"/v1/charges/([\w]+)", lambda p, i: self._get("charge", i, p)),
            ("POST", r"/v1/refunds", self._create_refund),
            ("GET", r"/v1/refunds", lambda p: self._list("refund", p)),
            ("GET", r"/v1/refunds/([\w]+)", lambda p, i: self._get("refund", i, p)),
            ("GET", r"/v1/disputes/([\w]+)", lambda p, i: self._get("dispute", i, p)),
            ("GET", r"/v1/events", self._list_events),
        ]
        for verb, pattern, action in routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                return action(params, *match.groups())
        raise StripeFailure(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    # --- resources ----------------------------------------------------------------------------------------

    def _create_session(self, params: dict) -> dict:
        if params.get("mode") != "payment":
            raise StripeFailure(400, "invalid_request_error", "mode must be payment here", param="mode")
        for name in ("success_url", "cancel_url"):
            if not params.get(name):
                raise StripeFailure(400, "invalid_request_error", f"Missing required param: {name}.", param=name)
        items = params.get("line_items") or []
        if not items:
            raise StripeFailure(400, "invalid_request_error", "line_items required", param="line_items")
        currency, total = None, 0
        for index, item in enumerate(items):
            price = item.get("price_data") or {}
            currency = price.get("currency")
            if currency != "krw" or params.get("currency", "krw") != "krw":
                raise StripeFailure(400, "invalid_request_error", "kindcity only takes krw",
                                    param=f"line_items[{index}][price_data][currency]")
            total += _whole(price.get("unit_amount"), "unit_amount") * _whole(item.get("quantity", "1"), "quantity")
        expires_at = _whole(params.get("expires_at"), "expires_at")
        now = int(time.time())
        if expires_at < now + CHECKOUT_MIN_SECONDS:
            raise StripeFailure(400, "invalid_request_error",
                                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                                param="expires_at")
        if expires_at > now + CHECKOUT_MAX_SECONDS:
            raise StripeFailure(400, "invalid_request_error",
                                "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                                param="expires_at")
        session_id = self._new_id("cs")
        session = {
            "id": session_id, "object": "checkout.session", "mode": "payment", "status": "open",
            "payment_status": "unpaid", "amount_total": total, "amount_subtotal": total, "currency": currency,
            "client_reference_id": params.get("client_reference_id"), "metadata": params.get("metadata") or {},
            "payment_intent": None, "expires_at": expires_at, "success_url": params["success_url"],
            "cancel_url": params["cancel_url"], "submit_type": params.get("submit_type"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}", "created": self.now(), "livemode": False,
            "_intent_metadata": (params.get("payment_intent_data") or {}).get("metadata") or {},
            "_line_items": items,
        }
        self.objects["checkout.session"][session_id] = session
        return self._public(session)

    def _expire_session(self, params: dict, session_id: str) -> dict:
        session = self._find("checkout.session", session_id)
        if session["status"] != "open":
            raise StripeFailure(400, "invalid_request_error", "Only open sessions can be expired.")
        self.expire(session_id)
        return self._public(session)

    def _create_refund(self, params: dict, status: str | None = None) -> dict:
        intent_id = params.get("payment_intent")
        if not intent_id:
            raise StripeFailure(400, "invalid_request_error", "payment_intent required", param="payment_intent")
        intent = self._find("payment_intent", intent_id)
        charge = self.objects["charge"][intent["latest_charge"]]
        amount = _whole(params.get("amount", str(charge["amount"] - charge["amount_refunded"])), "amount")
        if intent["status"] != "succeeded":
            raise StripeFailure(400, "invalid_request_error", "This PaymentIntent has no successful charge.")
        if amount <= 0 or amount > charge["amount"] - charge["amount_refunded"]:
            raise StripeFailure(400, "invalid_request_error",
                                f"Refund amount ({amount}) is greater than unrefunded amount on charge",
                                code="amount_too_large", param="amount")
        refund_id = self._new_id("re")
        refund = {"id": refund_id, "object": "refund", "amount": amount, "charge": charge["id"],
                  "payment_intent": intent_id, "currency": charge["currency"], "status": status or self.refund_status,
                  "metadata": params.get("metadata") or {}, "reason": params.get("reason"), "created": self.now(),
                  "failure_reason": None}
        self.objects["refund"][refund_id] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        self._event("refund.created", refund)
        self._event("charge.refunded", charge)
        return self._public(refund)

    def _find(self, kind: str, object_id: str) -> dict:
        try:
            return self.objects[kind][object_id]
        except KeyError:
            raise StripeFailure(404, "invalid_request_error", f"No such {kind}: '{object_id}'",
                                code="resource_missing") from None

    def _get(self, kind: str, object_id: str, params: dict) -> dict:
        return self._expand(self._public(self._find(kind, object_id)), params.get("expand") or [])

    def _expand(self, obj: dict, paths: list[str]) -> dict:
        kinds = {"payment_intent": "payment_intent", "latest_charge": "charge", "charge": "charge"}
        for path in sorted(paths, key=len):
            node, names = obj, path.split(".")
            for name in names[:-1]:
                node = node.get(name) if isinstance(node, dict) else None
            last = names[-1]
            if isinstance(node, dict) and isinstance(node.get(last), str) and last in kinds:
                node[last] = self._public(self._find(kinds[last], node[last]))
        return obj

    def _page(self, items: list[dict], params: dict, url: str) -> dict:
        items = sorted(items, key=lambda o: (o.get("created", 0), o["id"]), reverse=True)
        gte = (params.get("created") or {}).get("gte") if isinstance(params.get("created"), dict) else None
        if gte is not None:
            items = [o for o in items if o.get("created", 0) >= int(gte)]
        after = params.get("starting_after")
        if after:
            ids = [o["id"] for o in items]
            items = items[ids.index(after) + 1:] if after in ids else []
        limit = int(params.get("limit") or 10)
        page = items[:limit]
        expand = [p[len("data."):] for p in params.get("expand") or [] if p.startswith("data.")]
        return {"object": "list", "url": url, "has_more": len(items) > limit,
                "data": [self._expand(self._public(o), expand) for o in page]}

    def _list(self, kind: str, params: dict) -> dict:
        items = list(self.objects[kind].values())
        if params.get("payment_intent"):
            items = [o for o in items if o.get("payment_intent") == params["payment_intent"]]
        paths = {"checkout.session": "/v1/checkout/sessions", "charge": "/v1/charges", "refund": "/v1/refunds"}
        return self._page(items, params, paths[kind])

    def _list_events(self, params: dict) -> dict:
        types = params.get("types") or ([params["type"]] if params.get("type") else None)
        items = [e for e in self.events if types is None or e["type"] in types]
        return self._page(items, params, "/v1/events")
