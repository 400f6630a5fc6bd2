"""CollectionLoop: every interval, one sample per layer, the score and the alert rules, into ring and store.

The collectors' layers (system, process, gpu) come from the collectors; the model, service and quality layers
are built here from the target and the request sinks; the score and the learned baselines follow from them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from healthmon.alert_service import AlertService
from healthmon.analysis.alerts import EVIDENCE_SUFFIX
from healthmon.analysis.rules import TRAFFIC_METRIC
from healthmon.analysis.score import ScoreResult, health_score, is_starting, status_from, without_model
from healthmon.analysis.stats import RequestStats
from healthmon.catalog import CATALOG
from healthmon.collectors.base import Collector, safe_collect
from healthmon.pipeline import CompletedWindow
from healthmon.quality.window import QualityWindow
from healthmon.records import RequestRecord
from healthmon.samples import Sample
from healthmon.store.ring import Ring
from healthmon.store.sqlite import HistoryStore
from healthmon.target import Target
from healthmon.target_info import TargetInfo

log = logging.getLogger("healthmon")

LAYERS = ("system", "process", "gpu", "model", "service", "quality", "slo", "score", "baseline")
COLLECTOR_THREAD_NAME = "healthmon-collector"

# Each metric has one name across the layers (the catalog declares each once: the model layer's throughput is
# tokens_per_second, the service layer's window_tokens_per_second). Should a collector's layer reuse a name, the
# later layer here is the one the score and the alert rules read; a layer not listed never wins.
FLAT_LAYER_ORDER = ("system", "process", "gpu", "model", "quality", "service", "slo")
# For each metric a rule may watch, the request field behind it: the trace ids of this cycle's requests, worst
# first, name the evidence in an alert's message.
LATENCY_EVIDENCE = {"latency_seconds": ("latency_seconds", True), "ttft_seconds": ("ttft_seconds", True),
                    "inter_token_latency_seconds": ("inter_token_latency_seconds", True),
                    "tokens_per_second": ("tokens_per_second", False),
                    "window_tokens_per_second": ("tokens_per_second", False)}


def flatten_layers(samples: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One {metric: value} from every layer's sample, by FLAT_LAYER_ORDER (unknown layers first, so never win)."""
    def rank(layer: str) -> int:
        return FLAT_LAYER_ORDER.index(layer) if layer in FLAT_LAYER_ORDER else -1

    return {key: value for layer in sorted(samples, key=rank) for key, value in samples[layer].items()}


def latency_evidence(records: Iterable[RequestRecord], limit: int = 5) -> dict[str, list[str]]:
    """For each latency metric, the trace ids of this cycle's requests, worst first, for alert messages."""
    records = list(records)
    out: dict[str, list[str]] = {}
    for metric, (key, higher_is_worse) in LATENCY_EVIDENCE.items():
        measured = sorted((r for r in records if getattr(r, key) is not None), key=lambda r: getattr(r, key),
                          reverse=higher_is_worse)
        if measured:
            out[metric] = [r.trace_id for r in measured[:limit]]
    return out


# What a remote target's info adds to the model layer: its health check and the server's own figures, as the
# catalog declares them (target_info.RemoteInfo.figures names them so).
SERVER_FIGURES = tuple(spec.key for spec in CATALOG.values() if spec.layer == "model"
                       and spec.key.startswith(("server_", "target_")))


def scheduler_means(previous: TargetInfo, current: TargetInfo) -> dict[str, float | None]:
    """Mean batch size, tokens per forward pass and the prefix cache's share of prompt tokens between two readings
    of the scheduler's totals; None where no step ran (or the target has no scheduler of its own)."""
    if previous.scheduler is None or current.scheduler is None:
        return {"batch_size": None, "tokens_per_step": None, "prefix_cache_hit_ratio": None}
    before, now = previous.scheduler.counters, current.scheduler.counters
    steps = now.decode_steps_total - before.decode_steps_total
    passes = steps + now.prefill_passes_total - before.prefill_passes_total
    carried = now.decode_step_requests_total - before.decode_step_requests_total
    tokens = now.step_tokens_total - before.step_tokens_total
    queried = now.prefix_cache_queried_tokens_total - before.prefix_cache_queried_tokens_total
    hits = now.prefix_cache_hit_tokens_total - before.prefix_cache_hit_tokens_total
    return {"batch_size": round(carried / steps, 3) if steps else None,
            "tokens_per_step": round(tokens / passes, 3) if passes else None,
            "prefix_cache_hit_ratio": round(hits / queried, 4) if queried else None}


def model_sample(info: TargetInfo, completed: list[RequestRecord],
                 previous_info: TargetInfo | None = None) -> dict[str, Any]:
    """Model facts, the scheduler's figures since `previous_info`, and the mean of the requests (probes included)
    completed since the last sample."""
    def mean(key: str) -> float | None:
        values = [getattr(r, key) for r in completed if getattr(r, key) is not None]
        return round(sum(values) / len(values), 6) if values else None

    figures = info.remote.figures() if info.remote is not None else {}
    server = {key: figures[key] for key in SERVER_FIGURES if figures.get(key) is not None}
    facts, scheduler = info.facts, info.scheduler
    return server | {
        "model_status": info.status.value, "model_loaded": 1 if info.loaded else 0,
        "model_available": info.available,
        "in_flight": info.in_flight, "queued": info.queued,
        "queue_usage": info.queue_usage(),
        "kv_cache_usage_ratio": scheduler.kv_cache_usage_ratio if scheduler is not None else None,
        **scheduler_means(previous_info or info, info),
        "memory_footprint_gb": facts.memory_footprint_gb if facts is not None else None,
        "parameters_billions": facts.parameters_billions if facts is not None else None,
        "load_seconds": info.load_seconds, "completed_requests": len(completed),
        "latency_seconds": mean("latency_seconds"), "ttft_seconds": mean("ttft_seconds"),
        "tokens_per_second": mean("tokens_per_second"),
        "inter_token_latency_seconds": mean("inter_token_latency_seconds"),
    }


class CollectionLoop:
    """One named daemon thread; start and stop are the monitor's (under its lifecycle lock)."""

    def __init__(self, collectors: Iterable[Collector], target: Target, store: HistoryStore, alerts: AlertService, *,
                 request_stats: RequestStats, completed: CompletedWindow, quality_window: QualityWindow,
                 quality_stats: Callable[[], dict[str, Any]], interval_seconds: float, ring_size: int,
                 slo_sample: Callable[[float], dict[str, Any]] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.collectors = list(collectors)
        self._target, self._store, self._alerts = target, store, alerts
        self._request_stats, self._completed = request_stats, completed
        self._quality_window, self._quality_stats = quality_window, quality_stats
        self._slo_sample = slo_sample  # the SLO figures from the stored requests (slo_service.py); None: no layer
        self.interval_seconds = interval_seconds
        self._clock = clock
        self._ring_size = ring_size
        self.rings = {layer: Ring(ring_size) for layer in LAYERS}
        self.collector_errors: dict[str, dict[str, Any]] = {}
        self.cycles_total = 0
        self.last_cycle_seconds: float | None = None
        self._last_score: ScoreResult | None = None
        self._latency_evidence: dict[str, list[str]] = {}
        self._previous_model_info: TargetInfo | None = None  # the scheduler's totals at the last cycle
        self._undeclared_seen: set[tuple[str, str]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- the thread ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return bool(self._thread and self._thread.is_alive())

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=COLLECTOR_THREAD_NAME, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(10.0, 3 * self.interval_seconds))
            self._thread = None

    def _run(self) -> None:
        next_due = time.monotonic()
        while not self._stop.is_set():
            self.collect_once()
            next_due += self.interval_seconds
            now = time.monotonic()
            if next_due < now:  # fell behind (a slow disk, a suspended laptop): skip, don't burst
                next_due = now + self.interval_seconds
            self._stop.wait(next_due - now)

    # ---- one cycle -------------------------------------------------------------------------
    def collect_once(self) -> dict[str, Sample]:
        """One collection cycle: every layer, the score and the alert rules. Never raises."""
        started = time.perf_counter()
        ts = self._clock()
        values: dict[str, dict[str, Any]] = {}
        for collector in self.collectors:
            collected, error = safe_collect(collector, log)
            if error is None:
                values[collector.layer] = collected
            else:
                self._count_error(collector.layer, error, ts)
        builders: list[tuple[str, Callable[[float], dict[str, Any]]]] = [
            ("model", self._model_sample), ("service", self._service_sample), ("quality", self._quality_sample)]
        if self._slo_sample is not None:
            builders.append(("slo", self._slo_sample))
        for layer, build in builders:
            try:
                values[layer] = build(ts)
            except Exception as exc:  # noqa: BLE001 - same isolation as the collectors
                error = f"{type(exc).__name__}: {exc}"
                if self.collector_errors.get(layer, {}).get("last_error") != error:  # once per new error, no spam
                    log.exception("building the %s sample failed", layer)
                self._count_error(layer, error, ts)
        flat = flatten_layers(values)
        score = health_score(without_model(flat) if self._starting() else flat)
        values["score"] = {"performance_score": score.score,
                           **{f"score_{c['component']}": c["score"] for c in score.components}}
        self._alerts.evaluate(ts, self._alert_inputs(ts, flat))
        baseline = self._alerts.baseline_sample()
        if baseline:  # none until a baseline has warmed up: no empty rows
            values["baseline"] = baseline
        samples: dict[str, Sample] = {}
        for layer, layer_values in values.items():
            try:
                sample = samples[layer] = Sample(layer, ts, layer_values)
            except Exception:  # noqa: BLE001 - a collector's odd output must not stop the loop
                log.exception("the %s layer's values are not a sample", layer)
                continue
            # a collector's own layer gets a ring of its own the first time, rather than a KeyError in the loop
            self.rings.setdefault(layer, Ring(self._ring_size)).append(sample)
            try:
                self._warn_undeclared(sample)
                self._store.append_sample(layer, sample.timestamp_s, sample.metrics)
            except Exception:  # noqa: BLE001 - a bad metric name must not stop the loop
                log.exception("could not queue the %s sample", layer)
        self._last_score = score
        self.cycles_total += 1
        self.last_cycle_seconds = time.perf_counter() - started
        return samples

    def _warn_undeclared(self, sample: Sample) -> None:
        """Once per key: a metric the catalog does not declare is kept, but has no label, unit or export."""
        fresh = {key for key in sample.undeclared() if (sample.layer, key) not in self._undeclared_seen}
        if fresh:
            self._undeclared_seen |= {(sample.layer, key) for key in fresh}
            log.warning("the %s layer sampled keys the metric catalog does not declare (kept, not exported): %s",
                        sample.layer, ", ".join(sorted(map(str, fresh))))

    def _starting(self) -> bool:
        return is_starting(self._target.status.value, self._target.loaded_at is not None)

    def _count_error(self, layer: str, error: str, ts: float) -> None:
        entry = self.collector_errors.setdefault(layer, {"count": 0})
        entry.update(count=entry["count"] + 1, last_error=error, last_error_at=ts)

    def _model_sample(self, ts: float) -> dict[str, Any]:
        completed = self._completed.drain()
        self._latency_evidence = latency_evidence(completed)
        info = self._target.info()
        previous, self._previous_model_info = self._previous_model_info, info
        return model_sample(info, completed, previous)

    def _quality_sample(self, ts: float) -> dict[str, Any]:
        """Quality of the user answers of the last 5 minutes (quality/window.py), and the scorer's counters."""
        return self._quality_window.sample(ts) | self._quality_stats()

    def _service_sample(self, ts: float) -> dict[str, Any]:
        snapshot = self._request_stats.snapshot(ts)
        return {key: value for key, value in snapshot.items() if key != "window_seconds"}

    def _alert_inputs(self, ts: float, metrics: dict[str, Any]) -> dict[str, Any]:
        """The flat metrics, the traffic the rules gate on, and the trace ids behind each metric."""
        inputs: dict[str, Any] = dict(metrics)
        inputs[TRAFFIC_METRIC] = metrics.get("window_requests")
        evidence = self._quality_window.evidence(ts) | self._latency_evidence
        return inputs | {metric + EVIDENCE_SUFFIX: ids for metric, ids in evidence.items()}

    # ---- reading ---------------------------------------------------------------------------
    def latest(self, layer: str) -> dict[str, Any]:
        """The layer's newest values and their "ts", as a dict of its own; {} before the first sample."""
        sample = self.rings[layer].latest()
        return dict(sample) | {"ts": sample.timestamp_s} if sample else {}

    def health(self) -> dict[str, Any]:
        """Score, status and breakdown from the latest cycle."""
        levels = [a.level for a in self._alerts.active()]
        # Live, not the last cycle's: a status read just after the first load must not still say starting.
        starting = self._starting()
        score = self._last_score
        if score is None:
            return {"status": "starting" if starting else "no_data", "performance_score": None, "components": []}
        return {"status": status_from(score.score, levels, starting), "performance_score": score.score,
                "components": score.components}
