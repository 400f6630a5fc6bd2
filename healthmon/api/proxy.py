"""The /v1 proxy in front of a remote server: each request forwarded as the client sent it, each answer relayed as
the server sent it, measured and recorded on the way (healthmon.proxy_wire says what healthmon checks and adds).

Before forwarding, healthmon does what it does for every generate request — the token, the rate limit, the body's
size and JSON, its `model`, `stream`, `stream_options` and `max_tokens` — and refuses with OpenAI's error shape.
After that the server decides: its status, its content type and its bytes reach the client unchanged, its errors
included. A stream is relayed piece by piece as it arrives; only a failure healthmon itself sees mid-stream (the
server gone, the answer too large, the deadline passed) adds one `data: {"error": ...}` event of healthmon's own
before the end. A failure before any answer is 502 (504 past the deadline). A non-streamed request whose client
hangs up is cancelled upstream. Paths beyond chat and text completions (`/v1/embeddings`, ...) are forwarded as
POSTs and counted; anything else is a 404 that says what is forwarded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from healthmon.api.http import CLIENT_CLOSED_REQUEST, ApiError, generate_request_bytes
from healthmon.generate_service import GenerateRefused
from healthmon.monitor import Monitor
from healthmon.openai_stream import encode_sse
from healthmon.openai_wire import OpenAIError
from healthmon.params import DEFAULT_MAX_NEW_TOKENS, GenerationParams, InvalidRequest
from healthmon.proxy_wire import ProxiedRequest, parse_proxied
from healthmon.remote.client import RemoteHTTPError, RemoteTimeout
from healthmon.remote.target import RemoteStream, RemoteTarget
from healthmon.textsafe import quoted
from healthmon.tracing import Trace

SOURCE = "openai"
T = TypeVar("T")
_REFUSALS = {"not_ready": ("model_not_ready", "server_error"), "busy": ("queue_full", "server_error"),
             "rate_limited": ("rate_limit_exceeded", "rate_limit_exceeded")}
_STATUS_CODES = {401: ("invalid_api_key", "authentication_error"), 413: (None, "invalid_request_error"),
                 429: ("rate_limit_exceeded", "rate_limit_exceeded")}


class _Invalid(InvalidRequest):
    """An OpenAIError carried through the generate service's validation step, param and code kept."""

    def __init__(self, error: OpenAIError) -> None:
        super().__init__(error.message, error.status_code)
        self.error = error


def remote_target(monitor: Monitor) -> RemoteTarget | None:
    """The target when it is a remote server, whose /v1 this proxy is; None in-process."""
    return monitor.target if isinstance(monitor.target, RemoteTarget) else None


def _error(error: OpenAIError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status_code, headers=headers)


def _status_error(status_code: int, message: str) -> OpenAIError:
    code, kind = _STATUS_CODES.get(status_code, (None, "server_error" if status_code >= 500
                                                 else "invalid_request_error"))
    return OpenAIError(message, status_code=status_code, code=code, error_type=kind)


async def forward(request: Request, monitor: Monitor, target: RemoteTarget, path: str) -> Response:
    """Forward one POST under /v1 to the server and relay its answer; every request leaves one record."""
    try:
        trace, raw, body, client = await generate_request_bytes(request, monitor, SOURCE)
    except ApiError as exc:
        return _error(_status_error(exc.status_code, exc.message), exc.headers)
    proxied: list[ProxiedRequest] = []

    def parse(decoded: Any) -> GenerationParams:
        try:
            forwarded = parse_proxied(path, raw, body=decoded, max_tokens_default=DEFAULT_MAX_NEW_TOKENS,
                                      max_tokens_cap=monitor.generate.limits.max_new_tokens_cap,
                                      model=target.configured_model)
        except OpenAIError as exc:
            raise _Invalid(exc) from exc
        proxied.append(forwarded)
        return forwarded.params

    def launch(params: GenerationParams, trace: Trace) -> RemoteStream:
        return target.relay(proxied[0], params, trace=trace, source=SOURCE)

    try:
        stream = monitor.generate.start(body, client=client, source=SOURCE, trace=trace, parse=parse,
                                        on_event_loop=True, launch=launch)
    except GenerateRefused as exc:
        cause = exc.__cause__
        if isinstance(cause, _Invalid):
            return _error(cause.error, exc.headers)
        code, kind = _REFUSALS.get(exc.reason, (None, "invalid_request_error"))
        return _error(OpenAIError(exc.message, status_code=exc.status_code, code=code, error_type=kind), exc.headers)
    assert isinstance(stream, RemoteStream)
    try:
        head = await _unless_gone(request, stream, stream.ahead())
    except _ClientGone:
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    if head is None:  # no answer at all: the server is down, silent, or the request passed its deadline
        await _finished(stream)
        return _upstream_failure(stream)
    if proxied[0].stream and head.ok:
        return StreamingResponse(_relay(stream), status_code=head.status_code,  # the content type as it came
                                 headers={"Content-Type": head.content_type or "text/event-stream",
                                          "Cache-Control": "no-cache", "X-Trace-Id": trace.trace_id})
    try:
        await _unless_gone(request, stream, _finished(stream))
    except _ClientGone:
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    if stream.error is not None and not isinstance(stream.error, RemoteHTTPError):
        return _upstream_failure(stream)  # the answer broke off, was too large, or passed the deadline
    headers = {"X-Trace-Id": trace.trace_id} | ({"Content-Type": head.content_type} if head.content_type else {})
    return Response(bytes(stream.body), status_code=head.status_code, headers=headers)


def _upstream_failure(stream: RemoteStream) -> JSONResponse:
    timeout = isinstance(stream.error, RemoteTimeout)
    return _error(OpenAIError(f"the model server failed: {stream.error}", status_code=504 if timeout else 502,
                              error_type="server_error", code="upstream_timeout" if timeout else "upstream_error"),
                  {"X-Trace-Id": stream.trace_id})


async def _relay(stream: RemoteStream) -> AsyncIterator[bytes]:
    """The server's stream as it came; a failure healthmon saw mid-stream ends it with one error event."""
    async for data in stream.araw():
        yield data
    await _finished(stream)
    if stream.error is not None:
        error = OpenAIError(f"the model server's stream failed: {stream.error}", status_code=502,
                            error_type="server_error", code="upstream_error")
        yield b"\n\n" + encode_sse(error.body())


class _ClientGone(Exception):
    """The client hung up before its answer was ready; the request was cancelled upstream."""


async def _unless_gone(request: Request, stream: RemoteStream, waited: Awaitable[T]) -> T:
    """What `waited` gives, or _ClientGone, with the request cancelled upstream, when the client hangs up first
    (while the server thinks, or while it writes an answer that is not streamed)."""
    task = asyncio.ensure_future(waited)
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if task.done():
        return task.result()
    stream.cancel()  # closes the connection to the server, which stops generating
    await _finished(stream)  # `task` ends with it
    raise _ClientGone


def _finished(stream: RemoteStream) -> Awaitable[None]:
    """The request's end, awaitable on the loop; shielded, as cancelling a wrapped future would cancel the
    target's own `finished`."""
    return asyncio.shield(asyncio.wrap_future(stream.finished))


async def _disconnected(request: Request) -> None:
    """Returns once the client hangs up (its body was read already, so the next message is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def other_path(request: Request, monitor: Monitor) -> Response:
    """/v1/<anything else>: forwarded to a remote server as a POST; otherwise a 404 that says what is served."""
    path = "/" + request.path_params["path"]
    target = remote_target(monitor)
    if target is not None and request.method == "POST":
        return await forward(request, monitor, target, path)
    if target is not None:
        message = (f"no /v1 endpoint {quoted(request.url.path)} for {request.method}: healthmon forwards POST "
                   "requests under /v1 to the model server and answers GET /v1/models itself")
    else:
        message = (f"no /v1 endpoint {quoted(request.url.path)}: the in-process model serves /v1/chat/completions, "
                   "/v1/completions and /v1/models; other paths are forwarded only to a remote server")
    return _error(OpenAIError(message, status_code=404, error_type="not_found_error", code="unknown_url"))
