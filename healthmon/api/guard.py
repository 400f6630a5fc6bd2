"""One guard in front of every request: the Host must be a name this server answers to, and a request that
changes state must come from this origin (or an allowed one) with a JSON body.

Why: binding to loopback keeps other machines out, not other web pages. A page on another origin opened in
the same browser can send `<img src=…>` GETs and no-cors POSTs (text/plain, no preflight) to 127.0.0.1, and
a DNS-rebinding page reads answers under its own name (`Host: attacker.example`). Browsers always send
`Origin` on a cross-origin POST and cannot forge `Host`, so checking both closes these holes; clients that are
not browsers (curl, Prometheus, the openai package) send no `Origin` and a correct `Host`.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIXES = ("/api/", "/v1/")  # the paths that answer as an API (JSON), not as Streamlit's page
JSON_TYPES = ("application/json",)


@dataclass(frozen=True)
class Refusal:
    status_code: int
    message: str


def served_names(bind_address: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The host names a request may carry: loopback always, the bound address, and for a wildcard bind this
    machine's names and addresses; `extra` (HEALTHMON_ALLOWED_HOSTS) adds a proxy's public name, `*` any."""
    names = set(LOOPBACK_NAMES) | {name.strip().lower().strip("[]") for name in extra if name.strip()}
    address = bind_address.strip().lower().strip("[]")
    if address in ("", "0.0.0.0", "::"):
        names |= _this_machine()
    else:
        names.add(address)
    return frozenset(names)


def _this_machine() -> set[str]:
    names = {socket.gethostname().lower(), socket.getfqdn().lower()}
    try:
        import psutil

        names |= {a.address.split("%")[0].lower() for addrs in psutil.net_if_addrs().values() for a in addrs
                  if a.family in (socket.AF_INET, socket.AF_INET6)}
    except Exception:  # noqa: BLE001 - without interface addresses, names and loopback still work
        pass
    return names


def host_name(host_header: str) -> str:
    """`example.org:8501` -> `example.org`, `[::1]:8501` -> `::1`, lower case."""
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":")[0]
    return value  # a bare IPv6 address or a plain name


def check(method: str, path: str, headers: dict[str, str], names: frozenset[str],
          origins: tuple[str, ...]) -> Refusal | None:
    """None when the request may go on; `headers` has lower-case names."""
    host = headers.get("host", "")
    if "*" not in names and host_name(host) not in names:
        return Refusal(403, f"this server does not answer to the host name {host_name(host)[:80]!r}; "
                            "add it to HEALTHMON_ALLOWED_HOSTS if a proxy forwards it")
    if method not in STATE_CHANGING or not path.startswith(API_PREFIXES):
        return None
    origin = headers.get("origin")
    if origin is not None and not _same_or_allowed(origin, host, origins):
        return Refusal(403, f"cross-site request refused: Origin {origin[:80]!r} is neither this server nor in "
                            "HEALTHMON_CORS_ORIGINS")
    if headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in headers:
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in JSON_TYPES:
            return Refusal(415, f"send the body as JSON with 'Content-Type: application/json', "
                                f"not {media_type[:80] or 'no content type'!r}")
    return None


def _same_or_allowed(origin: str, host: str, origins: tuple[str, ...]) -> bool:
    if origin in origins or "*" in origins:
        return True
    parts = urlsplit(origin)
    return origin != "null" and parts.scheme in ("http", "https") and parts.netloc.lower() == host.strip().lower()


class GuardMiddleware:
    """ASGI middleware applying `check` to HTTP requests and (Host only) to websockets."""

    def __init__(self, app, names: frozenset[str], origins: tuple[str, ...] = ()) -> None:
        self.app, self.names, self.origins = app, names, origins

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin1").lower(): v.decode("latin1") for k, v in scope.get("headers", [])}
        method = scope.get("method", "GET") if scope["type"] == "http" else "GET"
        refusal = check(method, scope.get("path", ""), headers, self.names, self.origins)
        if refusal is None:
            refusal = _api_path_case(scope)
        if refusal is None:
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps(refusal_body(scope.get("path", ""), refusal)).encode()
        await send({"type": "http.response.start", "status": refusal.status_code,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


_OPENAI_CODES = {403: "forbidden", 404: "not_found", 415: "unsupported_media_type"}


def refusal_body(path: str, refusal: Refusal) -> dict:
    """The JSON of a refusal: OpenAI's error shape under /v1, which the `openai` client turns into its typed
    exception with this message; healthmon's `{"error": "<text>"}` everywhere else."""
    if not path.lower().startswith("/v1"):
        return {"error": refusal.message}
    error_type = "not_found_error" if refusal.status_code == 404 else "invalid_request_error"
    return {"error": {"message": refusal.message, "type": error_type, "param": None,
                      "code": _OPENAI_CODES.get(refusal.status_code)}}


def _api_path_case(scope) -> Refusal | None:
    """`/api`, `/v1` and `/API/…` would fall through to Streamlit's HTML page with 200: answer them as the API."""
    path = scope.get("path", "")
    lowered = path.lower()
    for prefix in API_PREFIXES:
        if lowered in (prefix[:-1], prefix) or (lowered.startswith(prefix) and not path.startswith(prefix)):
            return Refusal(404, f"no API endpoint {path[:200]!r}; API paths are lower case under /api/ and /v1/, "
                                "see the README")
    return None
