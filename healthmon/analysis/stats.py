"""Request statistics: lifetime counters plus sliding-window percentiles and rates.

Counters follow the Prometheus convention (monotonic since the process started); percentiles,
requests-per-minute, the failure rate and the users' throughput (`window_tokens_per_second`) come from a
bounded window so a quiet hour does not hide a bad minute.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from healthmon.records import STATUSES, RequestRecord
from healthmon.store.frames import percentiles


@dataclass(frozen=True)
class _Completed:
    ts: float
    latency_seconds: float
    ttft_seconds: float | None
    tokens_per_second: float | None
    prompt_tokens: int | None
    output_tokens: int | None


class RequestStats:
    """Thread-safe: the API, the Generate page and the collector loop all touch it."""

    def __init__(self, window_seconds: float = 300.0, max_window_items: int = 10_000) -> None:
        self.window_seconds = window_seconds
        self._lock = threading.Lock()
        self._counts = {status: 0 for status in STATUSES}
        self._latency_sum_seconds = 0.0
        self._prompt_tokens_total = 0
        self._output_tokens_total = 0
        self._completed: deque[_Completed] = deque(maxlen=max_window_items)
        self._received_ts: deque[tuple[float, str]] = deque(maxlen=max_window_items)

    def record(self, record: RequestRecord) -> None:
        """Count one user request when it finishes; canary probes and the scored pass are not counted."""
        if record.synthetic or record.stage != "finished":
            return
        status = record.status if record.status in STATUSES else "error"
        ts = float(record.ts)
        with self._lock:
            self._counts[status] += 1
            self._received_ts.append((ts, status))
            if status != "ok":
                return
            latency = float(record.latency_seconds or 0.0)
            self._latency_sum_seconds += latency
            self._prompt_tokens_total += int(record.prompt_tokens or 0)
            self._output_tokens_total += int(record.output_tokens or 0)
            self._completed.append(_Completed(ts, latency, record.ttft_seconds, record.tokens_per_second,
                                              record.prompt_tokens, record.output_tokens))

    def snapshot(self, now: float) -> dict[str, Any]:
        """Totals since start and percentiles over the window, under their catalog names (the seed's names for
        some are aliases the JSON payloads add: payloads.SEED_ALIASES); None, never 0, where there is no data."""
        with self._lock:
            counts = dict(self._counts)
            latency_sum = self._latency_sum_seconds
            prompt_total, output_total = self._prompt_tokens_total, self._output_tokens_total
            recent = [c for c in self._completed if c.ts >= now - self.window_seconds]
            received_window = [(ts, status) for ts, status in self._received_ts if ts >= now - self.window_seconds]
            last_minute = sum(1 for ts, _ in self._received_ts if ts >= now - 60.0)
        total = sum(counts.values())
        latency = percentiles([c.latency_seconds for c in recent])
        ttft = percentiles([c.ttft_seconds for c in recent if c.ttft_seconds is not None])
        rates = [c.tokens_per_second for c in recent if c.tokens_per_second is not None]
        window_failed = sum(1 for _, status in received_window if status == "error")
        return {
            "total_requests": total,
            "succeeded_requests": counts["ok"],
            "failed_requests": counts["error"],
            "rejected_requests": counts["rejected"],
            "success_percent": None if total == 0 else round(100.0 * counts["ok"] / total, 3),
            "mean_latency_seconds": None if counts["ok"] == 0 else round(latency_sum / counts["ok"], 4),
            "requests_per_minute": last_minute,
            "prompt_tokens_total": prompt_total,
            "output_tokens_total": output_total,
            "window_seconds": self.window_seconds,
            "window_requests": len(received_window),
            "failure_percent": None if not received_window else round(100.0 * window_failed / len(received_window), 3),
            "latency_p50_seconds": latency["p50"], "latency_p95_seconds": latency["p95"],
            "latency_p99_seconds": latency["p99"],
            "ttft_p50_seconds": ttft["p50"], "ttft_p95_seconds": ttft["p95"], "ttft_p99_seconds": ttft["p99"],
            "window_tokens_per_second": None if not rates else round(float(np.mean(rates)), 3),
        }
