"""The fleet: several agents side by side, read from the Prometheus that scrapes them (HTTP API and PromQL).

healthmon adds no cluster of its own: each agent serves /metrics, the user's Prometheus scrapes them all
(deploy/prometheus.yml), and this module asks that Prometheus. The HTTP getter is injected, so parsing and
frame building are tested without a server and the page never sees a socket error: every failure becomes
a `PrometheusError` whose message says what to check.

>>> from_prometheus_number("NaN") is None, from_prometheus_number("0.25")
(True, 0.25)
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from healthmon.textsafe import redact_url

HttpGet = Callable[[str, Mapping[str, str]], Any]  # (url, query parameters) -> the decoded JSON body
DEFAULT_JOB = "healthmon"  # the job name in deploy/prometheus.yml
RANGE_POINTS = 300  # per series: plenty for a chart, cheap for Prometheus
MIN_RATE_WINDOW_SECONDS = 60  # at least four scrapes at the usual 15 s interval


class PrometheusError(RuntimeError):
    """Prometheus could not be reached or refused the query; the message is meant for the user."""


def urllib_get(timeout_seconds: float = 5.0) -> HttpGet:
    """The default getter: the standard library, so the fleet view needs no HTTP package of its own."""

    def get(url: str, params: Mapping[str, str]) -> Any:
        full_url = f"{url}?{urllib.parse.urlencode(params)}"
        shown = redact_url(url)  # a Prometheus URL may carry user:password@ or a token in its query
        try:
            with urllib.request.urlopen(full_url, timeout=timeout_seconds) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:  # Prometheus explains a bad query in a JSON body with 400/422
            try:
                return json.load(exc)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise PrometheusError(f"{shown} answered HTTP {exc.code} {exc.reason}: is this a Prometheus "
                                      "server?") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PrometheusError(f"cannot reach Prometheus at {shown}: {reason}") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PrometheusError(f"{shown} did not answer JSON: is this a Prometheus server?") from None

    return get


def from_prometheus_number(text: str) -> float | None:
    """Prometheus sends sample values as strings; NaN and infinities mean no usable value."""
    value = float(text)
    return value if math.isfinite(value) else None


class PrometheusClient:
    """Instant and range queries against one Prometheus server's HTTP API."""

    def __init__(self, base_url: str, get: HttpGet) -> None:
        self.base_url = base_url.rstrip("/")
        self._get = get

    def _call(self, endpoint: str, params: Mapping[str, str], result_type: str) -> list[dict[str, Any]]:
        body = self._get(f"{self.base_url}/api/v1/{endpoint}", params)
        if not isinstance(body, dict) or body.get("status") != "success":
            detail = f"{body.get('errorType')}: {body.get('error')}" if isinstance(body, dict) else repr(body)[:200]
            raise PrometheusError(f"Prometheus refused the query {params.get('query')!r}: {detail}")
        data = body.get("data") or {}
        if data.get("resultType") != result_type:
            raise PrometheusError(f"expected a {result_type} from {params.get('query')!r}, "
                                  f"got {data.get('resultType')}")
        return list(data.get("result") or [])

    def query(self, promql: str, at_seconds: float | None = None) -> list[dict[str, Any]]:
        """GET /api/v1/query: one value per series."""
        params = {"query": promql} | ({"time": f"{at_seconds:.3f}"} if at_seconds is not None else {})
        return self._call("query", params, "vector")

    def query_range(self, promql: str, start_seconds: float, end_seconds: float,
                    step_seconds: float) -> list[dict[str, Any]]:
        """GET /api/v1/query_range: a value every step per series."""
        params = {"query": promql, "start": f"{start_seconds:.3f}", "end": f"{end_seconds:.3f}",
                  "step": f"{step_seconds:g}"}
        return self._call("query_range", params, "matrix")


def job_selector(job: str) -> str:
    """`{job="..."}` with the value escaped as PromQL wants it."""
    return '{job="' + job.replace("\\", "\\\\").replace('"', '\\"') + '"}'


def vector_by_instance(result: list[dict[str, Any]], label: str | None = None) -> dict[str, Any]:
    """instance -> value (or, with `label`, instance -> that label's value)."""
    out: dict[str, Any] = {}
    for series in result:
        instance = series["metric"].get("instance", "")
        out[instance] = series["metric"].get(label, "") if label else from_prometheus_number(series["value"][1])
    return out


def matrix_frame(result: list[dict[str, Any]]) -> pd.DataFrame:
    """A `ts` column (unix seconds) plus one column per instance, as charts.time_series wants it."""
    columns = {series["metric"].get("instance", ""): pd.Series(
        {float(ts): from_prometheus_number(value) for ts, value in series["values"]}, dtype="float64")
        for series in result}
    if not columns:
        return pd.DataFrame({"ts": pd.Series(dtype="float64")})
    frame = pd.DataFrame(dict(sorted(columns.items()))).sort_index()
    return frame.rename_axis("ts").reset_index()


def fleet_queries(job: str, rate_window_seconds: int) -> dict[str, str]:
    """Column -> PromQL giving one value per instance; `up` lists agents that are down as well."""
    sel, window = job_selector(job), f"[{rate_window_seconds}s]"
    return {
        "up": f"up{sel}",
        "health_score": f"healthmon_health_score{sel}",
        "cpu_percent": f"100 * healthmon_system_cpu_usage_ratio{sel}",
        "memory_percent": f"100 * healthmon_system_memory_usage_ratio{sel}",
        "latency_p95_seconds": "histogram_quantile(0.95, sum by (instance, le) "
                               f"(rate(healthmon_e2e_request_latency_seconds_bucket{sel}{window})))",
        "tokens_per_second": f"sum by (instance) (rate(healthmon_generation_tokens_total{sel}{window})) / "
                             f"sum by (instance) (rate(healthmon_request_inference_time_seconds_sum{sel}{window}))",
        "active_alerts": f"sum by (instance) (healthmon_alerts_active{sel})",
    }


COMPARISONS = ("health_score", "cpu_percent", "memory_percent", "latency_p95_seconds", "tokens_per_second")
TABLE_COLUMNS = ("instance", "up", "status", "health_score", "cpu_percent", "memory_percent", "latency_p95_seconds",
                 "tokens_per_second", "active_alerts", "model")


def fleet_table(client: PrometheusClient, job: str = DEFAULT_JOB, at_seconds: float | None = None) -> pd.DataFrame:
    """One row per scraped instance: up, healthmon's status and score, machine and service figures."""
    columns = {name: vector_by_instance(client.query(promql, at_seconds))
               for name, promql in fleet_queries(job, 5 * MIN_RATE_WINDOW_SECONDS).items()}
    sel = job_selector(job)
    columns["status"] = vector_by_instance(client.query(f"healthmon_health_status{sel} == 1", at_seconds), "status")
    columns["model"] = vector_by_instance(client.query(f"healthmon_model_info{sel}", at_seconds), "model_name")
    instances = sorted({instance for values in columns.values() for instance in values})
    rows = [{"instance": instance} | {name: columns[name].get(instance) for name in TABLE_COLUMNS[1:]}
            for instance in instances]
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def compare(client: PrometheusClient, name: str, start_seconds: float, end_seconds: float,
            job: str = DEFAULT_JOB) -> pd.DataFrame:
    """One of COMPARISONS over a time window, one column per instance."""
    step_seconds = max(1.0, round((end_seconds - start_seconds) / RANGE_POINTS))
    rate_window_seconds = int(max(MIN_RATE_WINDOW_SECONDS, 4 * step_seconds))
    promql = fleet_queries(job, rate_window_seconds)[name]
    return matrix_frame(client.query_range(promql, start_seconds, end_seconds, step_seconds))
