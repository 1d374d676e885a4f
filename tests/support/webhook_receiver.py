"""A real HTTP server on 127.0.0.1 that receives webhooks, records them and answers as told.

``webhook_receiver`` (fixture) is a running :class:`WebhookReceiver` on a free loopback port,
stopped at teardown. It records every request it gets (method, path, headers, body) and
answers each with the next status of its script (``answer(500, 200)``: a 500, then 200s),
after an optional ``delay`` (longer than the sender's read timeout: a timeout). ``verify``
checks a request's signature the way a receiver following docs/operations.md would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class ReceivedRequest:
    """One request the receiver got, whatever it answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def delivery(self) -> str:
        return self.headers["x-tracker-delivery"]

    def verify(self, secret: str) -> bool:
        """Return whether the signature is the HMAC-SHA256 of ``<timestamp>.<body>``."""
        timestamp = self.headers["x-tracker-timestamp"]
        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + self.body, hashlib.sha256)
        given = self.headers["x-tracker-signature"]
        return hmac.compare_digest(given, f"sha256={expected.hexdigest()}")


class WebhookReceiver:
    """The server: ``url``, ``requests``, ``answer(*statuses)``, ``delay``, ``stop()``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[ReceivedRequest] = []
        self.script: list[int] = []
        self.default_status = 200
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else receiver.default_status
                    delay = receiver.delay
                if delay:
                    time.sleep(delay)
                with receiver.lock:
                    receiver.requests.append(
                        ReceivedRequest(
                            method=self.command,
                            path=self.path,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                            answered=status,
                        )
                    )
                payload = b"ok" if status < 400 else b"receiver says no"
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/tracker"

    def answer(self, *statuses: int) -> None:
        """Answer the next requests with ``statuses`` in order, then 200."""
        with self.lock:
            self.script = list(statuses)

    def received(self) -> list[ReceivedRequest]:
        with self.lock:
            return list(self.requests)

    def wait_for(self, count: int, *, timeout: float) -> list[ReceivedRequest]:
        """Wait until ``count`` requests arrived; raise ``TimeoutError`` at the deadline."""
        deadline = time.monotonic() + timeout
        while len(self.received()) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.received())} of {count} webhooks arrived")
            time.sleep(0.05)
        return self.received()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(name="webhook_receiver")
def webhook_receiver_fixture() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    try:
        yield receiver
    finally:
        receiver.stop()
