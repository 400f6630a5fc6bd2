"""Alert endpoints: the list, acknowledge and silences."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from healthmon import payloads
from healthmon.api.http import ApiError, check_token, json_body, window
from healthmon.monitor import Monitor
from healthmon.textsafe import quoted

SILENCE_FIELDS = frozenset({"matcher", "duration_seconds"})
MAX_MATCHER_CHARS = 200  # rule names and metric keys are short; a megabyte matcher is a mistake or an attack
MIN_SILENCE_SECONDS = 1  # below a second a silence ends before the next evaluation: surely a unit mistake
MAX_SILENCE_SECONDS = 30 * 86400


def _alert_row(alert: dict[str, Any]) -> dict[str, Any]:
    times = ("started_at", "fired_at", "resolved_at", "silenced_until")
    return (alert | {key: payloads.iso(alert.get(key)) for key in times}
            | {"acknowledged": bool(alert.get("acknowledged"))})


async def alerts_list(request: Request, monitor: Monitor) -> Response:
    """Active alerts (pending and firing) and those in the window (default the last 24 h), newest first."""
    if "window" not in request.query_params and "since" not in request.query_params:
        since = monitor.clock() - 86400
    else:
        since, _ = window(request, monitor)
    alerts = await run_in_threadpool(monitor.alerts.view, since)
    return JSONResponse(payloads.clean({"active": len(monitor.alerts.active()),
                                     "alerts": [_alert_row(a) for a in alerts]}))


async def alert_acknowledge(request: Request, monitor: Monitor) -> Response:
    check_token(request, monitor)
    alert_id = request.path_params["alert_id"]
    if not monitor.alerts.acknowledge(alert_id):
        raise ApiError(404, f"no open alert {quoted(alert_id)}")
    return JSONResponse({"message": "acknowledged", "id": alert_id})


async def alert_silence(request: Request, monitor: Monitor) -> Response:
    """{"matcher": "<rule name or metric>", "duration_seconds": 3600}"""
    check_token(request, monitor)
    body = await json_body(request)
    matcher = body.get("matcher") if isinstance(body, dict) else None
    duration = body.get("duration_seconds") if isinstance(body, dict) else None
    if not isinstance(body, dict) or set(body) - SILENCE_FIELDS or not isinstance(matcher, str) \
            or not 0 < len(matcher) <= MAX_MATCHER_CHARS or isinstance(duration, bool) \
            or not isinstance(duration, (int, float)) or not MIN_SILENCE_SECONDS <= duration <= MAX_SILENCE_SECONDS:
        raise ApiError(422, f"send only {{\"matcher\": \"<rule name or metric, up to {MAX_MATCHER_CHARS} "
                            f"characters>\", \"duration_seconds\": {MIN_SILENCE_SECONDS}..{MAX_SILENCE_SECONDS}}}")
    try:
        until = monitor.alerts.silence(matcher, float(duration))
    except ValueError as exc:
        raise ApiError(422, str(exc)) from exc
    return JSONResponse({"message": "silenced", "matcher": matcher, "until": payloads.iso(until)})
