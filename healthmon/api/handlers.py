"""The seed's endpoints and the traces: each handler takes the request and the Monitor, returns JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from healthmon import payloads
from healthmon.api.http import (
    ApiError,
    Handler,
    check_token,
    generate_request,
    json_body,
    max_points,
    max_requests,
    query_int,
    window,
)
from healthmon.generate_service import GenerateRefused
from healthmon.monitor import Monitor
from healthmon.params import InvalidRequest
from healthmon.records import RequestRecord
from healthmon.remote.client import RemoteError, RemoteTimeout
from healthmon.runtime.sources import (
    LOCAL_NOT_LOADABLE,
    ModelSourceError,
    api_model_roots,
    loadable_from,
    parse_model_spec,
)


async def health_status(request: Request, monitor: Monitor) -> Response:
    return JSONResponse(payloads.status_payload(monitor))


async def health_metrics(request: Request, monitor: Monitor) -> Response:
    since, until = window(request, monitor)
    payload = await run_in_threadpool(payloads.metrics_payload, monitor, since, until, max_points(request),
                                      max_requests(request))
    return JSONResponse(payload)


async def health_start(request: Request, monitor: Monitor) -> Response:
    check_token(request, monitor)
    started = await run_in_threadpool(monitor.start)
    return JSONResponse({"message": "monitoring started" if started else "monitoring was already running",
                         "monitoring": monitor.running})


async def health_stop(request: Request, monitor: Monitor) -> Response:
    check_token(request, monitor)
    stopped = await run_in_threadpool(monitor.stop)
    return JSONResponse({"message": "monitoring stopped" if stopped else "monitoring was not running",
                         "monitoring": monitor.running})


async def system_restart(request: Request, monitor: Monitor) -> Response:
    check_token(request, monitor)
    await run_in_threadpool(monitor.restart)
    return JSONResponse({"message": "monitoring restarted", "monitoring": monitor.running})


async def model_info(request: Request, monitor: Monitor) -> Response:
    info = monitor.target.info()
    return JSONResponse({"model_info": payloads.model_info_payload(info), "model_loaded": info.loaded})


async def model_load(request: Request, monitor: Monitor) -> Response:
    """Load or reload the model, optionally from another source: {"model": "hf:org/name"}. Answers at once."""
    check_token(request, monitor)
    body = await json_body(request) if int(request.headers.get("content-length") or 0) else {}
    if not isinstance(body, dict) or set(body) - {"model"} or not isinstance(body.get("model", ""), str):
        raise ApiError(422, "the body must be empty or {\"model\": \"demo | modelscope:<id> | hf:<id> | <path>\"}")
    try:
        spec = parse_model_spec(body["model"]) if body.get("model") else None
    except ModelSourceError as exc:
        raise ApiError(422, str(exc)) from exc
    if spec is not None and spec.kind == "local":
        settings = monitor.settings
        roots = api_model_roots(settings.models_dir, settings.model_dirs, settings.model)
        if not await run_in_threadpool(loadable_from, spec.ref, roots):  # realpath may touch a slow disk
            raise ApiError(403, LOCAL_NOT_LOADABLE)
    if monitor.target.status.value == "loading":
        raise ApiError(409, "the model is already loading")
    try:
        monitor.target.load_async(spec)
    except ModelSourceError as exc:  # a remote target serves its own model
        raise ApiError(409, str(exc)) from exc
    return JSONResponse({"message": "loading", "model_info": payloads.model_info_payload(monitor.target.info())},
                        status_code=202)


async def model_generate(request: Request, monitor: Monitor) -> Response:
    """Every request that reaches this handler is counted: refused ones are recorded as rejected."""
    trace, body, client = await generate_request(request, monitor, "api")
    try:
        stream = monitor.generate.start(body, client=client, source="api", trace=trace, want_text=False,
                                        on_event_loop=True)
    except GenerateRefused as exc:
        raise ApiError(exc.status_code, exc.message, exc.headers) from exc
    await asyncio.wrap_future(stream.finished)  # waits without holding a worker thread
    try:
        record = stream.result()
    except InvalidRequest as exc:
        raise ApiError(exc.status_code, str(exc)) from exc
    except RemoteError as exc:  # the model server failed, not healthmon: a bad gateway (504 past the deadline)
        return JSONResponse({"error": f"the model server failed: {exc}", "trace_id": trace.trace_id},
                            status_code=504 if isinstance(exc, RemoteTimeout) else 502)
    except Exception as exc:  # noqa: BLE001 - the model failed, not the client: 500 with the reason
        return JSONResponse({"error": f"generation failed: {exc}", "trace_id": trace.trace_id}, status_code=500)
    return JSONResponse(payloads.clean(generate_answer(record)))


def generate_answer(record: RequestRecord) -> dict[str, Any]:
    """The seed's fields (lengths now in tokens, text without the prompt; `inference_time` an alias of
    `latency_seconds`, payloads.SEED_ALIASES) plus the measured extras."""
    return payloads.with_aliases({
        "generated_text": record.response or "", "latency_seconds": record.latency_seconds,
        "prompt_length": record.prompt_tokens, "response_length": record.output_tokens,
        "tokens_per_second": record.tokens_per_second, "trace_id": record.trace_id,
        "prompt_tokens": record.prompt_tokens, "output_tokens": record.output_tokens,
        "ttft_seconds": record.ttft_seconds, "finish_reason": record.finish_reason,
        "queue_seconds": record.queue_seconds, "model": record.model, "quality": record.quality,
    }, "inference_time")


def analysis(view: Callable[..., dict[str, Any]], per_request: bool = False) -> Handler:
    """A seed analysis endpoint over the window; `per_request` views also take ?max_requests=."""
    async def handler(request: Request, monitor: Monitor) -> Response:
        since, until = window(request, monitor)
        extra = (max_requests(request),) if per_request else ()
        return JSONResponse(payloads.clean(await run_in_threadpool(view, monitor, since, until, *extra)))
    return handler


async def traces_list(request: Request, monitor: Monitor) -> Response:
    limit = query_int(request, "limit", 50, 1, 1000)
    synthetic = request.query_params.get("include_probes", "false").lower() in {"1", "true", "yes"}
    rows = await run_in_threadpool(monitor.store.recent_requests, limit, synthetic)
    keep = ("trace_id", "ts", "source", "synthetic", "status", "finish_reason", "error", "latency_seconds",
            "ttft_seconds", "prompt_tokens", "output_tokens", "tokens_per_second")
    return JSONResponse(payloads.clean({"traces": [{k: r.get(k) for k in keep} | {"timestamp": payloads.iso(r["ts"])}
                                                for r in rows]}))


async def trace_detail(request: Request, monitor: Monitor) -> Response:
    """One request with its prompt and answer: with a token set, only for the token's holder."""
    check_token(request, monitor)
    trace_id = request.path_params["trace_id"]
    if not trace_id.isalnum() or len(trace_id) > 64:
        raise ApiError(400, "a trace id is up to 64 letters and digits")
    record = await run_in_threadpool(monitor.store.get_request, trace_id)
    if record is None:
        raise ApiError(404, f"no trace {trace_id!r}")
    return JSONResponse(payloads.clean(record | {"timestamp": payloads.iso(record["ts"])}))
