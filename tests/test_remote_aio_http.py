"""healthmon/remote/aio_http.py, the proxy's streaming POST, against real loopback servers that misbehave on purpose.

Each test runs an asyncio server whose handler plays one kind of server (a streaming one, one that closes idle
connections, one that stays silent, one that dies mid-answer, one that does not speak HTTP) and the client on
the same loop; the client's behaviour against `transformers serve` is in test_remote_target.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from healthmon.remote.aio_http import (
    AioStreamingClient,
    ConnectFailed,
    ConnectionBroken,
    ProtocolError,
    ReadTimedOut,
)
from healthmon.remote.client import RemoteClient, proxied_by_httpx

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return lines[0], headers, body


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class Server:
    """An asyncio server on a free loopback port; counts connections and requests."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> Server:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(reader, writer, self.connections)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        self.server = await asyncio.start_server(serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1/chat/completions"


def streaming(server_requests: list, pieces: tuple[bytes, ...] = (b"data: one\n\n", b"data: two\n\n")) -> Handler:
    """A keep-alive server answering every request with a chunked body in `pieces`."""
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while True:
            server_requests.append(await read_request(reader))
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            for piece in pieces:
                writer.write(chunk(piece))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    return handler


def test_a_streamed_answer_arrives_in_its_chunks_and_the_connection_is_kept_for_the_next() -> None:
    async def run() -> None:
        requests: list = []
        async with Server(streaming(requests)) as server:
            client = AioStreamingClient(headers={"Authorization": "Bearer sk-test"})
            for _ in range(3):
                response = await client.post(server.url, b'{"stream": true}', {"content-type": "application/json"})
                assert (response.status_code, response.is_success) == (200, True)
                assert response.headers["content-type"] == "text/event-stream"
                assert [piece async for piece in response.aiter_bytes()] == [b"data: one\n\n", b"data: two\n\n"]
                await response.aclose()
            await client.aclose()
            assert server.connections == 1 and len(requests) == 3
            line, headers, body = requests[0]
            assert line == "POST /v1/chat/completions HTTP/1.1" and body == b'{"stream": true}'
            assert headers["authorization"] == "Bearer sk-test" and headers["content-length"] == "16"
            assert headers["host"].startswith("127.0.0.1:")

    asyncio.run(run())


def test_an_error_answer_with_a_length_is_read_whole_and_keeps_the_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while True:
            await read_request(reader)
            body = b'{"error": {"message": "model not found"}}'
            writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()

    async def run() -> None:
        async with Server(handler) as server:
            client = AioStreamingClient()
            for _ in range(2):
                response = await client.post(server.url, b"{}")
                assert (response.status_code, response.reason, response.is_success) == (404, "Not Found", False)
                assert await response.aread() == b'{"error": {"message": "model not found"}}'
            assert server.connections == 1

    asyncio.run(run())


def test_a_kept_connection_the_server_drops_on_the_next_request_is_retried_once_on_a_new_one() -> None:
    """The race every keep-alive client meets: the server closes an idle connection just as it is reused."""
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, connection: int) -> None:
        if connection > 1:
            return await streaming([])(reader, writer, connection)
        await read_request(reader)  # the first connection: answer once, then drop the next request unanswered
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        await read_request(reader)

    async def run() -> None:
        async with Server(handler) as server:
            client = AioStreamingClient()
            first = await client.post(server.url, b"{}")
            assert await first.aread() == b"ok"
            second = await client.post(server.url, b"{}")
            assert [piece async for piece in second.aiter_bytes()] == [b"data: one\n\n", b"data: two\n\n"]
            assert server.connections == 2

    asyncio.run(run())


def test_a_new_connection_closed_without_an_answer_is_not_retried() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)

    async def run() -> None:
        async with Server(handler) as server:
            with pytest.raises(ConnectFailed, match="closed the connection"):
                await AioStreamingClient().post(server.url, b"{}")
            assert server.connections == 1

    asyncio.run(run())


def test_no_server_is_a_connect_failure() -> None:
    async def run() -> None:
        async with Server(streaming([])) as server:
            url = server.url
        with pytest.raises(ConnectFailed):
            await AioStreamingClient().post(url, b"{}")
        with pytest.raises(ConnectFailed, match="not an http"):
            await AioStreamingClient().post("ftp://127.0.0.1/v1", b"{}")

    asyncio.run(run())


def test_a_silent_server_times_out_before_and_during_the_answer() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, connection: int) -> None:
        await read_request(reader)
        if connection == 2:  # answers the head and one piece, then falls silent
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunk(b"data: one\n\n"))
            await writer.drain()
        await asyncio.sleep(30)

    async def run() -> None:
        async with Server(handler) as server:
            with pytest.raises(ReadTimedOut, match="no data for 0.2 s"):
                await AioStreamingClient(read_timeout_seconds=0.2).post(server.url, b"{}")
            response = await AioStreamingClient(read_timeout_seconds=0.2).post(server.url, b"{}")
            pieces = response.aiter_bytes()
            assert await anext(pieces) == b"data: one\n\n"
            with pytest.raises(ReadTimedOut):
                await anext(pieces)
            await response.aclose()

    asyncio.run(run())


def test_a_server_that_dies_mid_answer_breaks_the_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunk(b"data: one\n\n"))
        await writer.drain()

    async def run() -> None:
        async with Server(handler) as server:
            response = await AioStreamingClient().post(server.url, b"{}")
            pieces = response.aiter_bytes()
            assert await anext(pieces) == b"data: one\n\n"
            with pytest.raises(ConnectionBroken):
                await anext(pieces)
            await response.aclose()

    asyncio.run(run())


def test_an_answer_that_is_not_http_is_a_protocol_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        await writer.drain()

    async def run() -> None:
        async with Server(handler) as server:
            with pytest.raises(ProtocolError, match="not an HTTP/1.1 answer"):
                await AioStreamingClient().post(server.url, b"{}")

    asyncio.run(run())


def test_an_answer_left_early_closes_its_connection_and_the_next_request_opens_another() -> None:
    """Closing before the end is how the proxy tells a streaming server to stop generating."""
    closed = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, connection: int) -> None:
        if connection > 1:
            return await streaming([])(reader, writer, connection)
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunk(b"data: one\n\n"))
        await writer.drain()
        assert await reader.read() == b""  # the client's close reaches the server as end of stream
        closed.set()

    async def run() -> None:
        async with Server(handler) as server:
            client = AioStreamingClient()
            response = await client.post(server.url, b"{}")
            assert await anext(response.aiter_bytes()) == b"data: one\n\n"
            await response.aclose()
            await asyncio.wait_for(closed.wait(), 10)
            second = await client.post(server.url, b"{}")
            assert await second.aread() == b"data: one\n\ndata: two\n\n"
            assert server.connections == 2

    asyncio.run(run())


def test_a_body_delimited_by_the_close_is_read_to_the_end_and_the_connection_not_kept() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\ndata: one\n\n")
        await writer.drain()

    async def run() -> None:
        async with Server(handler) as server:
            client = AioStreamingClient()
            for _ in range(2):
                response = await client.post(server.url, b"{}")
                assert await response.aread() == b"data: one\n\n"
            assert server.connections == 2

    asyncio.run(run())


@pytest.mark.parametrize(("env", "url", "proxied"), [
    ({}, "http://127.0.0.1:8000/v1", False),
    ({"HTTP_PROXY": "http://proxy.test:3128"}, "http://models.internal:8000/v1", True),
    ({"HTTP_PROXY": "http://proxy.test:3128"}, "https://models.internal/v1", False),
    ({"HTTPS_PROXY": "http://proxy.test:3128"}, "https://models.internal/v1", True),
    ({"ALL_PROXY": "http://proxy.test:3128"}, "http://models.internal:8000/v1", True),
    ({"HTTP_PROXY": "http://proxy.test:3128", "NO_PROXY": "models.internal"}, "http://models.internal:8000/v1",
     False),
    ({"http_proxy": "http://proxy.test:3128", "no_proxy": "127.0.0.1,localhost"}, "http://127.0.0.1:8000/v1",
     False),
])
def test_a_server_behind_an_environment_proxy_is_left_to_httpx(monkeypatch, env, url, proxied) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with httpx.Client() as http:
        assert proxied_by_httpx(http, url) is proxied
    with RemoteClient(url) as client:
        assert client.direct_on_event_loop is not proxied


@pytest.mark.parametrize("direct", [True, False], ids=["lean client", "httpx, behind a proxy"])
def test_on_the_event_loop_the_remote_client_turns_each_failure_into_its_remote_error(direct: bool) -> None:
    """The RemoteError kinds of the thread's path (test_remote_client.py), alike from the lean client and from
    httpx, which streams where an environment proxy applies; and a good stream after them."""
    from healthmon.remote.client import (
        RemoteConnectError,
        RemoteHTTPError,
        RemoteInvalidResponse,
        RemoteStreamBroken,
        RemoteTimeout,
    )

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, connection: int) -> None:
        await read_request(reader)
        body = {1: b'{"error": {"message": "model not found"}}', 2: b"<html>hi</html>"}.get(connection, b"")
        kind = b"application/json" if connection == 1 else b"text/html"
        if connection in (1, 2):
            writer.write(b"HTTP/1.1 " + (b"404 Not Found" if connection == 1 else b"200 OK") + b"\r\ncontent-type: "
                         + kind + b"\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        elif connection in (3, 5):  # one delta, then gone before a finish reason; or a whole answer
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                         + chunk(b'data: {"model": "m", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}\n\n'))
            if connection == 5:
                writer.write(chunk(b'data: {"model": "m", "choices": [{"index": 0, "delta": {}, "finish_reason": '
                                   b'"length"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}\n\n')
                             + chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        else:
            await asyncio.sleep(30)
        await writer.drain()

    async def failure(client: RemoteClient) -> tuple[Exception, list]:
        events: list = []
        try:
            async for event in client.astream_chat([{"role": "user", "content": "Hi"}]):
                events.append(event)
        except Exception as exc:  # noqa: BLE001 - the test looks at which
            return exc, events
        raise AssertionError(f"no failure, events {events}")

    async def run() -> None:
        async with Server(handler) as server:
            client = RemoteClient(server.url.removesuffix("/chat/completions"), read_timeout_seconds=0.3)
            assert client.direct_on_event_loop
            client.direct_on_event_loop = direct
            error, _ = await failure(client)
            assert isinstance(error, RemoteHTTPError) and (error.status_code, error.message) == (404, "model not found")
            error, _ = await failure(client)
            assert isinstance(error, RemoteInvalidResponse) and "text/html" in str(error)
            error, events = await failure(client)
            assert isinstance(error, RemoteStreamBroken) and [e.text for e in events] == ["Hi"]
            assert error.deltas_received == 1
            error, _ = await failure(client)
            assert isinstance(error, RemoteTimeout) and "0.3 s" in str(error)
            events = [event async for event in client.astream_chat([{"role": "user", "content": "Hi"}])]
            assert [e.text for e in events[:-1]] == ["Hi"] and events[-1].finish_reason == "length"
            assert events[-1].usage is not None and events[-1].usage.completion_tokens == 1
            url = server.url
        gone = RemoteClient(url.removesuffix("/chat/completions"))
        gone.direct_on_event_loop = direct
        error, _ = await failure(gone)
        assert isinstance(error, RemoteConnectError) and "cannot reach" in str(error)

    asyncio.run(run())


def test_an_ipv6_server_is_reached_and_named_in_brackets() -> None:
    import socket

    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    requests: list = []

    async def run() -> None:
        server = await asyncio.start_server(lambda r, w: streaming(requests)(r, w, 1), "::1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            response = await AioStreamingClient().post(f"http://[::1]:{port}/v1/chat/completions", b"{}")
            assert await response.aread() == b"data: one\n\ndata: two\n\n"
        finally:
            server.close()
        assert requests[0][1]["host"] == f"[::1]:{port}"

    asyncio.run(run())


DONE_STREAM = (b'data: {"model": "m", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}\n\n',
               b'data: {"model": "m", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n',
               b"data: [DONE]\n\n")


def done_streaming(requests: list, *, end_apart: bool) -> Handler:
    """A keep-alive server streaming DONE_STREAM; the body's end (the empty chunk) in the same write as [DONE],
    as a server that writes them together does, or in a write of its own a moment later."""
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while True:
            requests.append(await read_request(reader))
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            writer.write(b"".join(chunk(piece) for piece in DONE_STREAM) + (b"" if end_apart else b"0\r\n\r\n"))
            await writer.drain()
            if end_apart:
                await asyncio.sleep(0.05)
                writer.write(b"0\r\n\r\n")
                await writer.drain()
    return handler


@pytest.mark.parametrize("end_apart", [False, True], ids=["end with [DONE]", "end in a later write"])
def test_streams_that_end_with_done_keep_their_connection_for_the_next_request(end_apart: bool) -> None:
    """The caller stops reading at [DONE]; the body's end is taken at once or read off its path, and the
    connection kept. Where it comes later, the next request opens another connection instead of waiting."""
    async def run() -> None:
        requests: list = []
        async with Server(done_streaming(requests, end_apart=end_apart)) as server:
            client = RemoteClient(server.url.removesuffix("/chat/completions"))
            for _ in range(3):
                events = [event async for event in client.astream_chat([{"role": "user", "content": "你好"}])]
                assert [getattr(e, "text", None) for e in events] == ["Hi", None]
            # With the end apart, the next request comes before it: a new connection, unless a stalled client
            # let the drain finish first and the connection came back.
            assert len(requests) == 3 and server.connections in ((2, 3) if end_apart else (1,))
            assert "你好".encode() in requests[0][2]  # UTF-8 as written, not \\u escapes

    asyncio.run(run())


def test_bytes_on_an_idle_connection_are_not_taken_for_the_next_answer() -> None:
    """A server that says `408 Request Timeout` on an idle keep-alive connection, then closes it."""
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, connection: int) -> None:
        if connection > 1:
            return await streaming([])(reader, writer, connection)
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                     b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        await writer.drain()

    async def run() -> None:
        async with Server(handler) as server:
            client = AioStreamingClient()
            assert await (await client.post(server.url, b"{}")).aread() == b"ok"
            second = await client.post(server.url, b"{}")
            assert second.status_code == 200 and await second.aread() == b"data: one\n\ndata: two\n\n"
            assert server.connections == 2

    asyncio.run(run())


def test_a_url_with_credentials_is_left_to_httpx_which_sends_them() -> None:
    with RemoteClient("http://user:secret@127.0.0.1:8000/v1") as client:
        assert client.direct_on_event_loop is False
    with RemoteClient("HTTPS://models.internal/v1") as client:
        assert client.direct_on_event_loop is True
