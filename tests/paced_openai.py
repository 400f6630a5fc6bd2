"""A paced OpenAI-compatible streaming server of known timing, for the load test's truth checks.

`slots` requests are served at once, the others wait in arrival order (asyncio.Semaphore is FIFO); a served
request's first content delta goes out `first_token_seconds` after it got its slot, then one every
`token_interval_seconds`, each on an absolute deadline so the stub's own delays do not add up along the answer.
So with concurrency c ≤ slots a request's TTFT is first_token_seconds, its time per output token
token_interval_seconds and its whole time first + (tokens − 1) × interval; beyond the slots it also waits for
earlier requests, whole service times at a time.

`fault` makes every chat request misbehave: an HTTP status (`"status:503"`), a stream of non-JSON (`"garbage"`),
an answer that never comes (`"silent"`), or a connection closed mid-stream (`"cut"`). Runs on an event loop
thread of its own; `with PacedServer(...) as server:` then `server.url` is the `/v1` base.

benchmarks/stub_openai.py is the benchmarks' server (no slots, first token at once); this one adds what the
truth checks need.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Self

WORDS = ("Load", " tests", " measure", " how", " a", " server", " keeps", " up", " under", " pressure")


def _chunk(created: int, **fields: object) -> bytes:
    body = {"id": "chatcmpl-paced", "object": "chat.completion.chunk", "created": created, "model": "paced",
            "choices": []} | fields
    data = f"data: {json.dumps(body, separators=(',', ':'))}\n\n".encode()
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class PacedServer:
    def __init__(self, *, slots: int = 1, first_token_seconds: float = 0.05, token_interval_seconds: float = 0.01,
                 tokens: int = 8, usage: bool = True, fault: str | None = None) -> None:
        self.slots, self.tokens, self.usage, self.fault = slots, tokens, usage, fault
        self.first_token_seconds, self.token_interval_seconds = first_token_seconds, token_interval_seconds
        self.requests = 0  # chat requests received
        self.max_serving = 0  # the most served at once: never above slots
        self._serving = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="paced-openai", daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc_info: object) -> None:
        async def shut() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _start(self) -> asyncio.Server:
        self._slots = asyncio.Semaphore(self.slots)
        return await asyncio.start_server(self._handle, "127.0.0.1", 0)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:]
                                                                         if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if not await self._answer(method, path, body, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    @staticmethod
    def _plain(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
        writer.write(f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
                     .encode() + body)

    async def _answer(self, method: str, path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False closes the connection."""
        if method == "GET" and path == "/v1/models":
            self._plain(writer, 200, b'{"object":"list","data":[{"id":"paced","object":"model"}]}')
            return True
        if method != "POST" or path != "/v1/chat/completions":
            self._plain(writer, 404, b'{"error":{"message":"not found"}}')
            return True
        self.requests += 1
        request = json.loads(body)
        if self.fault and self.fault.startswith("status:"):
            self._plain(writer, int(self.fault[7:]), b'{"error":{"message":"the stub refuses"}}')
            return True
        if self.fault == "silent":
            await asyncio.sleep(3600)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        if self.fault == "garbage":
            data = b"data: this is not json\n\n"
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n")
            return True
        tokens = min(self.tokens, int(request.get("max_tokens") or self.tokens))
        async with self._slots:
            self._serving += 1
            self.max_serving = max(self.max_serving, self._serving)
            try:
                start, created = time.perf_counter(), int(time.time())
                for index in range(tokens):
                    due = start + self.first_token_seconds + index * self.token_interval_seconds
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    delta = {"content": WORDS[index % len(WORDS)]} | ({"role": "assistant"} if index == 0 else {})
                    writer.write(_chunk(created, choices=[{"index": 0, "delta": delta, "finish_reason":
                                                           "length" if index == tokens - 1 else None}]))
                    await writer.drain()
                    if self.fault == "cut" and index == 1:
                        return False
            finally:
                self._serving -= 1
        if self.usage and (request.get("stream_options") or {}).get("include_usage"):
            writer.write(_chunk(created, usage={"prompt_tokens": 9, "completion_tokens": tokens,
                                                "total_tokens": 9 + tokens}))
        data = b"data: [DONE]\n\n"
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n")
        await writer.drain()
        return True
