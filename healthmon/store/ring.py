"""A bounded, thread-safe ring of recent samples for the live view (a refresh reads memory, not the disk)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

import pandas as pd

from healthmon.store.frames import TS_COLUMN, numeric_values

Sample = tuple[float, dict[str, Any]]


class Ring:
    """Last `maxlen` (ts_seconds, values) samples; every read returns copies so pages never share state."""

    def __init__(self, maxlen: int) -> None:
        if maxlen < 1:
            raise ValueError(f"maxlen must be at least 1, got {maxlen}")
        self._samples: deque[Sample] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def append(self, ts: float, values: Mapping[str, Any]) -> None:
        """Add a sample, evicting the oldest when full; the dict is copied so the caller may reuse it."""
        sample = (float(ts), dict(values))
        with self._lock:
            self._samples.append(sample)

    def latest(self) -> Sample | None:
        """The newest sample, or None before the first one."""
        with self._lock:
            if not self._samples:
                return None
            ts, values = self._samples[-1]
            return ts, dict(values)

    def items(self, since: float | None = None) -> list[Sample]:
        """Samples with ts >= since (all when None), oldest first."""
        with self._lock:
            return [(ts, dict(values)) for ts, values in self._samples if since is None or ts >= since]

    def frame(self, since: float | None = None) -> pd.DataFrame:
        """A `ts` column (unix seconds) plus one float column per metric that had a finite number."""
        samples = self.items(since)
        df = pd.DataFrame([numeric_values(values) for _, values in samples], dtype="float64")
        df = df.drop(columns=TS_COLUMN, errors="ignore")  # a metric may not shadow the timestamp
        df.insert(0, TS_COLUMN, pd.Series([ts for ts, _ in samples], dtype="float64"))
        return df

    def __len__(self) -> int:
        with self._lock:
            return len(self._samples)

    def clear(self) -> None:
        """Forget every sample (e.g. when the monitored model changes)."""
        with self._lock:
            self._samples.clear()
