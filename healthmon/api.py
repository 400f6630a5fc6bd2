"""The REST API: the seed's endpoints (and traces) as Starlette routes, mounted by st.App or the agent.

Everything under /api answers JSON itself, including unknown paths (404) and wrong methods (405):
under `streamlit run`, anything a route does not match falls through to Streamlit's HTML page with 200.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any, Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router

from healthmon import views
from healthmon.monitor import Monitor
from healthmon.runtime.engine import ModelNotReady, RuntimeBusy
from healthmon.runtime.params import InvalidRequest, parse_generate_body
from healthmon.runtime.sources import ModelSourceError, parse_model_spec
from healthmon.tracing import Trace

log = logging.getLogger("healthmon.api")
MAX_BODY_BYTES = 1_048_576
DEFAULT_WINDOW_SECONDS = 3600
MAX_WINDOW_SECONDS = 31 * 86400
Handler = Callable[[Request, Monitor], Awaitable[Response]]


class ApiError(Exception):
    def __init__(self, status_code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code, self.message, self.headers = status_code, message, headers or {}


def error(status_code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status_code, headers=headers)


def _check_token(request: Request, monitor: Monitor) -> None:
    """Constant-time comparison, so the answer's timing does not leak how much of a guess was right."""
    expected = monitor.settings.api_token
    if not expected:
        return
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise ApiError(401, "missing or wrong API token: send 'Authorization: Bearer <HEALTHMON_API_TOKEN>'",
                       {"WWW-Authenticate": "Bearer"})


async def _json_body(request: Request) -> Any:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"body is {declared} bytes; the limit is {MAX_BODY_BYTES}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"body exceeds the limit of {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise ApiError(400, "the body is empty; send a JSON object such as {\"prompt\": \"Hello\"}")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def _time_param(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            from datetime import datetime

            value = datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
        except ValueError as exc:
            raise ApiError(400, f"'{name}' must be unix seconds or an ISO 8601 time, got {raw!r}") from exc
    if value != value or value in (float("inf"), float("-inf")):
        raise ApiError(400, f"'{name}' must be finite")
    return value


def window(request: Request, monitor: Monitor) -> tuple[float, float]:
    """`?window=1h` (15m, 1h, 6h, 24h, 7d or seconds) or `?since=&until=` (unix seconds or ISO 8601)."""
    until = _time_param(request, "until") or monitor.clock()
    since = _time_param(request, "since")
    if since is None:
        label = request.query_params.get("window")
        seconds: float = DEFAULT_WINDOW_SECONDS
        if label:
            from healthmon.store.frames import window_seconds

            try:
                seconds = float(label) if label.replace(".", "", 1).isdigit() else window_seconds(label)
            except ValueError as exc:
                raise ApiError(400, f"'window' must be one of 15m, 1h, 6h, 24h, 7d or seconds, got {label!r}") from exc
        since = until - seconds
    if since >= until or until - since > MAX_WINDOW_SECONDS:
        raise ApiError(400, f"the window must be positive and at most {MAX_WINDOW_SECONDS // 86400} days")
    return since, until


def _max_points(request: Request) -> int:
    raw = request.query_params.get("max_points", "500")
    if not raw.isdigit() or not 1 <= int(raw) <= 5000:
        raise ApiError(400, f"'max_points' must be an integer from 1 to 5000, got {raw!r}")
    return int(raw)


# ---- handlers ----------------------------------------------------------------------------------
async def health_status(request: Request, monitor: Monitor) -> Response:
    return JSONResponse(views.status_payload(monitor))


async def health_metrics(request: Request, monitor: Monitor) -> Response:
    since, until = window(request, monitor)
    payload = await run_in_threadpool(views.metrics_payload, monitor, since, until, _max_points(request))
    return JSONResponse(payload)


async def health_start(request: Request, monitor: Monitor) -> Response:
    _check_token(request, monitor)
    started = await run_in_threadpool(monitor.start)
    return JSONResponse({"message": "monitoring started" if started else "monitoring was already running",
                         "monitoring": monitor.running})


async def health_stop(request: Request, monitor: Monitor) -> Response:
    _check_token(request, monitor)
    stopped = await run_in_threadpool(monitor.stop)
    return JSONResponse({"message": "monitoring stopped" if stopped else "monitoring was not running",
                         "monitoring": monitor.running})


async def system_restart(request: Request, monitor: Monitor) -> Response:
    _check_token(request, monitor)
    await run_in_threadpool(monitor.restart)
    return JSONResponse({"message": "monitoring restarted", "monitoring": monitor.running})


async def model_info(request: Request, monitor: Monitor) -> Response:
    info = monitor.runtime.info()
    return JSONResponse({"model_info": views.model_info_payload(info), "model_loaded": info["status"] == "loaded"})


async def model_load(request: Request, monitor: Monitor) -> Response:
    """Load or reload the model, optionally from another source: {"model": "hf:org/name"}. Answers at once."""
    _check_token(request, monitor)
    body = await _json_body(request) if int(request.headers.get("content-length") or 0) else {}
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
    trace = Trace()
    _check_token(request, monitor)
    settings = monitor.settings
    try:
        params = parse_generate_body(await _json_body(request), max_new_tokens_cap=settings.max_new_tokens_cap,
                                     max_prompt_chars=settings.max_prompt_chars)
    except InvalidRequest as exc:
        raise ApiError(exc.status_code, str(exc)) from exc
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


def generate_answer(record: dict[str, Any]) -> dict[str, Any]:
    """The seed's fields (lengths now in tokens, text without the prompt) plus the measured extras."""
    return {
        "generated_text": record.get("response") or "", "inference_time": record["latency_seconds"],
        "prompt_length": record.get("prompt_tokens"), "response_length": record.get("output_tokens"),
        "tokens_per_second": record.get("tokens_per_second"), "trace_id": record["trace_id"],
        "prompt_tokens": record.get("prompt_tokens"), "output_tokens": record.get("output_tokens"),
        "ttft_seconds": record.get("ttft_seconds"), "finish_reason": record.get("finish_reason"),
        "queue_seconds": record.get("queue_seconds"), "model": record.get("model"),
    }


def _analysis(view: Callable[[Monitor, float, float], dict[str, Any]]) -> Handler:
    async def handler(request: Request, monitor: Monitor) -> Response:
        since, until = window(request, monitor)
        return JSONResponse(views.clean(await run_in_threadpool(view, monitor, since, until)))
    return handler


async def traces_list(request: Request, monitor: Monitor) -> Response:
    raw = request.query_params.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise ApiError(400, f"'limit' must be an integer from 1 to 1000, got {raw!r}")
    synthetic = request.query_params.get("include_probes", "false").lower() in {"1", "true", "yes"}
    rows = await run_in_threadpool(monitor.store.recent_requests, int(raw), synthetic)
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
        raise ApiError(404, f"no trace {trace_id!r} (recent requests are written within about a second)")
    return JSONResponse(views.clean(record | {"timestamp": views.iso(record["ts"])}))


def _alert_row(alert: dict[str, Any]) -> dict[str, Any]:
    times = ("started_at", "fired_at", "resolved_at", "silenced_until")
    return alert | {key: views.iso(alert.get(key)) for key in times} | {"acknowledged": bool(alert.get("acknowledged"))}


async def alerts_list(request: Request, monitor: Monitor) -> Response:
    """Active alerts (pending and firing) and those in the window (default the last 24 h), newest first."""
    if "window" not in request.query_params and "since" not in request.query_params:
        since = monitor.clock() - 86400
    else:
        since, _ = window(request, monitor)
    alerts = await run_in_threadpool(monitor.alerts_view, since)
    return JSONResponse(views.clean({"active": len(monitor.active_alerts()), "alerts": [_alert_row(a) for a in alerts]}))


async def alert_acknowledge(request: Request, monitor: Monitor) -> Response:
    _check_token(request, monitor)
    alert_id = request.path_params["alert_id"]
    if not monitor.acknowledge_alert(alert_id):
        raise ApiError(404, f"no open alert {alert_id!r}")
    return JSONResponse({"message": "acknowledged", "id": alert_id})


async def alert_silence(request: Request, monitor: Monitor) -> Response:
    """{"matcher": "<rule name or metric>", "duration_seconds": 3600}"""
    _check_token(request, monitor)
    body = await _json_body(request)
    matcher = body.get("matcher") if isinstance(body, dict) else None
    duration = body.get("duration_seconds") if isinstance(body, dict) else None
    if not isinstance(matcher, str) or not matcher or isinstance(duration, bool) \
            or not isinstance(duration, (int, float)) or not 0 < duration <= 30 * 86400:
        raise ApiError(422, "send {\"matcher\": \"<rule name or metric>\", \"duration_seconds\": 1..2592000}")
    try:
        until = monitor.silence_alerts(matcher, float(duration))
    except ValueError as exc:
        raise ApiError(422, str(exc)) from exc
    return JSONResponse({"message": "silenced", "matcher": matcher, "until": views.iso(until)})


ENDPOINTS: list[tuple[str, tuple[str, ...], Handler]] = [
    ("/health/status", ("GET",), health_status),
    ("/health/metrics", ("GET",), health_metrics),
    ("/health/start", ("GET", "POST"), health_start),
    ("/health/stop", ("GET", "POST"), health_stop),
    ("/model/info", ("GET",), model_info),
    ("/model/load", ("POST",), model_load),
    ("/model/generate", ("POST",), model_generate),
    ("/system/restart", ("POST",), system_restart),
    ("/analysis/inference", ("GET",), _analysis(views.inference_analysis)),
    ("/analysis/throughput", ("GET",), _analysis(views.throughput_analysis)),
    ("/analysis/requests", ("GET",), _analysis(views.request_analysis)),
    ("/analysis/generation", ("GET",), _analysis(views.generation_analysis)),
    ("/alerts", ("GET",), alerts_list),
    ("/alerts/silences", ("POST",), alert_silence),
    ("/alerts/{alert_id}/acknowledge", ("POST",), alert_acknowledge),
    ("/traces", ("GET",), traces_list),
    ("/traces/{trace_id}", ("GET",), trace_detail),
]
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _endpoint(methods: tuple[str, ...], handler: Handler, get_monitor: Callable[[], Monitor]):
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    async def endpoint(request: Request) -> Response:
        if request.method not in allowed:
            return error(405, f"{request.method} is not allowed here; use {', '.join(methods)}",
                         {"Allow": ", ".join(sorted(allowed))})
        try:
            return await handler(request, get_monitor())
        except ApiError as exc:
            return error(exc.status_code, exc.message, exc.headers)
        except Exception:  # noqa: BLE001 - a bug of ours: log it, answer 500, keep serving
            log.exception("%s %s failed", request.method, request.url.path)
            return error(500, "internal error; see the server log")
    return endpoint


async def _not_found(request: Request) -> Response:
    return error(404, f"no API endpoint {request.url.path}; see the README for the list")


def build_routes(get_monitor: Callable[[], Monitor], cors_origins: tuple[str, ...] = ()) -> list[BaseRoute]:
    """Routes for st.App or the agent; `get_monitor` is called per request, so the monitor can start later."""
    routes: list[BaseRoute] = [Route(path, _endpoint(methods, handler, get_monitor), methods=ALL_METHODS)
                               for path, methods, handler in ENDPOINTS]
    routes.append(Route("/{path:path}", _not_found, methods=ALL_METHODS))
    api: Any = Router(routes=routes)
    if cors_origins:
        api = CORSMiddleware(api, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                             allow_headers=["Authorization", "Content-Type"])
    return [Mount("/api", app=api)]
