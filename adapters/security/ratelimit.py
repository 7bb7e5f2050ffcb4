"""A token bucket per API key: ``rate`` requests per second on average, ``burst`` at once.

Monotonic time is right here: a rate limit protects the service now, it is not a rule about
events, so replays never meet it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

_EPSILON = 1e-9
"""Float error: a caller that waited the seconds it was told gets its token."""


class RateLimiter:
    def __init__(
        self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}
        """key -> (tokens, at): the tokens left at that time. One entry per key that called;
        keys are few (issued by admins), so the table stays small."""

    def acquire(self, key: str) -> float:
        """Take one token for ``key``: 0.0 if granted, else the seconds until one is free."""
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.rate_per_s)
            if tokens >= 1.0 - _EPSILON:  # waiting the time it answered is always enough
                self._buckets[key] = (max(0.0, tokens - 1.0), now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate_per_s

    def headers(self, key: str) -> dict[str, str]:
        """The standard rate-limit fields for ``key`` now (IETF draft "RateLimit header
        fields for HTTP", the ``RateLimit-Limit/-Remaining/-Reset`` form): the burst, the
        whole requests left, and the seconds until the bucket is full again; with
        ``RateLimit-Policy`` naming the burst and the window it refills in."""
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.rate_per_s)
        window = math.ceil(self.burst / self.rate_per_s)
        return {
            "RateLimit-Limit": str(self.burst),
            "RateLimit-Remaining": str(int(tokens + _EPSILON)),
            "RateLimit-Reset": str(math.ceil((self.burst - tokens) / self.rate_per_s)),
            "RateLimit-Policy": f"{self.burst};w={window}",
        }

    def forget(self, key: str) -> None:
        """Drop a key's bucket (e.g. when the key is revoked)."""
        with self._lock:
            self._buckets.pop(key, None)
