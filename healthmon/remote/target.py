"""RemoteTarget: a running OpenAI-compatible server (vLLM, llama.cpp, Ollama, TGI, transformers serve) as the target.

Each generation is streamed from the server and measured from the stream as it arrives here: time to first token
from the request's arrival, the gaps between deltas, and tokens from the server's `usage`. A poller thread checks
the server's health every few seconds and scrapes its Prometheus `/metrics` where it has them (vLLM, llama.cpp,
TGI); a server that goes away turns the status to `error` with the reason, and the next good poll makes it
`loaded` again by itself. Requests are not serialized here: the server batches, so up to `1 + queue_max` run at
once and more are refused as busy, as the local runtime's queue would.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import Any

from healthmon.pipeline import RequestSink
from healthmon.records import RequestRecord, build_record
from healthmon.remote.client import RemoteClient, RemoteConnectError, RemoteError, StreamEnd, TextDelta
from healthmon.remote.server_metrics import (
    ServerMetrics,
    ServerMetricsError,
    ServerMetricsInterval,
    interval_figures,
    parse_server_metrics,
)
from healthmon.runtime.generate import GenerationOutcome
from healthmon.runtime.params import GenerationParams
from healthmon.runtime.sources import ModelSourceError
from healthmon.target import END, ModelNotReady, ModelStatus, RuntimeBusy, StreamState
from healthmon.textsafe import log_text, redact_url
from healthmon.tracing import Trace

POLL_INTERVAL_SECONDS = 5.0


def server_figures(interval: ServerMetricsInterval | None) -> dict[str, Any]:
    """The model layer's view of the server's own metrics over the last poll interval (None where not exposed)."""
    if interval is None:
        return {}
    return {"server_requests_running": interval.requests_running,
            "server_requests_waiting": interval.requests_waiting,
            "server_kv_cache_usage_ratio": interval.kv_cache_usage_ratio,
            "server_preemptions": interval.preemptions, "server_ttft_seconds": interval.server_ttft_seconds_mean,
            "server_prompt_tokens_per_second": interval.prompt_tokens_per_second,
            "server_generation_tokens_per_second": interval.generation_tokens_per_second}


def request_body(params: GenerationParams) -> dict[str, Any]:
    """The OpenAI body fields of a generation; a repetition penalty only where set (not every server knows it)."""
    body: dict[str, Any] = {"temperature": params.temperature, "top_p": params.top_p}
    if params.max_new_tokens is not None:
        body["max_tokens"] = params.max_new_tokens
    if params.stop:
        body["stop"] = list(params.stop)
    if params.seed is not None:
        body["seed"] = params.seed
    if params.repetition_penalty != 1.0:
        body["repetition_penalty"] = params.repetition_penalty
    return body


class RemoteTarget:
    """The Target protocol over an OpenAI-compatible server at `base_url` (ending in /v1)."""

    def __init__(self, base_url: str, *, sink: RequestSink, model: str | None = None, api_key: str | None = None,
                 queue_max: int = 8, client: RemoteClient | None = None,
                 poll_interval_seconds: float = POLL_INTERVAL_SECONDS, clock: Callable[[], float] = time.perf_counter,
                 wall_clock: Callable[[], float] = time.time, logger: logging.Logger | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or RemoteClient(self.base_url, model=model, api_key=api_key)
        self._configured_model = model
        self._sink = sink
        self.queue_max = queue_max
        self.poll_interval_seconds = poll_interval_seconds
        self._clock, self._wall_clock = clock, wall_clock
        self._log = logger or logging.getLogger("healthmon.remote")
        self._lock = threading.Lock()
        self.status = ModelStatus.NOT_LOADED
        self.error: str | None = None
        self.loaded_at: float | None = None
        self.health_latency_seconds: float | None = None
        self.in_flight = 0
        self._served_model: str | None = None
        self._last_metrics: tuple[float, ServerMetrics] | None = None
        self._server_interval: ServerMetricsInterval | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._poller: threading.Thread | None = None

    # ---- state -------------------------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return self._served_model or self._configured_model or redact_url(self.base_url)

    def info(self) -> dict[str, Any]:
        with self._lock:
            return {
                "name": self.model_name, "source": "openai", "ref": redact_url(self.base_url), "file": None,
                "chosen_because": None, "status": self.status.value, "error": self.error, "progress": None,
                "is_demo": False, "load_seconds": None,
                "loaded_at": None if self.loaded_at is None
                else datetime.fromtimestamp(self.loaded_at, UTC).isoformat(),
                "in_flight": self.in_flight, "queued": 0, "queue_max": self.queue_max,
                "target_health_latency_seconds": self.health_latency_seconds,
                "architecture": "remote (OpenAI-compatible)",
                **server_figures(self._server_interval),
                "server_kind": self._last_metrics[1].server_kind if self._last_metrics else None,
            }

    def is_idle(self) -> bool:
        with self._lock:
            return self.in_flight == 0

    # ---- health ------------------------------------------------------------------------------
    def load_async(self, spec: Any = None) -> threading.Thread:
        """Start polling (or poll now, when running): the server's state is what a remote target 'loads'."""
        if spec is not None:
            raise ModelSourceError("the target is a remote server, which serves its own model; point "
                                   "HEALTHMON_MODEL at another server to watch another model")
        with self._lock:
            if self.status is not ModelStatus.LOADED:
                self.status = ModelStatus.LOADING
            if self._poller is None or not self._poller.is_alive():
                self._stop.clear()
                self._poller = threading.Thread(target=self._poll_loop, name="healthmon-remote-poller", daemon=True)
                self._poller.start()
            poller = self._poller
        self._wake.set()
        return poller

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._wake.wait(self.poll_interval_seconds)
            self._wake.clear()

    def poll_once(self) -> None:
        """Health, the served model's name (once), and the server's metrics. Never raises."""
        try:
            check = self._client.health()
        except RemoteError as exc:
            self._set_down(str(exc))
            return
        if not check.ok:
            self._set_down(f"health check {check.url} answered {check.status_code}: {check.detail}")
            return
        if self._served_model is None and self._configured_model is None:
            try:
                self._served_model = next(iter(self._client.list_models()), None)
            except RemoteError:  # optional: transformers serve answers 500 without a Hugging Face cache dir
                pass
        with self._lock:
            recovered = self.status is not ModelStatus.LOADED
            self.status, self.error, self.health_latency_seconds = ModelStatus.LOADED, None, check.latency_seconds
            if self.loaded_at is None:
                self.loaded_at = self._wall_clock()
        if recovered:
            self._log.info("remote target %s is up", redact_url(self.base_url))
        self._scrape()

    def _set_down(self, reason: str) -> None:
        with self._lock:
            was_up = self.status is ModelStatus.LOADED
            self.status, self.error, self._server_interval = ModelStatus.ERROR, reason, None
        if was_up or self.loaded_at is None:
            self._log.warning("remote target %s is down: %s", redact_url(self.base_url), log_text(reason))

    def _scrape(self) -> None:
        try:
            text = self._client.fetch_metrics()
            current = parse_server_metrics(text) if text is not None else None
        except (RemoteError, ServerMetricsError) as exc:
            self._log.debug("no server metrics from %s: %s", redact_url(self.base_url), log_text(exc))
            current = None
        now = self._clock()
        with self._lock:
            previous, self._last_metrics = self._last_metrics, (now, current) if current is not None else None
            self._server_interval = None
            if previous is not None and current is not None and now > previous[0]:
                self._server_interval = interval_figures(previous[1], current, now - previous[0])

    # ---- generation --------------------------------------------------------------------------
    def stream(self, params: GenerationParams, *, trace: Trace | None = None, source: str = "api",
               synthetic: bool = False, only_if_idle: bool = False, want_text: bool = True) -> RemoteStream:
        """Admit and start a generation on the server; ModelNotReady or RuntimeBusy when it cannot take it now."""
        trace = trace or Trace(clock=self._clock, wall_clock=self._wall_clock)
        with self._lock:
            if self.status is not ModelStatus.LOADED:
                state = self.status.value.replace("_", " ")
                raise ModelNotReady(f"remote target is {state}" + (f": {self.error}" if self.error else ""))
            if only_if_idle and self.in_flight:
                raise RuntimeBusy("the target is serving a request")
            if self.in_flight >= 1 + self.queue_max:
                raise RuntimeBusy(f"{self.in_flight} requests are running on the target")
            self.in_flight += 1
        stream = RemoteStream(params, trace, source, synthetic)
        threading.Thread(target=self._run, args=(stream,), name="healthmon-remote-request", daemon=True).start()
        return stream

    def _run(self, stream: RemoteStream) -> None:
        """One request's thread: stream from the server, pass the text on, record. Exactly one record."""
        trace, params = stream.trace, stream.params
        started = trace.now()
        text, times, end = [], [], None
        try:
            events = (self._client.stream_completion(params.prompt, **request_body(params)) if params.raw_prompt
                      else self._client.stream_chat(params.chat(), **request_body(params)))
            try:
                for event in events:
                    if isinstance(event, TextDelta):
                        text.append(event.text)
                        times.append(event.arrived_seconds)
                        stream.tokens.put(event.text)
                    elif isinstance(event, StreamEnd):
                        end = event
                    if stream.cancelled.is_set():
                        break
            finally:
                events.close()  # closing the connection stops the server generating
            finish_reason = "cancelled" if end is None else (end.finish_reason or "stop")
            if times:
                trace.add("prefill", started, times[0])
                trace.add("decode", times[0], times[-1])
            usage = end.usage if end is not None else None
            outcome = GenerationOutcome("".join(text), usage.prompt_tokens if usage else None,
                                        usage.completion_tokens if usage else None, params.max_new_tokens,
                                        finish_reason, started, times)
            stream.record = self._emit(stream, "ok", outcome=outcome)
        except Exception as exc:  # noqa: BLE001 - a failed request is a record, never a dead thread
            stream.error = exc
            message = f"{type(exc).__name__}: {exc}"
            self._log.warning("remote generation %s failed: %s", trace.trace_id, log_text(message))
            if isinstance(exc, RemoteConnectError):
                self._set_down(str(exc))
                self._wake.set()
            stream.record = self._emit(stream, "error", error=message)
        finally:
            with self._lock:
                self.in_flight -= 1
            stream.finish()

    def _emit(self, stream: RemoteStream, status: str, *, outcome: GenerationOutcome | None = None,
              error: str | None = None) -> RequestRecord:
        record = build_record(stream.trace, stream.params, stream.source, stream.synthetic, status, self.model_name,
                              outcome, error)
        try:
            self._sink.record(record)
        except Exception:  # noqa: BLE001 - bookkeeping must never fail the request
            self._log.exception("recording request %s failed", stream.trace.trace_id)
        return record

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._poller is not None:
            self._poller.join(10)
        self._client.close()


class RemoteStream(StreamState):
    """A generation running on the server: iterate for text as it arrives, or wait for its record."""

    def __iter__(self) -> Generator[str, None, None]:
        try:
            while (item := self.tokens.get()) is not END:
                yield item
        finally:
            if not self.done.is_set():
                self.cancelled.set()  # the consumer went away: stop the server's generation too
        self.result()

