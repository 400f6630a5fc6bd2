"""What the Alerts, Traces, Generate and Settings pages share that calls Streamlit: the viewer's time zone, level
badges, a live table's selection, and the request view. Their tables and texts are shaped in
healthmon.ui.shaping (alerts, traces, request, settings).

Prompts, model output and error texts go through st.code or st.text only (show_text), never Markdown or HTML: a
model can be talked into printing `<script>` or a Markdown image link, and the page must show those characters,
not act on them. Where such text must sit in a Markdown element (a caption, a metric, an alert box), it goes
through format.escape_markdown first.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from healthmon.analysis.rules import Rule
from healthmon.charts import LEVEL_COLORS, waterfall
from healthmon.monitor import Monitor
from healthmon.target_info import TargetInfo
from healthmon.ui.format import NO_DATA, escape_markdown, fmt, fmt_seconds
from healthmon.ui.i18n import translator
from healthmon.ui.shaping.request import quality_facts, quality_notes
from healthmon.ui.shaping.traces import reselect_rows, selected_id

t = translator("widgets")


# ---- time -------------------------------------------------------------------------------------------------
def viewer_timezone() -> tzinfo:
    """The browser's zone when it reported one, else the server's: times should read as the viewer's clock."""
    name = st.context.timezone
    if name:
        try:
            return ZoneInfo(name)
        except ZoneInfoNotFoundError:
            pass  # a zone this server's tzdata does not know: the server's own zone is the next best
    return datetime.now().astimezone().tzinfo or UTC


# ---- alerts -----------------------------------------------------------------------------------------------
def level_badge(level: str) -> None:
    """A pill in the level's one color (LEVEL_COLORS); the text is escaped, so only the color is HTML."""
    color = LEVEL_COLORS.get(level, LEVEL_COLORS["no_data"])
    st.markdown(f"<span style='background:{color};color:white;padding:0.15rem 0.6rem;border-radius:1rem;"
                f"font-weight:600;font-size:0.85rem;white-space:nowrap'>{html.escape(t(level))}</span>",
                unsafe_allow_html=True)


def watched_rules(m: Monitor) -> list[Rule]:
    """The rules the monitor's engine evaluates."""
    return m.alerts.engine.rules


# ---- requests ---------------------------------------------------------------------------------------------
def keep_selection(table_key: str, row_ids: list[str]) -> str | None:
    """Call before rendering a live single-row table: a row selection is a position, and every refresh that
    adds a request shifts the rows, so follow the selected request by its id and move the selection with it."""
    ids_key = f"{table_key}-row-ids"
    state = st.session_state.get(table_key)
    rows = list(state["selection"]["rows"]) if state else []
    wanted = reselect_rows(row_ids, selected_id(st.session_state.get(ids_key, []), rows))
    if wanted != rows:
        st.session_state[table_key] = {"selection": {"rows": wanted, "columns": [], "cells": []}}
    st.session_state[ids_key] = row_ids
    return row_ids[wanted[0]] if wanted else None


def show_text(text: str | None) -> None:
    """Model text or a prompt, verbatim and inert (see the module docstring)."""
    st.code(text if text else t("(empty)"), language=None, wrap_lines=True)


def show_request(record: Mapping[str, Any], key: str) -> None:
    """One request's record: its figures, spans waterfall, parameters, and its prompt and response as text."""
    cols = st.columns(7)
    cols[0].metric(t("Status"), t(record["status"]))
    cols[1].metric(t("Latency"), fmt_seconds(record.get("latency_seconds")))
    cols[2].metric(t("TTFT"), fmt_seconds(record.get("ttft_seconds")))
    cols[3].metric(t("Prompt tokens"), fmt(record.get("prompt_tokens"), digits=0))
    cols[4].metric(t("Output tokens"), fmt(record.get("output_tokens"), digits=0))
    cols[5].metric(t("Tokens / s"), fmt(record.get("tokens_per_second")))
    cols[6].metric(t("Finish reason"), escape_markdown(record.get("finish_reason") or NO_DATA))
    st.text(f"{t('Trace id')}: {record['trace_id']}    {t('Source')}: {record.get('source')}    "
            f"{t('Model')}: {record.get('model')}")
    if record.get("error"):
        notice = st.warning if record["status"] == "rejected" else st.error
        notice(t("The request was rejected:") if record["status"] == "rejected" else t("The request failed:"))
        show_text(record["error"])
    show_quality(record.get("quality"))
    spans = record.get("spans") or []
    st.markdown(f"**{t('Spans')}**")
    if spans:
        figure = waterfall(spans)
        figure.update_layout(xaxis_title=t("ms since the request arrived"))
        st.plotly_chart(figure, key=f"{key}-waterfall")
    else:
        st.caption(t("No spans: the request never reached the model."))
    prompt_col, response_col = st.columns(2)
    with prompt_col:
        st.markdown(f"**{t('Prompt')}**")
        show_text(record.get("prompt"))
    with response_col:
        st.markdown(f"**{t('Response')}**")
        show_text(record.get("response"))
    st.markdown(f"**{t('Parameters')}**")
    st.json(record.get("params") or {}, expanded=True)


def show_quality(quality: Mapping[str, Any] | None, columns: int = 5) -> None:
    """A request's generation quality as figures (not its raw JSON), and why a figure is missing, as plain text."""
    st.markdown(f"**{t('Quality')}**")
    if not isinstance(quality, Mapping):
        st.caption(t("No quality for this request: it is measured on successful generations only."))
        return
    facts = quality_facts(quality, t)
    for start in range(0, len(facts), columns):
        cols = st.columns(columns)
        for col, (label, value, help_text) in zip(cols, facts[start:start + columns], strict=False):
            col.metric(label, value, help=help_text)
    st.text("\n".join(quality_notes(quality, t)))  # reasons come from the scorer and may quote any error text


def model_caption(info: TargetInfo) -> None:
    """The model's name, and why it was chosen when the setting left the choice to us, as text: a model source
    is the user's and may hold Markdown."""
    reason = f" ({t(info.chosen_because)})" if info.chosen_because else ""
    st.caption(escape_markdown(f"{t('Model')}: {info.name}{reason}"))
