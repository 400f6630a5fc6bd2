"""OpenAI-compatible endpoints on the monitor's port: /v1/chat/completions, /v1/completions, /v1/models.

Served by the monitored target through the generate service, so the official `openai` client gets the same
token, rate limit, queue and validation as `/api/model/generate`, and each request is one traced record
(source `openai`). Errors have OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, which the client
turns into its typed exceptions. The target serves one model: any `model` a request names is answered by it,
and the answer's `model` says which model that was.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from healthmon.api import proxy
from healthmon.api.http import ApiError, check_token, generate_request
from healthmon.api.stream_start import open_stream
from healthmon.generate_service import GenerateRefused
from healthmon.monitor import Monitor
from healthmon.openai_stream import DONE_SSE, ChunkStream, Usage, encode_sse, models_body, response_body
from healthmon.openai_wire import Kind, OpenAIError, OpenAIRequest, generation_kwargs, parse_request
from healthmon.params import GenerationParams, InvalidRequest
from healthmon.records import RequestRecord
from healthmon.target import TokenStream
from healthmon.textsafe import log_text

log = logging.getLogger("healthmon.api")
SOURCE = "openai"
_PATHS: dict[Kind, str] = {"chat": "/chat/completions", "completion": "/completions"}
_ERROR_TYPES = {401: "authentication_error", 404: "not_found_error", 405: "invalid_request_error",
                413: "invalid_request_error", 429: "rate_limit_exceeded", 503: "server_error"}
_ERROR_CODES = {401: "invalid_api_key", 429: "rate_limit_exceeded"}
_REFUSAL_CODES = {"not_ready": "model_not_ready", "busy": "queue_full", "rate_limited": "rate_limit_exceeded"}


class _InvalidOpenAIRequest(InvalidRequest):
    """An OpenAIError carried through the generate service's validation step, param and code kept."""

    def __init__(self, error: OpenAIError) -> None:
        super().__init__(error.message, error.status_code)
        self.error = error


def openai_error(status_code: int, message: str, headers: dict[str, str] | None = None, *,
                 error: OpenAIError | None = None) -> JSONResponse:
    error = error or OpenAIError(message, status_code=status_code, code=_ERROR_CODES.get(status_code),
                                 error_type=_ERROR_TYPES.get(status_code, "server_error" if status_code >= 500
                                                             else "invalid_request_error"))
    return JSONResponse(error.body(), status_code=status_code, headers=headers)


def _parser(kind: Kind, monitor: Monitor, parsed: list[OpenAIRequest]) -> Callable[[Any], GenerationParams]:
    """The generate service's validation step for an OpenAI body; keeps the parsed request for the answer."""
    limits = monitor.generate.limits

    def parse(body: Any) -> GenerationParams:
        try:
            request = parse_request(kind, body, max_new_tokens_cap=limits.max_new_tokens_cap,
                                    max_prompt_chars=limits.max_prompt_chars)
            params = GenerationParams(**generation_kwargs(request))
        except OpenAIError as exc:
            raise _InvalidOpenAIRequest(exc) from exc
        parsed.append(request)
        return params
    return parse


def _usage(record: RequestRecord) -> Usage:
    return Usage(record.prompt_tokens or 0, record.output_tokens or 0)


def completions(kind: Kind) -> Callable[[Request, Monitor], Any]:
    async def handler(request: Request, monitor: Monitor) -> Response:
        target = proxy.remote_target(monitor)
        if target is not None:  # a remote server decides what it accepts: forwarded as sent, relayed as answered
            return await proxy.forward(request, monitor, target, _PATHS[kind])
        try:
            trace, body, client = await generate_request(request, monitor, SOURCE)
        except ApiError as exc:
            return openai_error(exc.status_code, exc.message, exc.headers)
        parsed: list[OpenAIRequest] = []
        try:
            stream = monitor.generate.start(body, client=client, source=SOURCE, trace=trace,
                                            parse=_parser(kind, monitor, parsed), want_text=True,
                                            on_event_loop=True)
        except GenerateRefused as exc:
            cause = exc.__cause__
            detail = cause.error if isinstance(cause, _InvalidOpenAIRequest) else None
            if detail is None and exc.reason in _REFUSAL_CODES:
                detail = OpenAIError(exc.message, status_code=exc.status_code, code=_REFUSAL_CODES[exc.reason],
                                     error_type=_ERROR_TYPES.get(exc.status_code, "server_error"))
            return openai_error(exc.status_code, exc.message, exc.headers, error=detail)
        wire = parsed[0]
        if wire.stream:  # a refusal found only once the request runs (past the context) is a 400, as unstreamed
            opened = await open_stream(stream)
            if opened.refusal is not None:
                return _refused(opened.refusal)
            return StreamingResponse(_events(kind, wire, stream, opened.deltas, monitor),
                                     media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Trace-Id": trace.trace_id})
        return await _answer(kind, stream)
    return handler


async def _answer(kind: Kind, stream: TokenStream) -> Response:
    """The non-streaming answer, once the generation has finished (waiting holds no worker thread)."""
    await asyncio.wrap_future(stream.finished)
    try:
        record = stream.result()
    except InvalidRequest as exc:  # the worker found it invalid (e.g. longer than the model's context)
        return _refused(exc)
    except Exception as exc:  # noqa: BLE001 - the model failed, not the client
        return openai_error(500, f"generation failed: {exc}")
    return JSONResponse(response_body(kind, trace_id=record.trace_id, model=record.model, created_s=int(record.ts),
                                      text=record.response or "", finish_reason=record.finish_reason or "stop",
                                      usage=_usage(record)), headers={"X-Trace-Id": record.trace_id})


def _refused(exc: InvalidRequest) -> Response:
    return openai_error(400 if exc.status_code == 422 else exc.status_code, str(exc))


async def _events(kind: Kind, wire: OpenAIRequest, stream: TokenStream, deltas: AsyncIterator[str],
                  monitor: Monitor) -> AsyncIterator[bytes]:
    """Server-sent events: the role chunk, a chunk per text delta, the finish (and usage) chunk, [DONE]. A failure
    after the first byte can only be told in the stream: an error event, then the end."""
    chunks = ChunkStream(kind, stream.trace_id, monitor.target.model_name, int(stream.trace.start_unix_seconds),
                         include_usage=wire.include_usage)
    finished = False
    try:
        for chunk in chunks.head():
            yield encode_sse(chunk)
        async for delta in deltas:
            yield encode_sse(chunks.text(delta))
        finished = True
        record = stream.result()
        for chunk in chunks.tail(record.finish_reason or "stop", _usage(record)):
            yield encode_sse(chunk)
    except Exception as exc:  # noqa: BLE001 - recorded as failed by the target; the client hears why
        finished = True
        log.warning("streamed generation %s failed: %s", stream.trace_id, log_text(exc))
        message = f"generation failed: {exc}"
        body = OpenAIError(message, status_code=500, error_type="server_error").body()
        yield f"data: {json.dumps(body)}\n\n".encode()
    finally:
        if not finished:  # the client went away mid-answer: stop spending the model on it
            stream.cancel()
    yield DONE_SSE


async def list_models(request: Request, monitor: Monitor) -> Response:
    check_token(request, monitor)
    target = monitor.target
    created = int(target.loaded_at or monitor.started_at)
    return JSONResponse(models_body([target.model_name], created_s=created))


ENDPOINTS: list[tuple[str, tuple[str, ...], Callable[[Request, Monitor], Any]]] = [
    ("/chat/completions", ("POST",), completions("chat")),
    ("/completions", ("POST",), completions("completion")),
    ("/models", ("GET",), list_models),
    ("/{path:path}", ("GET", "POST", "PUT", "PATCH", "DELETE"), proxy.other_path),  # forwarded, or a clear 404
]
