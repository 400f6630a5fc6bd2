"""RemoteTarget: a running OpenAI-compatible server (vLLM, llama.cpp, Ollama, TGI, transformers serve) as the target.

Each generation is streamed from the server and measured from the stream as it arrives here: time to first token
from the request's arrival, the gaps between deltas, and tokens from the server's `usage`. A poller thread checks
the server's health every few seconds and scrapes its Prometheus `/metrics` where it has them (vLLM, llama.cpp,
TGI); a server that goes away turns the status to `error` with the reason, and the next good poll makes it
`loaded` again by itself. Requests are not serialized here: the server batches, so up to `1 + queue_max` run at
once and more are refused as busy, as the local runtime's queue would.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncGenerator, Callable, Coroutine, Generator
from datetime import UTC, datetime
from typing import Any

from healthmon.params import GenerationParams
from healthmon.pipeline import RequestSink
from healthmon.quality.metrics import answer_quality
from healthmon.records import GenerationOutcome, RequestRecord, build_record
from healthmon.remote.client import (
    RemoteClient,
    RemoteConnectError,
    RemoteError,
    StreamEnd,
    StreamEvent,
)
from healthmon.remote.server_metrics import (
    ServerMetrics,
    ServerMetricsError,
    ServerMetricsInterval,
    interval_figures,
    parse_server_metrics,
)
from healthmon.remote.tokens import TokenCounter
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
                 queue_max: int = 8, client: RemoteClient | None = None, token_counter: TokenCounter | None = None,
                 poll_interval_seconds: float = POLL_INTERVAL_SECONDS, clock: Callable[[], float] = time.perf_counter,
                 wall_clock: Callable[[], float] = time.time, logger: logging.Logger | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or RemoteClient(self.base_url, model=model, api_key=api_key)
        self._configured_model = model
        self._token_counter = token_counter
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
               synthetic: bool = False, only_if_idle: bool = False, want_text: bool = True,
               on_event_loop: bool = False) -> RemoteStream:
        """Admit and start a generation on the server; ModelNotReady or RuntimeBusy when it cannot take it now.

        With `on_event_loop` (a caller on the running asyncio loop, such as the /v1 proxy) the request runs as a
        task on that loop and `aiter()` hands each delta over without a thread in between: a thread per request
        and a threadpool hop per chunk cost the proxy milliseconds of time to first token."""
        trace = trace or Trace(clock=self._clock, wall_clock=self._wall_clock)
        loop = asyncio.get_running_loop() if on_event_loop else None
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
        if loop is not None:
            stream.run_on(loop, self._arun(stream))
        else:
            threading.Thread(target=self._run, args=(stream,), name="healthmon-remote-request", daemon=True).start()
        return stream

    def _events(self, params: GenerationParams) -> Generator[StreamEvent, None, None]:
        body = request_body(params)
        return (self._client.stream_completion(params.prompt, **body) if params.raw_prompt
                else self._client.stream_chat(params.chat(), **body))

    def _async_events(self, params: GenerationParams) -> AsyncGenerator[StreamEvent, None]:
        body = request_body(params)
        return (self._client.astream_completion(params.prompt, **body) if params.raw_prompt
                else self._client.astream_chat(params.chat(), **body))

    def _run(self, stream: RemoteStream) -> None:
        """One request's thread: stream from the server, pass the text on, record. Exactly one record."""
        answer = _Answer(stream.trace.now())
        try:
            events = self._events(stream.params)
            try:
                for event in events:
                    if (text := answer.take(event)) is not None:
                        stream.tokens.put(text)
                    if stream.cancelled.is_set():
                        break
            finally:
                events.close()  # closing the connection stops the server generating
            stream.record = self._answered(stream, answer)
        except Exception as exc:  # noqa: BLE001 - a failed request is a record, never a dead thread
            stream.record = self._failed(stream, exc)
        finally:
            with self._lock:
                self.in_flight -= 1
            stream.finish()

    async def _arun(self, stream: RemoteStream) -> None:
        """_run as a task on the event loop; recording (quality scoring included) goes to a worker thread, so
        the loop keeps relaying other streams."""
        params, loop = stream.params, asyncio.get_running_loop()
        answer = _Answer(stream.trace.now())
        try:
            events = self._async_events(params)
            try:
                async for event in events:
                    if (text := answer.take(event)) is not None:
                        stream.deliver(text)
            except asyncio.CancelledError:  # the consumer went away: the answer so far is the record
                pass
            finally:
                stream.relaying = False
                await events.aclose()  # closing the connection stops the server generating
            # Let the consumer relay the last delta before the record is built: building it (quality scoring)
            # holds the GIL for about a millisecond on the worker thread, which delayed that delta by as much.
            await asyncio.sleep(0)
            stream.record = await loop.run_in_executor(None, self._answered, stream, answer)
        except Exception as exc:  # noqa: BLE001 - a failed request is a record, never a lost task
            stream.record = await loop.run_in_executor(None, self._failed, stream, exc)
        finally:
            with self._lock:
                self.in_flight -= 1
            stream.finish()

    def _answered(self, stream: RemoteStream, answer: _Answer) -> RequestRecord:
        """The record of a request the server answered (counting tokens, if it must, happens here: off the loop)."""
        return self._emit(stream, "ok", outcome=answer.outcome(stream, self._token_counter))

    def _failed(self, stream: RemoteStream, exc: Exception) -> RequestRecord:
        stream.error = exc
        message = f"{type(exc).__name__}: {exc}"
        self._log.warning("remote generation %s failed: %s", stream.trace.trace_id, log_text(message))
        if isinstance(exc, RemoteConnectError):
            self._set_down(str(exc))
            self._wake.set()
        return self._emit(stream, "error", error=message)

    def _emit(self, stream: RemoteStream, status: str, *, outcome: GenerationOutcome | None = None,
              error: str | None = None) -> RequestRecord:
        record = build_record(stream.trace, stream.params, stream.source, stream.synthetic, status, self.model_name,
                              outcome, error, quality=answer_quality)
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


class _Answer:
    """What one request's stream has said so far: the text, when each delta arrived, and how it ended."""

    def __init__(self, started_seconds: float) -> None:
        self.started_seconds = started_seconds
        self.text: list[str] = []
        self.times: list[float] = []
        self.end: StreamEnd | None = None

    def take(self, event: StreamEvent) -> str | None:
        """Keep one event; a text delta's text is returned, for the consumer."""
        if isinstance(event, StreamEnd):
            self.end = event
            return None
        self.text.append(event.text)
        self.times.append(event.arrived_seconds)
        return event.text

    def outcome(self, stream: RemoteStream, counter: TokenCounter | None) -> GenerationOutcome:
        """The server's `usage` where it sent one, else the model's tokenizer where configured, else unknown."""
        trace, params, end = stream.trace, stream.params, self.end
        if self.times:
            trace.add("prefill", self.started_seconds, self.times[0])
            trace.add("decode", self.times[0], self.times[-1])
        text = "".join(self.text)
        usage = end.usage if end is not None else None
        prompt_tokens, output_tokens = (usage.prompt_tokens, usage.completion_tokens) if usage else (None, None)
        if usage is None and counter is not None:
            prompt_tokens, output_tokens = counter.prompt_tokens(params), counter.output_tokens(text)
        finish_reason = "cancelled" if end is None else (end.finish_reason or "stop")
        return GenerationOutcome(text, prompt_tokens, output_tokens, params.max_new_tokens, finish_reason,
                                 self.started_seconds, self.times)


class RemoteStream(StreamState):
    """A generation running on the server: iterate for text as it arrives, or wait for its record."""

    def __init__(self, params: GenerationParams, trace: Trace, source: str, synthetic: bool) -> None:
        super().__init__(params, trace, source, synthetic)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._deltas: asyncio.Queue[Any] | None = None
        self.relaying = False  # the task is reading the server's stream, where a cancel stops it


    def run_on(self, loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, None]) -> None:
        """Run the request as a task on `loop` (the caller's, which is running): deltas go to `aiter()`."""
        self._loop, self._deltas, self.relaying = loop, asyncio.Queue(), True
        self._task = loop.create_task(work)

    def deliver(self, text: str) -> None:
        assert self._deltas is not None
        self._deltas.put_nowait(text)

    def finish(self) -> None:
        super().finish()
        if self._deltas is not None:
            self._deltas.put_nowait(END)

    def cancel(self) -> None:
        super().cancel()
        if self._loop is not None and not self.done.is_set():
            self._loop.call_soon_threadsafe(self._cancel_relay)

    def _cancel_relay(self) -> None:
        """On the loop: interrupt the wait for the server's next bytes, not the recording that follows it."""
        if self.relaying and self._task is not None:
            self._task.cancel()

    def __iter__(self) -> Generator[str, None, None]:
        if self._deltas is not None:
            raise RuntimeError("this generation runs on the event loop: read it with aiter()")
        try:
            while (item := self.tokens.get()) is not END:
                yield item
        finally:
            if not self.done.is_set():
                self.cancelled.set()  # the consumer went away: stop the server's generation too
        self.result()

    async def aiter(self) -> AsyncGenerator[str, None]:
        if self._deltas is None:
            async for item in super().aiter():
                yield item
            return
        try:
            while (item := await self._deltas.get()) is not END:
                yield item
        finally:
            if not self.done.is_set():
                self.cancel()  # the consumer went away: stop the server's generation too
        self.result()
