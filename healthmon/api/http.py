"""Request plumbing shared by the handlers: errors as JSON, the token check, bounded JSON bodies, windows."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from healthmon.monitor import Monitor
from healthmon.payloads import DEFAULT_MAX_REQUESTS, MAX_REQUESTS_LIMIT
from healthmon.store.frames import window_seconds
from healthmon.textsafe import quoted
from healthmon.tracing import Trace

MAX_BODY_BYTES = 1_048_576
CLIENT_CLOSED_REQUEST = 499  # nginx's code: no one reads the answer, but the record and the log say what happened
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


async def generate_request(request: Request, monitor: Monitor, source: str) -> tuple[Trace, Any, str]:
    """A generate request's trace, body and rate-limit key, its token checked first; a refusal here (token, body) is
    recorded before the ApiError goes on, so every generate request leaves one record."""
    trace, _, body, client = await generate_request_bytes(request, monitor, source)
    return trace, body, client


async def generate_request_bytes(request: Request, monitor: Monitor, source: str) -> tuple[Trace, bytes, Any, str]:
    """generate_request with the body's bytes as they came too (the /v1 proxy forwards them)."""
    trace = Trace()
    try:
        check_token(request, monitor)
        raw = await body_bytes(request)
        body = decode_json(raw)
    except ApiError as exc:
        monitor.generate.refuse(trace, source, exc.message)
        raise
    return trace, raw, body, client_address(request, monitor.settings.trust_forwarded_for)


def client_address(request: Request, trust_forwarded_for: bool) -> str:
    """The rate limiter's key. uvicorn replaces a loopback peer's address with the X-Forwarded-For value it
    sends, so without a proxy any local process could name its own bucket: then the peer was loopback."""
    host = request.client.host if request.client else "unknown"
    if trust_forwarded_for:
        return host
    forwarded = {part.strip() for value in request.headers.getlist("x-forwarded-for") for part in value.split(",")}
    return "loopback" if host in forwarded else host


async def json_body(request: Request) -> Any:
    return decode_json(await body_bytes(request))


async def body_bytes(request: Request) -> bytes:
    """The body, at most MAX_BODY_BYTES (413 beyond), as it came."""
    declared = request.headers.get("content-length")
    if declared and _ASCII_INTEGER.fullmatch(declared) and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"body is {declared} bytes; the limit is {MAX_BODY_BYTES}")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise ApiError(413, f"body exceeds the limit of {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
    except ClientDisconnect as exc:  # a refusal like any other (counted by generate), not a traceback in the log
        raise ApiError(CLIENT_CLOSED_REQUEST, "the client hung up before its body arrived") from exc
    return b"".join(chunks)


def decode_json(raw: bytes) -> Any:
    """A body's JSON, or a 400 that says why not (NaN and Infinity are no JSON)."""
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


# ASCII digits only: str.isdigit() also accepts '²' and '①' (int() then raises, a 500) and int() reads '٣' as 3.
_ASCII_INTEGER = re.compile(r"[0-9]{1,15}")
_ASCII_NUMBER = re.compile(r"[+-]?([0-9]{1,15}(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    """The one integer parser for query parameters: ASCII digits in [low, high], else a 400 that says so."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not _ASCII_INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
        raise ApiError(400, f"'{name}' must be an integer from {low} to {high}, got {quoted(raw)}")
    return int(raw)


def parse_number(raw: str) -> float | None:
    """A finite decimal number written in ASCII, or None."""
    if not _ASCII_NUMBER.fullmatch(raw):
        return None
    value = float(raw)
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _time_param(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    value = parse_number(raw)
    if value is None:
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
        except ValueError as exc:
            raise ApiError(400, f"'{name}' must be unix seconds or an ISO 8601 time, got {quoted(raw)}") from exc
    return value


def _window_label_seconds(label: str) -> float:
    seconds = parse_number(label)
    if seconds is not None:
        return seconds
    try:
        return window_seconds(label)
    except ValueError as exc:
        raise ApiError(400, f"'window' must be one of 15m, 1h, 6h, 24h, 7d or seconds, got {quoted(label)}") from exc


def window(request: Request, monitor: Monitor) -> tuple[float, float]:
    """`?window=1h` (15m, 1h, 6h, 24h, 7d or seconds) or `?since=&until=` (unix seconds or ISO 8601)."""
    until = _time_param(request, "until")
    if until is None:  # not `or`: until=0 is a time like any other
        until = monitor.clock()
    since = _time_param(request, "since")
    if since is None:
        label = request.query_params.get("window")
        since = until - (_window_label_seconds(label) if label else DEFAULT_WINDOW_SECONDS)
    if since >= until or until - since > MAX_WINDOW_SECONDS:
        raise ApiError(400, f"the window must be positive and at most {MAX_WINDOW_SECONDS // 86400} days")
    return since, until


def max_requests(request: Request) -> int:
    """How many requests a per-request list may hold (the newest of the window)."""
    return query_int(request, "max_requests", DEFAULT_MAX_REQUESTS, 1, MAX_REQUESTS_LIMIT)


def max_points(request: Request) -> int:
    return query_int(request, "max_points", 500, 1, 5000)

