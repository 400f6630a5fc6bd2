"""Load test: put load on this monitor's own /v1, its remote target or a listed server, and see where it breaks.

The run belongs to the Monitor (healthmon/loadtest/service.py): leaving the page does not stop it, and only one
runs at a time. Targets are the allowed ones only (healthmon/loadtest/targets.py); the shaping is in
healthmon/ui/shaping/load_test.py.
"""

import json

import streamlit as st

from healthmon import charts
from healthmon.loadtest.service import LoadTestBusy
from healthmon.loadtest.stats import Objectives
from healthmon.loadtest.targets import build_plan, configured_targets, objectives_from, own_v1_url, parse_levels
from healthmon.ui.format import escape_markdown
from healthmon.ui.i18n import translator
from healthmon.ui.metric_text import metric_label
from healthmon.ui.shaping.load_test import (
    MONITOR_SERIES,
    error_lines,
    levels_frame,
    objectives_text,
    progress_fraction,
    progress_text,
    run_span,
    state_text,
    table_view,
    target_label,
    verdict,
)
from healthmon.ui.state import monitor

t = translator("load_test")
m = monitor()
st.title(t("Load test"))
st.caption(t("Streaming chat requests at rising concurrency, each level a closed loop: how fast the first token "
             "comes, how many requests a second meet the objectives (goodput), and the highest concurrency that "
             "keeps them (capacity)."))

own_url = own_v1_url("https" if st.get_option("server.sslCertFile") else "http",
                     st.get_option("server.address") or "", int(st.get_option("server.port")))
targets = configured_targets(m.settings, m.target, own_url)
defaults = objectives_from(m.slo.objectives)
status = m.load_test.status()

with st.form("load-test-form", border=True):
    target = st.selectbox(t("Target"), targets, format_func=lambda item: target_label(item, t), key="lt-target")
    st.caption(t("Other servers are offered only when HEALTHMON_LOAD_TEST_URLS lists them. Requests to this "
                 "monitor's own /v1 pass its API token, rate limit and queue like anyone's: refused ones count as "
                 "errors, and the load test shares this process's CPU."))
    columns = st.columns(3)
    levels_text = columns[0].text_input(t("Concurrency levels"), "1,2,4", key="lt-levels")
    requests = columns[1].number_input(t("Requests per level"), 1, 5000, 8, key="lt-requests")
    max_tokens = columns[2].number_input(t("Max tokens per answer"), 1, 4096, 32, key="lt-max-tokens")
    columns = st.columns(3)
    ttft = columns[0].number_input(t("TTFT objective (s, 0: none)"), 0.0, 600.0, defaults.ttft_seconds or 0.0,
                                   key="lt-ttft")
    tpot = columns[1].number_input(t("Time-per-token objective (s, 0: none)"), 0.0, 60.0,
                                   defaults.time_per_output_token_seconds or 0.0, format="%.3f", key="lt-tpot")
    share = columns[2].number_input(t("Share of requests that must meet them"), 0.5, 1.0, defaults.objective,
                                    format="%.3f", key="lt-objective")
    start = st.form_submit_button(t("Start"), icon=":material/play_arrow:", type="primary",
                                  disabled=status.active or not targets)

if start and target is not None:
    try:
        plan = build_plan(target, parse_levels(levels_text), int(requests), int(max_tokens),
                          Objectives(ttft or None, tpot or None, defaults.e2e_seconds, share))
        m.load_test.start(plan, target_label(target, t))
        st.rerun()
    except LoadTestBusy:
        st.error(t("A load test is already running; stop it first or wait for it to finish."),
                 icon=":material/block:")
    except ValueError as exc:
        st.error(escape_markdown(exc), icon=":material/error:")

if status.active and st.button(t("Stop"), icon=":material/stop:", key="lt-stop",
                               disabled=status.state == "stopping"):
    m.load_test.stop()
    st.rerun()


# Every second while a run goes on; otherwise now and then, so a run started elsewhere (the API, another tab)
# shows up here too.
@st.fragment(run_every=1.0 if status.active else 5.0)
def live_progress(was_active: bool) -> None:
    """Progress while a run goes on; when a run starts or ends, the whole page redraws (Stop, the results)."""
    now = m.load_test.status()
    if was_active != now.active:
        st.rerun()  # app scope: the form's Start and the Stop button follow, and the report below is drawn
    if now.active:
        st.progress(progress_fraction(now), text=progress_text(now, t))
        st.caption(t("Target: {target}").format(target=escape_markdown(now.target or "")))
    elif now.error:
        st.error(t("The load test failed: {error}").format(error=escape_markdown(now.error)), icon=":material/error:")


live_progress(status.active)

report = status.report
if status.state == "idle":
    st.info(state_text(status.state, t), icon=":material/info:")
if report is not None and not status.active:
    st.subheader(t("Result"))
    st.caption(t("{state} · {target} · model {model} · objectives: {objectives}").format(
        state=state_text(status.state, t), target=escape_markdown(status.target or report.url),
        model=escape_markdown(report.model or "-"), objectives=objectives_text(report, t)))
    if report.capacity_concurrency is None:
        st.warning(verdict(report, t), icon=":material/warning:")
    else:
        st.success(verdict(report, t), icon=":material/check_circle:")
    for line in error_lines(report, t):
        st.error(escape_markdown(line), icon=":material/error:")
    st.dataframe(table_view(report, t), hide_index=True, width="stretch", key="lt-table")
    frame = levels_frame(report)
    capacity_label = t("capacity")
    chart_row = st.columns(2)
    chart_row[0].plotly_chart(charts.by_concurrency(
        frame, {"ttft_p50_ms": t("TTFT p50"), "ttft_p95_ms": t("TTFT p95")}, marked=report.capacity_concurrency,
        marked_label=capacity_label, title=t("Time to first token"), y_title=t("ms"), x_title=t("Concurrency")),
        key="lt-chart-ttft", width="stretch")
    chart_row[1].plotly_chart(charts.by_concurrency(
        frame, {"requests_per_second": t("Requests / s"), "goodput_requests_per_second": t("Goodput")},
        marked=report.capacity_concurrency, marked_label=capacity_label, title=t("Throughput and goodput"),
        y_title=t("requests / s"), x_title=t("Concurrency")), key="lt-chart-goodput", width="stretch")
    st.subheader(t("What the monitor recorded meanwhile"))
    since, until = run_span(report)
    monitor_row = st.columns(2)
    for column, (layer, series) in zip(monitor_row, MONITOR_SERIES.items(), strict=True):
        history = m.store.frame(layer, since, until, 500, list(series))
        shown = {name: metric_label(name) for name in series if name in history and history[name].notna().any()}
        title = t("Requests in the model") if layer == "model" else t("CPU use")
        if shown:
            percent = layer == "system"  # CPU on its whole scale: 99.4 to 100 % is not a swing
            column.plotly_chart(charts.time_series(history, shown, title=title, y_range=(0, 100) if percent else None),
                                key=f"lt-monitor-{layer}", width="stretch")
        else:
            column.info(t("No {what} samples during the run.").format(what=title), icon=":material/info:")
    st.download_button(t("Download the report (JSON)"),
                       json.dumps(report.to_dict(), indent=2, ensure_ascii=False).encode("utf-8"),
                       file_name="healthmon-load-test.json", mime="application/json", key="lt-download",
                       icon=":material/download:")
