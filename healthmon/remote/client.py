"""A client for an OpenAI-compatible model server (vLLM, llama.cpp, Ollama, TGI, transformers serve).

healthmon measures a remote target from its answer: `exchange` sends one request and yields the answer's head,
then its bytes as they arrive, each piece with the events it completed (text deltas stamped with the caller's
clock, and one `StreamEnd` holding the finish reason and `usage`). It is the one loop every request takes: the
/v1 proxy relays the bytes, healthmon's own requests read the events (`astream_chat`; `stream_chat` runs the same
loop on a thread's own event loop). Servers end streams differently, and both read the same here: OpenAI and
vLLM send a last `choices: []` chunk with `usage`, then `data: [DONE]`; `transformers serve` puts `usage` on the
finish chunk and closes without `[DONE]`. A stream is finished by `[DONE]` or, failing that, by a finish reason
before the connection closes; anything else is a `RemoteStreamBroken`. Every failure is a `RemoteError` subclass
that says which kind it is.

Bounds a hostile server cannot lift: a stream with no new event (a `: ping` comment, a dripped byte) for the read
timeout is broken; an answer over `max_answer_bytes` is ended; health, model-list, /metrics and /slots polls read
at most a fixed size each and give up after `poll_timeout_seconds` (a slow drip at most twice that); a name or
message a server sends is cut to a few hundred characters.

>>> with RemoteClient("http://127.0.0.1:8000/v1") as client:  # doctest: +SKIP
...     for event in client.stream_chat([{"role": "user", "content": "Hi"}], max_tokens=8):
...         print(event)
TextDelta(text='Hello', arrived_seconds=..., reasoning=False)
...
StreamEnd(finish_reason='length', usage=Usage(prompt_tokens=31, completion_tokens=8), model='...', ...)
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from healthmon.openai_stream import Done, MalformedEvent, SSEReader, Usage, read_chunk
from healthmon.remote.aio_http import (
    AioStreamingClient,
    ConnectFailed,
    ConnectionBroken,
    ProtocolError,
    ReadTimedOut,
)
from healthmon.textsafe import one_line, redact_url

_READ_TIMEOUTS = (httpx.ReadTimeout, ReadTimedOut)  # the server silent past the read timeout, on either client
_READ_FAILURES = (ReadTimedOut, ConnectionBroken, ProtocolError, httpx.TransportError)
MAX_MESSAGE_CHARS = 300  # of a server's error text kept in an exception
MAX_NAME_CHARS = 256  # of a model id or any other name a server sends
_NOT_EXPOSED = (404, 405, 501)  # a /health, /metrics or /slots the server does not have (llama.cpp answers 501)
DEFAULT_MAX_ANSWER_BYTES = 8 * 1024 * 1024  # one answer's bytes, stream or not
POLL_TIMEOUT_SECONDS = 5.0  # a health, model-list, /metrics or /slots poll, whole
MAX_HEALTH_BYTES = 64 * 1024
MAX_MODELS_BYTES = 1024 * 1024
MAX_METRICS_BYTES = 4 * 1024 * 1024  # vLLM with a few models prints ~100 KB; 4 MiB parses in about a second
MAX_SLOTS_BYTES = 2 * 1024 * 1024  # llama.cpp prints ~2 KB per slot
LOADING_STATUS = 503  # llama.cpp (and others) answer /health with 503 and "Loading model" while loading


class RemoteError(Exception):
    """Any failure talking to the remote server; the subclass says which kind."""


class RemoteConnectError(RemoteError):
    """No connection to the server, or it dropped before any answer: the target is down or unreachable."""


class RemoteTimeout(RemoteError):
    """The server took the request but sent no answer within the read timeout, or the request passed its deadline."""


class RemoteHTTPError(RemoteError):
    """The server answered with an error status; `message` is its own explanation, from its error body."""

    def __init__(self, status_code: int, message: str, url: str) -> None:
        super().__init__(f"{redact_url(url)} answered {status_code}: {message}")
        self.status_code = status_code
        self.message = message


class RemoteStreamBroken(RemoteError):
    """The stream stopped before its end (connection lost, no event for the read timeout, an error event)."""

    def __init__(self, reason: str, deltas_received: int) -> None:
        super().__init__(f"the stream broke after {deltas_received} text deltas: {reason}")
        self.reason = reason
        self.deltas_received = deltas_received


class RemoteInvalidResponse(RemoteError):
    """The answer is not what an OpenAI-compatible server sends (not SSE, not JSON, the wrong shape)."""


class RemoteAnswerTooLarge(RemoteError):
    """The answer passed `max_answer_bytes`: healthmon ended it rather than hold it."""


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer's text and when its bytes arrived (on the caller's clock), for TTFT and TPOT.

    `reasoning` marks a reasoning model's thinking (`reasoning_content`): output tokens too, not the answer."""

    text: str
    arrived_seconds: float
    reasoning: bool = False


@dataclass(frozen=True)
class StreamEnd:
    """The answer's last event: why generation stopped and the server's token counts, when it sent them.
    `tool_calls`: the answer called tools (it may have no text)."""

    finish_reason: str | None
    usage: Usage | None
    model: str | None
    arrived_seconds: float
    tool_calls: bool = False


@dataclass(frozen=True)
class HealthCheck:
    """One health probe: whether the server answered 2xx, on which URL, how fast, and why not when it did not.
    `loading`: the server said it is still loading its model (a 503 saying so), which is not a failure."""

    ok: bool
    status_code: int
    url: str
    latency_seconds: float
    detail: str
    loading: bool = False


@dataclass(frozen=True)
class AnswerHead:
    """An answer's status and content type, before its body."""

    status_code: int
    content_type: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


@dataclass(frozen=True)
class AnswerPiece:
    """Bytes of an answer as they arrived, and the events they completed (the last piece holds the StreamEnd)."""

    data: bytes
    events: tuple[StreamEvent, ...] = ()


StreamEvent = TextDelta | StreamEnd
Exchanged = AnswerHead | AnswerPiece


class _Opened(Protocol):
    """An answer whose head has arrived: the lean client's AioResponse, or httpx's behind _HttpxOpened."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def aiter_bytes(self) -> AsyncIterator[bytes]: ...

    def finish(self) -> None: ...

    async def aclose(self) -> None: ...


@dataclass
class _HttpxOpened:
    response: httpx.Response

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self.response.headers

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        return self.response.aiter_bytes()  # decoded: httpx asked for gzip, the client gets what it asked for

    def finish(self) -> None:
        pass

    async def aclose(self) -> None:
        await self.response.aclose()


class RemoteClient:
    """One OpenAI-compatible server at `base_url` (ending in `/v1`); thread-safe."""

    def __init__(self, base_url: str, *, model: str | None = None, api_key: str | None = None,
                 connect_timeout_seconds: float = 5.0, read_timeout_seconds: float = 60.0,
                 max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES, poll_timeout_seconds: float = POLL_TIMEOUT_SECONDS,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        # vLLM, llama.cpp and TGI serve /health and /metrics beside /v1, at the server's root.
        self.root_url = self.base_url.removesuffix("/v1")
        self.model = model
        self.read_timeout_seconds = read_timeout_seconds
        self.max_answer_bytes = max_answer_bytes
        self.poll_timeout_seconds = poll_timeout_seconds
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        timeout = httpx.Timeout(read_timeout_seconds, connect=connect_timeout_seconds, pool=connect_timeout_seconds)
        poll_timeout = httpx.Timeout(poll_timeout_seconds, connect=min(connect_timeout_seconds, poll_timeout_seconds))
        # Polls ask for no compression: their size cap is on what the server sends, which a small gzip bomb evades.
        # Nor do they keep connections: a server closes an idle one after a few seconds (uvicorn after 5, the poll
        # interval), and a poll sent on it as it closes would fail and call the server down.
        self._http = httpx.Client(headers=headers | {"Accept-Encoding": "identity"}, timeout=poll_timeout,
                                  transport=transport, limits=httpx.Limits(max_keepalive_connections=0))
        self._async_options: dict[str, Any] = {"headers": headers, "timeout": timeout}
        if transport is not None:  # a test's MockTransport answers both
            self._async_options["transport"] = transport
        # The POST from the event loop goes over aio_http's lean client (its docstring says why), unless the
        # environment routes the server through a proxy, which only httpx speaks.
        # A URL with credentials in it is left to httpx too, which sends them as Basic auth.
        parts = urlsplit(self.base_url)
        self.direct_on_event_loop = transport is None and not proxied_by_httpx(self._http, self.base_url) \
            and not parts.username
        self._aio_options: dict[str, Any] = {"headers": headers, "connect_timeout_seconds": connect_timeout_seconds,
                                             "read_timeout_seconds": read_timeout_seconds,
                                             "ssl_context": httpx.create_ssl_context()
                                             if parts.scheme.lower() == "https" else None}
        # One async client per event loop: its connections belong to the loop that opened them.
        self._async_lock = threading.Lock()
        self._async_http: dict[asyncio.AbstractEventLoop, httpx.AsyncClient | AioStreamingClient] = {}

    def __enter__(self) -> RemoteClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections (an event loop's client is closed on that loop, if it still runs)."""
        self._http.close()
        with self._async_lock:
            clients, self._async_http = self._async_http, {}
        for loop, client in clients.items():
            if not loop.is_closed():
                try:
                    asyncio.run_coroutine_threadsafe(client.aclose(), loop)
                except RuntimeError:  # the loop stopped in between: its sockets go with it
                    pass

    def _async_client(self) -> httpx.AsyncClient | AioStreamingClient:
        loop = asyncio.get_running_loop()
        with self._async_lock:
            client = self._async_http.get(loop)
            if client is None:
                client = AioStreamingClient(**self._aio_options) if self.direct_on_event_loop \
                    else httpx.AsyncClient(**self._async_options)
                self._async_http[loop] = client
        return client

    async def release_loop(self) -> None:
        """Close the running loop's connections (a thread's own loop, before it ends)."""
        with self._async_lock:
            client = self._async_http.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    # ---- requests ------------------------------------------------------------------------------
    def payload(self, path: str, model: str | None, params: Mapping[str, Any], **content: Any) -> bytes:
        """The body healthmon sends for its own generations: streamed, with usage, the configured model."""
        body: dict[str, Any] = {**params, **content, "stream": True, "stream_options": {"include_usage": True}}
        if model or self.model:
            body["model"] = model or self.model
        # As httpx sends JSON: compact, UTF-8 (a Chinese prompt is not sent as \\u escapes, twice the bytes).
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def stream_chat(self, messages: Sequence[Mapping[str, Any]], *, model: str | None = None,
                    **params: Any) -> Generator[StreamEvent, None, None]:
        """POST /chat/completions streaming, from a thread: TextDeltas as they arrive, then one StreamEnd.

        `params` go into the body as given (max_tokens, temperature, stop, seed, ...). Nothing is sent until the
        first `next()`; closing the generator early closes the connection, which stops the server generating.
        """
        return _on_own_loop(self, lambda: self.astream_chat(messages, model=model, **params))

    def stream_completion(self, prompt: str, *, model: str | None = None,
                          **params: Any) -> Generator[StreamEvent, None, None]:
        """POST /completions streaming: a text completion, the prompt continued as it is (no chat template)."""
        return _on_own_loop(self, lambda: self.astream_completion(prompt, model=model, **params))

    async def astream_chat(self, messages: Sequence[Mapping[str, Any]], *, model: str | None = None,
                           **params: Any) -> AsyncGenerator[StreamEvent, None]:
        """stream_chat on the running event loop: no thread between the server's bytes and the caller."""
        payload = self.payload("/chat/completions", model, params, messages=list(messages))
        async for event in events_of(self.exchange("/chat/completions", payload, stream=True)):
            yield event

    async def astream_completion(self, prompt: str, *, model: str | None = None,
                                 **params: Any) -> AsyncGenerator[StreamEvent, None]:
        """stream_completion on the running event loop."""
        payload = self.payload("/completions", model, params, prompt=prompt)
        async for event in events_of(self.exchange("/completions", payload, stream=True)):
            yield event

    async def exchange(self, path: str, payload: bytes, *, stream: bool,
                       clock: Callable[[], float] = time.perf_counter) -> AsyncGenerator[Exchanged, None]:
        """POST `payload` to `path` (under /v1): the AnswerHead, then AnswerPieces as the bytes arrive, stamped
        with `clock` (the caller's, so a time to first token is one clock's difference).

        An error status yields its body (at most `max_answer_bytes`) as one piece, then raises RemoteHTTPError with
        the server's words. A stream's piece carries the events its bytes completed; a stream without a new event
        for the read timeout (comments and partial lines are no event) is RemoteStreamBroken. A whole answer is one
        piece holding its text and StreamEnd (so is a JSON answer to a stream request: a server may ignore
        `stream`). More than `max_answer_bytes` is RemoteAnswerTooLarge, raised before the piece that passes it."""
        url = f"{self.base_url}{path}"
        opened = await self._post(url, payload, stream)
        try:
            content_type = opened.headers.get("content-type", "")
            yield AnswerHead(opened.status_code, content_type)
            if not 200 <= opened.status_code < 300:
                body = await self._read_whole(opened, url)
                yield AnswerPiece(body)
                raise RemoteHTTPError(opened.status_code, error_text_of(body, ""), url)
            if not stream or content_type.startswith("application/json"):  # a server may answer a stream whole
                body = await self._read_whole(opened, url)
                yield AnswerPiece(body, answer_events(body, clock(), url))
                return
            decoder = StreamDecoder(url)
            decoder.check(content_type)
            async for piece in self._read_stream(opened, decoder, clock):
                yield piece
                if piece.events and isinstance(piece.events[-1], StreamEnd):
                    opened.finish()  # the body's end is read off the caller's path; the connection is kept
                    return
        finally:
            await opened.aclose()  # an answer left before its end closes the connection: the server stops

    async def _post(self, url: str, payload: bytes, stream: bool) -> _Opened:
        client = self._async_client()
        headers = {"content-type": "application/json", "accept": "text/event-stream" if stream
                   else "application/json"}
        try:
            if isinstance(client, AioStreamingClient):
                return await client.post(url, payload, headers)
            request = client.build_request("POST", url, content=payload, headers=headers)
            return _HttpxOpened(await client.send(request, stream=True))
        except (ReadTimedOut, ConnectFailed, ConnectionBroken, ProtocolError, httpx.TransportError) as exc:
            raise _before_answer(exc, url, self.read_timeout_seconds) from exc

    async def _read_whole(self, opened: _Opened, url: str) -> bytes:
        body = bytearray()
        try:
            async for data in opened.aiter_bytes():
                body += data
                if len(body) > self.max_answer_bytes:
                    raise RemoteAnswerTooLarge(f"{redact_url(url)} answered more than {self.max_answer_bytes} "
                                               "bytes (HEALTHMON_TARGET_MAX_ANSWER_BYTES): ended")
        except _READ_FAILURES as exc:  # after the head: the answer broke off, the server is not down
            raise StreamDecoder(url).broken(exc, self.read_timeout_seconds) from exc
        return bytes(body)

    async def _read_stream(self, opened: _Opened, decoder: StreamDecoder,
                           clock: Callable[[], float]) -> AsyncGenerator[AnswerPiece, None]:
        loop = asyncio.get_running_loop()
        chunks = opened.aiter_bytes()
        received, last_event = 0, loop.time()
        while True:
            try:
                async with asyncio.timeout_at(last_event + self.read_timeout_seconds):
                    data = await anext(chunks, None)
            except TimeoutError as exc:  # bytes may have come, but no event: pings and drips do not count
                raise RemoteStreamBroken(f"no event for {self.read_timeout_seconds:g} s", decoder.deltas) from exc
            except _READ_FAILURES as exc:
                raise decoder.broken(exc, self.read_timeout_seconds) from exc
            arrived_seconds = clock()
            if data is None:  # the server closed the stream
                yield AnswerPiece(b"", (decoder.close(arrived_seconds),))
                return
            received += len(data)
            if received > self.max_answer_bytes:
                raise RemoteAnswerTooLarge(f"the stream passed {self.max_answer_bytes} bytes "
                                           "(HEALTHMON_TARGET_MAX_ANSWER_BYTES): ended")
            events_before = decoder.events
            piece = AnswerPiece(data, tuple(decoder.feed(data, arrived_seconds)))
            if decoder.events > events_before:
                last_event = loop.time()
            yield piece

    # ---- polls ---------------------------------------------------------------------------------
    def list_models(self) -> tuple[str, ...]:
        """The ids GET /models lists (a server may list none: transformers serve lists its Hub cache)."""
        url = f"{self.base_url}/models"
        status, reason, content = self._get(url, MAX_MODELS_BYTES)
        if not 200 <= status < 300:
            raise RemoteHTTPError(status, error_text_of(content, reason), url)
        try:
            data = json.loads(content)["data"]
            return tuple(one_line(entry["id"])[:MAX_NAME_CHARS] for entry in data)
        except (ValueError, KeyError, TypeError) as exc:
            raise RemoteInvalidResponse(f"{redact_url(url)} is not a model list: "
                                        f"{one_line(content[:200].decode(errors='replace'))}") from exc

    def health(self) -> HealthCheck:
        """GET <root>/health (vLLM, llama.cpp, TGI, transformers serve), else GET /models (Ollama has no /health).

        An HTTP answer, healthy or not, is a HealthCheck (a 503 saying the model is loading is `loading`: llama.cpp
        says so while it loads); no answer raises."""
        url = f"{self.root_url}/health"
        started = time.perf_counter()
        status, reason, content = self._get(url, MAX_HEALTH_BYTES)
        if status in _NOT_EXPOSED:
            url = f"{self.base_url}/models"
            started = time.perf_counter()
            status, reason, content = self._get(url, MAX_MODELS_BYTES)
        latency_seconds = time.perf_counter() - started
        ok = 200 <= status < 300
        detail = "" if ok else error_text_of(content, reason)
        loading = status == LOADING_STATUS and "loading" in detail.lower()
        return HealthCheck(ok, status, url, latency_seconds, detail, loading)

    def fetch_metrics(self) -> str | None:
        """The Prometheus text at <root>/metrics, or None where the server exposes none."""
        content = self._optional(f"{self.root_url}/metrics", MAX_METRICS_BYTES)
        return None if content is None else content.decode("utf-8", errors="replace")

    def fetch_slots(self) -> Any:
        """llama.cpp's <root>/slots as decoded JSON, or None where the server has none (501 without --slots)."""
        url = f"{self.root_url}/slots"
        content = self._optional(url, MAX_SLOTS_BYTES)
        if content is None:
            return None
        try:
            return json.loads(content)
        except ValueError as exc:
            raise RemoteInvalidResponse(f"{redact_url(url)} is not JSON") from exc

    def _optional(self, url: str, max_bytes: int) -> bytes | None:
        status, reason, content = self._get(url, max_bytes)
        if status in _NOT_EXPOSED:
            return None
        if not 200 <= status < 300:
            raise RemoteHTTPError(status, error_text_of(content, reason), url)
        return content

    def _get(self, url: str, max_bytes: int) -> tuple[int, str, bytes]:
        """A bounded GET: at most `max_bytes` of body, given up after `poll_timeout_seconds` (each read has that
        timeout too, so a server that drips stops it within twice that)."""
        deadline = time.monotonic() + self.poll_timeout_seconds
        where = redact_url(url)
        try:
            with self._http.stream("GET", url) as response:
                body = bytearray()
                for data in response.iter_bytes():
                    body += data
                    if len(body) > max_bytes:
                        raise RemoteInvalidResponse(f"{where} answered more than {max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise RemoteTimeout(f"{where} took longer than {self.poll_timeout_seconds:g} s to answer")
                return response.status_code, response.reason_phrase, bytes(body)
        except httpx.TransportError as exc:
            raise _before_answer(exc, url, self.poll_timeout_seconds) from exc


def _on_own_loop(client: RemoteClient, events: Callable[[], AsyncGenerator[StreamEvent, None]]
                 ) -> Generator[StreamEvent, None, None]:
    """An async event stream read from a thread, on an event loop of the thread's own (the one loop, not a twin)."""
    loop = asyncio.new_event_loop()
    agen = events()
    try:
        while True:
            try:
                yield loop.run_until_complete(anext(agen))
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(agen.aclose())
        loop.run_until_complete(client.release_loop())
        loop.close()


async def events_of(exchanged: AsyncGenerator[Exchanged, None]) -> AsyncGenerator[StreamEvent, None]:
    """The events of an exchange, for a caller that wants the text rather than the bytes."""
    try:
        async for item in exchanged:
            if isinstance(item, AnswerPiece):
                for event in item.events:
                    yield event
    finally:
        await exchanged.aclose()


def answer_events(body: bytes, arrived_seconds: float, url: str) -> tuple[StreamEvent, ...]:
    """A whole (non-streamed) answer's text and StreamEnd; an answer without choices (an embedding) ends at once."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise RemoteInvalidResponse(f"{redact_url(url)} answered what is not JSON: "
                                    f"{one_line(body[:200].decode(errors='replace'))}") from exc
    if not isinstance(payload, dict):
        raise RemoteInvalidResponse(f"{redact_url(url)} answered JSON that is not an object")
    content = read_chunk(payload)
    model = payload.get("model")
    events: list[StreamEvent] = [TextDelta(text, arrived_seconds, reasoning)
                                 for text, reasoning in ((content.reasoning_text, True), (content.text, False)) if text]
    events.append(StreamEnd(content.finish_reason, content.usage,
                            model[:MAX_NAME_CHARS] if isinstance(model, str) else None, arrived_seconds,
                            content.tool_calls))
    return tuple(events)


def proxied_by_httpx(http: httpx.Client, url: str) -> bool:
    """Whether httpx sends `url` through a proxy from HTTP_PROXY / HTTPS_PROXY / ALL_PROXY (NO_PROXY considered):
    asked of httpx itself, so the event loop's requests take the same route as the rest."""
    return http._transport_for_url(httpx.URL(url)) is not http._transport  # noqa: SLF001 - httpx's own decision


class StreamDecoder:
    """One upstream stream's bytes → TextDeltas and one StreamEnd; `events` counts every event it completed.

    Finished by `[DONE]` or, failing that, by a finish reason before the connection closes; anything else raises
    the RemoteError that says what went wrong."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.deltas = 0
        self.events = 0  # every data event completed: what the read timeout counts as the server's content
        self._tool_calls = False
        self._reader = SSEReader()
        self._finish_reason: str | None = None
        self._usage: Usage | None = None
        self._model: str | None = None

    def check(self, content_type: str) -> None:
        if not content_type.startswith("text/event-stream"):
            raise RemoteInvalidResponse(f"{redact_url(self.url)} answered {content_type or 'no content type'}, "
                                        "not an event stream")

    def broken(self, exc: Exception, read_timeout_seconds: float) -> RemoteStreamBroken:
        """A read failure mid-stream (httpx's or the lean client's): silence past the timeout, or a lost line."""
        if isinstance(exc, _READ_TIMEOUTS):
            return RemoteStreamBroken(f"no data for {read_timeout_seconds:g} s", self.deltas)
        return RemoteStreamBroken(f"the connection failed: {one_line(exc) or type(exc).__name__}", self.deltas)

    def close(self, arrived_seconds: float) -> StreamEnd:
        """The server closed the stream: finished only if it said why it stopped."""
        if self._finish_reason is None:
            raise RemoteStreamBroken("the connection closed before a finish reason", self.deltas)
        return StreamEnd(self._finish_reason, self._usage, self._model, arrived_seconds, self._tool_calls)

    def feed(self, data: bytes, arrived_seconds: float) -> list[StreamEvent]:
        """The events `data` completes; a StreamEnd, if any, is the last (what follows `[DONE]` is not read)."""
        try:
            events = self._reader.feed(data)
        except ValueError as exc:  # the reader refuses an event too large to be a chunk
            raise RemoteInvalidResponse(str(exc)) from exc
        out: list[StreamEvent] = []
        for event in events:
            self.events += 1
            if isinstance(event, Done):  # DONE, the one instance
                out.append(StreamEnd(self._finish_reason, self._usage, self._model, arrived_seconds,
                                     self._tool_calls))
                return out
            if isinstance(event, MalformedEvent):
                raise RemoteInvalidResponse(f"an event that is not a JSON object: {one_line(event.data[:200])}")
            content = read_chunk(event)
            if content.error is not None:  # transformers serve and vLLM report a failure mid-stream this way
                raise RemoteStreamBroken(f"the server sent an error: {_error_text(content.error)}", self.deltas)
            if not isinstance(event.get("choices"), list):
                raise RemoteInvalidResponse(f"a stream chunk without choices: {one_line(json.dumps(event))[:200]}")
            self._model = event["model"][:MAX_NAME_CHARS] if isinstance(event.get("model"), str) else self._model
            self._tool_calls = self._tool_calls or content.tool_calls
            self._finish_reason = content.finish_reason or self._finish_reason
            self._usage = content.usage or self._usage
            for text, reasoning in ((content.reasoning_text, True), (content.text, False)):
                if text:
                    self.deltas += 1
                    out.append(TextDelta(text, arrived_seconds, reasoning))
        return out


def _before_answer(exc: Exception, url: str, read_timeout_seconds: float) -> RemoteError:
    """A transport failure before any answer (httpx's or the lean client's): a timeout once connected, otherwise
    no usable connection."""
    where = redact_url(url)
    if isinstance(exc, _READ_TIMEOUTS):
        return RemoteTimeout(f"{where} sent no answer within {read_timeout_seconds:g} s")
    return RemoteConnectError(f"cannot reach {where}: {one_line(exc) or type(exc).__name__}")


def error_text_of(content: bytes, reason: str) -> str:
    """The server's own words from an error body: OpenAI's `{"error": {"message"}}`, `{"error": "..."}`
    (TGI, transformers serve), FastAPI's `{"detail"}`, vLLM's `{"message"}`, else the text or the reason."""
    text = content.decode("utf-8", errors="replace")
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            if body.get(key):
                return _error_text(body[key])
    return (one_line(text.strip()) or reason or "no message")[:MAX_MESSAGE_CHARS]


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        error = error.get("message") or error
    text = error if isinstance(error, str) else json.dumps(error, ensure_ascii=False)
    return one_line(text)[:MAX_MESSAGE_CHARS]
