"""The Analysis page's figures and chart data that panels do not already shape: the window's request summary,
finish reasons counted and colored, and request-weighted means of the quality layer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from healthmon.charts import LEVEL_COLORS, SERIES_COLORS
from healthmon.store.frames import percentiles

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
