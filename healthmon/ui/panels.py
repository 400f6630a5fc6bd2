"""What the System, Model and Analysis pages share: one history read per layer, charts with their CSV,
and a note that says what is missing wherever a chart would be blank.

The chart data these draw is shaped without Streamlit in healthmon.ui.shaping.series (frames in, frames out).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from healthmon import charts
from healthmon.monitor import Monitor
from healthmon.ui import zoom
from healthmon.ui.format import escape_markdown
from healthmon.ui.i18n import translator
from healthmon.ui.shaping.series import (
    BAND_HIGH,
    BAND_LOW,
    break_gaps,
    histogram_bins,
    legend_rows,
    present,
    with_band,
)
from healthmon.ui.slots import LatestSlotCache
from healthmon.ui.state import (
    MAX_POINTS,
    download_csv,
    empty_state,
    refresh_seconds,
    request_zoom,
    window_bounds,
    window_is_live,
)

t = translator("panels")
SPARSE_POINTS = 60  # below this many points a line gets markers, so a lone measurement is not invisible
LEGEND_ROOM_PX = 64  # top margin for a title with the legend on its own row beneath it
LEGEND_ROW_EXTRA_PX = 22  # and for each further row a long legend wraps onto, so it never covers the title
MIN_X_SPAN_SECONDS = 60.0
# A redraw remounts the chart and drops a drag in progress: charts of short windows (a point every 1-2 s)
# redraw at most this often, so a drag to zoom has time to finish. Tiles keep the collection interval.
MIN_CHART_REFRESH_SECONDS = 5.0


def chart_refresh_seconds(m: Monitor, max_points: int = MAX_POINTS) -> float | None:
    """How often history charts refresh: no faster than the window gains a point (43 s for 24 h in 2,000
    points), nor than every MIN_CHART_REFRESH_SECONDS; None while paused or zoomed into the past. Live tiles
    keep refresh_seconds."""
    live = refresh_seconds(m)
    if live is None or not window_is_live():  # a zoom into the past does not change
        return None
    since, until = window_bounds(m)
    return max(live, MIN_CHART_REFRESH_SECONDS, (until - since) / max_points)


def refresh_note(m: Monitor, max_points: int = MAX_POINTS) -> None:
    """Say how often charts redraw, and how to zoom so that a redraw keeps it (healthmon.ui.zoom)."""
    seconds = chart_refresh_seconds(m, max_points)
    if not window_is_live():
        st.caption(t("Zoomed into a fixed stretch of the past: the charts hold still. Drag again to zoom further; "
                     "reset it in the sidebar."))
    elif seconds is None:
        st.caption(t("Live refresh is paused. Drag across a time chart to zoom every chart into that stretch; "
                     "reset it in the sidebar."))
    else:
        st.caption(t("Charts redraw each time the time range gains a point (every {seconds} s). Drag across a time "
                     "chart to zoom every chart into that stretch; the zoom survives refreshes until you reset it "
                     "in the sidebar.").format(seconds=f"{seconds:.1f}" if seconds < 10 else f"{seconds:,.0f}"))


def history(m: Monitor, layer: str, columns: Sequence[str], max_points: int = MAX_POINTS) -> pd.DataFrame:
    """One layer's history in the shared window, read at most once per point width, whatever a page draws.

    A chart of the window in max_points points cannot gain a point faster than one every window/max_points
    seconds (1.8 s for 1 h in 2,000 points, 43 s for 24 h), so refreshes within that slot reuse one frame,
    shared by every session (a LatestSlotCache: only the newest slot's frame is kept). Besides sparing the
    store (a 24 h read is 50-110 ms a layer), an unchanged frame makes an unchanged figure, and Streamlit 1.67
    remounts a plotly_chart whose figure changed (its element id hashes the spec): fewer remounts, less flicker.
    """
    since, until = window_bounds(m)
    point_seconds = (until - since) / max_points
    fixed_until = None if window_is_live() else until  # a zoom into the past: its own key, one slot forever
    key = (layer, tuple(columns), round(until - since, 3), max_points, fixed_until)

    def read() -> pd.DataFrame:
        end = m.clock() if fixed_until is None else fixed_until  # a live slot ends when it is first read
        return m.store.frame(layer, end - (until - since), end, max_points, list(columns))

    # A copy: sessions share the cached frame, and a page may add columns to what it gets (0.1 ms for 24 h).
    return history_cache(m).get(key, int(until // point_seconds), read).copy()


_CACHES: weakref.WeakKeyDictionary[Monitor, LatestSlotCache[pd.DataFrame]] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def history_cache(m: Monitor) -> LatestSlotCache[pd.DataFrame]:
    """The Monitor's frame cache, shared by every session; a new Monitor (another data dir) starts empty."""
    with _CACHES_LOCK:
        cache = _CACHES.get(m)
        if cache is None:
            cache = _CACHES[m] = LatestSlotCache(max_keys=64)
        return cache


def limits(m: Monitor, metric: str, unit: str = "") -> list[tuple[float, str, str]]:
    """The fixed limits on a metric of the rules the Monitor runs (HEALTHMON_RULES_FILE's, when set), labelled
    in the page's language."""
    return charts.rule_limits(m.alerts.engine.rules, metric, unit=unit,
                              level_names={level: t(level) for level in ("warning", "critical")})


def plot(fig: go.Figure, key: str, zoomable: bool = False) -> None:
    """Every chart the same way: the app's theme, full width, and a stable key so it keeps its place.
    A zoomable (time) chart takes a dragged box as the zoom of every chart (see healthmon.ui.zoom)."""
    if not zoomable:
        st.plotly_chart(fig, key=key, theme="streamlit", width="stretch")
        return

    def selected() -> None:
        # A callback, not the returned event: it reads the selection of the chart the user dragged on, while
        # the rerun may draw a new figure (a new point arrived), whose fresh widget state holds no selection.
        box = zoom.selected_range(st.session_state.get(key))
        if box is not None:
            request_zoom(box)

    st.plotly_chart(fig, key=key, theme="streamlit", width="stretch", on_select=selected, selection_mode="box")


def trend(frame: pd.DataFrame, series: Mapping[str, str], name: str, *, title: str, y_title: str, missing: str,
          thresholds: Sequence[tuple[float, str, str]] = (), y_range: tuple[float, float] | None = None,
          scale: float = 1.0, height: int = 280, connect: bool = False,
          baseline: tuple[pd.DataFrame, str] | tuple[pd.DataFrame, str, str] | None = None) -> None:
    """A time series of the columns that have data, with its CSV; `missing` says why there is none instead.

    `scale` divides the values for display (bytes/s shown as KiB/s); the CSV keeps the stored units, which
    its column names carry. Rows where every shown column is empty are dropped. Sampled series break where
    sampling stopped (monitor stopped, app restarted) rather than drawing a line through the outage;
    `connect` joins the points instead, for metrics measured only when a request completes. `baseline` is
    (the baseline layer's history, metric[, the column that charts it, if not named after it]): the learned
    normal band of that metric's baseline rule, shaded as it stood at each point, where the rule has one.
    """
    columns = present(frame, list(series))
    if not columns:
        empty_state(missing)
        return
    shown = frame[["ts", *columns]].dropna(subset=columns, how="all")
    if baseline is not None:
        shown = with_band(shown, baseline[0], baseline[1])
    drawn = shown if scale == 1.0 else shown.assign(**{column: shown[column] / scale for column in columns})
    drawn = drawn if connect else break_gaps(drawn)
    band = None
    if baseline is not None and BAND_LOW in drawn:
        column = baseline[-1]
        label = t("learned normal") + (f": {series[column]}" if len(columns) > 1 and column in series else "")
        band = (drawn[BAND_LOW] / scale, drawn[BAND_HIGH] / scale, label)
    fig = charts.time_series(drawn, {column: series[column] for column in columns},
                             title=title, y_title=y_title, y_range=y_range, height=height, band=band)
    charts.add_limit_lines(fig, thresholds)
    fig.update_traces(connectgaps=connect)
    if len(shown) < SPARSE_POINTS:
        fig.update_traces(mode="lines+markers", marker=dict(size=5),
                          selector=lambda trace: trace.legendgroup != charts.BAND_GROUP)
    first_ts, last_ts = float(shown["ts"].min()), float(shown["ts"].max())
    if last_ts - first_ts < MIN_X_SPAN_SECONDS:  # one or two points: a minute around them, not a microsecond axis
        middle = (first_ts + last_ts) / 2
        fig.update_xaxes(range=[(middle - MIN_X_SPAN_SECONDS / 2) * 1000, (middle + MIN_X_SPAN_SECONDS / 2) * 1000])
    if len(columns) > 1 or band is not None:  # the legend gets its own row under the title, so neither hides the other
        labels = [series[column] for column in columns] + ([band[2]] if band is not None else [])
        fig.update_layout(margin_t=LEGEND_ROOM_PX + LEGEND_ROW_EXTRA_PX * (legend_rows(labels) - 1),
                          title=dict(yref="container", y=1.0, yanchor="top", pad_t=8),
                          legend=dict(y=1.02, yanchor="bottom"))
    fig.update_xaxes(title_text=t("time (UTC)"))
    plot(fig, f"chart-{name}", zoomable=True)
    download_csv(shown if band is None or baseline is None else shown.rename(columns={
        BAND_LOW: f"{baseline[1]}_baseline_low", BAND_HIGH: f"{baseline[1]}_baseline_high"}), name)


def distribution(values: pd.Series, name: str, *, title: str, x_title: str, missing: str,
                 integer: bool = False) -> None:
    """A histogram of one request column, binned on the server, with its bins as CSV; `missing` when empty."""
    bins = histogram_bins(values, integer=integer)
    if bins.empty:
        empty_state(missing)
        return
    plot(charts.binned_bars(bins, title=title, x_title=x_title, y_title=t("requests"), integer=integer),
         f"chart-{name}")
    download_csv(bins, name)


def facts(pairs: Mapping[str, object], columns: int = 3) -> None:
    """Label/value facts in a grid, values in bold under their label: names like Qwen2ForCausalLM fit where a
    metric's large type would cut them off, and text from a model's config or a model source is never read as
    Markdown (escape_markdown)."""
    cols = st.columns(columns)
    for index, (label, value) in enumerate(pairs.items()):
        text = "—" if value is None else escape_markdown(value)
        cols[index % columns].markdown(f"{label}  \n**{text}**")
