"""A streaming client for an OpenAI-compatible model server (vLLM, llama.cpp, Ollama, TGI, transformers serve).

healthmon measures a remote target from its stream: each text delta carries the moment its bytes arrived
(`time.perf_counter`), and the stream ends with one `StreamEnd` holding the finish reason and `usage`. Servers
end streams differently, and both read the same here: OpenAI and vLLM send a last `choices: []` chunk with
`usage`, then `data: [DONE]`; `transformers serve` puts `usage` on the finish chunk and closes without `[DONE]`.
A stream is finished by `[DONE]` or, failing that, by a finish reason before the connection closes; anything
else is a `RemoteStreamBroken`. Every failure is a `RemoteError` subclass that says which of the five it is.
The SSE and chunk reading is healthmon.openai_stream's, shared with healthmon's own OpenAI endpoints.

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
import time
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
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
MAX_MESSAGE_CHARS = 300  # of a server's error text kept in an exception
_NOT_EXPOSED = (404, 405, 501)  # a /health or /metrics the server does not have (llama.cpp answers 501)


class RemoteError(Exception):
    """Any failure talking to the remote server; the subclass says which kind."""


class RemoteConnectError(RemoteError):
    """No connection to the server, or it dropped before any answer: the target is down or unreachable."""


class RemoteTimeout(RemoteError):
    """The server took the request but sent no answer within the read timeout."""


class RemoteHTTPError(RemoteError):
    """The server answered with an error status; `message` is its own explanation, from its error body."""

    def __init__(self, status_code: int, message: str, url: str) -> None:
        super().__init__(f"{redact_url(url)} answered {status_code}: {message}")
        self.status_code = status_code
        self.message = message


class RemoteStreamBroken(RemoteError):
    """The stream stopped before its end (connection lost, silence past the read timeout, an error event)."""

    def __init__(self, reason: str, deltas_received: int) -> None:
        super().__init__(f"the stream broke after {deltas_received} text deltas: {reason}")
        self.reason = reason
        self.deltas_received = deltas_received


class RemoteInvalidResponse(RemoteError):
    """The answer is not what an OpenAI-compatible server sends (not SSE, not JSON, the wrong shape)."""


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer's text and when its bytes arrived (perf_counter seconds), for TTFT and TPOT.

    `reasoning` marks a reasoning model's thinking (`reasoning_content`): output tokens too, not the answer."""

    text: str
    arrived_seconds: float
    reasoning: bool = False


@dataclass(frozen=True)
class StreamEnd:
    """The stream's last event: why generation stopped and the server's token counts, when it sent them."""

    finish_reason: str | None
    usage: Usage | None
    model: str | None
    arrived_seconds: float


@dataclass(frozen=True)
class HealthCheck:
    """One health probe: whether the server answered 2xx, on which URL, how fast, and why not when it did not."""

    ok: bool
    status_code: int
    url: str
    latency_seconds: float
    detail: str


StreamEvent = TextDelta | StreamEnd


class RemoteClient:
    """One OpenAI-compatible server at `base_url` (ending in `/v1`); thread-safe, as its httpx.Client is."""

    def __init__(self, base_url: str, *, model: str | None = None, api_key: str | None = None,
                 connect_timeout_seconds: float = 5.0, read_timeout_seconds: float = 60.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        # vLLM, llama.cpp and TGI serve /health and /metrics beside /v1, at the server's root.
        self.root_url = self.base_url.removesuffix("/v1")
        self.model = model
        self.read_timeout_seconds = read_timeout_seconds
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        timeout = httpx.Timeout(read_timeout_seconds, connect=connect_timeout_seconds, pool=connect_timeout_seconds)
        self._http = httpx.Client(headers=headers, timeout=timeout, transport=transport)
        self._async_options: dict[str, Any] = {"headers": headers, "timeout": timeout}
        # The streaming POST from the event loop goes over aio_http's lean client (its docstring says why), unless
        # the environment routes the server through a proxy, which only httpx speaks.
        # A URL with credentials in it is left to httpx too, which sends them as Basic auth.
        parts = urlsplit(self.base_url)
        self.direct_on_event_loop = not proxied_by_httpx(self._http, self.base_url) and not parts.username
        self._aio_options: dict[str, Any] = {"headers": headers, "connect_timeout_seconds": connect_timeout_seconds,
                                             "read_timeout_seconds": read_timeout_seconds,
                                             "ssl_context": httpx.create_ssl_context()
                                             if parts.scheme.lower() == "https" else None}
        # One async client per event loop: its connections belong to the loop that opened them.
        self._async_http: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient | AioStreamingClient] | None = None

    def __enter__(self) -> RemoteClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections (an event loop's client is closed on that loop, if it still runs)."""
        self._http.close()
        if self._async_http is not None:
            loop, client = self._async_http
            self._async_http = None
            if not loop.is_closed():
                try:
                    asyncio.run_coroutine_threadsafe(client.aclose(), loop)
                except RuntimeError:  # the loop stopped in between: its sockets go with it
                    pass

    def _async_client(self) -> httpx.AsyncClient | AioStreamingClient:
        loop = asyncio.get_running_loop()
        if self._async_http is None or self._async_http[0] is not loop:
            client = AioStreamingClient(**self._aio_options) if self.direct_on_event_loop \
                else httpx.AsyncClient(**self._async_options)
            self._async_http = (loop, client)
        return self._async_http[1]

    def stream_chat(self, messages: Sequence[Mapping[str, Any]], *, model: str | None = None,
                    **params: Any) -> Generator[StreamEvent, None, None]:
        """POST /chat/completions streaming: TextDeltas as they arrive, then one StreamEnd.

        `params` go into the body as given (max_tokens, temperature, stop, seed, ...). Nothing is sent until the
        first `next()`; closing the generator early closes the connection, which stops the server generating.
        """
        url, body = self._chat_request(messages, model, params)
        with self._open(url, body) as response:
            yield from self._read_stream(response, url)

    def stream_completion(self, prompt: str, *, model: str | None = None,
                          **params: Any) -> Generator[StreamEvent, None, None]:
        """POST /completions streaming: a text completion, the prompt continued as it is (no chat template)."""
        url, body = self._completion_request(prompt, model, params)
        with self._open(url, body) as response:
            yield from self._read_stream(response, url)

    async def astream_chat(self, messages: Sequence[Mapping[str, Any]], *, model: str | None = None,
                           **params: Any) -> AsyncGenerator[StreamEvent, None]:
        """stream_chat on the running event loop: no thread between the server's bytes and the caller."""
        url, body = self._chat_request(messages, model, params)
        async for event in self._astream(url, body):
            yield event

    async def astream_completion(self, prompt: str, *, model: str | None = None,
                                 **params: Any) -> AsyncGenerator[StreamEvent, None]:
        """stream_completion on the running event loop."""
        url, body = self._completion_request(prompt, model, params)
        async for event in self._astream(url, body):
            yield event

    def _chat_request(self, messages: Sequence[Mapping[str, Any]], model: str | None,
                      params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return f"{self.base_url}/chat/completions", self._body(model, params, messages=list(messages))

    def _completion_request(self, prompt: str, model: str | None,
                            params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return f"{self.base_url}/completions", self._body(model, params, prompt=prompt)

    def _body(self, model: str | None, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        body: dict[str, Any] = {**params, **content, "stream": True, "stream_options": {"include_usage": True}}
        if model or self.model:
            body["model"] = model or self.model
        return body

    def list_models(self) -> tuple[str, ...]:
        """The ids GET /models lists (a server may list none: transformers serve lists its Hub cache)."""
        url = f"{self.base_url}/models"
        response = self._get(url)
        if not response.is_success:
            raise RemoteHTTPError(response.status_code, error_message(response), url)
        try:
            data = response.json()["data"]
            return tuple(str(entry["id"]) for entry in data)
        except (ValueError, KeyError, TypeError) as exc:
            raise RemoteInvalidResponse(f"{redact_url(url)} is not a model list: {one_line(response.text[:200])}") \
                from exc

    def health(self) -> HealthCheck:
        """GET <root>/health (vLLM, llama.cpp, TGI, transformers serve), else GET /models (Ollama has no /health).

        An HTTP answer, healthy or not (llama.cpp says 503 while loading), is a HealthCheck; no answer raises.
        """
        url = f"{self.root_url}/health"
        started = time.perf_counter()
        response = self._get(url)
        if response.status_code in _NOT_EXPOSED:
            url = f"{self.base_url}/models"
            started = time.perf_counter()
            response = self._get(url)
        latency_seconds = time.perf_counter() - started
        detail = "" if response.is_success else error_message(response)
        return HealthCheck(response.is_success, response.status_code, url, latency_seconds, detail)

    def fetch_metrics(self) -> str | None:
        """The Prometheus text at <root>/metrics, or None where the server exposes none."""
        url = f"{self.root_url}/metrics"
        response = self._get(url)
        if response.status_code in _NOT_EXPOSED:
            return None
        if not response.is_success:
            raise RemoteHTTPError(response.status_code, error_message(response), url)
        return response.text

    def _get(self, url: str) -> httpx.Response:
        try:
            return self._http.get(url)
        except httpx.TransportError as exc:
            raise _before_answer(exc, url, self.read_timeout_seconds) from exc

    def _open(self, url: str, body: dict[str, Any]) -> _OpenStream:
        return _OpenStream(self._http, url, body, self.read_timeout_seconds)

    def _read_stream(self, response: httpx.Response, url: str) -> Generator[StreamEvent, None, None]:
        decoder = StreamDecoder(url)
        decoder.check(response.headers.get("content-type", ""))
        chunks = response.iter_bytes()
        while True:
            try:
                data = next(chunks, None)
            except httpx.TransportError as exc:
                raise decoder.broken(exc, self.read_timeout_seconds) from exc
            arrived_seconds = time.perf_counter()
            if data is None:  # the server closed the stream
                yield decoder.close(arrived_seconds)
                return
            for event in decoder.feed(data, arrived_seconds):
                yield event
                if isinstance(event, StreamEnd):
                    return

    async def _astream(self, url: str, body: dict[str, Any]) -> AsyncGenerator[StreamEvent, None]:
        """The streaming POST on the event loop: the same events and errors as the thread's `_read_stream`."""
        client = self._async_client()
        events = self._astream_direct(client, url, body) if isinstance(client, AioStreamingClient) \
            else self._astream_httpx(client, url, body)
        async for event in events:
            yield event

    async def _astream_direct(self, client: AioStreamingClient, url: str,
                              body: dict[str, Any]) -> AsyncGenerator[StreamEvent, None]:
        # As httpx sends JSON: compact, UTF-8 (a Chinese prompt is not sent as \\u escapes, twice the bytes).
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            response = await client.post(url, payload, {"content-type": "application/json",
                                                        "accept": "text/event-stream"})
        except (ReadTimedOut, ConnectFailed, ConnectionBroken, ProtocolError) as exc:
            raise _before_answer(exc, url, self.read_timeout_seconds) from exc
        try:
            if not response.is_success:
                try:
                    text = await response.aread()
                except (ReadTimedOut, ConnectionBroken, ProtocolError) as exc:
                    raise _before_answer(exc, url, self.read_timeout_seconds) from exc
                raise RemoteHTTPError(response.status_code, error_text_of(text, response.reason), url)
            decoder = StreamDecoder(url)
            decoder.check(response.headers.get("content-type", ""))
            async for event in decoder.adecode(response.aiter_bytes(), (ReadTimedOut, ConnectionBroken,
                                                                       ProtocolError), self.read_timeout_seconds):
                if isinstance(event, StreamEnd):
                    response.finish()  # the body's end is read off the caller's path; the connection is kept
                yield event
        finally:
            await response.aclose()  # a stream left before its end closes the connection: the server stops

    async def _astream_httpx(self, http: httpx.AsyncClient, url: str,
                             body: dict[str, Any]) -> AsyncGenerator[StreamEvent, None]:
        request = http.build_request("POST", url, json=body, headers={"Accept": "text/event-stream"})
        try:
            response = await http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise _before_answer(exc, url, self.read_timeout_seconds) from exc
        try:
            if not response.is_success:
                try:
                    await response.aread()
                except httpx.TransportError as exc:
                    raise _before_answer(exc, url, self.read_timeout_seconds) from exc
                raise RemoteHTTPError(response.status_code, error_message(response), url)
            decoder = StreamDecoder(url)
            decoder.check(response.headers.get("content-type", ""))
            async for event in decoder.adecode(response.aiter_bytes(), (httpx.TransportError,),
                                               self.read_timeout_seconds):
                yield event
        finally:
            await response.aclose()  # closing the connection stops the server generating


def proxied_by_httpx(http: httpx.Client, url: str) -> bool:
    """Whether httpx sends `url` through a proxy from HTTP_PROXY / HTTPS_PROXY / ALL_PROXY (NO_PROXY considered):
    asked of httpx itself, so the event loop's requests take the same route as the rest."""
    return http._transport_for_url(httpx.URL(url)) is not http._transport  # noqa: SLF001 - httpx's own decision


class StreamDecoder:
    """One upstream stream's bytes → TextDeltas and one StreamEnd, for the thread's reader and the event loop's.

    Finished by `[DONE]` or, failing that, by a finish reason before the connection closes; anything else raises
    the RemoteError that says what went wrong."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.deltas = 0
        self._reader = SSEReader()
        self._finish_reason: str | None = None
        self._usage: Usage | None = None
        self._model: str | None = None

    def check(self, content_type: str) -> None:
        if not content_type.startswith("text/event-stream"):
            raise RemoteInvalidResponse(f"{redact_url(self.url)} answered {content_type or 'no content type'}, "
                                        "not an event stream")

    async def adecode(self, chunks: AsyncIterator[bytes], failures: tuple[type[Exception], ...],
                      read_timeout_seconds: float) -> AsyncGenerator[StreamEvent, None]:
        """The events of an async byte stream, to its StreamEnd; a read failing with one of `failures` raises
        what `broken` makes of it."""
        while True:
            try:
                data = await anext(chunks, None)
            except failures as exc:
                raise self.broken(exc, read_timeout_seconds) from exc
            arrived_seconds = time.perf_counter()
            if data is None:
                yield self.close(arrived_seconds)
                return
            for event in self.feed(data, arrived_seconds):
                yield event
                if isinstance(event, StreamEnd):
                    return

    def broken(self, exc: Exception, read_timeout_seconds: float) -> RemoteStreamBroken:
        """A read failure mid-stream (httpx's or the lean client's): silence past the timeout, or a lost line."""
        if isinstance(exc, _READ_TIMEOUTS):
            return RemoteStreamBroken(f"no data for {read_timeout_seconds:g} s", self.deltas)
        return RemoteStreamBroken(f"the connection failed: {one_line(exc) or type(exc).__name__}", self.deltas)

    def close(self, arrived_seconds: float) -> StreamEnd:
        """The server closed the stream: finished only if it said why it stopped."""
        if self._finish_reason is None:
            raise RemoteStreamBroken("the connection closed before a finish reason", self.deltas)
        return StreamEnd(self._finish_reason, self._usage, self._model, arrived_seconds)

    def feed(self, data: bytes, arrived_seconds: float) -> list[StreamEvent]:
        """The events `data` completes; a StreamEnd, if any, is the last (what follows `[DONE]` is not read)."""
        try:
            events = self._reader.feed(data)
        except ValueError as exc:  # the reader refuses an event too large to be a chunk
            raise RemoteInvalidResponse(str(exc)) from exc
        out: list[StreamEvent] = []
        for event in events:
            if isinstance(event, Done):  # DONE, the one instance
                out.append(StreamEnd(self._finish_reason, self._usage, self._model, arrived_seconds))
                return out
            if isinstance(event, MalformedEvent):
                raise RemoteInvalidResponse(f"an event that is not a JSON object: {one_line(event.data[:200])}")
            content = read_chunk(event)
            if content.error is not None:  # transformers serve and vLLM report a failure mid-stream this way
                raise RemoteStreamBroken(f"the server sent an error: {_error_text(content.error)}", self.deltas)
            if not isinstance(event.get("choices"), list):
                raise RemoteInvalidResponse(f"a stream chunk without choices: {one_line(json.dumps(event))[:200]}")
            self._model = event["model"] if isinstance(event.get("model"), str) else self._model
            self._finish_reason = content.finish_reason or self._finish_reason
            self._usage = content.usage or self._usage
            for text, reasoning in ((content.reasoning_text, True), (content.text, False)):
                if text:
                    self.deltas += 1
                    out.append(TextDelta(text, arrived_seconds, reasoning))
        return out


class _OpenStream:
    """The streaming POST as a context manager: transport failures and error statuses become RemoteErrors."""

    def __init__(self, http: httpx.Client, url: str, body: dict[str, Any], read_timeout_seconds: float) -> None:
        self._request = http.build_request("POST", url, json=body, headers={"Accept": "text/event-stream"})
        self._http, self._url, self._read_timeout_seconds = http, url, read_timeout_seconds
        self._response: httpx.Response | None = None

    def __enter__(self) -> httpx.Response:
        try:
            self._response = self._http.send(self._request, stream=True)
            if not self._response.is_success:
                self._response.read()
        except httpx.TransportError as exc:
            if self._response is not None:
                self._response.close()
            raise _before_answer(exc, self._url, self._read_timeout_seconds) from exc
        if not self._response.is_success:
            self._response.close()
            raise RemoteHTTPError(self._response.status_code, error_message(self._response), self._url)
        return self._response

    def __exit__(self, *exc_info: object) -> None:
        if self._response is not None:
            self._response.close()


def _before_answer(exc: Exception, url: str, read_timeout_seconds: float) -> RemoteError:
    """A transport failure before any answer (httpx's or the lean client's): a timeout once connected, otherwise
    no usable connection."""
    where = redact_url(url)
    if isinstance(exc, _READ_TIMEOUTS):
        return RemoteTimeout(f"{where} sent no answer within {read_timeout_seconds:g} s")
    return RemoteConnectError(f"cannot reach {where}: {one_line(exc) or type(exc).__name__}")


def error_message(response: httpx.Response) -> str:
    """The server's own words from an error answer (see error_text_of)."""
    return error_text_of(response.content, response.reason_phrase)


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
