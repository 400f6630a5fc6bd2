"""RemoteTarget: a running OpenAI-compatible server (vLLM, llama.cpp, Ollama, TGI, transformers serve) as the target.

Each request is measured from the server's answer as it arrives here: time to first token from the request's
arrival, the gaps between deltas, and tokens from the server's `usage`. Two kinds of request take the same loop
(`_arun`, over `RemoteClient.exchange`): healthmon's own generations (`stream`: /api/model/generate, the Generate
page, the probe), which read the text, and the /v1 proxy's (`relay`), which hands the client the server's bytes as
they came and measures them on the way. A request from a thread runs that loop on an event loop of its own.
Every request has a whole-request deadline (HEALTHMON_TARGET_REQUEST_TIMEOUT_SECONDS), a read timeout counted
from the last event rather than the last byte, and a cap on its answer's size.

A poller thread checks the server's health every few seconds and reads its Prometheus `/metrics` and llama.cpp's
`/slots` where it has them; a server that goes away turns the status to `error` with the reason, one that says it
is loading its model is `loading`, and the next good poll makes it `loaded` again by itself. Requests are not
serialized here: the server batches, so up to `1 + queue_max` run at once and more are refused as busy, as the
local runtime's queue would.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from datetime import UTC, datetime
from typing import Any

from healthmon.openai_stream import split_before_done
from healthmon.params import DEFAULT_MAX_NEW_TOKENS, GenerationParams
from healthmon.pipeline import RequestSink
from healthmon.proxy_wire import ProxiedRequest
from healthmon.quality.metrics import answer_quality
from healthmon.records import GenerationOutcome, RequestRecord, build_record
from healthmon.remote.client import (
    AnswerHead,
    AnswerPiece,
    RemoteClient,
    RemoteConnectError,
    RemoteError,
    RemoteTimeout,
    StreamEnd,
    StreamEvent,
    TextDelta,
)
from healthmon.remote.server_metrics import (
    ServerMetrics,
    ServerMetricsError,
    ServerMetricsInterval,
    SlotsSnapshot,
    interval_figures,
    parse_server_metrics,
    parse_slots,
    server_figures_of,
)
from healthmon.remote.tokens import TokenCounter
from healthmon.runtime.sources import ModelSourceError
from healthmon.target import END, ModelNotReady, ModelStatus, RuntimeBusy, StreamState
from healthmon.target_info import REMOTE_SOURCE, RemoteInfo, TargetInfo
from healthmon.textsafe import log_text, redact_url
from healthmon.tracing import Trace

POLL_INTERVAL_SECONDS = 5.0
DEFAULT_REQUEST_TIMEOUT_SECONDS = 600.0
RELAY_QUEUE_PIECES = 64  # pieces of a relayed stream waiting for a client that reads slowly (each at most 64 KiB)


def request_body(params: GenerationParams, max_new_tokens_cap: int | None = None) -> dict[str, Any]:
    """The OpenAI body fields of a generation; a repetition penalty only where set (not every server knows it).
    Without max_new_tokens, healthmon's default goes upstream, so its cap bounds every generation."""
    wanted = params.max_new_tokens if params.max_new_tokens is not None else DEFAULT_MAX_NEW_TOKENS
    body: dict[str, Any] = {"temperature": params.temperature, "top_p": params.top_p,
                            "max_tokens": wanted if max_new_tokens_cap is None else min(wanted, max_new_tokens_cap)}
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
                 poll_interval_seconds: float = POLL_INTERVAL_SECONDS,
                 request_timeout_seconds: float = DEFAULT_REQUEST_TIMEOUT_SECONDS,
                 max_new_tokens_cap: int | None = None, clock: Callable[[], float] = time.perf_counter,
                 wall_clock: Callable[[], float] = time.time, logger: logging.Logger | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or RemoteClient(self.base_url, model=model, api_key=api_key)
        self.configured_model = model
        self._token_counter = token_counter
        self._sink = sink
        self.queue_max = queue_max
        self.poll_interval_seconds = poll_interval_seconds
        self.request_timeout_seconds = request_timeout_seconds
        self.max_new_tokens_cap = max_new_tokens_cap
        self._clock, self._wall_clock = clock, wall_clock
        self._log = logger or logging.getLogger("healthmon.remote")
        self._lock = threading.Lock()
        self.status = ModelStatus.NOT_LOADED
        self.error: str | None = None
        self.status_message: str | None = None  # the server's own words while it loads ("Loading model")
        self.loaded_at: float | None = None
        self.health_latency_seconds: float | None = None
        self.in_flight = 0
        self._served_model: str | None = None
        self._last_metrics: tuple[float, ServerMetrics] | None = None
        self._server_interval: ServerMetricsInterval | None = None
        self._slots: SlotsSnapshot | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._poller: threading.Thread | None = None

    # ---- state -------------------------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return self._served_model or self.configured_model or redact_url(self.base_url)

    def info(self) -> TargetInfo:
        with self._lock:
            return TargetInfo(
                name=self.model_name, source=REMOTE_SOURCE, ref=redact_url(self.base_url), file=None,
                chosen_because=None, status=self.status, error=self.error, progress=None, is_demo=False,
                load_seconds=None,
                loaded_at=None if self.loaded_at is None else datetime.fromtimestamp(self.loaded_at, UTC).isoformat(),
                in_flight=self.in_flight, queued=0, queue_max=self.queue_max,
                remote=RemoteInfo(
                    status_message=self.status_message, target_health_latency_seconds=self.health_latency_seconds,
                    architecture="remote (OpenAI-compatible)",
                    server=server_figures_of(self._server_interval, self._slots),
                    server_kind=self._last_metrics[1].server_kind if self._last_metrics else None))

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
        """Health, the served model's name (once), the server's metrics and slots. Never raises."""
        try:
            check = self._client.health()
        except RemoteError as exc:
            self._set_down(str(exc))
            return
        if check.loading:
            self._set_loading(check.detail)
            return
        if not check.ok:
            self._set_down(f"health check {check.url} answered {check.status_code}: {check.detail}")
            return
        if self._served_model is None and self.configured_model is None:
            try:
                self._served_model = next(iter(self._client.list_models()), None)
            except RemoteError:  # optional: transformers serve answers 500 without a Hugging Face cache dir
                pass
        with self._lock:
            recovered = self.status is not ModelStatus.LOADED
            self.status, self.error, self.status_message = ModelStatus.LOADED, None, None
            self.health_latency_seconds = check.latency_seconds
            if self.loaded_at is None:
                self.loaded_at = self._wall_clock()
        if recovered:
            self._log.info("remote target %s is up", redact_url(self.base_url))
        self._scrape()

    def _set_down(self, reason: str) -> None:
        with self._lock:
            was_up = self.status is ModelStatus.LOADED
            self.status, self.error, self.status_message = ModelStatus.ERROR, reason, None
            self._server_interval, self._slots = None, None
        if was_up or self.loaded_at is None:
            self._log.warning("remote target %s is down: %s", redact_url(self.base_url), log_text(reason))

    def _set_loading(self, message: str) -> None:
        """The server answers, and says it is loading its model: not a failure, and not ready either."""
        with self._lock:
            first = self.status is not ModelStatus.LOADING or self.status_message != message
            self.status, self.error, self.status_message = ModelStatus.LOADING, None, message
            self._server_interval, self._slots = None, None
        if first:
            self._log.info("remote target %s is loading: %s", redact_url(self.base_url), log_text(message))

    def _scrape(self) -> None:
        try:
            text = self._client.fetch_metrics()
            current = parse_server_metrics(text) if text is not None else None
        except (RemoteError, ServerMetricsError) as exc:
            self._log.debug("no server metrics from %s: %s", redact_url(self.base_url), log_text(exc))
            current = None
        try:
            payload = self._client.fetch_slots()
            slots = parse_slots(payload) if payload is not None else None
        except (RemoteError, ServerMetricsError) as exc:
            self._log.debug("no slots from %s: %s", redact_url(self.base_url), log_text(exc))
            slots = None
        now = self._clock()
        with self._lock:
            previous, self._last_metrics = self._last_metrics, (now, current) if current is not None else None
            self._server_interval, self._slots = None, slots
            if previous is not None and current is not None and now > previous[0]:
                self._server_interval = interval_figures(previous[1], current, now - previous[0])

    # ---- requests ----------------------------------------------------------------------------
    def _admit(self, only_if_idle: bool = False) -> None:
        with self._lock:
            if self.status is not ModelStatus.LOADED:
                state = self.status.value.replace("_", " ")
                reason = self.error or self.status_message
                raise ModelNotReady(f"remote target is {state}" + (f": {reason}" if reason else ""))
            if only_if_idle and self.in_flight:
                raise RuntimeBusy("the target is serving a request")
            if self.in_flight >= 1 + self.queue_max:
                raise RuntimeBusy(f"{self.in_flight} requests are running on the target")
            self.in_flight += 1

    def stream(self, params: GenerationParams, *, trace: Trace | None = None, source: str = "api",
               synthetic: bool = False, only_if_idle: bool = False, want_text: bool = True,
               on_event_loop: bool = False) -> RemoteStream:
        """Admit and start one of healthmon's own generations on the server; ModelNotReady or RuntimeBusy when it
        cannot take it now.

        With `on_event_loop` (a caller on the running asyncio loop) the request runs as a task on that loop and
        `aiter()` hands each delta over without a thread in between; otherwise on a thread of its own."""
        trace = trace or Trace(clock=self._clock, wall_clock=self._wall_clock)
        loop = asyncio.get_running_loop() if on_event_loop else None
        self._admit(only_if_idle)
        stream = RemoteStream(params, trace, source, synthetic)
        path = "/completions" if params.raw_prompt else "/chat/completions"
        fields = request_body(params, self.max_new_tokens_cap)
        payload = self._client.payload(path, None, fields, **({"prompt": params.prompt} if params.raw_prompt
                                                                else {"messages": params.chat()}))
        if loop is not None:
            stream.run_on(loop, self._arun(stream, path, payload, streamed=True, generation=True))
        else:
            threading.Thread(target=self._run, args=(stream, path, payload), name="healthmon-remote-request",
                             daemon=True).start()
        return stream

    def relay(self, request: ProxiedRequest, params: GenerationParams, *, trace: Trace,
              source: str) -> RemoteStream:
        """Admit and forward a /v1 request as the client sent it (healthmon.proxy_wire): from the running event
        loop, whose caller reads the answer with `ahead()` and `araw()` (a stream) or `body` once finished."""
        loop = asyncio.get_running_loop()
        self._admit()
        stream = RemoteStream(params, trace, source, False, relay_stream=request.stream)
        stream.run_on(loop, self._arun(stream, request.path, request.body, streamed=request.stream,
                                       generation=request.generation))
        return stream

    def _run(self, stream: RemoteStream, path: str, payload: bytes) -> None:
        """A request from a thread: the one loop, on an event loop of this thread's own."""
        async def run() -> None:
            try:
                await self._arun(stream, path, payload, streamed=True, generation=True, on_thread=True)
            finally:
                await self._client.release_loop()
        asyncio.run(run())

    async def _arun(self, stream: RemoteStream, path: str, payload: bytes, *, streamed: bool, generation: bool,
                    on_thread: bool = False) -> None:
        """One request: send it, hand each piece of the answer on as it arrives, measure, record. Exactly one record.
        Recording (quality scoring included) goes to a worker thread when on the shared loop, so it keeps relaying
        other streams."""
        answer = _Answer(stream.trace.now(), generation)
        try:
            try:
                await self._exchange(stream, answer, path, payload, streamed)
            except TimeoutError as exc:
                raise RemoteTimeout(f"the request passed its deadline of {self.request_timeout_seconds:g} s "
                                    "(HEALTHMON_TARGET_REQUEST_TIMEOUT_SECONDS)") from exc
            except asyncio.CancelledError:  # the consumer went away: the answer so far is the record
                pass
            finally:
                stream.relaying = False
                self._release()  # the server is done with it: admitted requests count until here, not the record
            if on_thread:
                stream.record = self._answered(stream, answer)
            else:
                # Let the consumer relay the last piece before the record is built: building it (quality scoring)
                # holds the GIL for about a millisecond on the worker thread, which delayed that piece by as much.
                await asyncio.sleep(0)
                stream.record = await asyncio.get_running_loop().run_in_executor(None, self._answered, stream, answer)
        except Exception as exc:  # noqa: BLE001 - a failed request is a record, never a lost task
            stream.record = self._failed(stream, exc) if on_thread \
                else await asyncio.get_running_loop().run_in_executor(None, self._failed, stream, exc)
        finally:
            stream.finish()

    def _release(self) -> None:
        with self._lock:
            self.in_flight -= 1

    async def _exchange(self, stream: RemoteStream, answer: _Answer, path: str, payload: bytes,
                        streamed: bool) -> None:
        async with asyncio.timeout(self.request_timeout_seconds):  # the whole request, a slow client included
            exchanged = self._client.exchange(path, payload, stream=streamed, clock=stream.trace.now)
            try:
                async for item in exchanged:
                    if isinstance(item, AnswerHead):
                        stream.set_head(item)
                        continue
                    answer.take(item.events)
                    await stream.deliver(item)
                    if stream.cancelled.is_set():
                        break
            finally:
                await exchanged.aclose()  # closing the connection stops the server generating

    def _answered(self, stream: RemoteStream, answer: _Answer) -> RequestRecord:
        """The record of a request the server answered (counting tokens, if it must, happens here: off the loop)."""
        return self._emit(stream, "ok", outcome=answer.outcome(stream, self._token_counter))

    def _failed(self, stream: RemoteStream, exc: Exception) -> RequestRecord:
        stream.error = exc
        message = f"{type(exc).__name__}: {exc}"
        self._log.warning("remote request %s failed: %s", stream.trace.trace_id, log_text(message))
        if isinstance(exc, RemoteConnectError):
            self._set_down(str(exc))
            self._wake.set()
        return self._emit(stream, "error", error=message)

    def _emit(self, stream: RemoteStream, status: str, *, outcome: GenerationOutcome | None = None,
              error: str | None = None) -> RequestRecord:
        record = build_record(stream.trace, stream.params, stream.source, stream.synthetic, status, self.model_name,
                              outcome, error, quality=_quality)
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


_NO_TEXT = {"tool_calls": "the answer calls tools; it has no text to score",
            "no_text": "the answer has no text to score (not a generation, or an empty one)"}


def _quality(prompt: str, outcome: GenerationOutcome) -> dict[str, Any]:
    """Answer-time quality of a text answer; an answer without text (tool calls, an embedding) says why instead
    of scoring an empty text."""
    if outcome.text:
        return answer_quality(prompt, outcome)
    kind = "tool_calls" if outcome.finish_reason == "tool_calls" else "no_text"
    return {"answer_kind": kind, "quality_score": None, "unscored_reason": _NO_TEXT[kind]}


class _Answer:
    """What one request's answer has said so far: the text, when each delta arrived, and how it ended."""

    def __init__(self, started_seconds: float, generation: bool) -> None:
        self.started_seconds = started_seconds
        self.generation = generation
        self.text: list[str] = []
        self.times: list[float] = []
        self.end: StreamEnd | None = None

    def take(self, events: tuple[StreamEvent, ...]) -> None:
        for event in events:
            if isinstance(event, StreamEnd):
                self.end = event
            else:
                self.text.append(event.text)
                self.times.append(event.arrived_seconds)

    def outcome(self, stream: RemoteStream, counter: TokenCounter | None) -> GenerationOutcome:
        """The server's `usage` where it sent one, else the model's tokenizer where configured, else unknown."""
        trace, params, end = stream.trace, stream.params, self.end
        if self.times:
            trace.add("prefill", self.started_seconds, self.times[0])
            trace.add("decode", self.times[0], self.times[-1])
        text = "".join(self.text)
        usage = end.usage if end is not None else None
        prompt_tokens, output_tokens = (usage.prompt_tokens, usage.completion_tokens) if usage else (None, None)
        if usage is None and counter is not None and self.generation:
            prompt_tokens, output_tokens = counter.prompt_tokens(params), counter.output_tokens(text)
        finish_reason = "cancelled" if end is None else \
            "tool_calls" if end.tool_calls else (end.finish_reason or "stop")
        return GenerationOutcome(text, prompt_tokens, output_tokens, params.max_new_tokens, finish_reason,
                                 self.started_seconds, self.times)


class RemoteStream(StreamState):
    """A request running on the server: iterate for text as it arrives, or (relayed) read the server's bytes."""

    def __init__(self, params: GenerationParams, trace: Trace, source: str, synthetic: bool, *,
                 relay_stream: bool | None = None) -> None:
        super().__init__(params, trace, source, synthetic)
        self.relay_stream = relay_stream  # None: healthmon's own request (text); else a relayed one, streamed or not
        self.head: AnswerHead | None = None
        self.body = bytearray()  # a relayed answer that is not a stream (or an error's body)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._deltas: asyncio.Queue[Any] | None = None
        self._head_ready: asyncio.Future[AnswerHead | None] | None = None
        self.relaying = False  # the task is reading the server's answer, where a cancel stops it
        # A relayed stream's `[DONE]`, sent once the request is recorded: a client that has read the end of its
        # stream finds its record (in /api/requests, the metrics, the store), as with the in-process model.
        self._held_end = b""

    def run_on(self, loop: asyncio.AbstractEventLoop, work: Any) -> None:
        """Run the request as a task on `loop` (the caller's, which is running): pieces go to `aiter()`/`araw()`."""
        self._loop, self.relaying = loop, True
        self._deltas = asyncio.Queue(RELAY_QUEUE_PIECES if self.relay_stream else 0)
        self._head_ready = loop.create_future()
        self._task = loop.create_task(work)

    def set_head(self, head: AnswerHead) -> None:
        self.head = head
        if self._head_ready is not None and not self._head_ready.done():
            self._head_ready.set_result(head)

    async def deliver(self, piece: AnswerPiece) -> None:
        """Hand a piece of the answer to the consumer: its bytes to a relay (waiting while a client reads slowly),
        its text to a reader of text."""
        if self.relay_stream is None:
            for event in piece.events:
                if isinstance(event, TextDelta):
                    if self._deltas is not None:
                        self._deltas.put_nowait(event.text)
                    else:
                        self.tokens.put(event.text)
        elif self.relay_stream and self.head is not None and self.head.ok:
            data = bytes(piece.data)
            if any(isinstance(event, StreamEnd) for event in piece.events):
                data, self._held_end = split_before_done(data)
            if data:
                assert self._deltas is not None
                await self._deltas.put(data)
        else:
            self.body += piece.data

    def finish(self) -> None:
        super().finish()
        if self._head_ready is not None and not self._head_ready.done():
            self._head_ready.set_result(None)
        if self._deltas is not None:
            try:
                self._deltas.put_nowait(END)
            except asyncio.QueueFull:  # a relay whose client stopped reading: it is told by `done` instead
                pass

    def cancel(self) -> None:
        super().cancel()
        if self._loop is not None and not self.done.is_set():
            self._loop.call_soon_threadsafe(self._cancel_relay)

    def _cancel_relay(self) -> None:
        """On the loop: interrupt the wait for the server's next bytes, not the recording that follows it."""
        if self.relaying and self._task is not None:
            self._task.cancel()

    async def ahead(self) -> AnswerHead | None:
        """The relayed answer's status and content type, or None when the request failed before any answer."""
        assert self._head_ready is not None, "not a request on the event loop"
        return await self._head_ready

    async def araw(self) -> AsyncGenerator[bytes, None]:
        """A relayed stream's bytes as the server sent them; leaving early cancels the request upstream."""
        assert self._deltas is not None
        try:
            while True:
                if self.done.is_set() and self._deltas.empty():
                    break
                if (item := await self._deltas.get()) is END:
                    break
                yield item
            if self._held_end:
                yield self._held_end
        finally:
            if not self.done.is_set():
                self.cancel()  # the client went away: stop the server's generation too

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
