"""JSON-ready views of the monitor, shared by the REST API and the Overview page (the seed's field names kept)."""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from healthmon.loop import COLLECTOR_THREAD_NAME
from healthmon.monitor import Monitor
from healthmon.target_info import TargetInfo

SEED_TARGET_TOKENS_PER_SECOND = 50  # the seed's throughput target, shown as a reference line
# The seed's field names these payloads keep, each an alias of one canonical name (a catalog key or a request
# record's field, with its unit): a payload carries an alias with the canonical field's value, nowhere else uses
# the alias, and README's API section lists them. The plural ones name lists of the canonical figure.
SEED_ALIASES = {
    "inference_time": "latency_seconds",  # whole-request time: a request's, or the model layer's mean of them
    "inference_speed": "latency_seconds",  # latest_model: the same time, though the seed called it a speed
    "inference_times": "latency_seconds",  # /analysis/inference: the model samples' values
    "response_times": "latency_seconds",  # /analysis/requests: the successful requests' values
    "avg_response_time": "mean_latency_seconds",  # the service's mean over answered requests
    "success_rate": "success_percent",  # 0-100, as the seed's was
    "failure_rate": "failure_percent",  # not the seed's: healthmon's own name for it before issue 22, kept alike
    "avg_tokens_per_sec": "mean_tokens_per_second",
    "throughput_tokens_per_sec": "tokens_per_second",
    "model_parameters_billions": "parameters_billions",
    "process_memory_mb": "process_rss_mb",
}
DEFAULT_MAX_REQUESTS = 1000  # per-request lists in an answer: a week at one request a second is 600k rows
MAX_REQUESTS_LIMIT = 10_000


def iso(ts: float | None) -> str | None:
    """ISO 8601 with an explicit UTC offset: the seed's naive timestamps were ambiguous across time zones."""
    return None if ts is None else datetime.fromtimestamp(float(ts), UTC).isoformat()


def clean(value: Any) -> Any:
    """JSON cannot carry NaN or infinities; pandas gaps become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return clean(value.item())
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = frame.to_dict("records")
    return [clean({"timestamp": iso(row.pop("ts"))} | row) for row in rows]


def with_aliases(row: dict[str, Any], *aliases: str) -> dict[str, Any]:
    """The row plus each named seed alias (SEED_ALIASES) holding its canonical field's value."""
    return row | {alias: row.get(SEED_ALIASES[alias]) for alias in aliases}


def latest_system(monitor: Monitor) -> dict[str, Any]:
    system, process, gpu = monitor.loop.latest("system"), monitor.loop.latest("process"), monitor.loop.latest("gpu")
    if not system:
        return {}
    out = {"timestamp": iso(system.pop("ts"))} | system
    process.pop("ts", None)
    gpu.pop("ts", None)
    out |= process
    out = with_aliases(out, "process_memory_mb")
    out["gpu_info"] = gpu or {"gpu_available": False, "reason": "no GPU sample yet"}
    return clean(out)


def latest_model(monitor: Monitor) -> dict[str, Any]:
    model = monitor.loop.latest("model")
    if not model:
        return {}
    out = {"timestamp": iso(model.pop("ts"))} | model
    return clean(with_aliases(out, "inference_speed", "inference_time", "throughput_tokens_per_sec",
                              "model_parameters_billions"))


def status_payload(monitor: Monitor) -> dict[str, Any]:
    """GET /api/health/status: the seed's fields, measured."""
    health = monitor.loop.health()
    info = monitor.target.info()
    stats = monitor.request_stats.snapshot(monitor.clock())
    alerts = monitor.alerts.active()
    return clean({
        "status": health["status"],
        "performance_score": health["performance_score"],
        "score_components": health["components"],
        "service_uptime_hours": round((monitor.clock() - monitor.started_at) / 3600, 4),
        "monitoring": monitor.running,
        "model_loaded": info.loaded,
        "model_info": model_info_payload(info),
        "latest_system": latest_system(monitor),
        "latest_model": latest_model(monitor),
        "request_stats": with_aliases(stats, "avg_response_time", "success_rate", "failure_rate"),
        "active_alerts": len(alerts),
        "active_alert_levels": [a.level for a in alerts],
        "collector_errors": {layer: dict(entry) for layer, entry in list(monitor.loop.collector_errors.items())},
        "collector_threads": sum(t.name == COLLECTOR_THREAD_NAME for t in threading.enumerate()),
        "store": monitor.store.health(),
        "timestamp": iso(monitor.clock()),
    })


def model_info_payload(info: TargetInfo) -> dict[str, Any]:
    """Model facts; says in words when the model is the built-in demo, so nobody mistakes its figures."""
    out = info.to_json()
    if info.is_demo:
        out["note"] = "Built-in demo model (a tiny offline model for trying healthmon); not a real LLM."
    return clean(out)


def metrics_payload(monitor: Monitor, since: float, until: float, max_points: int,
                    max_requests: int = DEFAULT_MAX_REQUESTS) -> dict[str, Any]:
    """GET /api/health/metrics: the seed's five lists, from history; generation_stats holds the newest
    max_requests requests of the window, and says how many the window has."""
    store = monitor.store
    system = store.frame("system", since, until, max_points)
    process = store.frame("process", since, until, max_points)
    if not system.empty and not process.empty:
        system = pd.merge_asof(system.sort_values("ts"), process.sort_values("ts"), on="ts", direction="nearest")
        system["process_memory_mb"] = system.get(SEED_ALIASES["process_memory_mb"])
    model = store.frame("model", since, until, max_points)
    score = store.frame("score", since, until, max_points)
    service = store.frame("service", since, until, max_points)
    if not score.empty and not service.empty:
        score = pd.merge_asof(score.sort_values("ts"), service.sort_values("ts"), on="ts", direction="nearest")
    requests = store.requests_frame(since, until, newest=max_requests)
    total = store.request_totals(since, until)["requests"]
    return {
        "since": iso(since), "until": iso(until), "max_points": max_points, "max_requests": max_requests,
        "system_metrics": _records(system),
        "gpu_metrics": _records(store.frame("gpu", since, until, max_points)),
        "model_metrics": [with_aliases(row, "inference_time") for row in _records(model)],
        "performance_metrics": [with_aliases(row, "avg_response_time", "success_rate", "failure_rate")
                                for row in _records(score)],
        "alerts": clean([a | {"started_at": iso(a.get("started_at")), "resolved_at": iso(a.get("resolved_at"))}
                         for a in store.load_alerts(since=since)]),
        "generation_stats": generation_records(requests),
        "generation_stats_total": total, "generation_stats_truncated": total > len(requests),
    }


def generation_records(requests: pd.DataFrame) -> list[dict[str, Any]]:
    """One row per user request; lengths in tokens (the seed used characters and whitespace words)."""
    if requests.empty:
        return []
    rows = []
    for row in requests.to_dict("records"):
        rows.append(clean(with_aliases({
            "timestamp": iso(row["ts"]), "trace_id": row["trace_id"], "status": row["status"],
            "finish_reason": row.get("finish_reason"), "source": row.get("source"),
            "prompt_length": row.get("prompt_tokens"), "response_length": row.get("output_tokens"),
            "prompt_chars": row.get("prompt_chars"), "response_chars": row.get("response_chars"),
            "latency_seconds": row.get("latency_seconds"), "ttft_seconds": row.get("ttft_seconds"),
            "tokens_per_second": row.get("tokens_per_second"),
        }, "inference_time")))
    return rows


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    return clean(frame[name].tolist()) if name in frame else []


def inference_analysis(monitor: Monitor, since: float, until: float) -> dict[str, Any]:
    model = monitor.store.frame("model", since, until, 500)
    latency = SEED_ALIASES["inference_times"]
    model = model.dropna(subset=[latency]) if latency in model else model.iloc[0:0]
    return {"timestamps": [iso(t) for t in model["ts"]] if not model.empty else [],
            "inference_times": _column(model, latency), "latency_seconds": _column(model, latency),
            "ttft_seconds": _column(model, "ttft_seconds"),
            "throughputs": _column(model, "tokens_per_second")}


def throughput_analysis(monitor: Monitor, since: float, until: float) -> dict[str, Any]:
    model = monitor.store.frame("model", since, until, 500)
    model = model.dropna(subset=["tokens_per_second"]) if "tokens_per_second" in model else model.iloc[0:0]
    values = _column(model, "tokens_per_second")
    stats = {"average": round(sum(values) / len(values), 3) if values else None,
             "maximum": max(values) if values else None, "minimum": min(values) if values else None,
             "target": SEED_TARGET_TOKENS_PER_SECOND}
    return {"timestamps": [iso(t) for t in model["ts"]] if not model.empty else [], "throughputs": values,
            "statistics": stats}


def request_analysis(monitor: Monitor, since: float, until: float,
                     max_requests: int = DEFAULT_MAX_REQUESTS) -> dict[str, Any]:
    """The successful requests' figures, newest max_requests of them; `total` and `truncated` say whether the
    window held more."""
    requests = monitor.store.requests_frame(since, until, newest=max_requests)
    ok = requests[requests["status"] == "ok"] if not requests.empty else requests
    total = monitor.store.request_totals(since, until)["succeeded"]
    return {"timestamps": [iso(t) for t in ok["ts"]] if not ok.empty else [],
            "response_times": _column(ok, SEED_ALIASES["response_times"]),
            "latency_seconds": _column(ok, "latency_seconds"), "ttft_seconds": _column(ok, "ttft_seconds"),
            "tokens_per_second": _column(ok, "tokens_per_second"), "request_lengths": _column(ok, "output_tokens"),
            "prompt_lengths": _column(ok, "prompt_tokens"), "max_requests": max_requests, "total": total,
            "truncated": total > len(ok)}


def generation_analysis(monitor: Monitor, since: float, until: float,
                        max_requests: int = DEFAULT_MAX_REQUESTS) -> dict[str, Any]:
    """Statistics over every user request of the window (in SQL); per-request lists of the newest max_requests."""
    records = generation_records(monitor.store.requests_frame(since, until, newest=max_requests))
    ok = [r for r in records if r["status"] == "ok"]
    totals = monitor.store.request_totals(since, until)

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    return {
        "timestamps": [r["timestamp"] for r in ok],
        "performance_data": [[r["timestamp"], r["latency_seconds"], r["tokens_per_second"]] for r in ok],
        "max_requests": max_requests, "truncated": totals["requests"] > len(records),
        "statistics": with_aliases({
            "total_requests": totals["requests"], "succeeded_requests": totals["succeeded"],
            "failed_requests": totals["failed"], "rejected_requests": totals["rejected"],
            "mean_latency_seconds": rounded(totals["mean_latency_seconds"]),
            "mean_tokens_per_second": rounded(totals["mean_tokens_per_second"]),
            "success_percent": round(100 * totals["succeeded"] / totals["requests"], 3) if totals["requests"] else None,
            "finish_reasons": totals["finish_reasons"],
        }, "avg_response_time", "avg_tokens_per_sec", "success_rate"),
    }
