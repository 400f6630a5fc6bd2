"""The REST API: the seed's endpoints (and traces, alerts) under /api, and the OpenAI-compatible ones under /v1,
as Starlette routes for st.App or the agent.

Everything under /api and /v1 answers JSON itself, including unknown paths (404) and wrong methods (405):
under `streamlit run`, anything a route does not match falls through to Streamlit's HTML page with 200.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, Router

from healthmon import payloads
from healthmon.api import alerts, handlers, load_test, openai, slo
from healthmon.api.http import ApiError, Handler, error
from healthmon.monitor import Monitor
from healthmon.textsafe import log_text, quoted

log = logging.getLogger("healthmon.api")

ENDPOINTS: list[tuple[str, tuple[str, ...], Handler]] = [
    ("/health/status", ("GET",), handlers.health_status),
    ("/health/metrics", ("GET",), handlers.health_metrics),
    ("/health/start", ("POST",), handlers.health_start),  # never GET: an <img> on any page could send it
    ("/health/stop", ("POST",), handlers.health_stop),
    ("/model/info", ("GET",), handlers.model_info),
    ("/model/load", ("POST",), handlers.model_load),
    ("/model/generate", ("POST",), handlers.model_generate),
    ("/system/restart", ("POST",), handlers.system_restart),
    ("/analysis/inference", ("GET",), handlers.analysis(payloads.inference_analysis)),
    ("/analysis/throughput", ("GET",), handlers.analysis(payloads.throughput_analysis)),
    ("/analysis/requests", ("GET",), handlers.analysis(payloads.request_analysis, per_request=True)),
    ("/analysis/generation", ("GET",), handlers.analysis(payloads.generation_analysis, per_request=True)),
    ("/alerts", ("GET",), alerts.alerts_list),
    ("/alerts/silences", ("POST",), alerts.alert_silence),
    ("/alerts/{alert_id}/acknowledge", ("POST",), alerts.alert_acknowledge),
    ("/slo", ("GET",), slo.slo),
    ("/load-test", ("GET", "POST"), load_test.load_test),  # POST starts; needs the token when set
    ("/load-test/stop", ("POST",), load_test.load_test_stop),
    ("/traces", ("GET",), handlers.traces_list),
    ("/traces/{trace_id}", ("GET",), handlers.trace_detail),
]
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


ErrorBody = Callable[..., Response]


def _endpoint(methods: tuple[str, ...], handler: Handler, get_monitor: Callable[[], Monitor],
              error_body: ErrorBody = error):
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    async def endpoint(request: Request) -> Response:
        if request.method not in allowed:
            return error_body(405, f"{request.method} is not allowed here; use {', '.join(methods)}",
                              {"Allow": ", ".join(sorted(allowed))})
        try:
            return await handler(request, get_monitor())
        except ApiError as exc:
            return error_body(exc.status_code, exc.message, exc.headers)
        except Exception:  # noqa: BLE001 - a bug of ours: log it, answer 500, keep serving
            log.exception("%s %s failed", request.method, log_text(request.url.path))  # %0A would forge a line
            return error_body(500, "internal error; see the server log")
    return endpoint


def _not_found(error_body: ErrorBody):
    async def not_found(request: Request) -> Response:
        return error_body(404, f"no API endpoint {quoted(request.url.path)}; see the README for the list")
    return not_found


def _router(endpoints: list, get_monitor: Callable[[], Monitor], error_body: ErrorBody) -> Router:
    routes: list[BaseRoute] = [Route(path, _endpoint(methods, handler, get_monitor, error_body), methods=ALL_METHODS)
                               for path, methods, handler in endpoints]
    routes.append(Route("/{path:path}", _not_found(error_body), methods=ALL_METHODS))
    return Router(routes=routes)


def build_routes(get_monitor: Callable[[], Monitor], cors_origins: tuple[str, ...] = ()) -> list[BaseRoute]:
    """Routes for st.App or the agent; `get_monitor` is called per request, so the monitor can start later."""
    mounts: list[BaseRoute] = []
    for prefix, endpoints, error_body in (("/api", ENDPOINTS, error), ("/v1", openai.ENDPOINTS, openai.openai_error)):
        app: Any = _router(endpoints, get_monitor, error_body)
        if cors_origins:
            app = CORSMiddleware(app, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                                 allow_headers=["Authorization", "Content-Type"])
        mounts.append(Mount(prefix, app=app))
    return mounts
