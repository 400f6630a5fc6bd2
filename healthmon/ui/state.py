"""The pages' handle on the Monitor, and what every page shares: window, refresh, downloads, empty states."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from healthmon.monitor import Monitor, get_monitor
from healthmon.store.frames import window_seconds
from healthmon.ui.i18n import LANGUAGES, translator

WINDOWS = ("15m", "1h", "6h", "24h", "7d")
MAX_POINTS = 2000  # per trace: the browser stays fast and Plotly stays under its WebGL budget
t = translator()


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


def sidebar_controls() -> None:
    """Rendered by the entry file on every page, so the widgets (and their keys) persist across pages."""
    st.session_state.setdefault("lang", "en")
    with st.sidebar:
        st.selectbox(t("Time window"), WINDOWS, index=1, key="window")
        st.toggle(t("Pause live refresh"), key="paused")


def language_selector() -> None:
    """The language switch; a plain session key (not the widget's) keeps the choice on every page."""
    def apply() -> None:
        st.session_state["lang"] = st.session_state["lang_choice"]

    current = st.session_state.get("lang", "en")
    st.radio(t("Language"), list(LANGUAGES), index=list(LANGUAGES).index(current), format_func=LANGUAGES.get,
             key="lang_choice", horizontal=True, on_change=apply)


def window_bounds(m: Monitor) -> tuple[float, float]:
    until = m.clock()
    return until - window_seconds(st.session_state.get("window", "1h")), until


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
