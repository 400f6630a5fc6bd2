"""GET /metrics: the Monitor's four layers, health and alerts, read at scrape time, in the Prometheus format.

`MonitorCollector` reads the Monitor's latest samples when Prometheus scrapes, so a scrape costs no
collection of its own and shows exactly what the dashboard shows. Names follow Prometheus conventions:
a `healthmon_` prefix, base units in the name (`_bytes`, `_seconds`, `_celsius`, `_watts`), `_ratio` for
0-1 fractions (the Monitor's percentages divided by 100), `_total` counters. GPUs carry a `gpu` label
(the device index) and echo DCGM's field names in their help text.

The service layer's windowed figures (p95 latency, failure rate, requests per minute) are not exported:
Prometheus computes them, over any window, from the request counters and histograms (request_metrics).

A layer whose latest sample is older than `STALE_AFTER_INTERVALS` collection intervals is left out: a
stopped loop must not report its last values as current, which Prometheus would draw as a flat line.
Each section is isolated, so one failing read drops its own series but never fails the scrape.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import (CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric)
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from healthmon.monitor import Monitor

log = logging.getLogger("healthmon.export")
STALE_AFTER_INTERVALS = 3
MIN_STALE_AFTER_SECONDS = 15.0
PERCENT = 0.01
MB = 1024**2
GB = 1024**3
MODEL_STATES = ("not_loaded", "loading", "loaded", "error")
HEALTH_STATUSES = ("healthy", "warning", "critical", "starting", "no_data")
LEVELS = ("warning", "critical")

# (sample key, metric name, help, factor to base units), per layer
SYSTEM_GAUGES = (
    ("cpu_usage", "healthmon_system_cpu_usage_ratio", "CPU busy across all cores, 0-1.", PERCENT),
    ("memory_usage", "healthmon_system_memory_usage_ratio", "Memory in use, 0-1.", PERCENT),
    ("memory_used_gb", "healthmon_system_memory_used_bytes", "Memory in use.", GB),
    ("memory_total_gb", "healthmon_system_memory_total_bytes", "Physical memory.", GB),
    ("memory_available_gb", "healthmon_system_memory_available_bytes", "Memory available without swapping.", GB),
    ("swap_usage", "healthmon_system_swap_usage_ratio", "Swap in use, 0-1.", PERCENT),
    ("swap_used_gb", "healthmon_system_swap_used_bytes", "Swap in use.", GB),
    ("disk_usage", "healthmon_system_disk_usage_ratio", "Space used on the data filesystem, 0-1.", PERCENT),
    ("disk_used_gb", "healthmon_system_disk_used_bytes", "Space used on the data filesystem.", GB),
    ("disk_total_gb", "healthmon_system_disk_total_bytes", "Size of the data filesystem.", GB),
    ("disk_read_bytes_per_second", "healthmon_system_disk_read_bytes_per_second",
     "Disk reads over the last collection interval.", 1),
    ("disk_write_bytes_per_second", "healthmon_system_disk_written_bytes_per_second",
     "Disk writes over the last collection interval.", 1),
    ("network_recv_bytes_per_second", "healthmon_system_network_receive_bytes_per_second",
     "Network bytes received over the last collection interval.", 1),
    ("network_sent_bytes_per_second", "healthmon_system_network_transmit_bytes_per_second",
     "Network bytes sent over the last collection interval.", 1),
    ("load_avg_1m", "healthmon_system_load1", "1-minute load average.", 1),
    ("load_avg_5m", "healthmon_system_load5", "5-minute load average.", 1),
    ("load_avg_15m", "healthmon_system_load15", "15-minute load average.", 1),
)
PROCESS_GAUGES = (
    ("process_rss_mb", "healthmon_process_resident_memory_bytes", "Resident memory of the monitored process.", MB),
    ("process_cpu_percent", "healthmon_process_cpu_usage_ratio",
     "CPU of the monitored process; 1.0 is one core busy, so it may exceed 1.", PERCENT),
    ("process_threads", "healthmon_process_threads", "Threads of the monitored process.", 1),
    ("process_open_files", "healthmon_process_open_files",
     "Regular files the process holds open (all descriptors where files are hidden).", 1),
)
GPU_DEVICE_GAUGES = (
    ("utilization_percent", "healthmon_gpu_utilization_ratio", "GPU busy, 0-1 (DCGM_FI_DEV_GPU_UTIL / 100).",
     PERCENT),
    ("memory_used_mb", "healthmon_gpu_memory_used_bytes", "GPU memory in use (DCGM_FI_DEV_FB_USED, in bytes).", MB),
    ("memory_total_mb", "healthmon_gpu_memory_total_bytes", "GPU memory size (DCGM FB_USED + FB_FREE, in bytes).", MB),
    ("memory_percent", "healthmon_gpu_memory_usage_ratio", "GPU memory in use, 0-1.", PERCENT),
    ("temperature_c", "healthmon_gpu_temperature_celsius", "GPU temperature (DCGM_FI_DEV_GPU_TEMP).", 1),
    ("power_w", "healthmon_gpu_power_usage_watts", "GPU power draw (DCGM_FI_DEV_POWER_USAGE).", 1),
    ("process_memory_mb", "healthmon_gpu_process_memory_used_bytes", "GPU memory held by the monitored process.",
     MB),
)
TORCH_GAUGES = (
    ("torch_cuda_allocated_mb", "healthmon_torch_cuda_allocated_bytes", "Torch CUDA memory allocated to tensors.",
     MB),
    ("torch_cuda_reserved_mb", "healthmon_torch_cuda_reserved_bytes", "Torch CUDA memory reserved by its caching "
     "allocator.", MB),
)


QUALITY_GAUGES = (  # over the user answers of the quality layer's window (quality/window.py)
    ("quality_score", "healthmon_quality_score", "Generation quality score of recent user requests, 0-100.", 1),
    ("relevance", "healthmon_quality_relevance", "Prompt-response embedding cosine similarity, -1..1.", 1),
    ("perplexity", "healthmon_quality_perplexity", "Perplexity of recent outputs under the model itself.", 1),
    ("repetition_rate", "healthmon_quality_repetition_rate", "Share of repeated 3-grams in recent outputs, 0-1.", 1),
    ("distinct_2", "healthmon_quality_distinct_2", "Distinct bigrams over all bigrams in recent outputs, 0-1.", 1),
    ("canary_drift_similarity", "healthmon_quality_canary_drift_similarity",
     "Similarity of the latest canary answer to the first one recorded for this model, -1..1.", 1),
    ("degenerate_recent", "healthmon_quality_degenerate_recent",
     "How many of the last 5 user answers were degenerate (looping, repeating).", 1),
    ("language_mismatch_recent", "healthmon_quality_language_mismatch_recent",
     "How many of the last 5 user answers were not in the expected language.", 1),
)
QUALITY_LOOKBACK_SECONDS = 300.0  # quality arrives only in cycles with finished requests: keep the last value a while


def _scaled(value: float, factor: float) -> float:
    """To base units; rounding keeps 71.4 % from printing as 0.7140000000000001."""
    return float(value) if factor == 1 else round(float(value) * factor, 9)


def _gauges(sample: dict[str, Any], specs: Iterable[tuple[str, str, str, float]]) -> Iterator[Metric]:
    """One unlabeled gauge per spec whose key has a number in the sample."""
    for key, name, documentation, factor in specs:
        value = sample.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            yield GaugeMetricFamily(name, documentation, value=_scaled(value, factor))


def _one_hot(name: str, documentation: str, label: str, states: Iterable[str], current: str) -> GaugeMetricFamily:
    """A state set: 1 for the current state, 0 for the others, so every series always exists."""
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for state in states:
        family.add_metric([state], 1.0 if state == current else 0.0)
    return family


class MonitorCollector:
    """A prometheus_client collector over one Monitor's live state (the Collector protocol: `collect()`)."""

    def __init__(self, monitor: Monitor) -> None:
        self._monitor = monitor

    def collect(self) -> Iterator[Metric]:
        for section in (self._meta, self._system, self._gpu, self._model, self._quality, self._health, self._alerts):
            try:
                yield from list(section())  # materialized, so a failure midway drops the whole section
            except Exception:  # noqa: BLE001 - one broken section must not cost Prometheus the scrape
                log.exception("metrics section %s failed", section.__name__)

    def _fresh(self, layer: str) -> dict[str, Any]:
        """The layer's latest sample, or {} when there is none or it is stale (module docstring)."""
        sample = self._monitor.latest(layer)
        interval = self._monitor.settings.interval
        stale_after = max(STALE_AFTER_INTERVALS * interval, MIN_STALE_AFTER_SECONDS)
        if not sample or self._monitor.clock() - sample["ts"] > stale_after:
            return {}
        return sample

    def _meta(self) -> Iterator[Metric]:
        monitor = self._monitor
        yield GaugeMetricFamily("healthmon_monitoring", "1 while the collection loop runs.",
                                value=1.0 if monitor.running else 0.0)
        yield GaugeMetricFamily("healthmon_start_time_seconds", "When the monitor started (unix time).",
                                value=monitor.started_at)
        yield CounterMetricFamily("healthmon_collection_cycles", "Collection cycles run.", value=monitor.cycles_total)
        if monitor.last_cycle_seconds is not None:
            yield GaugeMetricFamily("healthmon_collection_duration_seconds", "Duration of the last collection cycle.",
                                    value=monitor.last_cycle_seconds)
        errors = CounterMetricFamily("healthmon_collector_errors", "Failed collections by layer.", labels=["layer"])
        for layer, entry in sorted(monitor.collector_errors.items()):
            errors.add_metric([layer], entry.get("count", 0))
        yield errors

    def _system(self) -> Iterator[Metric]:
        yield from _gauges(self._fresh("system"), SYSTEM_GAUGES)
        yield from _gauges(self._fresh("process"), PROCESS_GAUGES)

    def _gpu(self) -> Iterator[Metric]:
        sample = self._fresh("gpu")
        if not sample:
            return
        yield GaugeMetricFamily("healthmon_gpu_available", "1 when NVML reports at least one GPU.",
                                value=1.0 if sample.get("gpu_available") else 0.0)
        devices = sample.get("devices") or []
        for key, name, documentation, factor in GPU_DEVICE_GAUGES:
            family = GaugeMetricFamily(name, documentation, labels=["gpu", "name"])
            for device in devices:
                value = device.get(key)
                if value is not None:
                    family.add_metric([str(device["index"]), str(device.get("name") or "")], _scaled(value, factor))
            if family.samples:
                yield family
        yield from _gauges(sample, TORCH_GAUGES)

    def _model(self) -> Iterator[Metric]:
        info = self._monitor.runtime.info()
        yield InfoMetricFamily("healthmon_model", "The monitored model; its labels say which one.", value={
            "model_name": str(info["name"]), "source": str(info["source"]),
            "demo": str(bool(info.get("is_demo"))).lower(),
            "architecture": str(info.get("architecture") or ""), "device": str(info.get("device") or ""),
            "dtype": str(info.get("dtype") or "")})
        yield _one_hot("healthmon_model_state", "Model lifecycle state (one-hot).", "state", MODEL_STATES,
                       info["status"])
        yield GaugeMetricFamily("healthmon_model_loaded", "1 while the model is loaded and serving.",
                                value=1.0 if info["status"] == "loaded" else 0.0)
        for key, name, documentation in (
                ("parameters", "healthmon_model_parameters", "Parameters of the loaded model."),
                ("memory_footprint_bytes", "healthmon_model_memory_footprint_bytes", "Weights and buffers in memory."),
                ("load_seconds", "healthmon_model_load_duration_seconds", "How long the last successful load took."),
                ("in_flight", "healthmon_num_requests_running", "Requests generating now (vllm:num_requests_running)."),
                ("queued", "healthmon_num_requests_waiting", "Requests waiting for the model "
                                                             "(vllm:num_requests_waiting)."),
                ("queue_max", "healthmon_num_requests_waiting_max", "Waiting requests allowed before new ones are "
                                                                    "rejected as busy.")):
            if info.get(key) is not None:
                yield GaugeMetricFamily(name, documentation, value=float(info[key]))

    def _quality(self) -> Iterator[Metric]:
        """Each quality figure's latest value in the lookback: samples without finished requests carry none."""
        since = self._monitor.clock() - QUALITY_LOOKBACK_SECONDS
        latest: dict[str, Any] = {}
        for _, values in self._monitor.rings["quality"].items(since=since):
            latest |= {key: value for key, value in values.items() if value is not None}
        yield from _gauges(latest, QUALITY_GAUGES)

    def _health(self) -> Iterator[Metric]:
        health = self._monitor.health()
        yield _one_hot("healthmon_health_status", "Overall status (one-hot): the score, capped by firing alerts.",
                       "status", HEALTH_STATUSES, health["status"])
        if health["performance_score"] is None:
            return
        yield GaugeMetricFamily("healthmon_health_score", "Health score, 0 (bad) to 100 (good).",
                                value=health["performance_score"])
        components = GaugeMetricFamily("healthmon_health_component_score", "Score of each component, 0-100.",
                                       labels=["component"])
        for component in health["components"]:
            components.add_metric([component["component"]], component["score"])
        yield components

    def _alerts(self) -> Iterator[Metric]:
        engine = self._monitor.alert_engine
        open_alerts = [a for a in engine.all_alerts() if a.state in ("pending", "firing")]
        family = GaugeMetricFamily("healthmon_alerts", "Open alerts, 1 per rule and state (as Prometheus' ALERTS; "
                                   "`rule`, since a Prometheus rule relaying it sets alertname itself).",
                                   labels=["rule", "metric", "level", "kind", "state"])
        for alert in open_alerts:
            family.add_metric([alert.rule, alert.metric, alert.level, alert.kind, alert.state], 1.0)
        yield family
        active = [a.level for a in self._monitor.active_alerts()]
        counts = GaugeMetricFamily("healthmon_alerts_active", "Firing alerts that notify (not silenced or "
                                   "inhibited), by level.", labels=["level"])
        for level in LEVELS:
            counts.add_metric([level], float(active.count(level)))
        yield counts


def build_registry(monitor: Monitor) -> CollectorRegistry:
    """A registry of its own (not prometheus_client's global one): the Monitor's state and its request metrics."""
    registry = CollectorRegistry()
    registry.register(MonitorCollector(monitor))
    registry.register(monitor.request_metrics)
    return registry


class _RegistryPerMonitor:
    """Rebuilds the registry when get_monitor() hands out a new Monitor (after release_monitor)."""

    def __init__(self, get_monitor: Callable[[], Monitor]) -> None:
        self._get_monitor = get_monitor
        self._lock = threading.Lock()
        self._monitor: Monitor | None = None
        self._registry: CollectorRegistry | None = None

    def __call__(self) -> CollectorRegistry:
        monitor = self._get_monitor()
        with self._lock:
            if monitor is not self._monitor or self._registry is None:
                self._monitor, self._registry = monitor, build_registry(monitor)
            return self._registry


def metrics_route(get_monitor: Callable[[], Monitor], path: str = "/metrics") -> Route:
    """The scrape endpoint for st.App or the agent; answers wrong methods itself (else Streamlit would, with 200)."""
    registry_for = _RegistryPerMonitor(get_monitor)

    async def endpoint(request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse(f"{request.method} is not allowed here; use GET", status_code=405,
                                     headers={"Allow": "GET, HEAD"})
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        registry = registry_for()
        body = await run_in_threadpool(encoder, registry)  # reading takes locks the loop holds: off the event loop
        return Response(body, media_type=content_type)

    return Route(path, endpoint, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
