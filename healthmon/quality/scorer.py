"""Background quality scorer: relevance (and canary drift) computed off the request path, then re-emitted.

The request path only calls `submit()`, which never blocks: the record joins a bounded queue or, when the
queue is full, goes straight back with relevance None ("not scored: queue full") and the drop is counted.
One daemon thread loads the embedding model (on start, so the monitor itself starts in seconds), waits until
`can_run()` says the model is idle, scores, and publishes the record's `scored` pass with `quality.relevance`
filled in (and, for canary probes, `quality.drift_similarity`) through the request pipeline it was given.
Waiting for the model matters on a CPU: an embedding running beside a generation takes cores from it (measured
in benchmarks/bench_quality.py); under sustained load the queue fills and drops are counted, rather than slowing
every answer. The thread leaves `torch.set_num_threads` alone: the setting is not per thread (other threads, and
threads started later, take it up), and a one-thread scorer left the model worker on one core.

Every submitted record is published scored exactly once, scored or not, so a sink can aggregate quality from
the `scored` passes alone; sinks that count requests skip that pass, so none counts a request twice. `publish`
runs on the scorer's thread, or on the submitter's for a dropped record.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from healthmon.quality.drift import CanaryReferences, canary_drift
from healthmon.quality.embedder import DEFAULT_EMBEDDING_MODEL, Embedder, EmbedderUnavailable, load_embedder
from healthmon.quality.metrics import with_relevance
from healthmon.quality.relevance import relevance
from healthmon.records import RequestRecord
from healthmon.textsafe import log_text

Publish = Callable[[RequestRecord], None]
QUEUE_FULL = "not scored: queue full"
STOPPING = "not scored: the scorer stopped first"
SCORER_THREAD_NAME = "healthmon-quality-scorer"
_STOP = object()


class QualityScorer:
    """Scores relevance and canary drift on one background thread; start() is optional (submit() starts it)."""

    def __init__(self, publish: Publish, *, embedding_model: str = DEFAULT_EMBEDDING_MODEL,
                 load: Callable[[str], Embedder] = load_embedder, references: CanaryReferences | None = None,
                 can_run: Callable[[], bool] = lambda: True, queue_max: int = 256,
                 idle_poll_seconds: float = 0.05, logger: logging.Logger | None = None) -> None:
        self._publish = publish
        self.embedding_model = embedding_model
        self._load = load
        self._references = references
        self._can_run = can_run
        self.queue_max = queue_max
        self._idle_poll_seconds = idle_poll_seconds
        self._log = logger or logging.getLogger("healthmon.quality")
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()  # bounded by _depth, so close() never blocks
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._embedder: Embedder | None = None
        self.embedder_error: str | None = None
        self._depth = 0
        self.scored_total = 0
        self.dropped_total = 0
        self.failed_total = 0

    def start(self) -> None:
        """Start the thread (which loads the embedding model first); a no-op when running or stopped."""
        with self._lock:
            if self._stop.is_set() or (self._thread is not None and self._thread.is_alive()):
                return
            self._thread = threading.Thread(target=self._work, name=SCORER_THREAD_NAME, daemon=True)
            self._thread.start()

    def record(self, record: RequestRecord) -> None:
        """The pipeline's sink: a finished generation is queued for scoring; its scored pass is not."""
        if record.stage == "finished":
            self.submit(record)

    def submit(self, record: RequestRecord) -> bool:
        """Queue a finished generation's record for scoring; False when it has no quality or was dropped."""
        if not record.completed or not isinstance(record.quality, dict):
            return False
        self.start()
        with self._lock:
            stopping = self._stop.is_set()
            accepted = self._depth < self.queue_max and not stopping
            if accepted:
                self._depth += 1
            else:
                self.dropped_total += 1
        if not accepted:
            self._emit(record, self._unscored(record, STOPPING if stopping else QUEUE_FULL))
            return False
        self._queue.put(record)
        return True

    def close(self, timeout_seconds: float = 30.0) -> None:
        """Stop: records still queued are re-emitted unscored, so none is left without an answer."""
        self._stop.set()
        self._queue.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout_seconds)

    def stats(self) -> dict[str, int]:
        """Counters for the monitor's quality layer (totals since start, and the queue depth now)."""
        with self._lock:
            return {"relevance_queue_depth": self._depth, "relevance_scored_total": self.scored_total,
                    "relevance_dropped_total": self.dropped_total, "relevance_failed_total": self.failed_total,
                    "embedding_model_ready": int(self._embedder is not None)}

    # ---- the thread ------------------------------------------------------------------------
    def _work(self) -> None:
        try:
            self._embedder = self._load(self.embedding_model)
            self._log.info("embedding model %s ready for relevance scoring", self.embedding_model)
        except Exception as exc:  # noqa: BLE001 - without embeddings the rest of quality still works
            self.embedder_error = str(exc) if isinstance(exc, EmbedderUnavailable) else (
                f"embedding model {self.embedding_model!r} failed to load: {type(exc).__name__}: {exc}")
            self._log.warning("relevance will not be scored: %s", self.embedder_error)
        while (record := self._queue.get()) is not _STOP:
            quality = self._score(record) if self._wait_for_model() else self._unscored(record, STOPPING)
            with self._lock:
                self._depth -= 1
            self._emit(record, quality)

    def _wait_for_model(self) -> bool:
        """Wait while the model is busy; False when told to stop meanwhile."""
        while not self._can_run():
            if self._stop.wait(self._idle_poll_seconds):
                return False
        return not self._stop.is_set()

    def _score(self, record: RequestRecord) -> dict[str, Any]:
        """Relevance for every record, drift for canary probes; a reason in place of each value it cannot have."""
        if self._embedder is None:
            return self._unscored(record, self.embedder_error)
        try:
            measured = relevance(self._embedder, record.prompt or "", record.response or "")
            scored = with_relevance(record.quality or {}, measured.value, measured.reason, self._embedder.name,
                                    measured.method)
            if self._references is not None and self._is_probe(record):
                drift, drift_reason = canary_drift(self._references, self._embedder, record.to_row())
                scored |= {"drift_similarity": None if drift is None else round(drift, 4), "drift_reason": drift_reason}
        except Exception as exc:  # noqa: BLE001 - one bad record must not stop the scorer
            self._log.warning("scoring %s failed: %s", record.trace_id, log_text(exc))
            with self._lock:
                self.failed_total += 1
            return self._unscored(record, f"scoring failed: {type(exc).__name__}: {exc}")
        with self._lock:
            self.scored_total += 1
        return scored

    def _is_probe(self, record: RequestRecord) -> bool:
        return record.source == "probe" and self._references is not None

    def _unscored(self, record: RequestRecord, reason: str | None) -> dict[str, Any]:
        """The quality with relevance (and a probe's drift) None, and the reason why."""
        unscored = with_relevance(record.quality or {}, None, reason)
        return unscored | {"drift_similarity": None, "drift_reason": reason} if self._is_probe(record) else unscored

    def _emit(self, record: RequestRecord, quality: dict[str, Any]) -> None:
        try:
            self._publish(record.scored(quality))
        except Exception:  # noqa: BLE001 - bookkeeping must never stop scoring
            self._log.exception("recording the quality of %s failed", record.trace_id)
