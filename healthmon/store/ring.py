"""A bounded, thread-safe ring of recent samples for the live view (a refresh reads memory, not the disk)."""

from __future__ import annotations

import threading
from collections import deque

import pandas as pd

from healthmon.samples import Sample
from healthmon.store.frames import TS_COLUMN, numeric_values


class Ring:
    """The last `maxlen` samples of one layer. Samples are read-only, so reads hand them out without copies."""

    def __init__(self, maxlen: int) -> None:
        if maxlen < 1:
            raise ValueError(f"maxlen must be at least 1, got {maxlen}")
        self._samples: deque[Sample] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def append(self, sample: Sample) -> None:
        """Add a sample, evicting the oldest when full."""
        if not isinstance(sample, Sample):
            raise TypeError(f"a ring holds Sample records, got {type(sample).__name__}")
        with self._lock:
            self._samples.append(sample)

    def latest(self) -> Sample | None:
        """The newest sample, or None before the first one."""
        with self._lock:
            return self._samples[-1] if self._samples else None

    def items(self, since: float | None = None) -> list[Sample]:
        """Samples with timestamp_s >= since (all when None), oldest first."""
        with self._lock:
            return [s for s in self._samples if since is None or s.timestamp_s >= since]

    def frame(self, since: float | None = None) -> pd.DataFrame:
        """A `ts` column (unix seconds) plus one float column per metric that had a finite number."""
        samples = self.items(since)
        df = pd.DataFrame([numeric_values(sample.metrics) for sample in samples], dtype="float64")
        df = df.drop(columns=TS_COLUMN, errors="ignore")  # a metric may not shadow the timestamp
        df.insert(0, TS_COLUMN, pd.Series([sample.timestamp_s for sample in samples], dtype="float64"))
        return df

    def __len__(self) -> int:
        with self._lock:
            return len(self._samples)

    def clear(self) -> None:
        """Forget every sample (e.g. when the monitored model changes)."""
        with self._lock:
            self._samples.clear()
