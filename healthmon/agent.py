"""`python -m healthmon agent`: the monitor, the REST API and /metrics under uvicorn, without the Streamlit UI.

For model servers that Prometheus scrapes: the same Settings (load_settings: HEALTHMON_* variables and
healthmon.toml) and so the same history store as the app. It binds to 127.0.0.1 unless told otherwise,
because /api/model/generate runs the model for anyone who can reach it (set HEALTHMON_API_TOKEN before
binding to other hosts). uvicorn turns SIGTERM and SIGINT into a graceful exit, whose lifespan shutdown
releases the monitor: the collector stops, and history and queued traces are flushed; the exit code is 0.

The server's modules are imported when the command runs, not when the CLI registers it: importing the
monitor loads torch and transformers (seconds), which `python -m healthmon replay` must not pay.
"""

from __future__ import annotations

import argparse
import logging
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from healthmon.monitor import Monitor

log = logging.getLogger("healthmon.agent")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8502  # next to Streamlit's 8501, so the app and an agent can share a machine
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def build_app(monitor_factory: Callable[[], Monitor], release: Callable[[], None], cors_origins: tuple[str, ...] = (),
              *, host: str = DEFAULT_HOST, allowed_hosts: tuple[str, ...] = ()) -> Starlette:
    """The agent's ASGI app: /api/* and /metrics; the monitor starts with the server and is released with it."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware

    from healthmon.api import build_routes
    from healthmon.api.guard import GuardMiddleware, served_names
    from healthmon.export.prometheus import metrics_route

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        monitor_factory()  # collect from the moment the server starts, not from the first request
        yield
        release()
        log.info("monitor released: collection stopped, history flushed")

    routes = [metrics_route(monitor_factory), *build_routes(monitor_factory, cors_origins)]
    return Starlette(routes=routes, lifespan=lifespan, middleware=[
        Middleware(GuardMiddleware, names=served_names(host, allowed_hosts), origins=cors_origins)])


def run(args: argparse.Namespace) -> int:
    """The `agent` command: serve until SIGTERM/SIGINT; exit code 2 on a configuration error."""
    import uvicorn

    from healthmon.config import ConfigError, load_settings
    from healthmon.registry import get_monitor, release_monitor

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    if args.host not in LOOPBACK_HOSTS and not settings.api_token:
        log.warning("listening on %s without HEALTHMON_API_TOKEN: anyone who can reach it can run and stop the "
                    "model", args.host)
    app = build_app(lambda: get_monitor(settings), release_monitor, settings.cors_origins, host=args.host,
                    allowed_hosts=settings.allowed_hosts)
    log.info("healthmon agent on http://%s:%d (API under /api, Prometheus metrics at /metrics)", args.host, args.port)
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="warning",
                                           access_log=False, lifespan="on"))
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a stop request, exactly like Ctrl-C
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises the signal once its graceful shutdown is done
        pass
    return 0 if server.started else 1


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register `agent` on the CLI's subcommands."""
    parser = commands.add_parser("agent", help="serve the monitor, REST API and /metrics without the UI",
                                 description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})")
    parser.set_defaults(run=run)
