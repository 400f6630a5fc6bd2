"""GET /api/slo: the service-level objectives and how each window meets them, from the stored requests."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from healthmon.monitor import Monitor


def slo_payload(monitor: Monitor) -> dict[str, Any]:
    """The report of analysis/slo.py at the monitor's clock, and how much of the compliance window history holds."""
    now = monitor.clock()
    return {"ts": now} | monitor.slo.report(now).to_dict() | {"covered_seconds": monitor.slo.covered_seconds(now)}


async def slo(request: Request, monitor: Monitor) -> Response:
    return JSONResponse(await run_in_threadpool(slo_payload, monitor))  # SQLite reads: off the event loop
