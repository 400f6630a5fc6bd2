"""Figures of one concurrency level from its requests' timings: pure functions, no clock, no I/O.

Definitions as vLLM's `bench serve` and genai-perf state them, so the numbers compare with theirs:
- TTFT: from sending the request to the first chunk with non-empty content.
- time per output token (TPOT): (e2e − TTFT) / (output tokens − 1) per request; requests with one token have none.
- inter-token latency (ITL): every gap between successive content chunks, over all requests.
- output tokens: the server's `usage.completion_tokens` when it sent a usage chunk, else the content chunks counted.
- goodput: requests per second that succeeded and met every objective; SLO attainment: good / requests sent.
- capacity: the highest concurrency whose attainment meets the objective.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from healthmon.analysis.slo import within_objectives
from healthmon.loadtest.client import RequestTiming

QUANTILES = (50, 95, 99)
ERROR_EXAMPLES = 3  # distinct error messages kept per level, enough to say what went wrong


@dataclass(frozen=True)
class Objectives:
    """What a good request meets; None leaves a latency unjudged. `objective` is the share that must be good: up to
    and including 1 here (a load test may ask every request to be good), where the live SLO's (SloObjectives) stops
    short of 1, the burn rate dividing by what it leaves."""

    ttft_seconds: float | None = 2.0
    time_per_output_token_seconds: float | None = 0.2
    e2e_seconds: float | None = None
    objective: float = 0.99

    def latency_objectives(self) -> dict[str, float | None]:
        return {"ttft_seconds": self.ttft_seconds, "time_per_output_token_seconds": self.time_per_output_token_seconds,
                "e2e_seconds": self.e2e_seconds}

    def to_dict(self) -> dict[str, float | None]:
        return self.latency_objectives() | {"objective": self.objective}


@dataclass(frozen=True)
class RequestMeasure:
    """One successful request's figures."""

    ttft_seconds: float
    e2e_seconds: float
    output_tokens: int
    tokens_from_usage: bool
    time_per_output_token_seconds: float | None  # None with fewer than two output tokens
    gaps_seconds: tuple[float, ...]  # between successive content chunks


@dataclass(frozen=True)
class Percentiles:
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {"p50": self.p50, "p95": self.p95, "p99": self.p99}


@dataclass(frozen=True)
class LevelResult:
    """One concurrency level's figures, as the report's `levels` entries."""

    concurrency: int
    requests: int  # sent, failed ones included
    errors: int
    ttft_seconds: Percentiles
    time_per_output_token_seconds: Percentiles
    inter_token_latency_seconds: Percentiles
    e2e_seconds: Percentiles
    output_tokens_per_second: float
    requests_per_second: float  # successful requests
    goodput_requests_per_second: float
    slo_attainment: float | None  # None when no request was sent
    duration_seconds: float
    output_tokens: int
    output_tokens_source: str  # usage | counted chunks | mixed | none
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    error_examples: tuple[str, ...] = ()
    started_at_s: float | None = None  # wall clock (Unix seconds), so the monitor's history can be read for it
    finished_at_s: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {"concurrency": self.concurrency, "requests": self.requests, "errors": self.errors,
                "ttft_seconds": self.ttft_seconds.to_dict(),
                "time_per_output_token_seconds": self.time_per_output_token_seconds.to_dict(),
                "inter_token_latency_seconds": self.inter_token_latency_seconds.to_dict(),
                "e2e_seconds": self.e2e_seconds.to_dict(),
                "output_tokens_per_second": self.output_tokens_per_second,
                "requests_per_second": self.requests_per_second,
                "goodput_requests_per_second": self.goodput_requests_per_second,
                "slo_attainment": self.slo_attainment, "duration_seconds": self.duration_seconds,
                "output_tokens": self.output_tokens, "output_tokens_source": self.output_tokens_source,
                "errors_by_kind": dict(self.errors_by_kind), "error_examples": list(self.error_examples),
                "started_at_s": self.started_at_s, "finished_at_s": self.finished_at_s}


def measure(timing: RequestTiming) -> RequestMeasure | None:
    """A successful request's figures; None for a failed one (it has no latency to count)."""
    if not timing.ok or not timing.content_times_s:
        return None
    times = timing.content_times_s
    ttft = times[0] - timing.sent_s
    e2e = timing.finished_s - timing.sent_s
    from_usage = timing.usage_output_tokens is not None and timing.usage_output_tokens > 0
    tokens = timing.usage_output_tokens if from_usage and timing.usage_output_tokens else len(times)
    tpot = (e2e - ttft) / (tokens - 1) if tokens > 1 else None
    gaps = tuple(later - earlier for earlier, later in zip(times, times[1:], strict=False))
    return RequestMeasure(ttft, e2e, tokens, from_usage, tpot, gaps)


def is_good(request: RequestMeasure, objectives: Objectives) -> bool:
    """Met every objective set; an unset one (None) is not judged, nor TPOT for a one-token answer (the live SLO's
    own test, slo.within_objectives)."""
    return within_objectives(objectives.latency_objectives(), {
        "ttft_seconds": request.ttft_seconds, "time_per_output_token_seconds": request.time_per_output_token_seconds,
        "e2e_seconds": request.e2e_seconds})


def percentiles(values: Sequence[float]) -> Percentiles:
    """p50, p95, p99 by linear interpolation between closest ranks (numpy's default, as vLLM's bench reports)."""
    if not values:
        return Percentiles()
    ordered = sorted(values)

    def at(q: float) -> float:
        rank = (len(ordered) - 1) * q / 100
        low = int(rank)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)

    return Percentiles(*(at(q) for q in QUANTILES))


def _tokens_source(measures: Sequence[RequestMeasure]) -> str:
    sources = {m.tokens_from_usage for m in measures}
    if not sources:
        return "none"
    if len(sources) == 2:
        return "mixed"
    return "usage" if sources == {True} else "counted chunks"


def summarize_level(concurrency: int, timings: Sequence[RequestTiming], duration_seconds: float,
                    objectives: Objectives, *, started_at_s: float | None = None,
                    finished_at_s: float | None = None) -> LevelResult:
    """The level's figures; rates are over `duration_seconds`, from the first request sent to the last finished."""
    measures = [m for m in (measure(t) for t in timings) if m is not None]
    failed = [t for t in timings if not t.ok]
    good = sum(is_good(m, objectives) for m in measures)
    tokens = sum(m.output_tokens for m in measures)

    def rate(count: float) -> float:
        return count / duration_seconds if duration_seconds > 0 else 0.0

    examples = tuple(dict.fromkeys(t.error or "" for t in failed))[:ERROR_EXAMPLES]
    return LevelResult(
        concurrency=concurrency, requests=len(timings), errors=len(failed),
        ttft_seconds=percentiles([m.ttft_seconds for m in measures]),
        time_per_output_token_seconds=percentiles([m.time_per_output_token_seconds for m in measures
                                                   if m.time_per_output_token_seconds is not None]),
        inter_token_latency_seconds=percentiles([gap for m in measures for gap in m.gaps_seconds]),
        e2e_seconds=percentiles([m.e2e_seconds for m in measures]),
        output_tokens_per_second=rate(tokens), requests_per_second=rate(len(measures)),
        goodput_requests_per_second=rate(good), slo_attainment=good / len(timings) if timings else None,
        duration_seconds=duration_seconds, output_tokens=tokens, output_tokens_source=_tokens_source(measures),
        errors_by_kind=dict(Counter(t.error_kind or "other" for t in failed)), error_examples=examples,
        started_at_s=started_at_s, finished_at_s=finished_at_s)


def capacity(levels: Iterable[LevelResult], objective: float) -> int | None:
    """The highest concurrency whose SLO attainment meets the objective; None when no level does."""
    meeting = [level.concurrency for level in levels
               if level.slo_attainment is not None and level.slo_attainment >= objective]
    return max(meeting) if meeting else None
