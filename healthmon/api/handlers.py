"""The seed's endpoints and the traces: each handler takes the request and the Monitor, returns JSON."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from healthmon import views
from healthmon.api.http import (ApiError, Handler, check_token, client_address, json_body, max_points, max_requests,
                                query_int, window)
from healthmon.monitor import Monitor
from healthmon.runtime.engine import ModelNotReady, RuntimeBusy, build_record
from healthmon.ratelimit import retry_after_header
from healthmon.runtime.params import GenerationParams, InvalidRequest, parse_generate_body
from healthmon.runtime.sources import ModelSourceError, parse_model_spec
from healthmon.tracing import Trace


async def health_status(request: Request, monitor: Monitor) -> Response:
    return JSONResponse(views.status_payload(monitor))


async def health_metrics(request: Request, monitor: Monitor) -> Response:
    since, until = window(request, monitor)
    payload = await run_in_threadpool(views.metrics_payload, monitor, since, until, max_points(request),
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
    info = monitor.runtime.info()
    return JSONResponse({"model_info": views.model_info_payload(info), "model_loaded": info["status"] == "loaded"})


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
    if monitor.runtime.status.value == "loading":
        raise ApiError(409, "the model is already loading")
    monitor.runtime.load_async(spec)
    return JSONResponse({"message": "loading", "model_info": views.model_info_payload(monitor.runtime.info())},
                        status_code=202)


async def model_generate(request: Request, monitor: Monitor) -> Response:
    """Every request that reaches this handler is counted: refused ones are recorded as rejected."""
    trace = Trace()
    try:
        params = await _admissible_params(request, monitor)
    except ApiError as exc:
        monitor.record_request(build_record(trace, None, "api", False, "rejected", monitor.runtime.model_name,
                                            None, exc.message))
        raise
    trace.add("validate", trace.start_seconds, trace.now())
    try:
        stream = monitor.runtime.stream(params, trace=trace, source="api", want_text=False)
    except ModelNotReady as exc:
        raise ApiError(503, f"model not ready: {exc}", {"Retry-After": "5"}) from exc
    except RuntimeBusy as exc:
        raise ApiError(503, f"busy: {exc}; retry later", {"Retry-After": "2"}) from exc
    await asyncio.wrap_future(stream.finished)  # waits without holding a worker thread
    try:
        record = stream.result()
    except InvalidRequest as exc:
        raise ApiError(exc.status_code, str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - the model failed, not the client: 500 with the reason
        return JSONResponse({"error": f"generation failed: {exc}", "trace_id": trace.trace_id}, status_code=500)
    return JSONResponse(views.clean(generate_answer(record)))


async def _admissible_params(request: Request, monitor: Monitor) -> GenerationParams:
    check_token(request, monitor)
    client = client_address(request, monitor.settings.trust_forwarded_for)
    wait_seconds = monitor.rate_limiter.acquire(client)
    if wait_seconds > 0:
        raise ApiError(429, f"rate limit: {monitor.settings.rate_limit_per_minute:g} generate requests per minute "
                            f"per client; retry in {wait_seconds:.1f} s", {"Retry-After": retry_after_header(wait_seconds)})
    settings = monitor.settings
    try:
        return parse_generate_body(await json_body(request), max_new_tokens_cap=settings.max_new_tokens_cap,
                                   max_prompt_chars=settings.max_prompt_chars)
    except InvalidRequest as exc:
        raise ApiError(exc.status_code, str(exc)) from exc


def generate_answer(record: dict[str, Any]) -> dict[str, Any]:
    """The seed's fields (lengths now in tokens, text without the prompt) plus the measured extras."""
    return {
        "generated_text": record.get("response") or "", "inference_time": record["latency_seconds"],
        "prompt_length": record.get("prompt_tokens"), "response_length": record.get("output_tokens"),
        "tokens_per_second": record.get("tokens_per_second"), "trace_id": record["trace_id"],
        "prompt_tokens": record.get("prompt_tokens"), "output_tokens": record.get("output_tokens"),
        "ttft_seconds": record.get("ttft_seconds"), "finish_reason": record.get("finish_reason"),
        "queue_seconds": record.get("queue_seconds"), "model": record.get("model"),
        "quality": record.get("quality"),
    }


def analysis(view: Callable[..., dict[str, Any]], per_request: bool = False) -> Handler:
    """A seed analysis endpoint over the window; `per_request` views also take ?max_requests=."""
    async def handler(request: Request, monitor: Monitor) -> Response:
        since, until = window(request, monitor)
        extra = (max_requests(request),) if per_request else ()
        return JSONResponse(views.clean(await run_in_threadpool(view, monitor, since, until, *extra)))
    return handler


async def traces_list(request: Request, monitor: Monitor) -> Response:
    limit = query_int(request, "limit", 50, 1, 1000)
    synthetic = request.query_params.get("include_probes", "false").lower() in {"1", "true", "yes"}
    rows = await run_in_threadpool(monitor.store.recent_requests, limit, synthetic)
    keep = ("trace_id", "ts", "source", "synthetic", "status", "finish_reason", "error", "latency_seconds",
            "ttft_seconds", "prompt_tokens", "output_tokens", "tokens_per_second")
    return JSONResponse(views.clean({"traces": [{k: r.get(k) for k in keep} | {"timestamp": views.iso(r["ts"])}
                                                for r in rows]}))


async def trace_detail(request: Request, monitor: Monitor) -> Response:
    trace_id = request.path_params["trace_id"]
    if not trace_id.isalnum() or len(trace_id) > 64:
        raise ApiError(400, "a trace id is up to 64 letters and digits")
    record = await run_in_threadpool(monitor.store.get_request, trace_id)
    if record is None:
        raise ApiError(404, f"no trace {trace_id!r}")
    return JSONResponse(views.clean(record | {"timestamp": views.iso(record["ts"])}))
