"""The monitor's `quality` layer: quality of the requests finalized since the last sample, one sample per cycle.

Fed from the scorer's `on_quality` (the final quality, relevance filled or explained), drained by the
collection loop. User requests only: canary probes are greedy, fixed and cut at 16 tokens, and would skew
every mean; from probes the layer takes their drift similarity alone.

Sample fields; None when nothing was finalized in the interval (the health score then leaves quality out):
  quality_requests                                    requests finalized in the interval
  quality_score relevance perplexity mean_logprob
  repetition_rate distinct_1 distinct_2               means over the requests that have the value
  language_mismatch_percent empty_response_percent
  truncated_percent                                   percent of the requests that have a verdict
  canary_drift_similarity                             lowest drift similarity of the probes in the interval
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Mapping, Sequence

MEAN_FIELDS = ("quality_score", "relevance", "perplexity", "mean_logprob", "repetition_rate", "distinct_1",
               "distinct_2")
MAX_PER_INTERVAL = 10_000  # bounded while the collection loop is stopped and the API keeps serving
PERCENT_FIELDS = {"language_mismatch_percent": ("language_match", False), "empty_response_percent": ("empty", True),
                  "truncated_percent": ("truncated", True)}


def summarize(qualities: Sequence[Mapping[str, Any]], drift_similarities: Sequence[float]) -> dict[str, Any]:
    """One quality-layer sample from per-request quality dicts and the probes' drift similarities."""
    sample: dict[str, Any] = {"quality_requests": len(qualities)}
    for name in MEAN_FIELDS:
        values = [q[name] for q in qualities if q.get(name) is not None]
        sample[name] = round(sum(values) / len(values), 4) if values else None
    for name, (field, bad_value) in PERCENT_FIELDS.items():
        verdicts = [q[field] for q in qualities if q.get(field) is not None]
        sample[name] = round(100.0 * sum(v == bad_value for v in verdicts) / len(verdicts), 2) if verdicts else None
    sample["canary_drift_similarity"] = min(drift_similarities) if drift_similarities else None
    return sample


class QualityWindow:
    """Thread-safe accumulator: the scorer adds from its thread, the collection loop drains from its own."""

    def __init__(self, max_per_interval: int = MAX_PER_INTERVAL) -> None:
        self._lock = threading.Lock()
        self._max = max_per_interval
        self._qualities: deque[dict[str, Any]] = deque(maxlen=max_per_interval)
        self._drifts: deque[float] = deque(maxlen=max_per_interval)

    def add(self, record: Mapping[str, Any]) -> None:
        """A record re-emitted by the scorer: user requests count fully, probes only by their drift."""
        quality = record.get("quality")
        if not isinstance(quality, dict):
            return
        with self._lock:
            if not record.get("synthetic"):
                self._qualities.append(quality)
            elif quality.get("drift_similarity") is not None:
                self._drifts.append(quality["drift_similarity"])

    def drain(self) -> dict[str, Any]:
        """The sample for the interval since the last drain, and start a new interval."""
        with self._lock:
            qualities, drifts = self._qualities, self._drifts
            self._qualities, self._drifts = deque(maxlen=self._max), deque(maxlen=self._max)
        return summarize(list(qualities), list(drifts))
