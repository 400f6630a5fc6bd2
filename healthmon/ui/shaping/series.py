"""Chart data from history frames, shared by the System, Model and Analysis pages (panels.trend and
panels.distribution draw it): which columns hold numbers, learned bands, breaks at outages, histogram bins."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

BAND_LOW, BAND_HIGH = "baseline_low", "baseline_high"


def present(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The columns that hold at least one number in this frame (a chart of only gaps is a blank chart)."""
    return [column for column in columns if column in frame and frame[column].notna().any()]


def baseline_columns(*metrics: str) -> list[str]:
    """The baseline layer's columns for these metrics' learned bands (AlertService.baseline_sample)."""
    return [f"{metric}_baseline_{side}" for metric in metrics for side in ("low", "high")]


def with_band(shown: pd.DataFrame, baseline: pd.DataFrame, metric: str) -> pd.DataFrame:
    """`shown` with baseline_low/high columns: the metric's learned band at each row's time (the nearest baseline
    sample within a few of its steps), or unchanged where the baseline has none in the window."""
    low, high = baseline_columns(metric)
    if shown.empty or low not in baseline or high not in baseline:
        return shown
    bands = baseline[["ts", low, high]].dropna().rename(columns={low: BAND_LOW, high: BAND_HIGH})
    if bands.empty:
        return shown
    steps = bands["ts"].diff().median()
    tolerance = 5 * steps if pd.notna(steps) and steps > 0 else 60.0
    merged = pd.merge_asof(shown.sort_values("ts"), bands.sort_values("ts"), on="ts", direction="nearest",
                           tolerance=tolerance)
    return merged if merged[BAND_LOW].notna().any() else shown


def break_gaps(frame: pd.DataFrame, factor: float = 5.0) -> pd.DataFrame:
    """Insert an all-NaN row wherever consecutive samples lie more than `factor` usual steps apart, so a line
    drawn without connectgaps stops at an outage instead of bridging it. The usual step is the median one:
    the collection interval for raw samples, the bucket width for downsampled ones."""
    if len(frame) < 3:
        return frame
    steps = frame["ts"].diff()
    usual = steps.median()
    last_before = frame["ts"].shift()[steps > factor * usual]
    if last_before.empty:
        return frame
    breaks = pd.DataFrame({"ts": (last_before + usual).to_numpy()})  # one usual step into the outage
    return pd.concat([frame, breaks.reindex(columns=frame.columns)]).sort_values("ts", ignore_index=True)


def histogram_bins(values: pd.Series, bins: int = 30, integer: bool = False) -> pd.DataFrame:
    """(bin_start, bin_end, count) over the finite values. Integer data (token counts) gets whole-number bins
    centred on the integers, so 15 tokens is one bar at 15, not a bar from 14.5 to 15.5 labelled 14.6."""
    finite = pd.to_numeric(values, errors="coerce").dropna()
    finite = finite[np.isfinite(finite)]
    if finite.empty:
        return pd.DataFrame({"bin_start": pd.Series(dtype="float64"), "bin_end": pd.Series(dtype="float64"),
                             "count": pd.Series(dtype="int64")})
    low, high = float(finite.min()), float(finite.max())
    if integer:
        width = max(1, math.ceil((high - low + 1) / bins))
        edges = np.arange(math.floor(low) - 0.5, math.floor(high) + 0.5 + width, width)
    else:
        edges = np.histogram_bin_edges(finite, bins=bins)
    counts, edges = np.histogram(finite, bins=edges)
    return pd.DataFrame({"bin_start": edges[:-1], "bin_end": edges[1:], "count": counts})


LEGEND_ROW_PX = 440  # a half-width chart's legend row at a 1400 px window: where a longer legend wraps


def legend_rows(labels: Sequence[str], row_px: float = LEGEND_ROW_PX) -> int:
    """About how many rows a horizontal Plotly legend of these labels takes: a CJK character is drawn about twice
    as wide as a Latin one, and each entry adds its line symbol and gap."""
    def width(label: str) -> float:
        return 40 + sum(12.0 if ord(char) >= 0x2E80 else 6.5 for char in label)

    rows, used = 1, 0.0
    for label in labels:
        entry = width(label)
        if used and used + entry > row_px:
            rows, used = rows + 1, 0.0
        used += entry
    return rows
