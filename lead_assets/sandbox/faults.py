"""Fault injection shared by both sandbox apps: by rate (seeded, reproducible) or by header.

Faults: ``429`` (throttled), ``402`` (insufficient funds), ``500``/``502`` (server errors),
``slow`` (latency), ``timeout`` (sleeps past any sane client timeout), ``malformed`` (a body that
is not JSON), ``drop`` (the connection is closed without a response).
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass, field

from starlette.responses import JSONResponse, Response

RATE_FAULTS = ("429", "500", "502", "malformed", "drop", "slow")
#: Faults that strike after the endpoint ran: the server acted (and charged), the answer is lost.
AFTER_FAULTS = frozenset({"malformed", "drop", "timeout"})


class TruncatedResponse(Response):
    """Declares a body longer than it sends: the server closes the connection mid-response, which
    the client sees as a dropped connection (there is no way to vanish entirely from ASGI)."""

    async def __call__(self, scope, receive, send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"512")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"data": {', "more_body": False})


@dataclass
class FaultInjector:
    """Decides, per request, whether to inject a fault. ``rate`` is the share of requests hit."""

    rate: float = 0.0
    seed: int = 7
    kinds: tuple[str, ...] = RATE_FAULTS
    slow_seconds: float = 0.2
    timeout_seconds: float = 120.0
    _rng: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    injected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def pick(self, header_value: str | None) -> str | None:
        """The fault for this request: the header wins, else a seeded draw at ``rate``."""
        if header_value:
            return header_value.strip().lower()
        if self.rate <= 0:
            return None
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(self.kinds)
            self.injected[kind] = self.injected.get(kind, 0) + 1
            return kind

    async def apply(self, kind: str | None, *, envelope: str) -> Response | None:
        """Return a faulty response (or raise/sleep) for ``kind``; None means no fault.

        ``envelope`` is ``"generect"`` (status/status_code/detail) or ``"leedrush"`` (detail).
        """
        if kind is None:
            return None
        if kind == "slow" or kind.startswith("latency="):
            delay = float(kind.split("=", 1)[1]) if "=" in kind else self.slow_seconds
            await asyncio.sleep(delay)
            return None
        if kind == "timeout":
            await asyncio.sleep(self.timeout_seconds)
            return None
        if kind == "drop":
            return TruncatedResponse()
        if kind == "malformed":
            return Response(
                "<html>502 Bad Gateway</html>{", status_code=200, media_type="application/json"
            )
        codes = {
            "429": 429,
            "rate_limited": 429,
            "402": 402,
            "insufficient_funds": 402,
            "500": 500,
            "502": 502,
            "upstream_error": 502,
        }
        if kind in codes:
            code = codes[kind]
            detail = {
                429: "Request was throttled." if envelope == "generect" else "Rate limit exceeded",
                402: "Insufficient funds in the account."
                if envelope == "generect"
                else "Insufficient credits",
                500: "Internal server error.",
                502: "Upstream provider error.",
            }[code]
            body = (
                {"status": "error", "status_code": code, "detail": detail}
                if envelope == "generect"
                else {"detail": detail}
            )
            headers = (
                {"Retry-After": "1"}
                if (code == 429 and envelope == "leedrush") or kind == "rate_limited"
                else {}
            )
            return JSONResponse(body, status_code=code, headers=headers)
        return None
