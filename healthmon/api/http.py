"""Request plumbing shared by the handlers: errors as JSON, the token check, bounded JSON bodies, windows."""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from healthmon.monitor import Monitor
from healthmon.store.frames import window_seconds
from healthmon.views import DEFAULT_MAX_REQUESTS, MAX_REQUESTS_LIMIT

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


def check_token(request: Request, monitor: Monitor) -> None:
    """Constant-time comparison, so the answer's timing does not leak how much of a guess was right."""
    expected = monitor.settings.api_token
    if not expected:
        return
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise ApiError(401, "missing or wrong API token: send 'Authorization: Bearer <HEALTHMON_API_TOKEN>'",
                       {"WWW-Authenticate": "Bearer"})


async def json_body(request: Request) -> Any:
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
    except RecursionError as exc:
        raise ApiError(400, "the body nests JSON too deeply") from exc


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
            try:
                seconds = float(label) if label.replace(".", "", 1).isdigit() else window_seconds(label)
            except ValueError as exc:
                raise ApiError(400, f"'window' must be one of 15m, 1h, 6h, 24h, 7d or seconds, got {label!r}") from exc
        since = until - seconds
    if since >= until or until - since > MAX_WINDOW_SECONDS:
        raise ApiError(400, f"the window must be positive and at most {MAX_WINDOW_SECONDS // 86400} days")
    return since, until


def max_requests(request: Request) -> int:
    """How many requests a per-request list may hold (the newest of the window)."""
    raw = request.query_params.get("max_requests", str(DEFAULT_MAX_REQUESTS))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_REQUESTS_LIMIT:
        raise ApiError(400, f"'max_requests' must be an integer from 1 to {MAX_REQUESTS_LIMIT}, got {raw!r}")
    return int(raw)


def max_points(request: Request) -> int:
    raw = request.query_params.get("max_points", "500")
    if not raw.isdigit() or not 1 <= int(raw) <= 5000:
        raise ApiError(400, f"'max_points' must be an integer from 1 to 5000, got {raw!r}")
    return int(raw)


# ---- handlers ----------------------------------------------------------------------------------
