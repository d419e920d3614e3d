"""The baseline of the load benchmark: a bare Flask app that returns one static page.

    BASELINE_BYTES=23456 gunicorn -w 4 --threads 2 -b 127.0.0.1:8001 'bench.load.baseline:app'

The page is HTML padded to exactly BASELINE_BYTES bytes (the size of kindcity's home page), so the
comparison measures the work kindcity does per request, not the bytes it sends.
"""
from __future__ import annotations

import os

from flask import Flask, Response


def static_page(size: int) -> bytes:
    head = b"<!doctype html>\n<html lang=\"ko\"><head><meta charset=\"utf-8\"><title>baseline</title></head><body>\n"
    tail = b"\n</body></html>\n"
    line = "<p>착한 도시 서구</p>\n".encode()
    filler = max(0, size - len(head) - len(tail))
    return head + line * (filler // len(line)) + b" " * (filler % len(line)) + tail


def create_app() -> Flask:
    app = Flask(__name__)
    body = static_page(int(os.environ.get("BASELINE_BYTES", "20000")))

    @app.get("/")
    def page():
        return Response(body, mimetype="text/html")

    return app


app = create_app()
