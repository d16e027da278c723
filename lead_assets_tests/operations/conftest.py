"""Fixtures for the operations tests: a local Slack-compatible webhook receiver over real HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lead_assets_tests.enrichment.conftest import pipeline_factory  # noqa: F401  (re-exported)


@dataclass
class Receiver:
    """A local incoming-webhook endpoint that records every JSON body posted to it."""

    url: str
    bodies: list[dict] = field(default_factory=list)
    event: threading.Event = field(default_factory=threading.Event)

    def wait(self, predicate, timeout_s: float = 10.0) -> dict:  # type: ignore[no-untyped-def]
        """The first body matching ``predicate`` within ``timeout_s`` (else AssertionError)."""
        import time

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for body in list(self.bodies):
                if predicate(body):
                    return body
            self.event.wait(0.2)
            self.event.clear()
        raise AssertionError(f"no matching alert within {timeout_s} s; got {self.bodies}")


@pytest.fixture
def alert_receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A receiver on a free loopback port, configured as LEAD_ASSETS_ALERT_WEBHOOK_URL."""
    received: list[dict] = []
    flag = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append(json.loads(self.rfile.read(length)))
            flag.set()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:  # keep test output quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/XXXX"
    monkeypatch.setenv("LEAD_ASSETS_ALERT_WEBHOOK_URL", url)
    try:
        yield Receiver(url, received, flag)
    finally:
        server.shutdown()
        server.server_close()
