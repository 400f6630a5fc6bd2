"""The pages' handle on the Monitor, and settings shared across pages (window, refresh, pause)."""

from __future__ import annotations

import streamlit as st

from healthmon.monitor import Monitor, get_monitor

WINDOWS = ("15m", "1h", "6h", "24h", "7d")
LEVEL_COLORS = {"healthy": "#2e7d32", "warning": "#ef6c00", "critical": "#c62828", "no_data": "#757575"}


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
    """The shared window and pause toggle; widget keys keep them across pages and refreshes."""
    with st.sidebar:
        st.selectbox("Time window", WINDOWS, index=1, key="window")
        st.toggle("Pause live refresh", key="paused")
