"""Pure helpers for sample frames: metric-name rules, numeric filtering, time-bucket downsampling, percentiles.

The SQLite store and the in-memory ring share these, so a chart looks the same whichever one fed it.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
TS_COLUMN = "ts"
WINDOW_SECONDS = {"15m": 15 * 60, "1h": 3600, "6h": 6 * 3600, "24h": 86_400, "7d": 7 * 86_400}


def check_name(name: Any, what: str) -> str:
    """Reject names that could not safely become a SQL identifier (they are interpolated into DDL)."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or (what == "metric" and name == TS_COLUMN):
        raise ValueError(f"invalid {what} name {name!r}: must match {NAME_PATTERN.pattern} and not be 'ts'")
    return name


def finite_number(value: Any) -> float | None:
    """The value as a float when it is a finite int/float/bool, else None (None, str, list, NaN, inf...)."""
    if isinstance(value, (float, int, numbers.Real)):  # float/int first: the ABC check is slow
        try:
            number = float(value)
        except OverflowError:  # an int too large for a double
            return None
        return number if math.isfinite(number) else None
    return None


def numeric_values(values: Mapping[str, Any]) -> dict[str, float]:
    """Keep the values that are finite numbers (bools as 0/1), as floats; drop the rest silently."""
    return {name: number for name, value in values.items() if (number := finite_number(value)) is not None}


def bucket_seconds(first_ts: float, last_ts: float, max_points: int) -> float:
    """Bucket width that splits [first_ts, last_ts] into max_points buckets (1 s when all share one ts)."""
    span_seconds = last_ts - first_ts
    return span_seconds / max_points if span_seconds > 0 else 1.0


def downsample_frame(df: pd.DataFrame, max_points: int, ts_column: str = TS_COLUMN) -> pd.DataFrame:
    """Average rows into time buckets so at most max_points remain; same buckets as HistoryStore.frame.

    Buckets start at the first sample and are (last - first) / max_points wide; the last sample joins the
    last bucket. Each bucket's ts is the mean ts of its rows. Non-numeric columns are dropped when averaging.
    """
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    df = df.sort_values(ts_column, kind="stable").reset_index(drop=True)
    if len(df) <= max_points:
        return df
    ts = df[ts_column].to_numpy(dtype=float)
    first_ts = float(ts[0])
    bucket = bucket_seconds(first_ts, float(ts[-1]), max_points)
    bucket_index = np.minimum(((ts - first_ts) / bucket).astype(np.int64), max_points - 1)
    grouped = df.groupby(bucket_index, sort=True).mean(numeric_only=True)
    return grouped.sort_values(ts_column, kind="stable").reset_index(drop=True)


def percentiles(values: Iterable[Any], qs: Iterable[float] = (50, 95, 99)) -> dict[str, float | None]:
    """Linear-interpolated percentiles of the finite numbers in values, keyed "p50"; None when there are none."""
    qs = tuple(qs)
    finite = [float(v) for v in values if isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)]
    if not finite:
        return {f"p{q:g}": None for q in qs}
    results = np.percentile(np.asarray(finite), qs)
    return {f"p{q:g}": float(result) for q, result in zip(qs, results, strict=True)}


def window_seconds(label: str) -> int:
    """Seconds in a UI window label ("15m", "1h", "6h", "24h", "7d")."""
    try:
        return WINDOW_SECONDS[label]
    except KeyError:
        raise ValueError(f"unknown window {label!r}; one of {', '.join(WINDOW_SECONDS)}") from None
