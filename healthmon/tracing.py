"""Per-request traces: a trace id and named spans, measured on one monotonic clock.

Spans are stored with the request as offsets from the trace start, so a waterfall needs no clock
translation; the wall-clock start is kept once per trace for display and export.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SPAN_NAMES = ("validate", "queue", "tokenize", "prefill", "decode", "detokenize")


def new_trace_id() -> str:
    """128-bit hex id, the W3C/OpenTelemetry trace-id shape, so traces can be exported as they are."""
    return secrets.token_hex(16)


@dataclass
class Span:
    name: str
    start_seconds: float  # perf-clock time
    end_seconds: float
    attributes: dict[str, object] = field(default_factory=dict)

    @property
    def duration_seconds(self) -> float:
        return max(0.0, self.end_seconds - self.start_seconds)


class Trace:
    """Collects spans for one request; `to_list()` gives the stored form (offsets from the trace start)."""

    def __init__(self, trace_id: str | None = None, clock: Callable[[], float] = time.perf_counter,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.trace_id = trace_id or new_trace_id()
        self._clock = clock
        self.start_seconds = clock()
        self.start_unix_seconds = wall_clock()
        self.spans: list[Span] = []

    def now(self) -> float:
        return self._clock()

    def add(self, name: str, start_seconds: float, end_seconds: float, **attributes: object) -> None:
        self.spans.append(Span(name, start_seconds, end_seconds, dict(attributes)))

    def elapsed_seconds(self) -> float:
        return self._clock() - self.start_seconds

    def to_list(self) -> list[dict[str, object]]:
        return [
            {
                "name": span.name,
                "start_offset_seconds": round(span.start_seconds - self.start_seconds, 6),
                "duration_seconds": round(span.duration_seconds, 6),
                **({"attributes": span.attributes} if span.attributes else {}),
            }
            for span in self.spans
        ]
