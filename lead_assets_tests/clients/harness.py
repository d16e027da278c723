"""What every vendor-client test needs: the clients' real retry logic with millisecond waits, and
a sandbox app reached over real loopback HTTP or in process.

In process means ``starlette.testclient.TestClient`` handed to the client as its ``httpx.Client``:
it runs the ASGI app in a worker thread behind a sync transport, which ``httpx.ASGITransport``
cannot do for a sync client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.testclient import TestClient

from lead_assets.clients.http_policy import RetryPolicy
from lead_assets.sandbox.server import serve_in_thread

#: The two ways a test reaches a sandbox (fixtures are parametrised over both).
TRANSPORTS = ("loopback", "in_process")

_FAST = {"backoff_base": 0.005, "backoff_cap": 0.05, "max_retry_after": 0.05}


def fast_policy(**overrides: Any) -> RetryPolicy:
    """The real backoff logic with millisecond waits (Retry-After capped at 50 ms), so fault tests
    finish in seconds. ``overrides`` are any other :class:`RetryPolicy` fields."""
    return RetryPolicy(**{**_FAST, **overrides})


@contextmanager
def reach(app: Starlette, transport: str, host: str) -> Iterator[tuple[str, TestClient | None]]:
    """``(base_url, http)`` for ``app``: uvicorn on a free loopback port (``http`` None: the client
    builds its own), or in process at ``http://{host}`` through a TestClient."""
    if transport == "loopback":
        with serve_in_thread(app) as url:
            yield url, None
    elif transport == "in_process":
        with TestClient(app, base_url=f"http://{host}") as http:
            yield f"http://{host}", http
    else:
        raise ValueError(f"unknown transport {transport!r}")
