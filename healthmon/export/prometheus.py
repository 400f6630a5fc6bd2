"""GET /metrics: the Monitor's four layers, health and alerts, read at scrape time, in the Prometheus format.

`MonitorCollector` reads the Monitor's latest samples when Prometheus scrapes, so a scrape costs no
collection of its own and shows exactly what the dashboard shows. Names follow Prometheus conventions:
a `healthmon_` prefix, base units in the name (`_bytes`, `_seconds`, `_celsius`, `_watts`), `_ratio` for
0-1 fractions (the Monitor's percentages divided by 100), `_total` counters. GPUs carry a `gpu` label
(the device index) and echo DCGM's field names in their help text. Each sampled metric's name, help and
scale to base units come from its declaration in healthmon/catalog.py.

The service layer's windowed figures (p95 latency, failure rate, requests per minute) are not exported:
Prometheus computes them, over any window, from the request counters and histograms (request_metrics).

A layer whose latest sample is older than `STALE_AFTER_INTERVALS` collection intervals is left out: a
stopped loop must not report its last values as current, which Prometheus would draw as a flat line.
Each section is isolated, so one failing read drops its own series but never fails the scrape.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from healthmon.catalog import PERCENT_TO_RATIO, MetricSpec, exported, spec

if TYPE_CHECKING:
    from healthmon.alert_service import AlertService
    from healthmon.config import Settings
    from healthmon.export.request_metrics import RequestMetrics
    from healthmon.loop import CollectionLoop
    from healthmon.slo_service import SloService
    from healthmon.target import Target

log = logging.getLogger("healthmon.export")
STALE_AFTER_INTERVALS = 3
MIN_STALE_AFTER_SECONDS = 15.0
MODEL_STATES = ("not_loaded", "loading", "loaded", "error")
HEALTH_STATUSES = ("healthy", "warning", "critical", "starting", "no_data")
LEVELS = ("warning", "critical")
QUALITY_LOOKBACK_SECONDS = 300.0  # quality arrives only in cycles with finished requests: keep the last value a while


def _scaled(value: float, factor: float) -> float:
    """To base units; rounding keeps 71.4 % from printing as 0.7140000000000001."""
    return float(value) if factor == 1 else round(float(value) * factor, 9)


def _help(spec: MetricSpec) -> str:
    """The catalog's description, saying where a percentage became a ratio."""
    return spec.description + (" Ratio: 1.0 is 100 %." if spec.prometheus_scale == PERCENT_TO_RATIO else "")


def _gauges(sample: dict[str, Any], specs: Iterable[MetricSpec]) -> Iterator[Metric]:
    """One unlabeled gauge per exported spec whose key has a number (or a flag, as 0/1) in the sample."""
    for metric in specs:
        value = sample.get(metric.key)
        if isinstance(value, (int, float)) and metric.prometheus_name is not None:
            yield GaugeMetricFamily(metric.prometheus_name, _help(metric),
                                    value=_scaled(value, metric.prometheus_scale))


def _gauge_name(metric: MetricSpec) -> str:
    """The Prometheus name of a metric the catalog exports; a spec without one is a bug where it is asked for."""
    if metric.prometheus_name is None:
        raise ValueError(f"{metric.key} is not exported to Prometheus")
    return metric.prometheus_name


def _one_hot(name: str, documentation: str, label: str, states: Iterable[str], current: str) -> GaugeMetricFamily:
    """A state set: 1 for the current state, 0 for the others, so every series always exists."""
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for state in states:
        family.add_metric([state], 1.0 if state == current else 0.0)
    return family


class Observed(Protocol):
    """What /metrics reads of a running monitor; healthmon.monitor.Monitor is one. A protocol rather than the
    Monitor class, so the exporter sits below the composition root that builds it instead of importing it back."""

    @property
    def settings(self) -> Settings: ...
    @property
    def clock(self) -> Callable[[], float]: ...
    @property
    def started_at(self) -> float: ...
    @property
    def running(self) -> bool: ...
    @property
    def loop(self) -> CollectionLoop: ...
    @property
    def target(self) -> Target: ...
    @property
    def alerts(self) -> AlertService: ...
    @property
    def request_metrics(self) -> RequestMetrics: ...
    @property
    def slo(self) -> SloService: ...


class MonitorCollector:
    """A prometheus_client collector over one monitor's live state (the Collector protocol: `collect()`)."""

    def __init__(self, monitor: Observed) -> None:
        self._monitor = monitor

    def collect(self) -> Iterator[Metric]:
        for section in (self._meta, self._system, self._gpu, self._model, self._quality, self._health, self._alerts,
                        self._slo):
            try:
                yield from list(section())  # materialized, so a failure midway drops the whole section
            except Exception:  # noqa: BLE001 - one broken section must not cost Prometheus the scrape
                log.exception("metrics section %s failed", section.__name__)

    def _fresh(self, layer: str) -> dict[str, Any]:
        """The layer's latest sample, or {} when there is none or it is stale (module docstring)."""
        sample = self._monitor.loop.latest(layer)
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
        yield CounterMetricFamily("healthmon_collection_cycles", "Collection cycles run.",
                                  value=monitor.loop.cycles_total)
        if monitor.loop.last_cycle_seconds is not None:
            yield GaugeMetricFamily("healthmon_collection_duration_seconds", "Duration of the last collection cycle.",
                                    value=monitor.loop.last_cycle_seconds)
        errors = CounterMetricFamily("healthmon_collector_errors", "Failed collections by layer.", labels=["layer"])
        for layer, entry in sorted(monitor.loop.collector_errors.items()):
            errors.add_metric([layer], entry.get("count", 0))
        yield errors

    def _system(self) -> Iterator[Metric]:
        yield from _gauges(self._fresh("system"), exported("system"))
        yield from _gauges(self._fresh("process"), exported("process"))

    def _gpu(self) -> Iterator[Metric]:
        sample = self._fresh("gpu")
        if not sample:
            return
        yield from _gauges(sample | {"gpu_available": bool(sample.get("gpu_available"))}, exported("gpu"))
        devices = sample.get("devices") or []
        for metric in exported("gpu_device"):
            family = GaugeMetricFamily(_gauge_name(metric), _help(metric), labels=["gpu", "name"])
            for device in devices:
                value = device.get(metric.key)
                if value is not None:
                    family.add_metric([str(device["index"]), str(device.get("name") or "")],
                                      _scaled(value, metric.prometheus_scale))
            if family.samples:
                yield family

    def _model(self) -> Iterator[Metric]:
        info = self._monitor.target.info()
        facts = info.facts
        yield InfoMetricFamily("healthmon_model", "The monitored model; its labels say which one.", value={
            "model_name": info.name, "source": info.source, "demo": str(info.is_demo).lower(),
            "architecture": info.architecture or "", "device": facts.device if facts is not None else "",
            "dtype": facts.dtype if facts is not None else ""})
        yield _one_hot("healthmon_model_state", "Model lifecycle state (one-hot).", "state", MODEL_STATES,
                       info.status.value)
        yield GaugeMetricFamily("healthmon_model_loaded", "1 while the model is loaded and serving.",
                                value=1.0 if info.loaded else 0.0)
        # The catalog names each figure as the info's JSON does; model_available is None while loading: no alert.
        figures = info.to_json() | {"model_available": info.available, "queue_usage": info.queue_usage()}
        yield from _gauges(figures, exported("model") + exported("model_info"))  # the runtime's figures, live
        for metric in exported("model_counter"):  # the scheduler's totals, where the target has a scheduler
            if figures.get(metric.key) is not None:
                yield CounterMetricFamily(str(metric.prometheus_name).removesuffix("_total"), metric.description,
                                          value=float(figures[metric.key]))

    def _quality(self) -> Iterator[Metric]:
        """Each quality figure's latest value in the lookback: samples without finished requests carry none."""
        since = self._monitor.clock() - QUALITY_LOOKBACK_SECONDS
        latest: dict[str, Any] = {}
        for sample in self._monitor.loop.rings["quality"].items(since=since):
            latest |= {key: value for key, value in sample.items() if value is not None}
        yield from _gauges(latest, exported("quality"))

    def _health(self) -> Iterator[Metric]:
        health = self._monitor.loop.health()
        yield _one_hot("healthmon_health_status", "Overall status (one-hot): the score, capped by firing alerts.",
                       "status", HEALTH_STATUSES, health["status"])
        if health["performance_score"] is None:
            return
        score = spec("performance_score")
        yield GaugeMetricFamily(_gauge_name(score), score.description, value=health["performance_score"])
        components = GaugeMetricFamily("healthmon_health_component_score", "Score of each component, 0-100.",
                                       labels=["component"])
        for component in health["components"]:
            components.add_metric([component["component"]], component["score"])
        yield components

    def _alerts(self) -> Iterator[Metric]:
        engine = self._monitor.alerts.engine
        open_alerts = [a for a in engine.all_alerts() if a.state in ("pending", "firing")]
        family = GaugeMetricFamily("healthmon_alerts", "Open alerts, 1 per rule and state (as Prometheus' ALERTS; "
                                   "`rule`, since a Prometheus rule relaying it sets alertname itself).",
                                   labels=["rule", "metric", "level", "kind", "state"])
        for alert in open_alerts:
            family.add_metric([alert.rule, alert.metric, alert.level, alert.kind, alert.state], 1.0)
        yield family
        active = [a.level for a in self._monitor.alerts.active()]
        counts = GaugeMetricFamily("healthmon_alerts_active", "Firing alerts that notify (not silenced or "
                                   "inhibited), by level.", labels=["level"])
        for level in LEVELS:
            counts.add_metric([level], float(active.count(level)))
        yield counts

    def _slo(self) -> Iterator[Metric]:
        """The SLO's good and bad user requests since start, and its objectives: Prometheus computes attainment and
        burn rates over any window from these (deploy/healthmon-slo-rules.yml), as /api/slo does from history."""
        slo = self._monitor.slo
        good, bad = slo.counters()
        requests = CounterMetricFamily("healthmon_slo_requests", "User requests the SLO counts (client-fault "
                                       "refusals and canary probes are not), by result: good (succeeded within "
                                       "every latency objective) or bad.", labels=["result"])
        requests.add_metric(["good"], good)
        requests.add_metric(["bad"], bad)
        yield requests
        objectives = slo.objectives
        yield GaugeMetricFamily("healthmon_slo_objective_ratio", "The share of user requests that must be good.",
                                value=objectives.objective)
        yield GaugeMetricFamily("healthmon_slo_window_seconds", "The SLO's compliance window.",
                                value=objectives.window_seconds)
        for name, value in objectives.latency_objectives().items():
            if value is not None:  # an objective not set has no series
                yield GaugeMetricFamily(f"healthmon_slo_{name.removesuffix('_seconds')}_objective_seconds",
                                        f"The SLO's latency objective: {name.removesuffix('_seconds')} at most this.",
                                        value=value)


def build_registry(monitor: Observed) -> CollectorRegistry:
    """A registry of its own (not prometheus_client's global one): the Monitor's state and its request metrics."""
    registry = CollectorRegistry()
    registry.register(MonitorCollector(monitor))
    registry.register(monitor.request_metrics)
    return registry


class _RegistryPerMonitor:
    """Rebuilds the registry when get_monitor() hands out a new Monitor (after release_monitor)."""

    def __init__(self, get_monitor: Callable[[], Observed]) -> None:
        self._get_monitor = get_monitor
        self._lock = threading.Lock()
        self._monitor: Observed | None = None
        self._registry: CollectorRegistry | None = None

    def __call__(self) -> CollectorRegistry:
        monitor = self._get_monitor()
        with self._lock:
            if monitor is not self._monitor or self._registry is None:
                self._monitor, self._registry = monitor, build_registry(monitor)
            return self._registry


def metrics_route(get_monitor: Callable[[], Observed], path: str = "/metrics") -> Route:
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
