"""Overview: health status, score gauges and breakdown, model state, active alerts, and trend tiles, live."""

import pandas as pd
import streamlit as st

from healthmon import charts, payloads
from healthmon.analysis.messages import render
from healthmon.analysis.score import SCORE_BANDS
from healthmon.target import ModelStatus
from healthmon.ui.format import escape_markdown, fmt, fmt_duration_hours
from healthmon.ui.i18n import translator
from healthmon.ui.metric_text import metric_help, metric_label
from healthmon.ui.shaping.overview import breakdown_table, sparkline_range
from healthmon.ui.state import empty_state, layer_frame, monitor, refresh_seconds
from healthmon.ui.tiles import Tile, tile_figures
from healthmon.ui.widgets import model_caption

t = translator("overview")

TILES = (
    Tile.of("cpu_usage"), Tile.of("memory_usage"), Tile.of("gpu_memory_usage"),
    Tile.of("latency_p95_seconds", 0, unit=" ms", scale=1000), Tile.of("ttft_p95_seconds", 0, unit=" ms", scale=1000),
    Tile.of("window_tokens_per_second", unit=""), Tile.of("failure_percent"),
)
SLO_TILES = (  # the SLO at a glance: attainment and budget over the compliance window, how fast it burns now
    Tile.of("slo_attainment_ratio", 2, unit=" %", scale=100), Tile.of("slo_error_budget_remaining_ratio", 0,
                                                                        unit=" %", scale=100),
    Tile.of("slo_burn_rate_1h", 2), Tile.of("slo_goodput_requests_per_second", 2),
)
SCORE_STEPS = SCORE_BANDS

m = monitor()
st.title(t("Overview"))


def status_header(status: dict) -> None:
    level = status["status"]
    color = charts.LEVEL_COLORS.get(level, charts.LEVEL_COLORS["no_data"])
    label = t(level.replace("_", " "))
    st.markdown(f"<span style='background:{color};color:white;padding:0.3rem 0.9rem;border-radius:1rem;"
                f"font-weight:600;font-size:1.1rem'>{t('Health status')}: {label.upper()}</span>",
                unsafe_allow_html=True)  # fixed words and colors only; no user or model text here
    info = m.target.info()
    cols = st.columns(4)
    cols[0].metric(t("Service uptime"), fmt_duration_hours(status["service_uptime_hours"]))
    cols[1].metric(t("Model"), t(info.status.value.replace("_", " ")), help=escape_markdown(info.name))
    cols[2].metric(t("Active alerts"), status["active_alerts"])
    cols[3].metric(t("Monitoring"), t("running") if status["monitoring"] else t("stopped"))
    model_caption(info)
    if info.is_demo:
        st.caption(t("Built-in demo model: a tiny offline model for trying healthmon, not a real LLM."))
    if info.status is ModelStatus.LOADING:
        progress = info.progress
        st.progress(min(1.0, (progress.fraction if progress else None) or 0.0),
                    text=f"{t('Loading')} {escape_markdown(info.name)}: "
                         f"{escape_markdown((progress.message if progress else None) or '…')}")
    elif info.status is ModelStatus.ERROR:
        st.error(f"{t('The model failed to load')}: {escape_markdown(info.error or '')}. "
                 f"{t('System monitoring goes on. Retry from Settings.')}")


def gauges(status: dict) -> None:
    system = status["latest_system"]
    gpu = system.get("gpu_info", {}) if system else {}
    cols = st.columns(4)
    cols[0].plotly_chart(charts.gauge(status["performance_score"], t("Performance score"), unit="",
                                      steps=SCORE_STEPS), key="gauge-score", theme="streamlit")
    cols[1].plotly_chart(charts.gauge(system.get("cpu_usage"), t("CPU")), key="gauge-cpu", theme="streamlit")
    cols[2].plotly_chart(charts.gauge(system.get("memory_usage"), t("Memory"),
                                      steps=((0, 80, "healthy"), (80, 90, "warning"), (90, 100, "critical"))),
                         key="gauge-memory", theme="streamlit")
    if gpu.get("gpu_available"):
        cols[3].plotly_chart(charts.gauge(gpu.get("gpu_memory_usage"), t("GPU memory"),
                                          steps=((0, 85, "healthy"), (85, 95, "warning"), (95, 100, "critical"))),
                             key="gauge-gpu", theme="streamlit")
    else:
        cols[3].metric(t("GPU memory"), t("no GPU"), help=escape_markdown(gpu.get("reason") or ""))


def breakdown(status: dict) -> None:
    components = status["score_components"]
    if not components:
        st.caption(t("The first collection cycle has not run yet."))
        return
    st.dataframe(breakdown_table(components, t), hide_index=True, width="stretch")


def alerts_list() -> None:
    active = m.alerts.active()
    if not active:
        st.caption(t("No active alerts."))
        return
    for alert in active:  # worst first, as the engine orders them
        icon = ":material/error:" if alert.level == "critical" else ":material/warning:"
        text = render(alert.worded(), t)  # in the page's language; the stored English is the webhook's
        (st.error if alert.level == "critical" else st.warning)(escape_markdown(text), icon=icon)


def tile_row(tiles: tuple[Tile, ...]) -> None:
    frames = {layer: layer_frame(m, layer) for layer in {tile.layer for tile in tiles}}
    cols = st.columns(len(tiles))
    for col, tile in zip(cols, tiles, strict=False):
        latest, change = tile_figures(frames[tile.layer], tile)
        with col:
            st.metric(metric_label(tile.column), fmt(latest, tile.unit, tile.digits),
                      delta=None if change is None else fmt(change, tile.unit, tile.digits),
                      delta_color="inverse" if tile.higher_is_worse else "normal",
                      help=f"{metric_help(tile.column)} {t('The arrow: change over the window.')}")
            spark = charts.sparkline(frames[tile.layer], tile.column)
            y_range = sparkline_range(frames[tile.layer].get(tile.column, pd.Series(dtype="float64")))
            if y_range is not None:
                spark.update_yaxes(range=list(y_range))
            st.plotly_chart(spark, key=f"spark-{tile.column}", theme="streamlit", config={"displayModeBar": False})


def trend_tiles(status: dict) -> None:
    tile_row(TILES)
    if status["request_stats"]["total_requests"] == 0:
        empty_state(t("No requests yet: the service tiles fill in after the first generation."),
                    link_page="views/generate.py", link_label=t("Open Generate"))


@st.fragment(run_every=refresh_seconds(m))
def live_overview() -> None:
    status = payloads.status_payload(m)
    status_header(status)
    gauges(status)
    left, right = st.columns([3, 2])
    with left:
        st.subheader(t("Score breakdown"))
        breakdown(status)
    with right:
        st.subheader(t("Active alerts"))
        alerts_list()
    st.subheader(t("Trends"))
    trend_tiles(status)
    st.subheader(t("Service level"))
    slo_tiles()


def slo_tiles() -> None:
    objectives = m.slo.objectives
    set_ = [f"{t(name)} ≤ {value:g} s" for name, value in objectives.latency_objectives().items() if value is not None]
    st.caption(f"{t('Objective')}: {objectives.objective * 100:g}% {t('of user requests succeed within')} "
               f"{', '.join(set_)} · {t('compliance window')} {objectives.compliance_window}")
    tile_row(SLO_TILES)


live_overview()
