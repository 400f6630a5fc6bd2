"""Frame -> Plotly figure builders: pure functions, one look across pages, no Streamlit.

Time axes carry epoch milliseconds (numbers, with a date axis type): half the payload of datetimes.
Series go in as float64 numpy arrays, never Python lists: Plotly checks a list element by element, once here
and again in st.plotly_chart, which cost about half of a 24 h page run, and it sends an array as base64
float64 (NaN included, which plotly.js draws as a gap) instead of JSON numbers.
Colors: one per level everywhere (LEVEL_COLORS); series take SERIES_COLORS in order. Backgrounds and
fonts are left to the caller's theme (Streamlit's light or dark), so figures read well in both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

LEVEL_COLORS = {"healthy": "#2e7d32", "ok": "#2e7d32", "warning": "#ef6c00", "critical": "#c62828",
                "no_data": "#9e9e9e", "info": "#1565c0", "starting": "#1565c0"}
SERIES_COLORS = ("#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#2ca02c")
WEBGL_ABOVE_POINTS = 1000
BAND_GROUP = "band"  # the legend group of a shaded band's two edge traces


def _layout(fig: go.Figure, title: str | None, y_title: str | None, height: int) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      hovermode="x unified", legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
                      yaxis_title=y_title)
    return fig


def epoch_ms(ts_seconds: Iterable[float]) -> np.ndarray:
    return np.asarray(ts_seconds, dtype="float64") * 1000.0


def values(series: pd.Series) -> np.ndarray:
    """A column as float64 with NaN for gaps (None, pd.NA), the form Plotly takes without a per-element check."""
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def time_series(frame: pd.DataFrame, columns: Mapping[str, str], *, title: str | None = None,
                y_title: str | None = None, thresholds: Sequence[tuple[float, str, str]] = (),
                band: tuple[pd.Series, pd.Series, str] | None = None, y_range: tuple[float, float] | None = None,
                height: int = 300) -> go.Figure:
    """Lines over time. `columns` maps frame column -> legend label; thresholds are (value, level, label)."""
    fig = go.Figure()
    if frame.empty:
        return _layout(fig, title, y_title, height)
    x = epoch_ms(frame["ts"])
    scatter = go.Scattergl if len(frame) > WEBGL_ABOVE_POINTS else go.Scatter
    if band is not None:
        low, high, label = band
        fig.add_trace(scatter(x=x, y=values(high), mode="lines", line=dict(width=0), showlegend=False,
                              hoverinfo="skip", legendgroup=BAND_GROUP))
        fig.add_trace(scatter(x=x, y=values(low), mode="lines", line=dict(width=0), fill="tonexty",
                              fillcolor="rgba(31,119,180,0.15)", name=label, hoverinfo="skip", legendgroup=BAND_GROUP))
    for index, (column, label) in enumerate(columns.items()):
        if column not in frame:
            continue
        fig.add_trace(scatter(x=x, y=values(frame[column]), mode="lines", name=label, connectgaps=False,
                              line=dict(color=SERIES_COLORS[index % len(SERIES_COLORS)], width=1.6)))
    add_limit_lines(fig, thresholds)
    fig.update_xaxes(type="date")
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    return _layout(fig, title, y_title, height)


def sparkline(frame: pd.DataFrame, column: str, color: str = SERIES_COLORS[0], height: int = 60) -> go.Figure:
    """A bare trend line for a tile: no axes, no legend."""
    fig = go.Figure()
    if not frame.empty and column in frame:
        fig.add_trace(go.Scatter(x=epoch_ms(frame["ts"]), y=values(frame[column]), mode="lines",
                                 line=dict(color=color, width=1.5), hoverinfo="skip", connectgaps=False))
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=0, b=0), showlegend=False)
    fig.update_xaxes(visible=False, type="date")
    fig.update_yaxes(visible=False)
    return fig


def gauge(value: float | None, title: str, *, maximum: float = 100.0, unit: str = "%",
          steps: Sequence[tuple[float, float, str]] = ((0, 70, "healthy"), (70, 85, "warning"), (85, 100, "critical")),
          higher_is_better: bool = False, height: int = 220) -> go.Figure:
    """The original design's gauge view; `steps` color the dial as (from, to, level)."""
    fig = go.Figure(go.Indicator(
        mode="gauge+number", value=value if value is not None else 0,
        number=dict(suffix=f" {unit}" if unit else "", valueformat=".1f"),
        title=dict(text=title if value is not None else f"{title} (no data)"),
        gauge=dict(axis=dict(range=[0, maximum]), bar=dict(color="#424242" if value is not None else "rgba(0,0,0,0)"),
                   steps=[dict(range=[low, high], color=_translucent(LEVEL_COLORS[level]))
                          for low, high, level in steps])))
    fig.update_layout(height=height, margin=dict(l=35, r=35, t=50, b=10))  # room for the end tick labels
    return fig


def _translucent(hex_color: str, alpha: float = 0.35) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def bars(labels: Sequence[str], values: Sequence[float], *, title: str | None = None, y_title: str | None = None,
         colors: Sequence[str] | None = None, height: int = 280, counts: bool = False) -> go.Figure:
    fig = go.Figure(go.Bar(x=list(labels), y=list(values), marker_color=list(colors) if colors else SERIES_COLORS[0]))
    if counts and values and max(values) <= 8:
        fig.update_yaxes(dtick=1)  # small counts: whole-number ticks, not 1.5 requests
    return _layout(fig, title, y_title, height)


def by_concurrency(frame: pd.DataFrame, columns: Mapping[str, str], *, marked: int | None = None,
                   marked_label: str = "", title: str | None = None, y_title: str | None = None,
                   x_title: str | None = None, height: int = 300) -> go.Figure:
    """A load test's figures against concurrency, one evenly spaced category a level (levels mostly double, which a
    linear axis would crowd at the left), and `marked` (the capacity) as a dashed vertical line."""
    fig = go.Figure()
    x: list[str] = []
    if not frame.empty:
        x = [f"{level:g}" for level in values(frame["concurrency"])]
        for index, (column, label) in enumerate(columns.items()):
            if column in frame:
                # every other series dashed: goodput equal to throughput would otherwise hide it
                fig.add_trace(go.Scatter(x=x, y=values(frame[column]), mode="lines+markers", name=label,
                                         line=dict(color=SERIES_COLORS[index % len(SERIES_COLORS)], width=1.8,
                                                   dash="dash" if index % 2 else "solid")))
        fig.update_xaxes(type="category", title=x_title)
        fig.update_yaxes(rangemode="tozero")  # a rate from zero: a 10 % drop must not look like a cliff
    if marked is not None and f"{marked:g}" in x:  # a category axis places a shape by the category's index
        fig.add_vline(x=x.index(f"{marked:g}"), line=dict(color=LEVEL_COLORS["healthy"], dash="dash", width=1.5),
                      annotation_text=marked_label, annotation_position="bottom left")
    fig = _layout(fig, title, y_title, height)
    fig.update_layout(hovermode="x", margin=dict(t=70 if title else 30))  # the legend between title and plot
    return fig


def waterfall(spans: Sequence[Mapping[str, Any]], *, title: str | None = None, height: int = 260) -> go.Figure:
    """A request's spans as horizontal bars on one time axis, in milliseconds from the request's arrival."""
    names = [str(span["name"]) for span in spans]
    starts = [1000 * float(span["start_offset_seconds"]) for span in spans]
    durations = [1000 * float(span["duration_seconds"]) for span in spans]
    fig = go.Figure(go.Bar(y=names, x=durations, base=starts, orientation="h",
                           marker_color=[SERIES_COLORS[i % len(SERIES_COLORS)] for i in range(len(spans))],
                           text=[f"{d:.1f} ms" for d in durations], textposition="auto",
                           hovertemplate="%{y}: starts %{base:.2f} ms, lasts %{x:.2f} ms<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(xaxis_title="ms since the request arrived")
    return _layout(fig, title, None, height)


# ---- System, Model and Analysis pages --------------------------------------------------------------------

BYTES_PER_KB = 1024


def bytes_rate_unit(peak_bytes_per_second: float | None) -> tuple[float, str]:
    """(divisor, unit): KiB/s until a series peaks at 1 MiB/s, then MiB/s, so a rate axis never reads in raw
    bytes. Binary units, since the divisors are powers of 1024."""
    if peak_bytes_per_second is not None and peak_bytes_per_second >= BYTES_PER_KB**2:
        return float(BYTES_PER_KB**2), "MiB/s"
    return float(BYTES_PER_KB), "KiB/s"


SIMILARITY_TOP = 1.05  # room above 1 for a line at the top
SIMILARITY_PAD = 0.05


def similarity_range(frame: pd.DataFrame, columns: Iterable[str]) -> tuple[float, float]:
    """A y range for 0-1 shares and cosine similarities: from 0, or from a little under the lowest value where
    one comes that close to 0 (a cosine similarity can be negative), to just above 1."""
    present = [column for column in columns if column in frame]
    lowest = pd.to_numeric(frame[present].min(), errors="coerce").min() if present and not frame.empty else None
    if lowest is None or pd.isna(lowest):
        return 0.0, SIMILARITY_TOP
    return min(0.0, float(lowest) - SIMILARITY_PAD), SIMILARITY_TOP


def rule_limits(rules: Iterable[Any], metric: str, *, unit: str = "",
                level_names: Mapping[str, str] | None = None) -> list[tuple[float, str, str]]:
    """The fixed alert limits on one metric as time_series thresholds, so a chart shows what the alerts judge.

    `rules` are alert rules, duck-typed: threshold rules have kind, metric, op, fire and level. Labels read
    "warning > 85 %"; `level_names` words the level in the page's language.
    """
    names = level_names or {}
    return [(float(rule.fire), rule.level, f"{names.get(rule.level, rule.level)} {rule.op} {rule.fire:g}{unit}")
            for rule in rules if getattr(rule, "kind", None) == "threshold" and rule.metric == metric]


def limits_in_reach(thresholds: Sequence[tuple[float, str, str]], values: Iterable[float | None],
                    factor: float = 2.0) -> list[tuple[float, str, str]]:
    """The limits the data comes within `factor` of. Plotly's autorange takes in every line, so a 3 s limit
    over 0.1 s latencies would press the series flat against the floor; a far-off limit is not news anyway."""
    finite = [float(v) for v in values if v is not None and abs(float(v)) < float("inf")]  # NaN fails `<` too
    if not finite:
        return []
    low, high = min(finite), max(finite)
    return [line for line in thresholds if low / factor <= line[0] <= high * factor]


def level_bar_colors(values: Sequence[float], limits: Sequence[tuple[float, str, str]]) -> list[str]:
    """A bar takes the color of the worst upper limit it passes (critical over warning), else the series color."""
    ranked = sorted(limits, key=lambda line: line[1] == "critical", reverse=True)
    colors = []
    for value in values:
        passed = next((level for limit, level, _ in ranked if value >= limit), None)
        colors.append(LEVEL_COLORS[passed] if passed else SERIES_COLORS[0])
    return colors


def add_limit_lines(fig: go.Figure, thresholds: Sequence[tuple[float, str, str]]) -> go.Figure:
    """Threshold lines (value, level, label) as layout shapes in one update, each labelled just above it: a tenth
    of add_hline's cost (it re-walks the axes for every line, about 4 ms each), which adds up on a page that
    redraws a dozen charts every refresh. Labels alternate left and right in order of value, so two close limits
    (memory's warning at 80 % and critical at 90 %) do not print over each other."""
    if not thresholds:
        return fig
    ordered = sorted(thresholds, key=lambda line: line[0])
    fig.update_layout(
        shapes=[*fig.layout.shapes, *(dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=value, y1=value,
                                           line=dict(color=LEVEL_COLORS.get(level, "#9e9e9e"), dash="dash", width=1))
                                      for value, level, _ in ordered)],
        annotations=[*fig.layout.annotations, *(dict(xref="x domain", x=index % 2, yref="y", y=value, text=label,
                                                     showarrow=False, xanchor="right" if index % 2 else "left",
                                                     yanchor="bottom")
                                                for index, (value, _, label) in enumerate(ordered))])
    return fig


def binned_bars(bins: pd.DataFrame, *, title: str | None = None, x_title: str | None = None,
                y_title: str | None = None, height: int = 280, integer: bool = False) -> go.Figure:
    """A histogram already binned on the server (bin_start, bin_end, count): a week of requests sends 30 bars
    to the browser rather than every value, and whole-number data can keep whole-number bins."""
    fig = go.Figure(go.Bar(x=((bins["bin_start"] + bins["bin_end"]) / 2).tolist(), y=bins["count"].tolist(),
                           width=(bins["bin_end"] - bins["bin_start"]).tolist(), marker_color=SERIES_COLORS[0],
                           customdata=bins[["bin_start", "bin_end"]].values.tolist(),
                           hovertemplate="%{customdata[0]:,.4~g} – %{customdata[1]:,.4~g}: %{y}<extra></extra>"))
    fig.update_layout(bargap=0.05, xaxis_title=x_title)
    if not bins.empty and bins["count"].max() <= 8:  # small counts: whole-number ticks, not 0.5 requests
        fig.update_yaxes(dtick=1)
    if integer and not bins.empty and bins["bin_end"].max() - bins["bin_start"].min() <= 12:
        fig.update_xaxes(dtick=1)  # a few token counts: ticks on whole tokens, not at 14.8 and 15.2
    return _layout(fig, title, y_title, height)
