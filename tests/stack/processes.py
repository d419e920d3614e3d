"""Real processes for the release and stack tests: started on 127.0.0.1 with free ports, their logs in
the test's temporary folder, every one stopped at the end (its whole process group)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# Straight to 127.0.0.1, whatever http_proxy says.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Processes:
    """The processes one test started, by name; ``stop_all`` ends each one's process group."""

    folder: Path
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, argv: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen:
        with (self.folder / f"{name}.log").open("ab") as log:  # the child keeps its own copy
            process = subprocess.Popen(argv, env=env, cwd=cwd or self.folder, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        self.running[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        process = self.running.pop(name)
        if process.poll() is None:
            try:
                os.killpg(process.pid, sig)
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
            except ProcessLookupError:
                pass
        return process.returncode

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            self.stop(name)

    def wait_http(self, url: str, name: str, timeout: float = 60, context=None) -> None:
        """Until ``url`` answers (any status), or fail with the process's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.running[name].poll() is not None:
                raise AssertionError(f"{name} exited ({self.running[name].returncode}):\n{self.log(name)[-4000:]}")
            try:
                with urlopen(url, context=context, timeout=5):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"{name} did not answer {url} within {timeout}s:\n{self.log(name)[-4000:]}")


def urlopen(url: str, data: bytes | None = None, headers: dict[str, str] | None = None, context=None,
            timeout: float = 15):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    if context is not None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=context))
        return opener.open(request, timeout=timeout)
    return HTTP.open(request, timeout=timeout)
