"""Rate-limited warnings: a failing upstream must not turn every request into two or three log lines.

`RateLimitFilter` is a `logging.Filter` put on the loggers whose warnings come once per request (the remote
target, the API routes, the model worker), so no call site changes: per logger and message template it lets
`burst` warnings through in each `interval_seconds`, holds back the rest, and says on the next line it lets
through how many it held back. Lines below WARNING pass untouched. The clock is injected for tests.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

PER_REQUEST_LOGGERS = ("healthmon.remote", "healthmon.api", "healthmon.runtime")
DEFAULT_BURST = 5
DEFAULT_INTERVAL_SECONDS = 60.0


class RateLimitFilter(logging.Filter):
    """At most `burst` warnings per (logger, template) in each window of `interval_seconds`; thread-safe."""

    def __init__(self, burst: int = DEFAULT_BURST, interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst, self.interval_seconds, self._clock = burst, interval_seconds, clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], tuple[float, int, int]] = {}  # key -> (window start, passed, held)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, str(record.msg))  # the template, not the filled-in line: one per kind of failure
        now = self._clock()
        with self._lock:
            start, passed, held = self._windows.get(key, (now, 0, 0))
            if now - start >= self.interval_seconds:
                start, passed = now, 0
            if passed >= self.burst:
                self._windows[key] = (start, passed, held + 1)
                return False
            self._windows[key] = (start, passed + 1, 0)
            if len(self._windows) > 1024:  # templates are few; a bound anyway, dropping the oldest windows
                for old in sorted(self._windows, key=lambda k: self._windows[k][0])[:512]:
                    del self._windows[old]
        if held:  # the note holds no %: the record's own arguments still fill its template
            record.msg = f"{record.msg} [{held} more like this held back in the last {self.interval_seconds:g} s]"
        return True


def install(names: Iterable[str] = PER_REQUEST_LOGGERS, limiter: RateLimitFilter | None = None) -> RateLimitFilter:
    """Put one shared filter on each named logger, once: a second call (a Streamlit re-run, a second Monitor)
    finds it there and adds none."""
    shared = limiter or RateLimitFilter()
    for name in names:
        logger = logging.getLogger(name)
        existing = next((f for f in logger.filters if isinstance(f, RateLimitFilter)), None)
        if existing is None:
            logger.addFilter(shared)
        else:
            shared = existing
    return shared
