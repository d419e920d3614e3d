"""deploy/nginx/kindcity.conf rendered into a temporary folder: its example paths and ports replaced by
the test's own, with a self-signed certificate made for the run and a main nginx.conf around it."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.stack.conftest import CHECKOUT

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SITE = CHECKOUT / "deploy" / "nginx" / "kindcity.conf"


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key


def render(folder: Path, *, app_servers: list[str], static_folder: Path, http_port: int = 8080,
           https_port: int = 8443) -> Path:
    """Writes ``folder/nginx.conf`` (with the kit's site file beside it) and returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed_certificate(folder)
    site = SITE.read_text(encoding="utf-8")
    upstream = "\n    ".join(f"server {address} max_fails=3 fail_timeout=10s;" for address in app_servers)
    replacements = {
        "    listen [::]:80;\n": "",
        "    listen [::]:443 ssl http2;\n": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "server 127.0.0.1:8000 max_fails=3 fail_timeout=10s;": upstream,
        "/etc/ssl/kindcity/fullchain.pem": str(cert),
        "/etc/ssl/kindcity/privkey.pem": str(key),
        "/opt/kindcity/static/": f"{static_folder}/",
        "/var/cache/nginx/kindcity": str(folder / "cache"),
        "/var/log/nginx/kindcity": str(folder / "kindcity"),
    }
    for example, ours in replacements.items():
        assert example in site, f"deploy/nginx/kindcity.conf no longer has {example!r}: update tests/stack/nginx.py"
        site = site.replace(example, ours)
    (folder / "kindcity.conf").write_text(site, encoding="utf-8")
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / temp).mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers read the test's folders (mode 0700)
    main = folder / "nginx.conf"
    main.write_text(f"""{user}worker_processes 2;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
daemon off;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    access_log {folder}/access.log;
    include {folder}/kindcity.conf;
}}
""", encoding="utf-8")
    return main


def check(config: Path) -> subprocess.CompletedProcess:
    folder = str(config.parent)
    return subprocess.run([NGINX, "-t", "-c", str(config), "-p", folder, "-e", f"{folder}/error.log"],
                          capture_output=True, text=True, timeout=60)
