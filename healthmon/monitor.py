"""Monitor: the composition root — builds the services from settings, starts them, stops them.

Pages, API routes and the CLI agent get the process's one Monitor from `healthmon.registry.get_monitor()` and
use the few services it composes: `target` (the monitored model), `generate` (the one generate use case),
`loop` (samples, rings, score), `alerts`, `store`, and the request `pipeline` with its sinks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from healthmon import logutil
from healthmon.alert_service import AlertService
from healthmon.analysis.alerts import AlertEngine
from healthmon.analysis.rules import default_rules, load_rules
from healthmon.analysis.slo import SloObjectives
from healthmon.analysis.stats import RequestStats
from healthmon.collectors.base import Collector
from healthmon.collectors.gpu import GpuCollector
from healthmon.collectors.process import ProcessCollector
from healthmon.collectors.system import SystemCollector
from healthmon.config import Settings
from healthmon.export.otlp import trace_exporter_from_env
from healthmon.export.request_metrics import RequestMetrics
from healthmon.generate_service import GenerateLimits, GenerateService
from healthmon.loadtest.service import LoadTestService
from healthmon.loop import CollectionLoop
from healthmon.notify import WebhookNotifier
from healthmon.pipeline import CompletedWindow, RequestPipeline, StoreSink
from healthmon.probe import CanaryProbe
from healthmon.quality.drift import REFERENCES_FILE, CanaryReferences
from healthmon.quality.scorer import QualityScorer
from healthmon.quality.window import QualityWindow
from healthmon.ratelimit import RateLimiter
from healthmon.remote.client import RemoteClient
from healthmon.remote.target import RemoteTarget
from healthmon.remote.tokens import load_token_counter
from healthmon.runtime.sources import auto_hub_check, parse_model_spec
from healthmon.slo_service import SloService
from healthmon.store.sqlite import HistoryStore
from healthmon.target import Target

log = logging.getLogger("healthmon")
REMOTE_PREFIX = "openai:"


def build_target(settings: Settings, sink: RequestPipeline) -> Target:
    """HEALTHMON_MODEL=openai:<base URL> watches a running server; anything else is a model loaded in-process."""
    if settings.model.strip().lower().startswith(REMOTE_PREFIX):
        base_url = settings.model.strip()[len(REMOTE_PREFIX):]
        return RemoteTarget(base_url, sink=sink, model=settings.target_model or None, queue_max=settings.queue_max,
                            client=RemoteClient(base_url, model=settings.target_model or None,
                                                api_key=settings.target_api_key or None,
                                                max_answer_bytes=settings.target_max_answer_bytes),
                            request_timeout_seconds=settings.target_request_timeout_seconds,
                            max_new_tokens_cap=settings.max_new_tokens_cap,
                            token_counter=load_token_counter(settings.target_tokenizer, log))
    # Imported here, not above: the in-process runtime brings torch and transformers (~5 s of imports), which a
    # monitor of a remote server never needs.
    from healthmon.runtime.engine import ModelRuntime

    spec = parse_model_spec(settings.model, hub=auto_hub_check(settings.models_dir))  # auto may ask the hub
    return ModelRuntime(spec, demo_dir=settings.demo_model_dir,
                        models_dir=settings.models_dir, sink=sink, device=settings.device, dtype=settings.dtype,
                        queue_max=settings.queue_max, max_new_tokens_cap=settings.max_new_tokens_cap,
                        max_batch=settings.max_batch, kv_cache_tokens=settings.kv_cache_tokens or None,
                        prefix_cache_tokens=settings.prefix_cache_tokens)


def slo_objectives(settings: Settings) -> SloObjectives:
    """The configured objectives (config.py validates them)."""
    return SloObjectives.from_seconds(settings.slo_ttft_seconds, settings.slo_time_per_output_token_seconds,
                                      settings.slo_e2e_seconds, settings.slo_objective, settings.slo_window_days)


class Monitor:
    """Owns the services; start, stop and restart are idempotent and thread-safe."""

    def __init__(self, settings: Settings, *, collectors: Iterable[Collector] | None = None,
                 target: Target | None = None, store: HistoryStore | None = None,
                 alert_engine: AlertEngine | None = None, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        logutil.install()  # a failing upstream warns once per request: at most a few lines a minute per kind
        self.started_at = clock()
        self.store = store or HistoryStore(settings.db_path, clock=clock,
                                           flush_interval_seconds=settings.flush_interval,
                                           retention_seconds=settings.retention_days * 86400)
        self.store.open()
        settings.data_dir.mkdir(parents=True, exist_ok=True)  # disk usage is measured where history and models go
        # The sinks, in the order a record reaches them: history first, so a read after the answer finds it.
        self.pipeline = RequestPipeline()
        self.target: Target = target or build_target(settings, self.pipeline)
        self.request_stats = RequestStats()
        self.request_metrics = RequestMetrics()
        self.completed = CompletedWindow()
        self.quality_window = QualityWindow(clock=clock)
        self.quality_scorer = QualityScorer(  # the embedding model loads with the first finished request
            self.pipeline.record, embedding_model=settings.embedding_model, queue_max=settings.quality_queue_max,
            references=CanaryReferences(settings.data_dir / REFERENCES_FILE), can_run=self.target.is_idle)
        self.trace_exporter = trace_exporter_from_env(self.target.info)
        self.slo = SloService(slo_objectives(settings), self.store, clock)
        if settings.retention_days < settings.slo_window_days:  # the budget is counted over what history keeps
            log.info("the SLO compliance window (%g days) is longer than history's retention (%g days): it counts "
                     "the requests of the last %g days", settings.slo_window_days, settings.retention_days,
                     settings.retention_days)
        self.pipeline.sinks += [StoreSink(self.store), self.request_metrics,
                                *([self.trace_exporter] if self.trace_exporter is not None else []),
                                self.request_stats, self.slo, self.completed, self.quality_scorer, self.quality_window]
        self.generate = GenerateService(
            self.target, self.pipeline, RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst),
            GenerateLimits(settings.max_new_tokens_cap, settings.max_prompt_chars))
        self.probe = CanaryProbe(self.generate, settings.probe_interval)
        self.load_test = LoadTestService(clock)  # one background load test at a time, for the page and /api
        rules = load_rules(settings.rules_file) if settings.rules_file else default_rules()
        self.notifier = WebhookNotifier(settings.webhook_url) if settings.webhook_url else None
        self.alerts = AlertService(alert_engine if alert_engine is not None else AlertEngine(rules), self.store,
                                   self.notifier, clock)
        self.alerts.restore()
        self.loop = CollectionLoop(
            collectors if collectors is not None else [SystemCollector(disk_path=str(settings.data_dir)),
                                                       ProcessCollector(), GpuCollector()],
            self.target, self.store, self.alerts, request_stats=self.request_stats, completed=self.completed,
            quality_window=self.quality_window, quality_stats=self.quality_scorer.stats,
            interval_seconds=settings.interval, ring_size=settings.ring_size, slo_sample=self.slo.sample, clock=clock)
        self._lifecycle_lock = threading.RLock()
        self._closed = False

    @property
    def running(self) -> bool:
        return self.loop.running

    @property
    def closed(self) -> bool:
        return self._closed

    def start(self) -> bool:
        """Start collecting (and probing); False when already running."""
        with self._lifecycle_lock:
            if self._closed:
                raise RuntimeError("monitor is closed")
            if self.running:
                return False
            self.loop.start()
            self.probe.start()
            log.info("monitoring started (interval %.3g s, probe interval %.3g s)", self.settings.interval,
                     self.settings.probe_interval)
            return True

    def stop(self) -> bool:
        """Stop collecting and probing; the model stays loaded and the API keeps answering."""
        with self._lifecycle_lock:
            if not self.running:
                return False
            self.loop.stop()
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
            self.load_test.close()  # before the target: a test aimed at this monitor's own /v1 stops first
            self.quality_scorer.close()
            self.target.close()
            self.store.close()
            if self.trace_exporter is not None:
                self.trace_exporter.shutdown()
            if self.notifier is not None:
                self.notifier.close()
            for collector in self.loop.collectors:
                getattr(collector, "shutdown", lambda: None)()
