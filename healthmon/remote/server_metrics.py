"""Model-layer figures from a model server's Prometheus /metrics page: vLLM, llama.cpp's server and TGI.

Pure functions: `parse_server_metrics` reads one scrape into cumulative figures, `interval_figures` turns two
successive scrapes into per-interval ones (rates, interval means), surviving a server restart; `parse_slots` reads
llama.cpp's `/slots`; `ServerFigures` is what both add to the model layer, named as the catalog names it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from healthmon.target_info import ServerFigures

_Samples = dict[str, list[float]]


class ServerMetricsError(ValueError):
    """A /metrics page that is not Prometheus text, so one bad scrape fails cleanly instead of crashing a poller."""


@dataclass(frozen=True)
class LatencyTotals:
    """A latency histogram's cumulative _sum and _count, kept so two scrapes give the mean over their interval."""

    seconds_sum: float
    count: int

    @property
    def mean_seconds(self) -> float | None:
        """Mean latency since the server started; None before the first observation."""
        return self.seconds_sum / self.count if self.count > 0 else None


@dataclass(frozen=True)
class ServerMetrics:
    """One scrape's model-layer figures; None wherever this server does not expose the figure."""

    server_kind: str | None = None
    requests_running: int | None = None
    requests_waiting: int | None = None
    kv_cache_usage_ratio: float | None = None
    preemptions_total: int | None = None
    prompt_tokens_total: int | None = None
    generation_tokens_total: int | None = None
    server_ttft: LatencyTotals | None = None
    server_request: LatencyTotals | None = None

    @property
    def server_ttft_seconds_mean(self) -> float | None:
        """Server-side time to first token, mean since the server started."""
        return self.server_ttft.mean_seconds if self.server_ttft else None

    @property
    def server_request_seconds_mean(self) -> float | None:
        """Server-side end-to-end request latency, mean since the server started."""
        return self.server_request.mean_seconds if self.server_request else None


@dataclass(frozen=True)
class ServerMetricsInterval:
    """Figures over the interval between two scrapes, because cumulative counters say nothing about now."""

    server_kind: str | None
    interval_seconds: float
    requests_running: int | None
    requests_waiting: int | None
    kv_cache_usage_ratio: float | None
    preemptions: int | None
    prompt_tokens_per_second: float | None
    generation_tokens_per_second: float | None
    server_ttft_seconds_mean: float | None
    server_request_seconds_mean: float | None
    counter_reset: bool


@dataclass(frozen=True)
class _ServerNames:
    """Which sample carries each figure on one kind of server, so parsing is a table rather than branches."""

    family_prefix: str
    requests_running: str | None
    requests_waiting: str | None
    kv_cache_usage_ratio: tuple[str, ...]
    preemptions_total: str | None
    prompt_tokens_total: str | None
    generation_tokens_total: str | None
    ttft_histogram: str | None
    request_histogram: str | None


# Detection order matters: vLLM's TGIS adapter also emits tgi_* families beside its own vllm:* ones.
_SERVERS: dict[str, _ServerNames] = {
    "vllm": _ServerNames(
        family_prefix="vllm:",
        requests_running="vllm:num_requests_running",
        requests_waiting="vllm:num_requests_waiting",
        # Both are "KV-cache usage. 1 means 100 percent usage." (a 0..1 fraction); _gpu_ is the pre-0.9 name.
        kv_cache_usage_ratio=("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
        preemptions_total="vllm:num_preemptions_total",
        prompt_tokens_total="vllm:prompt_tokens_total",
        generation_tokens_total="vllm:generation_tokens_total",
        ttft_histogram="vllm:time_to_first_token_seconds",
        request_histogram="vllm:e2e_request_latency_seconds",
    ),
    "llamacpp": _ServerNames(
        family_prefix="llamacpp:",
        requests_running="llamacpp:requests_processing",
        requests_waiting="llamacpp:requests_deferred",
        # Only builds from before ggml-org/llama.cpp#13660 expose it.
        kv_cache_usage_ratio=("llamacpp:kv_cache_usage_ratio",),
        preemptions_total=None,
        prompt_tokens_total="llamacpp:prompt_tokens_total",
        generation_tokens_total="llamacpp:tokens_predicted_total",
        ttft_histogram=None,
        request_histogram=None,
    ),
    "tgi": _ServerNames(
        family_prefix="tgi_",
        requests_running="tgi_batch_current_size",
        requests_waiting="tgi_queue_size",
        kv_cache_usage_ratio=(),
        preemptions_total=None,
        # TGI has no token counters; its per-request token histograms' sums only grow, so they serve as ones.
        prompt_tokens_total="tgi_request_input_length_sum",
        generation_tokens_total="tgi_request_generated_tokens_sum",
        ttft_histogram=None,
        request_histogram="tgi_request_duration",
    ),
}


def parse_server_metrics(text: str) -> ServerMetrics:
    """Read one /metrics page into model-layer figures, summed over every model and engine it reports."""
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as error:
        raise ServerMetricsError(f"not Prometheus text exposition: {error}") from error
    samples: _Samples = {}
    for family in families:
        for sample in family.samples:
            if math.isfinite(sample.value):
                samples.setdefault(sample.name, []).append(sample.value)
    family_names = [family.name for family in families]
    kind = next(
        (kind for kind, names in _SERVERS.items() if any(n.startswith(names.family_prefix) for n in family_names)),
        None,
    )
    if kind is None:
        return ServerMetrics()
    names = _SERVERS[kind]
    kv_name = next((name for name in names.kv_cache_usage_ratio if name in samples), None)
    return ServerMetrics(
        server_kind=kind,
        requests_running=_count(samples, names.requests_running),
        requests_waiting=_count(samples, names.requests_waiting),
        # Each engine has its own cache; without their sizes the mean fraction is the fair summary.
        kv_cache_usage_ratio=_mean(samples[kv_name]) if kv_name else None,
        preemptions_total=_count(samples, names.preemptions_total),
        prompt_tokens_total=_count(samples, names.prompt_tokens_total),
        generation_tokens_total=_count(samples, names.generation_tokens_total),
        server_ttft=_latency(samples, names.ttft_histogram),
        server_request=_latency(samples, names.request_histogram),
    )


def interval_figures(previous: ServerMetrics, current: ServerMetrics, interval_seconds: float) -> ServerMetricsInterval:
    """Per-interval figures from two successive scrapes taken `interval_seconds` apart (a monotonic clock's)."""
    if not (math.isfinite(interval_seconds) and interval_seconds > 0):
        raise ValueError(f"interval_seconds must be a positive number of seconds, got {interval_seconds!r}")
    if previous.server_kind != current.server_kind:
        # Another server answers now: its counters share no history with the previous one's.
        previous = ServerMetrics(server_kind=current.server_kind)
    preemptions, preemptions_reset = _increase(previous.preemptions_total, current.preemptions_total)
    prompt_tokens, prompt_reset = _increase(previous.prompt_tokens_total, current.prompt_tokens_total)
    generation_tokens, generation_reset = _increase(previous.generation_tokens_total, current.generation_tokens_total)
    ttft, ttft_reset = _latency_increase(previous.server_ttft, current.server_ttft)
    request, request_reset = _latency_increase(previous.server_request, current.server_request)
    return ServerMetricsInterval(
        server_kind=current.server_kind,
        interval_seconds=interval_seconds,
        requests_running=current.requests_running,
        requests_waiting=current.requests_waiting,
        kv_cache_usage_ratio=current.kv_cache_usage_ratio,
        preemptions=preemptions,
        prompt_tokens_per_second=None if prompt_tokens is None else prompt_tokens / interval_seconds,
        generation_tokens_per_second=None if generation_tokens is None else generation_tokens / interval_seconds,
        server_ttft_seconds_mean=ttft.mean_seconds if ttft else None,
        server_request_seconds_mean=request.mean_seconds if request else None,
        counter_reset=preemptions_reset or prompt_reset or generation_reset or ttft_reset or request_reset,
    )


def _count(samples: _Samples, name: str | None) -> int | None:
    """A count summed over label sets; servers print counts as floats ("3.0", "1.23457e+06")."""
    if name is None or name not in samples:
        return None
    return round(math.fsum(samples[name]))


def _mean(values: list[float]) -> float:
    """Arithmetic mean of a non-empty list."""
    return math.fsum(values) / len(values)


def _latency(samples: _Samples, histogram: str | None) -> LatencyTotals | None:
    """A histogram's _sum and _count over every label set, or None where either is missing."""
    if histogram is None or f"{histogram}_sum" not in samples or f"{histogram}_count" not in samples:
        return None
    return LatencyTotals(
        seconds_sum=math.fsum(samples[f"{histogram}_sum"]),
        count=round(math.fsum(samples[f"{histogram}_count"])),
    )


def _increase(previous: int | None, current: int | None) -> tuple[int | None, bool]:
    """A counter's increase and whether it reset; after a reset it counted up from zero (Prometheus' rule)."""
    if previous is None or current is None:
        return None, False
    if current < previous:
        return current, True
    return current - previous, False


def _latency_increase(
    previous: LatencyTotals | None, current: LatencyTotals | None
) -> tuple[LatencyTotals | None, bool]:
    """The observations a histogram gained over the interval, and whether it reset."""
    if previous is None or current is None:
        return None, False
    if current.count < previous.count or current.seconds_sum < previous.seconds_sum:
        return current, True
    return LatencyTotals(current.seconds_sum - previous.seconds_sum, current.count - previous.count), False


@dataclass(frozen=True)
class SlotsSnapshot:
    """llama.cpp's `/slots` at one poll: how many slots are generating, how many there are, and how many tokens the
    slots hold (a slot keeps its last prompt and answer cached) of their summed context sizes."""

    busy: int
    total: int
    context_tokens: int
    context_capacity_tokens: int

    @property
    def context_usage_ratio(self) -> float | None:
        return self.context_tokens / self.context_capacity_tokens if self.context_capacity_tokens > 0 else None


def _natural(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ServerMetricsError(f"a slot's count is not a natural number: {str(value)[:40]!r}")
    return value


def parse_slots(payload: object) -> SlotsSnapshot:
    """One `/slots` answer (a list of slot objects with `n_ctx`, `is_processing` and, once used, the tokens it holds
    as `n_prompt_tokens`: llama.cpp counts the generated tokens in it too)."""
    if not isinstance(payload, list) or not all(isinstance(slot, dict) for slot in payload):
        raise ServerMetricsError("/slots is not a list of slot objects")
    busy = sum(1 for slot in payload if slot.get("is_processing") is True)
    held = sum(_natural(slot.get("n_prompt_tokens", 0)) for slot in payload)
    capacity = sum(_natural(slot.get("n_ctx", 0)) for slot in payload)
    return SlotsSnapshot(busy, len(payload), min(held, capacity), capacity)


def server_figures_of(interval: ServerMetricsInterval | None, slots: SlotsSnapshot | None) -> ServerFigures:
    """The model layer's server figures: the last poll interval's /metrics and the server's /slots."""
    figures: dict[str, Any] = {}
    if interval is not None:
        figures = {"server_requests_running": interval.requests_running,
                   "server_requests_waiting": interval.requests_waiting,
                   "server_kv_cache_usage_ratio": interval.kv_cache_usage_ratio,
                   "server_preemptions": interval.preemptions,
                   "server_ttft_seconds": interval.server_ttft_seconds_mean,
                   "server_request_seconds": interval.server_request_seconds_mean,
                   "server_prompt_tokens_per_second": interval.prompt_tokens_per_second,
                   "server_generation_tokens_per_second": interval.generation_tokens_per_second}
    if slots is not None:
        figures |= {"server_slots_busy": slots.busy, "server_slots_total": slots.total,
                    "server_context_usage_ratio": slots.context_usage_ratio}
    return ServerFigures(**figures)
