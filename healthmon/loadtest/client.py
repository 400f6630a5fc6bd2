"""One streaming chat request over HTTP, every content delta timestamped on one monotonic clock.

The request goes over `remote.aio_http.AioStreamingClient` (one write, h11 parsing, keep-alive), not
httpx.AsyncClient, whose 1-2 ms of CPU per request before the first byte would be counted as the server's TTFT
(benchmarks/bench_loadtest.py measures both). Every failure becomes a `RequestTiming` with `error` set: the runner
counts it and goes on, nothing raises past `stream_chat` but cancellation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass

from healthmon.openai_stream import Done, MalformedEvent, SSEReader, read_chunk
from healthmon.remote.aio_http import AioHTTPError, AioStreamingClient, ConnectFailed, ReadTimedOut

ERROR_BODY_BYTES = 2048  # of a refusal's body, enough for its message


@dataclass(frozen=True)
class RequestTiming:
    """One request as the client saw it; every time in seconds on the runner's monotonic clock."""

    sent_s: float
    finished_s: float
    content_times_s: tuple[float, ...] = ()  # arrival of each chunk carrying non-empty content (or reasoning)
    usage_output_tokens: int | None = None  # `usage.completion_tokens`, when the server sent a usage chunk
    error: str | None = None  # None: the request succeeded
    error_kind: str | None = None  # connect | timeout | http_4xx | http_5xx | protocol | stream

    @property
    def ok(self) -> bool:
        return self.error is None


def chat_body(model: str | None, messages: list[dict[str, str]], max_tokens: int) -> bytes:
    """The request: streamed, with the usage chunk asked for, so output tokens are the server's own count."""
    body: dict[str, object] = {"messages": messages, "max_tokens": max_tokens, "stream": True,
                               "stream_options": {"include_usage": True}}
    if model:
        body["model"] = model
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _refusal(status: int, body: bytes) -> str:
    try:
        message = read_chunk(json.loads(body)).error
    except ValueError:
        message = None
    text = message or body[:200].decode("utf-8", errors="replace").strip() or "no body"
    return f"HTTP {status}: {' '.join(text.split())[:200]}"


async def stream_chat(http: AioStreamingClient, url: str, body: bytes, clock: Callable[[], float], *,
                      headers: dict[str, str] | None = None, request_timeout_seconds: float = 300.0
                      ) -> RequestTiming:
    """POST `body` to `url` (…/chat/completions) and read the stream to `[DONE]` or its end.

    A chunk's time is when the read that completed it returned: chunks arriving in one read arrived together."""
    sent = clock()
    times: list[float] = []
    usage_tokens: int | None = None
    response = None

    def failed(kind: str, message: str) -> RequestTiming:
        return RequestTiming(sent, clock(), tuple(times), usage_tokens, message, kind)

    try:
        async with asyncio.timeout(request_timeout_seconds):
            response = await http.post(url, body, {"content-type": "application/json",
                                                   "accept": "text/event-stream", **(headers or {})})
            if not response.is_success:
                text = b""
                async for part in response.aiter_bytes():
                    text += part
                    if len(text) >= ERROR_BODY_BYTES:
                        break
                kind = "http_4xx" if 400 <= response.status_code < 500 else "http_5xx"
                return failed(kind, _refusal(response.status_code, text))
            reader = SSEReader()
            done = False
            async for part in response.aiter_bytes():
                now = clock()
                for event in reader.feed(part):
                    if isinstance(event, Done):
                        done = True
                        break
                    if isinstance(event, MalformedEvent):
                        return failed("protocol", f"not an OpenAI stream: {event.data[:100]!r}")
                    chunk = read_chunk(event)
                    if chunk.error is not None:
                        return failed("stream", f"error in the stream: {chunk.error[:200]}")
                    if chunk.text or chunk.reasoning_text:
                        times.append(now)
                    if chunk.usage is not None:
                        usage_tokens = chunk.usage.completion_tokens
                if done:
                    response.finish()  # the rest of the body is read off the caller's path; the connection is kept
                    break
            if not times:
                return failed("stream", "the answer held no content (not a chat stream, or an empty answer)")
            return RequestTiming(sent, clock(), tuple(times), usage_tokens)
    except TimeoutError:
        return failed("timeout", f"no complete answer within {request_timeout_seconds:g} s")
    except ReadTimedOut as exc:
        return failed("timeout", str(exc))
    except ConnectFailed as exc:
        return failed("connect", f"cannot connect: {exc}")
    except AioHTTPError as exc:
        return failed("protocol", str(exc))
    except ValueError as exc:  # SSEReader: an event too large to be a chunk
        return failed("protocol", str(exc))
    finally:
        if response is not None:  # a stream given up (timeout, error, stop) closes its connection; else a no-op
            await response.aclose()
