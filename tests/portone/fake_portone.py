"""A small PortOne-shaped (V2) HTTP server on 127.0.0.1, for the real ``portone_server_sdk`` to talk to.

It answers what kindcity calls, with the shapes of PortOne's API reference (https://developers.portone.io/api/rest-v2):
``GET /payments/{paymentId}``, ``POST /payments/{paymentId}/cancel`` (with ``currentCancellableAmount`` and
``refundAccount``), ``POST /payments/{paymentId}/virtual-account/close``, ``GET /payments?requestBody=...`` (page and filter),
and for recurring giving by billing key (정기결제) ``GET`` and ``DELETE /billing-keys/{billingKey}`` and
``POST /payments/{paymentId}/billing-key`` (pay with a billing key: a PAID payment, or a FAILED one and
``PG_PROVIDER`` when the card company declines; the same payment id again answers ``ALREADY_PAID``).
Requests need ``Authorization: PortOne <API secret>``.

The test plays the donor's browser and PortOne's side with the methods below (``open_window``, ``pay``,
``issue_virtual_account``, ``deposit``, ...); each records the webhook PortOne would send, which
``tests/portone/conftest.py`` signs the way PortOne does (Standard Webhooks) and delivers.
"""
from __future__ import annotations

import copy
import itertools
import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

API_SECRET = "portone-test-secret-kindcity-0123456789"
STORE_ID = "store-00000000-0000-0000-0000-kindcity0001"
METHOD_TYPES = {"card": "PaymentMethodCard", "easy_pay": "PaymentMethodEasyPay",
                "virtual_account": "PaymentMethodVirtualAccount"}


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def now() -> datetime:
    return datetime.now(timezone.utc)


class FakePortOne:
    def __init__(self):
        self._lock = threading.RLock()
        self._seq = itertools.count(1)
        self.reset()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake._serve(self, "GET")

            def do_POST(self):
                fake._serve(self, "POST")

            def do_DELETE(self):
                fake._serve(self, "DELETE")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.payments: dict[str, dict] = {}
            self.events: list[dict] = []        # webhooks "sent", oldest first
            self.requests: list[tuple[str, str, dict]] = []
            self.fail_next: int | None = None   # answer the next API request with this status
            self.billing_keys: dict[str, dict] = {}
            self.decline_next: int = 0          # decline this many billing-key charges (card limit, ...)
            self.fail_routes: list[tuple[str, str, int]] = []  # (verb, path, status): answer the next such once

    # --- PortOne's side, driven by the test --------------------------------------------------------

    def open_window(self, payment_id: str, *, amount: int, method: str = "card", currency: str = "KRW",
                    order_name: str = "kindcity", easy_pay_provider: str | None = None,
                    store_id: str = STORE_ID) -> dict:
        """What the browser SDK's requestPayment does at PortOne: a READY payment."""
        with self._lock:
            moment = now()
            payment = {
                "status": "READY", "id": payment_id, "transactionId": f"tx-{next(self._seq)}",
                "merchantId": "merchant-kindcity", "storeId": store_id,
                "channel": {"type": "TEST", "id": "channel-id", "key": f"channel-key-{method}", "name": method,
                            "pgProvider": "TOSSPAYMENTS", "pgMerchantId": "tosspayments"},
                "version": "V2", "requestedAt": iso(moment), "updatedAt": iso(moment),
                "statusChangedAt": iso(moment), "orderName": order_name,
                "amount": {"total": amount, "taxFree": 0, "vat": 0, "supply": amount, "discount": 0, "paid": 0,
                           "cancelled": 0, "cancelledTaxFree": 0},
                "currency": currency, "customer": {}, "isCulturalExpense": False,
                "origin": {"platformType": "PC", "ipAddress": "127.0.0.1"},
                "_method": method, "_easy_pay": easy_pay_provider,
            }
            self.payments[payment_id] = payment
            return payment

    def _method(self, payment: dict) -> dict:
        kind = payment["_method"]
        if kind == "easy_pay":
            return {"type": METHOD_TYPES[kind], "provider": payment["_easy_pay"] or "KAKAOPAY"}
        if kind == "virtual_account":
            return {"type": METHOD_TYPES[kind], "bank": "KWANGJU", "accountNumber": payment["_va_number"],
                    "accountType": "FIXED", "remitteeName": "광주서구 착한도시", "expiredAt": payment["_va_expires"],
                    "issuedAt": payment["_va_issued"]}
        return {"type": METHOD_TYPES[kind], "card": {"publisher": "KOOKMIN", "issuer": "KOOKMIN"},
                "approvalNumber": "00000001"}

    def _event(self, kind: str, payment_id: str, **extra) -> dict:
        event = {"type": kind, "timestamp": iso(now()),
                 "data": {"paymentId": payment_id, "storeId": STORE_ID,
                          "transactionId": self.payments[payment_id]["transactionId"], **extra}}
        message = {"id": f"msg_{next(self._seq):06d}", "event": event}
        self.events.append(message)
        return message

    def _set(self, payment: dict, status: str) -> None:
        moment = iso(now())
        payment["status"], payment["updatedAt"], payment["statusChangedAt"] = status, moment, moment

    def pay(self, payment_id: str) -> dict:
        """The donor completes the window (card or easy pay): PAID for the window's amount."""
        with self._lock:
            payment = self.payments[payment_id]
            self._set(payment, "PAID")
            payment["amount"]["paid"] = payment["amount"]["total"]
            payment["paidAt"], payment["disputes"], payment["method"] = iso(now()), [], self._method(payment)
            payment["pgTxId"] = f"pg-{next(self._seq)}"
            return self._event("Transaction.Paid", payment_id)

    def fail(self, payment_id: str, reason: str = "card declined") -> dict:
        with self._lock:
            payment = self.payments[payment_id]
            self._set(payment, "FAILED")
            payment["failedAt"] = iso(now())
            payment["failure"] = {"reason": reason, "pgCode": "DECLINED", "pgMessage": reason}
            return self._event("Transaction.Failed", payment_id)

    def issue_virtual_account(self, payment_id: str, *, expires_at: datetime) -> dict:
        with self._lock:
            payment = self.payments[payment_id]
            payment["_va_number"] = f"9{next(self._seq):011d}"
            payment["_va_expires"], payment["_va_issued"] = iso(expires_at), iso(now())
            self._set(payment, "VIRTUAL_ACCOUNT_ISSUED")
            payment["method"] = self._method(payment)
            return self._event("Transaction.VirtualAccountIssued", payment_id)

    def deposit(self, payment_id: str, amount: int | None = None) -> dict:
        """Money arrives in the virtual account (``amount`` other than the total: a wrong deposit)."""
        with self._lock:
            payment = self.payments[payment_id]
            self._set(payment, "PAID")
            payment["amount"]["paid"] = payment["amount"]["total"] if amount is None else amount
            payment["paidAt"], payment["disputes"] = iso(now()), []
            return self._event("Transaction.Paid", payment_id)

    def cancel_in_console(self, payment_id: str, amount: int, reason: str = "console") -> dict:
        """Staff cancel a payment in PortOne's console (not through kindcity)."""
        with self._lock:
            cancellation = self._cancel(self.payments[payment_id], amount, reason)
            kind = "Transaction.Cancelled" if self.payments[payment_id]["status"] == "CANCELLED" \
                else "Transaction.PartialCancelled"
            return self._event(kind, payment_id, cancellationId=cancellation["id"])

    def _cancel(self, payment: dict, amount: int, reason: str, status: str = "SUCCEEDED") -> dict:
        moment = iso(now())
        cancellation = {"status": status, "id": f"cancel-{next(self._seq)}", "pgCancellationId": "pgc",
                        "totalAmount": amount, "taxFreeAmount": 0, "vatAmount": 0, "reason": reason,
                        "requestedAt": moment, "trigger": "API"}
        if status == "SUCCEEDED":
            cancellation["cancelledAt"] = moment
            payment["amount"]["cancelled"] += amount
            payment["cancelledAt"] = moment
        payment.setdefault("cancellations", []).append(cancellation)
        self._set(payment, "CANCELLED" if payment["amount"]["cancelled"] >= payment["amount"]["paid"]
                  else "PARTIAL_CANCELLED")
        return cancellation

    def issue_billing_key(self, *, issue_id: str, customer_id: str, channel_key: str = "channel-key-billing",
                          store_id: str = STORE_ID) -> str:
        """What the browser SDK's requestIssueBillingKey does at PortOne: an ISSUED card billing key."""
        with self._lock:
            key = f"billing-key-{next(self._seq):06d}"
            moment = iso(now())
            self.billing_keys[key] = {
                "status": "ISSUED", "billingKey": key, "merchantId": "merchant-kindcity", "storeId": store_id,
                "methods": [{"type": "BillingKeyPaymentMethodCard",
                             "card": {"publisher": "KOOKMIN", "issuer": "KOOKMIN", "brand": "LOCAL",
                                      "type": "CREDIT", "ownerType": "PERSONAL", "bin": "53275000",
                                      "name": "KB국민카드", "number": "53275000****1234"}}],
                "channels": [{"type": "TEST", "id": "channel-id-billing", "key": channel_key, "name": "billing",
                              "pgProvider": "TOSSPAYMENTS", "pgMerchantId": "tosspayments"}],
                "customer": {"id": customer_id}, "issueId": issue_id, "issueName": "kindcity",
                "requestedAt": moment, "issuedAt": moment,
            }
            return key

    def _pay_with_billing_key(self, payment_id: str, body: dict) -> tuple[int, dict]:
        info = self.billing_keys.get(body.get("billingKey", ""))
        if info is None or info.get("storeId") != body.get("storeId", STORE_ID):
            return 404, {"type": "BILLING_KEY_NOT_FOUND", "message": "no such billing key"}
        if info["status"] == "DELETED":
            return 409, {"type": "BILLING_KEY_ALREADY_DELETED", "message": "billing key deleted"}
        existing = self.payments.get(payment_id)
        if existing is not None and existing["status"] in ("PAID", "PARTIAL_CANCELLED", "CANCELLED"):
            return 409, {"type": "ALREADY_PAID", "message": "already paid"}
        total = int((body.get("amount") or {}).get("total", 0))
        payment = self.open_window(payment_id, amount=total, currency=body.get("currency", "KRW"),
                                   order_name=body.get("orderName", ""))
        payment["billingKey"] = info["billingKey"]
        payment["customer"] = {"id": (body.get("customer") or {}).get("id") or info["customer"]["id"]}
        if self.decline_next:
            self.decline_next -= 1
            self.fail(payment_id, reason="한도 초과")
            return 400, {"type": "PG_PROVIDER", "message": "card declined: limit exceeded",
                         "pgCode": "LIMIT", "pgMessage": "한도 초과"}
        self.pay(payment_id)
        return 200, {"payment": {"pgTxId": payment["pgTxId"], "paidAt": payment["paidAt"]}}

    def cancellable(self, payment_id: str) -> int:
        amount = self.payments[payment_id]["amount"]
        return amount["paid"] - amount["cancelled"]

    # --- the HTTP API ------------------------------------------------------------------------------

    def public(self, payment: dict) -> dict:
        return {k: v for k, v in copy.deepcopy(payment).items() if not k.startswith("_")}

    def _serve(self, handler: BaseHTTPRequestHandler, verb: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else {}
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.requests.append((verb, parts.path, body or query))
            if handler.headers.get("Authorization") != f"PortOne {API_SECRET}":
                return self._answer(handler, 401, {"type": "UNAUTHORIZED", "message": "bad API secret"})
            if self.fail_next:
                status, self.fail_next = self.fail_next, None
                return self._answer(handler, status, {"type": "INTERNAL", "message": "try again"})
            for failing in self.fail_routes:
                if failing[:2] == (verb, parts.path):
                    self.fail_routes.remove(failing)
                    return self._answer(handler, failing[2], {"type": "INTERNAL", "message": "try again"})
            try:
                status, answer = self._route(verb, [unquote(p) for p in parts.path.strip("/").split("/")],
                                             body, query)
            except KeyError:
                status, answer = 404, {"type": "PAYMENT_NOT_FOUND", "message": "no such payment"}
        self._answer(handler, status, answer)

    def _route(self, verb: str, path: list[str], body: dict, query: dict) -> tuple[int, dict]:
        if verb == "GET" and path == ["payments"]:
            return self._list(json.loads(query.get("requestBody") or "{}"))
        if path[0] == "billing-keys" and len(path) == 2:
            info = self.billing_keys.get(path[1])
            if info is None or query.get("storeId", STORE_ID) != info["storeId"]:
                return 404, {"type": "BILLING_KEY_NOT_FOUND", "message": "no such billing key"}
            if verb == "GET":
                return 200, copy.deepcopy(info)
            if verb == "DELETE":
                if info["status"] == "DELETED":
                    return 409, {"type": "BILLING_KEY_ALREADY_DELETED", "message": "billing key deleted"}
                info["status"], info["deletedAt"] = "DELETED", iso(now())
                info["_reason"] = query.get("reason")
                return 200, {"deletedAt": info["deletedAt"]}
        if verb == "POST" and len(path) == 3 and path[0] == "payments" and path[2] == "billing-key":
            return self._pay_with_billing_key(path[1], body)
        if path[0] != "payments" or len(path) < 2:
            return 404, {"type": "NOT_FOUND", "message": "no route"}
        payment = self.payments[path[1]]
        if verb == "GET" and len(path) == 2:
            if query.get("storeId", STORE_ID) != payment["storeId"]:
                raise KeyError(path[1])
            return 200, self.public(payment)
        if verb == "POST" and path[2:] == ["cancel"]:
            return self._cancel_request(payment, body)
        if verb == "POST" and path[2:] == ["virtual-account", "close"]:
            if payment["status"] != "VIRTUAL_ACCOUNT_ISSUED":
                return 400, {"type": "INVALID_REQUEST", "message": "virtual account not open"}
            self._set(payment, "CANCELLED")
            payment["cancelledAt"] = iso(now())
            payment.setdefault("cancellations", [])
            return 200, {"closedAt": iso(now())}
        return 404, {"type": "NOT_FOUND", "message": "no route"}

    def _cancel_request(self, payment: dict, body: dict) -> tuple[int, dict]:
        if payment["status"] not in ("PAID", "PARTIAL_CANCELLED"):
            return 409, {"type": "PAYMENT_NOT_PAID", "message": "payment not paid"}
        left = payment["amount"]["paid"] - payment["amount"]["cancelled"]
        expected = body.get("currentCancellableAmount")
        if expected is not None and expected != left:
            return 409, {"type": "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN",
                         "message": "the cancellable amount is not what the request expected"}
        amount = body.get("amount", left)
        if amount > left:
            return 400, {"type": "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT", "message": "too much"}
        if payment["_method"] == "virtual_account":
            account = body.get("refundAccount") or {}
            if not (account.get("bank") and account.get("number") and account.get("holderName")):
                return 400, {"type": "INVALID_REQUEST", "message": "a virtual account refund needs refundAccount"}
            payment["_refund_account"] = account
        cancellation = self._cancel(payment, amount, body.get("reason", ""))
        kind = "Transaction.Cancelled" if payment["status"] == "CANCELLED" else "Transaction.PartialCancelled"
        self._event(kind, payment["id"], cancellationId=cancellation["id"])
        return 200, {"cancellation": cancellation}

    def _list(self, request: dict) -> tuple[int, dict]:
        page = request.get("page") or {}
        number, size = int(page.get("number", 0)), int(page.get("size", 10))
        wanted = request.get("filter") or {}
        since = wanted.get("from")
        items = [p for p in self.payments.values()
                 if p["storeId"] == wanted.get("storeId", STORE_ID) and (not since or p["requestedAt"] >= since)]
        items.sort(key=lambda p: p["requestedAt"], reverse=True)
        chunk = items[number * size:(number + 1) * size]
        return 200, {"items": [self.public(p) for p in chunk],
                     "page": {"number": number, "size": len(chunk), "totalCount": len(items)}}

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, answer: dict) -> None:
        data = json.dumps(answer).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def expiry(hours: int = 72) -> datetime:
    return now() + timedelta(hours=hours)
