"""A lean HTTP/1.1 client for the one request on healthmon's hot path: a streaming POST from the event loop.

Why not httpx.AsyncClient, which the rest of `remote/` uses: on the /v1 proxy path it cost 1-2 ms of CPU per
request before the server's first byte (request and header models, anyio, httpcore's pool), most of what the
proxy added to TTFT (BENCHMARKS.md, proxy runs 5 and 6). This client writes the request in one write, parses the
answer with h11 (uvicorn's parser, so a tested one) and keeps connections alive, one pool per client, on the loop
that opened them: a stream the caller is done with at `[DONE]` has the end of its body read on a task of its own
(`AioResponse.finish`), so the next request reuses the connection without the caller waiting. It does no
redirects, cookies, auth from the URL, proxies or HTTP/2: `RemoteClient` uses it only where none apply (a direct
connection to the model server) and httpx everywhere else.

Errors: `ConnectFailed` before any answer byte (refused, reset, closed, TLS), `ReadTimedOut` when the server
is silent for the read timeout, `ConnectionBroken` for an answer that breaks off (the connection lost, the body
cut short), `ProtocolError` for an answer that is not HTTP/1.1.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import h11

READ_BYTES = 65536
MAX_HEAD_BYTES = 100 * 1024  # an answer's status line and headers, as httpcore allows (h11's default is 16 KiB)
FINISH_SECONDS = 5.0  # how long a stream that said [DONE] gets to send the end of its body before it is dropped
URL_SAFE = "/%:@!$&'()*+,;=-._~?"  # kept as written in a request target; the rest is %-encoded, as httpx does
MAX_IDLE_CONNECTIONS = 16  # per (scheme, host, port); beyond it a finished connection is closed, not kept


class AioHTTPError(Exception):
    """Any failure of a request; the subclass says which."""


class ConnectFailed(AioHTTPError):
    """No answer at all: the connection could not be made, or it was lost before the status line."""


class ReadTimedOut(AioHTTPError):
    """The server sent nothing for the read timeout."""


class ConnectionBroken(AioHTTPError):
    """The connection was lost after the answer began."""


class ProtocolError(AioHTTPError):
    """What the server sent is not a valid HTTP/1.1 answer."""


class _Unanswered(AioHTTPError):
    """Not a byte of an answer came back: on a kept-alive connection, the case worth one more try."""


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    http: h11.Connection = field(
        default_factory=lambda: h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES))
    reused: bool = False
    answered: bool = False  # some byte of the current answer has arrived

    def usable(self) -> bool:
        """An idle connection the server has neither closed nor written to since: bytes on an idle connection (a
        `408 Request Timeout` before the close, say) would be read as the next request's answer."""
        unread = getattr(self.reader, "_buffer", b"")  # asyncio's StreamReader keeps no public count of it
        buffered, closed = self.http.trailing_data  # what h11 holds past the last answer, and whether EOF came
        return not self.writer.is_closing() and not self.reader.at_eof() and not unread and not buffered \
            and not closed

    def close(self) -> None:
        self.writer.close()


@dataclass
class AioResponse:
    """The status and headers of an answer; its body is read with `aiter_bytes()` or `aread()`, then `aclose()`."""

    status_code: int
    reason: str
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    _client: AioStreamingClient = field(repr=False)
    _key: tuple[str, str, int] = field(repr=False)
    _connection: _Connection | None = field(repr=False)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The body's bytes as they arrive; raises ReadTimedOut, ConnectionBroken or ProtocolError."""
        connection = self._connection
        if connection is None:
            return
        while True:
            event = await self._client.next_event(connection, before_answer=False)
            if isinstance(event, h11.Data):
                if event.data:
                    yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._client.release(self._key, connection)
                self._connection = None
                return

    async def aread(self) -> bytes:
        return b"".join([chunk async for chunk in self.aiter_bytes()])

    def finish(self) -> None:
        """The caller has all it wants (a stream's `[DONE]`) and the body's end is still to come: keep the
        connection for the next request without making the caller wait. Mostly the end came in the same read and
        is taken at once; else it is read on a task of its own."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            while (event := connection.http.next_event()) is not h11.NEED_DATA:
                if isinstance(event, h11.EndOfMessage):
                    self._client.release(self._key, connection)
                    return
                if not isinstance(event, h11.Data):
                    connection.close()
                    return
        except h11.RemoteProtocolError:
            connection.close()
            return
        self._client.drain_later(self._key, connection)

    async def aclose(self) -> None:
        """Done with the answer: a connection whose body was not read to its end is closed, which tells a
        streaming server to stop generating."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class AioStreamingClient:
    """POST a body and read the answer as it arrives. One instance belongs to one event loop."""

    def __init__(self, *, headers: dict[str, str] | None = None, connect_timeout_seconds: float = 5.0,
                 read_timeout_seconds: float = 60.0, ssl_context: ssl.SSLContext | None = None) -> None:
        self._headers = [(name.lower(), value) for name, value in (headers or {}).items()]
        self.connect_timeout_seconds = connect_timeout_seconds
        self.read_timeout_seconds = read_timeout_seconds
        self._ssl_context = ssl_context
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._draining: set[asyncio.Task[None]] = set()
        self._closed = False

    async def post(self, url: str, body: bytes, headers: dict[str, str] | None = None) -> AioResponse:
        """Send the request and wait for the answer's status line and headers.

        Once, a kept-alive connection that fails before any byte of an answer (the server closed it as it was
        reused, the usual race of keep-alive) is given up for a new one and the request sent again. The server may
        have read the first copy; a completion request changes nothing on it, so the cost is at most a wasted
        generation, where giving up would fail the user's request and mark the target down."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConnectFailed(f"not an http(s) URL: {url}")
        key = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        target = quote(parts.path or "/", safe=URL_SAFE) + (f"?{quote(parts.query, safe=URL_SAFE)}"
                                                          if parts.query else "")
        host = parts.netloc.rpartition("@")[2]  # as written, so an IPv6 host keeps its brackets
        request_headers = [("host", host), *self._headers, *((k.lower(), v) for k, v in (headers or {}).items()),
                           ("content-length", str(len(body)))]
        for fresh in (False, True):
            connection = await self._connection(key, fresh=fresh)
            try:
                return await self._exchange(key, connection, target, request_headers, body)
            except _Unanswered as exc:
                connection.close()
                if fresh or not connection.reused:
                    raise ConnectFailed(str(exc)) from exc
            except BaseException:
                connection.close()
                raise
        raise AssertionError("unreachable: the fresh attempt returns or raises")

    async def _exchange(self, key: tuple[str, str, int], connection: _Connection, target: str,
                        headers: list[tuple[str, str]], body: bytes) -> AioResponse:
        http = connection.http
        try:
            data = http.send(h11.Request(method="POST", target=target, headers=headers))
            data += http.send(h11.Data(data=body)) + http.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:  # a header value with a newline, say: the request cannot be sent
            raise ConnectFailed(f"the request cannot be sent: {exc}") from exc
        connection.writer.write(data)
        try:
            async with asyncio.timeout(self.read_timeout_seconds):  # a server that reads nothing (httpx: write)
                await connection.writer.drain()
        except TimeoutError as exc:
            raise ReadTimedOut(f"the server read nothing for {self.read_timeout_seconds:g} s") from exc
        except OSError as exc:
            raise _Unanswered(f"the connection closed while sending: {exc}") from exc
        while True:
            event = await self.next_event(connection, before_answer=True)
            if isinstance(event, h11.InformationalResponse):  # 100 Continue and the like: not the answer
                continue
            if isinstance(event, h11.Response):
                headers_out = {name.decode("latin-1"): value.decode("latin-1") for name, value in event.headers}
                return AioResponse(event.status_code, event.reason.decode("latin-1"), headers_out, self, key,
                                   connection)
            raise ProtocolError(f"unexpected {type(event).__name__} before the answer")

    async def next_event(self, connection: _Connection, *, before_answer: bool) -> h11.Event:
        """The next h11 event, reading from the socket as needed."""
        http = connection.http
        while True:
            try:
                event = http.next_event()
            except h11.RemoteProtocolError as exc:  # mid-answer, mostly a server gone before the body's end
                if before_answer:
                    raise ProtocolError(f"not an HTTP/1.1 answer: {exc}") from exc
                raise ConnectionBroken(f"the answer broke off: {exc}") from exc
            if event is not h11.NEED_DATA:
                if isinstance(event, h11.ConnectionClosed):
                    raise (ConnectFailed if before_answer else ConnectionBroken)("the server closed the connection")
                return event  # type: ignore[return-value]
            silent = before_answer and not connection.answered
            try:
                async with asyncio.timeout(self.read_timeout_seconds):
                    data = await connection.reader.read(READ_BYTES)
            except TimeoutError as exc:
                raise ReadTimedOut(f"no data for {self.read_timeout_seconds:g} s") from exc
            except OSError as exc:
                reason = f"the connection failed: {exc or type(exc).__name__}"
                if silent:
                    raise _Unanswered(reason) from exc
                raise (ConnectFailed if before_answer else ConnectionBroken)(reason) from exc
            if not data and silent:
                raise _Unanswered("the server closed the connection without answering")
            connection.answered = connection.answered or bool(data)
            http.receive_data(data)  # b"" is the end of the stream, which h11 judges

    async def _connection(self, key: tuple[str, str, int], *, fresh: bool = False) -> _Connection:
        idle = [] if fresh else self._idle.get(key, [])
        if idle:
            await asyncio.sleep(0)  # let the loop take in what arrived on idle sockets (a close, a stray answer)
        while idle:
            connection = idle.pop()
            if connection.usable():
                connection.reused = True
                return connection
            connection.close()
        scheme, host, port = key
        context = (self._ssl_context or ssl.create_default_context()) if scheme == "https" else None
        try:
            async with asyncio.timeout(self.connect_timeout_seconds):
                reader, writer = await asyncio.open_connection(host, port, ssl=context, limit=READ_BYTES)
        except TimeoutError as exc:
            raise ConnectFailed(f"no connection within {self.connect_timeout_seconds:g} s") from exc
        except (OSError, ssl.SSLError) as exc:
            raise ConnectFailed(str(exc) or type(exc).__name__) from exc
        return _Connection(reader, writer)

    def release(self, key: tuple[str, str, int], connection: _Connection) -> None:
        """An answer read to its end: keep the connection for the next request when both sides allow it."""
        http = connection.http
        if not self._closed and http.our_state is h11.DONE and http.their_state is h11.DONE:
            http.start_next_cycle()
            idle = self._idle.setdefault(key, [])
            if len(idle) < MAX_IDLE_CONNECTIONS:
                connection.reused, connection.answered = False, False
                idle.append(connection)
                return
        connection.close()

    def drain_later(self, key: tuple[str, str, int], connection: _Connection) -> None:
        """Read the rest of an answer nobody waits for, then release the connection; any failure closes it."""
        async def drain() -> None:
            try:
                async with asyncio.timeout(FINISH_SECONDS):
                    while not isinstance(await self.next_event(connection, before_answer=False), h11.EndOfMessage):
                        pass
            except (AioHTTPError, TimeoutError):
                connection.close()
                return
            except BaseException:
                connection.close()
                raise
            self.release(key, connection)

        task = asyncio.get_running_loop().create_task(drain())
        self._draining.add(task)  # a task nobody holds may be collected before it runs
        task.add_done_callback(self._draining.discard)

    async def aclose(self) -> None:
        """Close every idle connection; one released later (a stream still running) is closed then."""
        self._closed = True
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()
