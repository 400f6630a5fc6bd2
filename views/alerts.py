"""Alerts: open and past alerts in the shared window, filters, acknowledge and silence, and the rules watched."""

from collections.abc import Iterable, Mapping
from datetime import tzinfo
from typing import Any

import streamlit as st

from healthmon.ui.format import escape_markdown, local_time
from healthmon.ui.i18n import translator
from healthmon.ui.shaping.alerts import (
    OPEN_STATES,
    alert_layer,
    alert_message,
    alerts_frame,
    filter_alerts,
    layer_options,
    level_css,
    rules_frame,
    silence_matchers,
)
from healthmon.ui.state import download_csv, empty_state, monitor, refresh_seconds, window_bounds
from healthmon.ui.widgets import level_badge, viewer_timezone, watched_rules

t = translator("alerts")
m = monitor()
LEVELS = ("critical", "warning")
SILENCE_SECONDS = {"15 min": 900, "1 h": 3600, "4 h": 4 * 3600, "24 h": 86400}


def headers(columns: Iterable[str]) -> dict[str, str]:
    """Table headers in the viewer's language: the column names are the English words."""
    return {column: t(column.replace("_", " ")) for column in columns}


def acknowledge(alert_id: str) -> None:
    """A callback: it runs before the fragment redraws, so the list already shows the acknowledgement."""
    if m.alerts.acknowledge(alert_id):
        st.toast(f"{t('Acknowledged:')} {escape_markdown(alert_id)}", icon=":material/check:")
    else:
        st.toast(t("This alert is no longer open."), icon=":material/info:")


def silence() -> None:
    matcher = st.session_state["alerts-silence-matcher"]
    until = m.alerts.silence(matcher, SILENCE_SECONDS[st.session_state["alerts-silence-duration"]])
    st.toast(f"{t('Silenced')} {escape_markdown(matcher)} {t('until')} {local_time(until, viewer_timezone())}",
             icon=":material/notifications_off:")


def alert_card(alert: Mapping[str, Any], zone: tzinfo) -> None:
    with st.container(border=True):
        badge, body, action = st.columns([1.2, 6.3, 2.5], vertical_alignment="center")
        with badge:
            level_badge(alert["level"])
        with body:
            st.text(alert_message(alert, t) or alert["rule"])
            details = [t(alert["state"]), t(alert_layer(alert["metric"])), t(alert["kind"]), alert["rule"],
                       f"{t('started')} {local_time(alert['started_at'], zone)}"]
            if alert.get("silenced_until"):
                details.append(f"{t('silenced until')} {local_time(alert['silenced_until'], zone)}")
            st.caption(" · ".join(escape_markdown(detail) for detail in details))
        acknowledged = bool(alert.get("acknowledged"))
        action.button(t("Acknowledged") if acknowledged else t("Acknowledge"), key=f"alerts-ack-{alert['id']}",
                      on_click=acknowledge, args=(alert["id"],), disabled=acknowledged,
                      icon=":material/done_all:" if acknowledged else ":material/check:")


st.title(t("Alerts"))


@st.fragment(run_every=refresh_seconds(m))
def live_alerts() -> None:
    alerts = m.alerts.view(window_bounds(m)[0])
    if not alerts:
        empty_state(t("No alerts in this window. The rules below are being watched."))
        return
    zone = viewer_timezone()
    left, right = st.columns(2)
    levels = left.pills(t("Level"), LEVELS, selection_mode="multi", default=LEVELS, format_func=t,
                        key="alerts-levels", persist_state="session")
    choices = layer_options(alerts)
    layers = right.pills(t("Layer"), choices, selection_mode="multi", default=choices, format_func=t,
                         key="alerts-layers", persist_state="session")
    shown = filter_alerts(alerts, levels, layers)

    st.subheader(t("Open alerts"))
    open_alerts = [a for a in shown if a["state"] in OPEN_STATES]
    for alert in open_alerts:
        alert_card(alert, zone)
    if not open_alerts:
        st.caption(t("No open alerts match the filters."))

    st.subheader(t("All alerts in this window"))
    if not shown:
        st.caption(t("No alerts match the filters."))
        return
    frame = alerts_frame(shown, zone, t)
    words = frame.assign(**{column: frame[column].map(t) for column in ("level", "layer", "kind", "state")})
    st.dataframe(words.style.apply(lambda _: level_css(frame["level"]), subset=["level"]), hide_index=True,
                 key="alerts-table", placeholder="—", column_config=headers(frame.columns))
    download_csv(frame, "alerts")


live_alerts()

st.subheader(t("Silence alerts"))
rules = watched_rules(m)
metrics = {rule.metric for rule in rules}
with st.container(border=True):
    matcher_col, duration_col, button_col = st.columns([4, 2, 2], vertical_alignment="bottom")
    matcher_col.selectbox(t("Rule or metric"), silence_matchers(rules), key="alerts-silence-matcher",
                          format_func=lambda name: f"{t('metric') if name in metrics else t('rule')}: {name}")
    duration_col.selectbox(t("For"), list(SILENCE_SECONDS), index=1, key="alerts-silence-duration")
    button_col.button(t("Silence"), key="alerts-silence", on_click=silence, icon=":material/notifications_off:")
    st.caption(t("Silenced alerts stay listed here but are not counted as active and send no notifications."))

st.subheader(t("Rules being watched"))
rule_rows = rules_frame(rules, t)
rule_words = rule_rows.assign(**{column: rule_rows[column].map(t) for column in ("kind", "layer", "level")})
st.dataframe(rule_words.style.apply(lambda _: level_css(rule_rows["level"]), subset=["level"]), hide_index=True,
             height="content", key="alerts-rules", column_config=headers(rule_rows.columns)
             | {"reason": st.column_config.TextColumn(t("reason"), width="large")})
