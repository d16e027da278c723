"""A requests-per-minute window shared by every process, kept in Redis.

The Leedrush client's own limiter is a sliding log in one process's memory; a step on another
worker, or the daemon's sensors, would each spend the same per-minute budget again. This one has
the same interface (``acquire()``, a settable ``rpm``) and keeps the log in one Redis sorted set
per account, checked and appended atomically by a script that reads Redis's own clock, so hosts
with skewed clocks still agree on the window.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable

LIMITER_REDIS_ENV = "LEAD_ASSETS_LIMITER_REDIS_URL"

# KEYS[1]: the account's log; ARGV: window seconds, rpm, a unique member.
# Returns 0 when the request may start (and records it), else the seconds to wait.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""


def account_key(vendor: str, account: str) -> str:
    """The Redis key of one vendor account's window (the login hashed: no address in Redis)."""
    digest = hashlib.sha256(account.strip().lower().encode()).hexdigest()[:16]
    return f"lead_assets:rpm:{vendor}:{digest}"


class SharedRequestLimiter:
    """At most ``rpm`` request starts in any ``window_s`` seconds across all processes."""

    def __init__(
        self,
        redis_url: str,
        key: str,
        rpm: int | None = None,
        *,
        window_s: float = 60.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import redis

        self.rpm = rpm
        self.window_s = window_s
        self.key = key
        self._sleep = sleep
        self._redis = redis.Redis.from_url(redis_url)
        self._script = self._redis.register_script(_ACQUIRE)
        self.waited_s = 0.0

    def acquire(self) -> None:
        """Block until a request may start (no limit when ``rpm`` is None)."""
        while self.rpm:
            wait = float(
                self._script(keys=[self.key], args=[self.window_s, self.rpm, uuid.uuid4().hex])
            )
            if wait <= 0:
                return
            wait = max(wait, 0.01)
            self.waited_s += wait
            self._sleep(wait)

    def __repr__(self) -> str:
        return f"SharedRequestLimiter(key={self.key!r}, rpm={self.rpm})"
