"""Monitor: the one object that owns collectors, model runtime, store, alerts and the collection loop.

Pages, API routes and the CLI agent all talk to the same Monitor through `get_monitor()`, a process-wide
registry: Streamlit re-executes scripts and may re-import modules, and neither may ever start a second
collector thread or load a second model.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import deque
from typing import Any, Callable, Iterable

from healthmon.analysis.alerts import EVIDENCE_SUFFIX, AlertEngine
from healthmon.analysis.rules import TRAFFIC_METRIC, default_rules, load_rules
from healthmon.analysis.score import health_score, is_starting, status_from, without_model
from healthmon.analysis.stats import RequestStats
from healthmon.collectors.base import Collector, safe_collect
from healthmon.collectors.gpu import GpuCollector
from healthmon.collectors.process import ProcessCollector
from healthmon.collectors.system import SystemCollector
from healthmon.config import Settings, load_settings
from healthmon.export.otlp import trace_exporter_from_env
from healthmon.export.request_metrics import RequestMetrics
from healthmon.notify import WebhookNotifier
from healthmon.quality.drift import REFERENCES_FILE, CanaryReferences
from healthmon.quality.scorer import QualityScorer
from healthmon.quality.window import QualityWindow
from healthmon.ratelimit import RateLimiter
from healthmon.runtime.engine import ModelRuntime
from healthmon.runtime.probe import CanaryProbe
from healthmon.runtime.sources import parse_model_spec
from healthmon.store.ring import Ring
from healthmon.store.sqlite import HistoryStore

log = logging.getLogger("healthmon")

LAYERS = ("system", "process", "gpu", "model", "service", "quality", "score", "baseline")
COLLECTOR_THREAD_NAME = "healthmon-collector"
_REGISTRY_ATTR = "_healthmon_monitor_registry"  # on `sys`, which no module reload replaces

# Where two layers report a metric under one name, the later layer here is the one the score and the alert
# rules read. tokens_per_second is the case: the model layer's mean over the requests completed in the last
# interval (canary probes included) and the service layer's mean over the stats window of user requests. The
# service one wins: steadier, and what users got. The history keeps both, each in its own layer.
FLAT_LAYER_ORDER = ("system", "process", "gpu", "model", "quality", "service")


def flatten_layers(samples: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One {metric: value} from every layer's sample, by FLAT_LAYER_ORDER (unknown layers first, so never win)."""
    def rank(layer: str) -> int:
        return FLAT_LAYER_ORDER.index(layer) if layer in FLAT_LAYER_ORDER else -1

    return {key: value for layer in sorted(samples, key=rank) for key, value in samples[layer].items()}


LATENCY_EVIDENCE = {"inference_time": ("latency_seconds", True), "ttft_seconds": ("ttft_seconds", True),
                    "inter_token_latency_seconds": ("inter_token_latency_seconds", True),
                    "tokens_per_second": ("tokens_per_second", False)}


def latency_evidence(records: Iterable[dict[str, Any]], limit: int = 5) -> dict[str, list[str]]:
    """For each latency metric, the trace ids of this cycle's requests, worst first, for alert messages."""
    records = list(records)
    out: dict[str, list[str]] = {}
    for metric, (key, higher_is_worse) in LATENCY_EVIDENCE.items():
        measured = sorted((r for r in records if r.get(key) is not None), key=lambda r: r[key], reverse=higher_is_worse)
        if measured:
            out[metric] = [r["trace_id"] for r in measured[:limit]]
    return out


class Monitor:
    """Owns the loop; start, stop and restart are idempotent and thread-safe."""

    def __init__(self, settings: Settings, *, collectors: Iterable[Collector] | None = None,
                 runtime: ModelRuntime | None = None, store: HistoryStore | None = None,
                 alert_engine: Any | None = None, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.started_at = clock()
        self.store = store or HistoryStore(settings.db_path, clock=clock, flush_interval_seconds=settings.flush_interval,
                                           retention_seconds=settings.retention_days * 86400)
        self.store.open()
        settings.data_dir.mkdir(parents=True, exist_ok=True)  # disk usage is measured where history and models go
        self.collectors = list(collectors) if collectors is not None else [
            SystemCollector(disk_path=str(settings.data_dir)), ProcessCollector(), GpuCollector()]
        self.rings = {layer: Ring(settings.ring_size) for layer in LAYERS}
        self.request_stats = RequestStats()
        self.request_metrics = RequestMetrics()
        self._completed_since_sample: deque[dict[str, Any]] = deque(maxlen=10_000)
        self.runtime = runtime or ModelRuntime(
            parse_model_spec(settings.model), demo_dir=settings.demo_model_dir, models_dir=settings.models_dir,
            on_record=self.record_request, device=settings.device, dtype=settings.dtype,
            queue_max=settings.queue_max, max_new_tokens_cap=settings.max_new_tokens_cap)
        self.trace_exporter = trace_exporter_from_env(self.runtime.info)
        self.probe = CanaryProbe(self.runtime, settings.probe_interval)
        self.quality_window = QualityWindow()
        self.quality_scorer = QualityScorer(  # the embedding model loads with the first finished request
            self.record_quality, embedding_model=settings.embedding_model, queue_max=settings.quality_queue_max,
            references=CanaryReferences(settings.data_dir / REFERENCES_FILE), can_run=self.runtime.is_idle)
        rules = load_rules(settings.rules_file) if settings.rules_file else default_rules()
        self.alert_engine = alert_engine if alert_engine is not None else AlertEngine(rules)
        self.rate_limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
        self.notifier = WebhookNotifier(settings.webhook_url) if settings.webhook_url else None
        self._restore_alerts()
        self._latency_evidence: dict[str, list[str]] = {}
        self.collector_errors: dict[str, dict[str, Any]] = {}
        self.cycles_total = 0
        self.last_cycle_seconds: float | None = None
        self._lifecycle_lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    # ---- lifecycle -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return bool(self._thread and self._thread.is_alive())

    def start(self) -> bool:
        """Start collecting (and probing); False when already running."""
        with self._lifecycle_lock:
            if self._closed:
                raise RuntimeError("monitor is closed")
            if self.running:
                return False
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=COLLECTOR_THREAD_NAME, daemon=True)
            self._thread.start()
            self.probe.start()
            log.info("monitoring started (interval %.3g s, probe interval %.3g s)", self.settings.interval,
                     self.settings.probe_interval)
            return True

    def stop(self) -> bool:
        """Stop collecting and probing; the model stays loaded and the API keeps answering."""
        with self._lifecycle_lock:
            if not self.running:
                return False
            self._stop.set()
            self._thread.join(timeout=max(10.0, 3 * self.settings.interval))
            self._thread = None
            self.probe.stop()
            self.store.flush()
            log.info("monitoring stopped")
            return True

    def restart(self) -> None:
        with self._lifecycle_lock:
            self.stop()
            self.start()

    def close(self) -> None:
        """Stop everything and flush history; used at process exit and when Streamlit releases the resource."""
        with self._lifecycle_lock:
            if self._closed:
                return
            self.stop()
            self._closed = True
            self.quality_scorer.close()
            self.runtime.close()
            self.store.close()
            if self.trace_exporter is not None:
                self.trace_exporter.shutdown()
            if self.notifier is not None:
                self.notifier.close()
            for collector in self.collectors:
                getattr(collector, "shutdown", lambda: None)()

    # ---- requests --------------------------------------------------------------------------
    def record_request(self, record: dict[str, Any]) -> None:
        """The runtime's sink: every request lands in history; user requests also feed the statistics."""
        self.store.append_request(record)
        self.request_metrics.observe(record)
        if self.trace_exporter is not None:
            self.trace_exporter.export(record)
        if not record.get("synthetic"):
            self.request_stats.observe(record)
        if record.get("status") == "ok":
            self._completed_since_sample.append(record)
            self.quality_scorer.submit(record)

    def record_quality(self, record: dict[str, Any]) -> None:
        """The quality scorer's sink: the request again with relevance (and canary drift) filled in. It replaces
        the stored row (same trace_id) and feeds the quality layer; the statistics counted it once already."""
        self.store.append_request(record)
        self.quality_window.add(record, ts=self.clock())

    # ---- the loop --------------------------------------------------------------------------
    def _loop(self) -> None:
        interval = self.settings.interval
        next_due = time.monotonic()
        while not self._stop.is_set():
            self.collect_once()
            next_due += interval
            now = time.monotonic()
            if next_due < now:  # fell behind (a slow disk, a suspended laptop): skip, don't burst
                next_due = now + interval
            self._stop.wait(next_due - now)

    def collect_once(self) -> dict[str, dict[str, Any]]:
        """One collection cycle: every layer, the score and the alert rules. Never raises."""
        started = time.perf_counter()
        ts = self.clock()
        samples: dict[str, dict[str, Any]] = {}
        for collector in self.collectors:
            values, error = safe_collect(collector, log)
            if error is None:
                samples[collector.layer] = values
            else:
                self._count_error(collector.layer, error, ts)
        for layer, build in (("model", self._model_sample), ("service", self._service_sample),
                             ("quality", self._quality_sample)):
            try:
                samples[layer] = build(ts)
            except Exception as exc:  # noqa: BLE001 - same isolation as the collectors
                error = f"{type(exc).__name__}: {exc}"
                if self.collector_errors.get(layer, {}).get("last_error") != error:  # once per new error, no spam
                    log.exception("building the %s sample failed", layer)
                self._count_error(layer, error, ts)
        flat = flatten_layers(samples)
        starting = is_starting(self.runtime.status.value, self.runtime.loaded_at is not None)
        score = health_score(without_model(flat) if starting else flat)
        samples["score"] = {"performance_score": score.score,
                            **{f"score_{c['component']}": c["score"] for c in score.components}}
        self._evaluate_alerts(ts, flat)
        baseline = self._baseline_sample()
        if baseline:  # none until a baseline has warmed up: no empty rows
            samples["baseline"] = baseline
        for layer, values in samples.items():
            self.rings[layer].append(ts, values)
            try:
                self.store.append_sample(layer, ts, values)
            except Exception:  # noqa: BLE001 - a bad metric name must not stop the loop
                log.exception("could not queue the %s sample", layer)
        self._last_score = score
        self.cycles_total += 1
        self.last_cycle_seconds = time.perf_counter() - started
        return samples

    def _count_error(self, layer: str, error: str, ts: float) -> None:
        entry = self.collector_errors.setdefault(layer, {"count": 0})
        entry.update(count=entry["count"] + 1, last_error=error, last_error_at=ts)

    def _model_sample(self, ts: float) -> dict[str, Any]:
        """Model facts, and the mean of the requests (probes included) completed since the last sample."""
        info = self.runtime.info()
        completed = []
        while self._completed_since_sample:
            completed.append(self._completed_since_sample.popleft())

        def mean(key: str) -> float | None:
            values = [r[key] for r in completed if r.get(key) is not None]
            return round(sum(values) / len(values), 6) if values else None

        self._latency_evidence = latency_evidence(completed)

        return {
            "model_status": info["status"], "model_loaded": 1 if info["status"] == "loaded" else 0,
            "in_flight": info["in_flight"], "queued": info["queued"],
            "memory_footprint_gb": info.get("memory_footprint_gb"), "parameters_billions": info.get("parameters_billions"),
            "load_seconds": info.get("load_seconds"), "completed_requests": len(completed),
            "inference_time": mean("latency_seconds"), "ttft_seconds": mean("ttft_seconds"),
            "tokens_per_second": mean("tokens_per_second"),
            "inter_token_latency_seconds": mean("inter_token_latency_seconds"),
        }

    def _quality_sample(self, ts: float) -> dict[str, Any]:
        """Quality of the user answers of the last 5 minutes (quality/window.py), and the scorer's counters."""
        return self.quality_window.sample(ts) | self.quality_scorer.stats()

    def _service_sample(self, ts: float) -> dict[str, Any]:
        snapshot = self.request_stats.snapshot(ts)
        return {key: value for key, value in snapshot.items() if key != "window_seconds"}

    def _restore_alerts(self) -> None:
        """Alerts firing when the process stopped keep firing after a restart, without a second notification,
        and silences still in force keep holding (as Alertmanager's do)."""
        try:
            skipped = self.alert_engine.restore(self.store.load_alerts(states=["firing"]))
            if skipped:
                log.info("not restoring %d alerts whose rules no longer exist", len(skipped))
            for silence in self.store.load_silences(active_at=self.clock()):
                try:
                    self.alert_engine.silence(silence["matcher"], silence["ends_at"])
                except ValueError:  # its rule or metric is no longer in the rules
                    log.info("not restoring the silence of %r: no rule matches it", silence["matcher"])
        except Exception:  # noqa: BLE001 - an unreadable history must not stop the monitor
            log.exception("could not restore alerts from history")

    def _baseline_sample(self) -> dict[str, float]:
        """Each learned baseline's normal band after this cycle, as `<metric>_baseline_low/high`: history, so a
        chart shades the band as it was at each point rather than today's band over the whole window."""
        try:
            bands = self.alert_engine.baseline_bands()
        except Exception:  # noqa: BLE001 - a chart decoration must not cost a cycle
            log.exception("reading the learned baselines failed")
            return {}
        return {f"{metric}_baseline_{side}": round(value, 6) for metric, (low, high) in bands.items()
                for side, value in (("low", low), ("high", high))}

    def _evaluate_alerts(self, ts: float, metrics: dict[str, Any]) -> None:
        """Run the rules; firing and resolved transitions are persisted (pending ones are live state only)."""
        inputs: dict[str, Any] = dict(metrics)
        inputs[TRAFFIC_METRIC] = metrics.get("window_requests")
        evidence = self.quality_window.evidence(ts) | self._latency_evidence
        inputs |= {metric + EVIDENCE_SUFFIX: ids for metric, ids in evidence.items()}
        try:
            for transition in self.alert_engine.evaluate(ts, inputs):
                if transition.state == "pending":
                    continue
                log.log(logging.WARNING if transition.state == "firing" else logging.INFO, "alert %s %s: %s",
                        transition.alert_id, transition.state, transition.message)
                alert = self.alert_engine.get(transition.alert_id)
                if alert is not None:
                    self.store.upsert_alert(alert.to_dict() | {"transition": transition.state,
                                                               "transition_at": transition.ts})
                if self.notifier is not None and transition.notify:
                    self.notifier.notify({"id": transition.alert_id, "state": transition.state, "ts": transition.ts,
                                          "metric": transition.metric, "level": transition.level,
                                          "kind": transition.kind, "message": transition.message,
                                          "value": transition.value, "source": "healthmon"})
        except Exception:  # noqa: BLE001
            log.exception("alert evaluation failed")

    # ---- views ------------------------------------------------------------------------------
    def latest(self, layer: str) -> dict[str, Any]:
        item = self.rings[layer].latest()
        return dict(item[1]) | {"ts": item[0]} if item else {}

    def active_alerts(self) -> list[Any]:
        """Firing, not silenced, worst first."""
        return list(self.alert_engine.active(self.clock()))

    def acknowledge_alert(self, alert_id: str) -> bool:
        """Mark an open alert as seen by a person; persisted so it survives a restart."""
        if not self.alert_engine.acknowledge(alert_id):
            return False
        alert = self.alert_engine.get(alert_id)
        self.store.upsert_alert(alert.to_dict() | {"transition": "acknowledged", "transition_at": self.clock()})
        return True

    def silence_alerts(self, matcher: str, duration_seconds: float) -> float:
        """Silence a rule name or a metric for a while, persisted so a restart keeps it; returns when the silence
        ends (unix seconds)."""
        now = self.clock()
        until = now + duration_seconds
        self.alert_engine.silence(matcher, until)
        self.store.upsert_silence({"matcher": matcher, "starts_at": now, "ends_at": until, "created_at": now})
        return until

    def alerts_view(self, since: float) -> list[dict[str, Any]]:
        """Open alerts (live state, pending included) and the closed ones in history since `since`."""
        live = {a.id: a.to_dict() for a in self.alert_engine.all_alerts() if a.state in ("pending", "firing")}
        stored = [a for a in self.store.load_alerts(since=since) if a["id"] not in live]
        return sorted(list(live.values()) + stored, key=lambda a: a.get("started_at") or 0, reverse=True)

    def health(self) -> dict[str, Any]:
        """Score, status and breakdown from the latest cycle."""
        score = getattr(self, "_last_score", None)
        levels = [a.level for a in self.active_alerts()]
        # Live, not the last cycle's: a status read just after the first load must not still say starting.
        starting = is_starting(self.runtime.status.value, self.runtime.loaded_at is not None)
        if score is None:
            return {"status": "starting" if starting else "no_data", "performance_score": None, "components": []}
        return {"status": status_from(score.score, levels, starting), "performance_score": score.score,
                "components": score.components}


def configure_logging(level: int = logging.INFO) -> None:
    """healthmon's own log lines on stderr, once, whatever the host (Streamlit, uvicorn) did to the root logger."""
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(level)
        log.propagate = False


def get_monitor(settings: Settings | None = None, *, start: bool = True) -> Monitor:
    """The process's one Monitor, created (and its model loaded in the background) on first use."""
    configure_logging()
    registry = sys.__dict__.setdefault(_REGISTRY_ATTR, {"lock": threading.Lock(), "monitor": None})
    with registry["lock"]:
        monitor = registry["monitor"]
        if monitor is None or monitor._closed:
            monitor = Monitor(settings or load_settings())
            registry["monitor"] = monitor
            monitor.runtime.load_async()
            if start:
                monitor.start()
        return monitor


def release_monitor() -> None:
    """Close and forget the process's Monitor (tests, and Streamlit's on_release)."""
    registry = sys.__dict__.get(_REGISTRY_ATTR)
    if not registry:
        return
    with registry["lock"]:
        monitor, registry["monitor"] = registry["monitor"], None
    if monitor is not None:
        monitor.close()
