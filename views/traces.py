"""Traces: the requests in the shared window, and for the one selected its spans, prompt, response and parameters."""

import pandas as pd
import streamlit as st

from healthmon import charts
from healthmon.quality.metrics import FLAGS
from healthmon.ui.format import escape_markdown
from healthmon.ui.i18n import translator
from healthmon.ui.shaping.traces import requests_table
from healthmon.ui.state import download_csv, empty_state, monitor, refresh_seconds, window_bounds
from healthmon.ui.widgets import keep_selection, show_request, viewer_timezone

t = translator("traces")
m = monitor()
ROW_LIMIT = 500  # a table, not an archive: the CSV and the API reach further back
COLUMNS = ["trace_id", "ts", "source", "status", "latency_seconds", "ttft_seconds", "prompt_tokens",
           "output_tokens", "tokens_per_second", "finish_reason"]

st.title(t("Traces"))


def shown_qualities(newest: pd.DataFrame, include_probes: bool, until: float) -> dict[str, str | None]:
    """{trace_id: quality JSON} for the rows shown, in one query bounded by the oldest shown row: the window's
    older rows (a 7-day window can hold many thousands) never carry their quality text to the page."""
    rows = m.store.requests_frame(float(newest["ts"].min()), until, include_synthetic=include_probes,
                                  columns=["trace_id", "quality"])
    return dict(zip(rows["trace_id"], rows["quality"], strict=False))


@st.fragment(run_every=refresh_seconds(m))
def live_traces() -> None:
    include_probes = st.toggle(t("Include canary probes"), key="traces-include-probes", persist_state="session",
                               help=t("The monitor's own test requests, which check the model while nobody uses it."))
    flags = st.multiselect(t("Only answers flagged"), FLAGS, format_func=t, key="traces-flags",
                           persist_state="session", placeholder=t("Every request"),
                           help=t("Any of these flags; empty shows every request."))
    since, until = window_bounds(m)
    frame = m.store.requests_frame(since, until, include_synthetic=include_probes, columns=COLUMNS, flags=flags)
    if frame.empty:
        if flags:
            empty_state(t("No request in this window carries these flags."))
        else:
            empty_state(t("No requests in this window yet. Send one from the Generate page or to "
                          "POST /api/model/generate."), link_page="views/generate.py", link_label=t("Open Generate"))
        return
    newest = frame.iloc[::-1].head(ROW_LIMIT).reset_index(drop=True)
    newest["quality"] = newest["trace_id"].map(shown_qualities(newest, include_probes, until))
    table = requests_table(newest, viewer_timezone())
    selected = keep_selection("traces-table", table["trace_id"].tolist())
    st.dataframe(table, key="traces-table", on_select="rerun", selection_mode="single-row", hide_index=True,
                 placeholder="—", column_config={
                     "time": t("time"), "source": t("source"), "status": t("status"),
                     "latency_ms": st.column_config.NumberColumn(t("latency"), format="%.0f ms"),
                     "ttft_ms": st.column_config.NumberColumn(t("TTFT"), format="%.0f ms"),
                     "prompt_tokens": st.column_config.NumberColumn(t("tokens in"), format="%d"),
                     "output_tokens": st.column_config.NumberColumn(t("tokens out"), format="%d"),
                     "tokens_per_second": st.column_config.NumberColumn(t("tokens/s"), format="%.1f"),
                     "finish_reason": t("finish reason"),
                     "quality_score": st.column_config.ProgressColumn(
                         t("quality"), format="%.0f", min_value=0, max_value=100, color=charts.SERIES_COLORS[0],
                         help=t("Quality score 0-100 of each successful generation (relevance included once the "
                                "background scorer has run).")),
                     "trace_id": t("trace id")})
    if len(frame) > ROW_LIMIT:
        st.caption(f"{len(frame)} {t('requests in this window; the newest')} {ROW_LIMIT} {t('are shown.')}")
    download_csv(newest.drop(columns="quality").assign(quality_score=table["quality_score"]), "traces")
    if selected is None:
        st.caption(t("Select a request in the table to see its spans, prompt and response."))
        return
    record = m.store.get_request(selected)
    if record is not None:  # pruned by retention between the table query and this one
        st.subheader(t("Request"))
        show_request(record, key="traces-request")


def linked_trace() -> None:
    """A trace opened from a link (/traces?trace=ID, as Analysis's worst answers link to theirs), above the table."""
    trace_id = st.query_params.get("trace")
    if not trace_id:
        return
    record = m.store.get_request(trace_id) if trace_id.isalnum() and len(trace_id) <= 64 else None
    st.subheader(t("Linked request"))
    if record is None:
        st.warning(f"{t('No trace')} {escape_markdown(repr(trace_id))}", icon=":material/search_off:")  # from the URL
    else:
        show_request(record, key="traces-linked")
    if st.button(t("Close"), key="traces-linked-close", icon=":material/close:"):
        del st.query_params["trace"]
        st.rerun()


linked_trace()
live_traces()
