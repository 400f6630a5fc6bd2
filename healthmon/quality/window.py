"""The monitor's `quality` layer: quality of the user answers finalized over a sliding window, one sample a cycle.

A window, like the service layer's request statistics, and not "the answers since the last cycle": quality
stays part of the health score for as long as the window holds answers, instead of flapping in and out as
requests start and stop. Fed by the pipeline with each request's scored pass (the final quality, relevance
filled or explained). User answers only: canary probes are greedy, fixed and short, and would skew every mean; from
probes the layer takes their drift similarity alone, per cycle.

Sample fields; None when the window holds no answer (the health score then leaves quality out):
  quality_requests                                   answers in the window
  quality_score relevance perplexity mean_logprob
  repetition_rate distinct_1 distinct_2
  mean_token_entropy                                 means over the answers that have the value
  language_mismatch_percent empty_response_percent
  truncated_percent degenerate_percent               percent of the answers that have a verdict
  degenerate_recent language_mismatch_recent         how many of the last STREAK_ANSWERS answers have the flag:
                                                     the streak alerts fire at 3 of 5 and clear at 1
  canary_drift_similarity                            lowest drift similarity of the probes this cycle
Evidence (`evidence()`): for each metric an alert may fire on, the trace ids of the answers behind it, so the
alert's message can name them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from healthmon.records import RequestRecord

MEAN_FIELDS = ("quality_score", "relevance", "perplexity", "mean_logprob", "repetition_rate", "distinct_1",
               "distinct_2", "mean_token_entropy")
PERCENT_FIELDS = {"language_mismatch_percent": ("language_match", False), "empty_response_percent": ("empty", True),
                  "truncated_percent": ("truncated", True)}
STREAK_FLAGS = {"degenerate_recent": "degenerate", "language_mismatch_recent": "language_mismatch"}
WINDOW_SECONDS = 300.0
STREAK_ANSWERS = 5
MAX_ANSWERS = 10_000  # bounded however busy the window
EVIDENCE_TRACES = 5


@dataclass(frozen=True)
class Answer:
    ts: float
    trace_id: str
    quality: Mapping[str, Any]


def summarize(qualities: Sequence[Mapping[str, Any]], drift_similarities: Sequence[float]) -> dict[str, Any]:
    """One quality-layer sample from per-answer quality dicts (oldest first) and the probes' drift similarities."""
    sample: dict[str, Any] = {"quality_requests": len(qualities)}
    for name in MEAN_FIELDS:
        values = [q[name] for q in qualities if q.get(name) is not None]
        sample[name] = round(sum(values) / len(values), 4) if values else None
    for name, (field, bad_value) in PERCENT_FIELDS.items():
        verdicts = [q[field] for q in qualities if q.get(field) is not None]
        sample[name] = round(100.0 * sum(v == bad_value for v in verdicts) / len(verdicts), 2) if verdicts else None
    flagged = [q for q in qualities if "flags" in q]
    sample["degenerate_percent"] = (round(100.0 * sum("degenerate" in q["flags"] for q in flagged) / len(flagged), 2)
                                    if flagged else None)
    recent = [q for q in qualities if "flags" in q][-STREAK_ANSWERS:]
    for name, flag in STREAK_FLAGS.items():
        sample[name] = sum(flag in q["flags"] for q in recent) if recent else None
    sample["canary_drift_similarity"] = min(drift_similarities) if drift_similarities else None
    return sample


class QualityWindow:
    """Thread-safe: the scorer adds from its thread, the collection loop samples from its own."""

    def __init__(self, window_seconds: float = WINDOW_SECONDS, max_answers: int = MAX_ANSWERS, *,
                 clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._window_seconds = window_seconds
        self._answers: deque[Answer] = deque(maxlen=max_answers)
        self._drifts: deque[float] = deque(maxlen=max_answers)

    def record(self, record: RequestRecord) -> None:
        """The pipeline's sink: an answer joins the window when it is scored, at the time it was scored."""
        if record.stage == "scored":
            self.add(record.to_row(), ts=self._clock())

    def add(self, record: Mapping[str, Any], ts: float | None = None) -> None:
        """A record re-emitted by the scorer: user answers join the window, probes count only by their drift."""
        quality = record.get("quality")
        if not isinstance(quality, dict):
            return
        with self._lock:
            if not record.get("synthetic"):
                when = ts if ts is not None else float(record.get("ts") or 0.0)
                self._answers.append(Answer(when,
                                            str(record.get("trace_id") or ""), quality))
            elif quality.get("drift_similarity") is not None:
                self._drifts.append(quality["drift_similarity"])

    def sample(self, now: float) -> dict[str, Any]:
        """The sample for the window ending now; probes' drifts are taken once (they are per cycle)."""
        with self._lock:
            self._expire(now)
            answers = list(self._answers)
            drifts, self._drifts = list(self._drifts), deque(maxlen=self._drifts.maxlen)
        return summarize([a.quality for a in answers], drifts)

    def evidence(self, now: float) -> dict[str, list[str]]:
        """Trace ids behind each metric: the flagged recent answers for the streaks, the lowest-scoring for the
        means an alert may watch."""
        with self._lock:
            self._expire(now)
            answers = list(self._answers)
        recent = [a for a in answers if "flags" in a.quality][-STREAK_ANSWERS:]
        out = {name: [a.trace_id for a in recent if flag in a.quality["flags"]] for name, flag in STREAK_FLAGS.items()}
        for metric, worst_first in (("quality_score", False), ("relevance", False), ("perplexity", True),
                                    ("repetition_rate", True)):
            scored = [a for a in answers if a.quality.get(metric) is not None]
            scored.sort(key=lambda a: a.quality[metric], reverse=worst_first)
            out[metric] = [a.trace_id for a in scored[:EVIDENCE_TRACES]]
        return {metric: ids for metric, ids in out.items() if ids}

    def _expire(self, now: float) -> None:
        while self._answers and self._answers[0].ts < now - self._window_seconds:
            self._answers.popleft()
