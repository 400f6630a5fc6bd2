"""Per-client token buckets for the generate endpoint: a burst is allowed, a sustained flood gets 429."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    """`rate_per_minute` tokens refill continuously up to `burst`; each request takes one.

    >>> now = [0.0]
    >>> limiter = RateLimiter(rate_per_minute=60, burst=2, clock=lambda: now[0])
    >>> [limiter.acquire("a") for _ in range(3)]
    [0.0, 0.0, 1.0]
    >>> now[0] = 1.0; limiter.acquire("a")
    0.0
    """

    def __init__(self, rate_per_minute: float, burst: int, *, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = 10_000) -> None:
        self.rate_per_second = rate_per_minute / 60.0
        self.burst = burst
        self._clock = clock
        self._max_clients = max_clients  # bounded: a scan from many addresses cannot grow memory forever
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, updated_at)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate_per_second > 0

    def acquire(self, client: str) -> float:
        """Take a token: 0.0 when allowed, else the seconds until one is available (for Retry-After)."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        with self._lock:
            tokens, updated_at = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - updated_at) * self.rate_per_second)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate_per_second
            self._buckets[client] = (tokens - 1.0 if wait == 0.0 else tokens, now)
            while len(self._buckets) > self._max_clients:
                self._buckets.popitem(last=False)
        return wait


def retry_after_header(wait_seconds: float) -> str:
    return str(max(1, math.ceil(wait_seconds)))
