"""The request pipeline: every request record goes through one list of sinks, in order, each with `record()`.

The producers (the target for admitted requests, the generate service for refusals, the quality scorer for its
late update) hold the pipeline, never the monitor. A sink that fails is logged and skipped: bookkeeping must
never fail a request or starve the sinks after it.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable
from typing import Protocol

from healthmon.records import RequestRecord

log = logging.getLogger("healthmon.pipeline")


class RequestSink(Protocol):
    """Anything that takes request records: history, metrics, traces, statistics, quality."""

    def record(self, record: RequestRecord) -> None: ...


class RequestPipeline:
    """Feeds each record to every sink in order; thread-safe as long as each sink is."""

    def __init__(self, sinks: Iterable[RequestSink] = ()) -> None:
        self.sinks: list[RequestSink] = list(sinks)

    def record(self, record: RequestRecord) -> None:
        for sink in self.sinks:
            try:
                sink.record(record)
            except Exception:  # noqa: BLE001 - one sink's failure must not cost the others the record
                log.exception("%s could not take request %s", type(sink).__name__, record.trace_id)


class StoreSink:
    """History: both passes, the scored one replacing the finished row (same trace id)."""

    def __init__(self, store: RequestStore) -> None:
        self._store = store

    def record(self, record: RequestRecord) -> None:
        self._store.append_request(record.to_row())


class RequestStore(Protocol):
    def append_request(self, row: dict) -> None: ...


class CompletedWindow:
    """The completed requests (canary probes included) since the model layer's last sample."""

    def __init__(self, max_items: int = 10_000) -> None:
        self._completed: deque[RequestRecord] = deque(maxlen=max_items)
        self._lock = threading.Lock()

    def record(self, record: RequestRecord) -> None:
        if record.stage == "finished" and record.completed:
            with self._lock:
                self._completed.append(record)

    def drain(self) -> list[RequestRecord]:
        with self._lock:
            completed = list(self._completed)
            self._completed.clear()
        return completed
