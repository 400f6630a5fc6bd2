"""The pages' handle on the Monitor, and what every page shares: window, refresh, downloads, empty states."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from healthmon.monitor import Monitor
from healthmon.registry import get_monitor
from healthmon.store.frames import window_seconds
from healthmon.ui import zoom
from healthmon.ui.i18n import LANGUAGES, translator

WINDOWS = ("15m", "1h", "6h", "24h", "7d")
MAX_POINTS = 2000  # per trace: the browser stays fast and Plotly stays under its WebGL budget
t = translator("state")


@st.cache_resource(show_spinner="Starting the monitor…")
def monitor() -> Monitor:
    """Every session and rerun gets the process's one Monitor (get_monitor guards the thread count).

    No on_release: clearing Streamlit's cache must not stop a monitor that the REST API also serves;
    the server's lifespan closes it at shutdown.
    """
    return get_monitor()


def refresh_seconds(m: Monitor) -> float | None:
    """Live panels refresh at the collection interval (at least 1 s), or not at all while paused."""
    if st.session_state.get("paused", False):
        return None
    return max(1.0, m.settings.interval)


def sidebar_controls(m: Monitor) -> None:
    """Rendered by the entry file on every page, so the widgets (and their keys) persist across pages."""
    st.session_state.setdefault("lang", "en")
    with st.sidebar:
        st.selectbox(t("Time window"), WINDOWS, index=1, key="window", on_change=reset_zoom)
        zoom_control(m)
        st.toggle(t("Pause live refresh"), key="paused")


def zoom_control(m: Monitor) -> None:
    """What the zoom is, and the button that undoes it; nothing while the whole window shows."""
    since, until = window_bounds(m)  # applies a zoom dragged on the previous run first
    current = st.session_state.get("zoom")
    if current is None:
        return
    if current.live:
        st.caption(t("Zoomed in: the last {span} (live)").format(span=span_text(current.seconds)))
    else:
        now = m.clock()
        st.caption(t("Zoomed in: {start} – {end} UTC ({span})").format(
            start=clock_text(since, current.seconds, now), end=clock_text(until, current.seconds, now),
            span=span_text(current.seconds)))
    st.button(t("Reset zoom"), key="reset-zoom", on_click=reset_zoom, icon=":material/zoom_out:")


def span_text(seconds: float) -> str:
    if seconds < 120:
        return t("{n:.0f} s").format(n=seconds)
    if seconds < 2 * 3600:
        return t("{n:.0f} min").format(n=seconds / 60)
    return t("{n:.1f} h").format(n=seconds / 3600)


def clock_text(ts: float, span_seconds: float, now: float) -> str:
    """UTC time of day, with the date where the zoom spans days or lies more than a day back."""
    stamp = pd.Timestamp(ts, unit="s", tz="UTC")
    if span_seconds >= 86_400:
        return stamp.strftime("%Y-%m-%d %H:%M")
    return stamp.strftime("%H:%M:%S" if now - ts < 86_400 else "%Y-%m-%d %H:%M:%S")


def reset_zoom() -> None:
    st.session_state.pop("zoom", None)
    st.session_state.pop("zoom_request", None)


def request_zoom(x_range: tuple) -> None:
    """A chart's box selection, from its on_select callback: the next window_bounds applies it, then reruns the
    whole app (the callback's own rerun is the chart's fragment only) so the sidebar and every chart follow."""
    st.session_state["zoom_request"] = tuple(x_range)
    st.session_state["zoom_rerun"] = True


def language_selector() -> None:
    """The language switch; a plain session key (not the widget's) keeps the choice on every page."""
    def apply() -> None:
        st.session_state["lang"] = st.session_state["lang_choice"]

    current = st.session_state.get("lang", "en")
    st.radio(t("Language"), list(LANGUAGES), index=list(LANGUAGES).index(current), format_func=LANGUAGES.get,
             key="lang_choice", horizontal=True, on_change=apply)


def window_bounds(m: Monitor) -> tuple[float, float]:
    """The time range every chart and tile shows: the sidebar's window ending now, or the zoom dragged into it."""
    now = m.clock()
    window = (now - window_seconds(st.session_state.get("window", "1h")), now)
    current = st.session_state.get("zoom")
    shown = current.bounds(now) if current is not None else window
    request = st.session_state.pop("zoom_request", None)
    if request is not None:
        wanted = zoom.zoom_from_box(request, *shown)
        if wanted is not None:
            st.session_state["zoom"] = current = wanted
            shown = current.bounds(now)
        if st.session_state.pop("zoom_rerun", False):
            st.rerun()  # app scope, also from inside a fragment
    return shown


def window_is_live() -> bool:
    """Whether the time range ends now (and moves on), rather than being a fixed zoom into the past."""
    current = st.session_state.get("zoom")
    return current is None or current.live


def layer_frame(m: Monitor, layer: str, columns: list[str] | None = None) -> pd.DataFrame:
    """One layer's history in the shared window, downsampled on the server to MAX_POINTS rows."""
    since, until = window_bounds(m)
    return m.store.frame(layer, since, until, MAX_POINTS, columns)


def download_csv(frame: pd.DataFrame, name: str) -> None:
    """What the chart shows, as CSV with ISO 8601 UTC times; built on click, not on every refresh."""
    def build() -> bytes:
        out = frame.copy()
        if "ts" in out:
            out.insert(0, "timestamp", pd.to_datetime(out.pop("ts"), unit="s", utc=True).map(lambda v: v.isoformat()))
        return out.to_csv(index=False).encode("utf-8")

    st.download_button(t("Download CSV"), build, file_name=f"healthmon-{name}.csv", mime="text/csv",
                       key=f"download-{name}", disabled=frame.empty, on_click="ignore")


def empty_state(message: str, *, link_page: str | None = None, link_label: str | None = None) -> None:
    """Say what is missing and what to do, instead of a blank chart."""
    st.info(message, icon=":material/info:")
    if link_page:
        st.page_link(link_page, label=link_label or link_page)
