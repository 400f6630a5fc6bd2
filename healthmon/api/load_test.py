"""/api/load-test: start, watch and stop the monitor's one background load test (the Load test page's API).

Starting and stopping need the API token when one is set, like every state-changing call; the target is named by
key (`self`, `remote` or a URL HEALTHMON_LOAD_TEST_URLS lists), never free, so no caller can aim load elsewhere.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from healthmon.api.http import ApiError, check_token, json_body
from healthmon.loadtest.service import LoadTestBusy
from healthmon.loadtest.stats import Objectives
from healthmon.loadtest.targets import (
    LoadTarget,
    TargetNotAllowed,
    build_plan,
    configured_targets,
    objectives_from,
    own_v1_url,
    resolve,
)
from healthmon.monitor import Monitor


def _targets(request: Request, monitor: Monitor) -> tuple[LoadTarget, ...]:
    """The own /v1 where this request came in: the socket's address, not the Host header a client may forge."""
    server = request.scope.get("server")
    own = own_v1_url(request.url.scheme, server[0], server[1]) if server and server[1] else None
    return configured_targets(monitor.settings, monitor.target, own)


def _status_body(request: Request, monitor: Monitor) -> dict[str, Any]:
    return monitor.load_test.status().to_dict() | {
        "targets": [{"key": t.key, "label": t.label} for t in _targets(request, monitor)]}


def _number(body: dict[str, Any], name: str, default: Any, kind: type) -> Any:
    value = body.get(name, default)
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise ApiError(400, f"{name} must be {'an integer' if kind is int else 'a number'}")
    return value


def _objective_seconds(body: dict[str, Any], name: str, default: float | None) -> float | None:
    value = _number(body, name, default, float)
    if value is not None and value <= 0:
        return None  # 0 sets no objective for that latency, as in the settings
    return value


async def load_test_status(request: Request, monitor: Monitor) -> Response:
    return JSONResponse(_status_body(request, monitor))


async def load_test_start(request: Request, monitor: Monitor) -> Response:
    check_token(request, monitor)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "expected a JSON object")
    defaults = objectives_from(monitor.slo.objectives)
    concurrency = body.get("concurrency", [1, 2, 4, 8])
    if not isinstance(concurrency, list):
        raise ApiError(400, "concurrency must be a list of integers")
    try:
        target = resolve(_targets(request, monitor), str(body.get("target", "self")))
        objectives = Objectives(_objective_seconds(body, "slo_ttft_seconds", defaults.ttft_seconds),
                                _objective_seconds(body, "slo_time_per_output_token_seconds",
                                                   defaults.time_per_output_token_seconds),
                                _objective_seconds(body, "slo_e2e_seconds", defaults.e2e_seconds),
                                _number(body, "slo_objective", defaults.objective, float))
        plan = build_plan(target, concurrency, _number(body, "requests", 32, int),
                          _number(body, "max_tokens", 64, int), objectives)
    except TargetNotAllowed as exc:
        raise ApiError(403, str(exc)) from exc
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc
    try:
        monitor.load_test.start(plan, target.label)
    except LoadTestBusy as exc:
        raise ApiError(409, str(exc)) from exc
    return JSONResponse(_status_body(request, monitor), status_code=202)


async def load_test_stop(request: Request, monitor: Monitor) -> Response:
    check_token(request, monitor)
    stopped = monitor.load_test.stop()
    return JSONResponse(_status_body(request, monitor) | {"stopped": stopped})


async def load_test(request: Request, monitor: Monitor) -> Response:
    """GET: state, progress and the last report; POST: start (body: target, concurrency, requests, max_tokens,
    and optionally slo_ttft_seconds, slo_time_per_output_token_seconds, slo_e2e_seconds, slo_objective)."""
    if request.method == "POST":
        return await load_test_start(request, monitor)
    return await load_test_status(request, monitor)
