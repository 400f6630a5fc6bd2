"""The Analysis page's figures and chart data that panels do not already shape: the window's request summary,
finish reasons counted and colored, request-weighted means of the quality layer, and the SLO over the window."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from healthmon.analysis.slo import BURN_RATE_ALERTS, WindowCounts, attainment, burn_rate
from healthmon.charts import LEVEL_COLORS, SERIES_COLORS
from healthmon.store.frames import percentiles
from healthmon.ui.shaping import Translate

ERROR_REASON = "error"  # the finish reason records.build_record gives every failed or refused request


def finish_reason_colors(reasons: Iterable[str]) -> list[str]:
    """One color per bar: errors in the critical color, so a spike of them stands out beside the rest."""
    return [LEVEL_COLORS["critical"] if reason == ERROR_REASON else SERIES_COLORS[0] for reason in reasons]


def weighted_mean(frame: pd.DataFrame, column: str, weight: str) -> float | None:
    """The window's mean of a per-interval mean, each interval (or downsampled bucket) weighted by its count in
    `weight` (the requests it averaged), so a busy minute counts for more than a quiet one; None without data."""
    if column not in frame or weight not in frame:
        return None
    values, weights = frame[column], frame[weight]
    usable = values.notna() & weights.notna() & (weights > 0)
    if not usable.any():
        return None
    return float((values[usable] * weights[usable]).sum() / weights[usable].sum())


def request_summary(requests: pd.DataFrame) -> dict[str, Any]:
    """Counts by status and latency percentiles of the successful requests in a requests frame."""
    status = requests["status"] if "status" in requests else pd.Series(dtype="object")
    ok = requests[status == "ok"] if not requests.empty else requests
    latency = percentiles(ok["latency_seconds"].tolist() if "latency_seconds" in ok else [])
    return {"requests": len(requests), "failed": int((status == "error").sum()),
            "rejected": int((status == "rejected").sum()), "succeeded": len(ok),
            "latency_p50_seconds": latency["p50"], "latency_p95_seconds": latency["p95"],
            "latency_p99_seconds": latency["p99"]}


def finish_reason_counts(requests: pd.DataFrame) -> pd.DataFrame:
    """Requests per finish reason (stop, length, cancelled, error), most frequent first."""
    if requests.empty:
        return pd.DataFrame({"finish_reason": pd.Series(dtype="object"), "requests": pd.Series(dtype="int64")})
    reasons = requests["finish_reason"].fillna("none")
    counts = reasons.value_counts().rename_axis("finish_reason").reset_index(name="requests")
    return counts.sort_values(["requests", "finish_reason"], ascending=[False, True], ignore_index=True)


SLO_POINTS = 240  # buckets across the window: enough to see an incident, few enough to count at a glance
MINUTE_SECONDS = 60.0


def slo_bucket_seconds(since: float, until: float, points: int = SLO_POINTS) -> float:
    """The SLO charts' bucket: the window in at most `points`, in whole minutes (the store counts settled
    history by the minute, and a bucket of a few seconds holds too few requests to say anything)."""
    return max(1.0, math.ceil((until - since) / points / MINUTE_SECONDS)) * MINUTE_SECONDS


def slo_frame(buckets: Sequence[tuple[float, int, int]], objective: float, bucket_seconds: float) -> pd.DataFrame:
    """Per bucket with requests (store.slo_buckets: start, counted requests, good ones), at its middle: attainment
    in %, the same since the window's start, and the burn rate (analysis/slo.py's definitions)."""
    columns = ["ts", "requests", "good", "attainment_percent", "cumulative_attainment_percent", "burn_rate"]
    if not buckets:
        return pd.DataFrame({name: pd.Series(dtype="float64") for name in columns})
    frame = pd.DataFrame(list(buckets), columns=["start", "requests", "good"])
    total, good = frame["requests"].cumsum(), frame["good"].cumsum()
    rows = {"ts": frame["start"] + bucket_seconds / 2, "requests": frame["requests"], "good": frame["good"],
            "attainment_percent": 100.0 * frame["good"] / frame["requests"],
            "cumulative_attainment_percent": 100.0 * good / total,
            "burn_rate": (1.0 - frame["good"] / frame["requests"]) / (1.0 - objective)}
    return pd.DataFrame(rows, columns=columns).astype("float64")


def slo_window_figures(buckets: Sequence[tuple[float, int, int]], objective: float) -> dict[str, float | None]:
    """The whole window's requests, good ones, attainment and burn rate."""
    counts = WindowCounts(sum(b[1] for b in buckets), sum(b[2] for b in buckets))
    return {"requests": counts.requests, "good": counts.good, "attainment": attainment(counts),
            "burn_rate": burn_rate(counts, objective)}


def burn_rate_limits(words: Translate) -> list[tuple[float, str, str]]:
    """The burn-rate alerts' factors as limit lines (value, level, label), 1× the budget's own pace included."""
    factors = {alert.factor: alert.level for alert in BURN_RATE_ALERTS}
    return [(factor, level, f"{factor:g}× " + (words("page") if level == "critical" else words("ticket")))
            for factor, level in sorted(factors.items())]
