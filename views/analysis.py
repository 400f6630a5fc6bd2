"""Analysis: the performance score over time, request statistics and generation statistics (user requests only)."""

import pandas as pd
import streamlit as st

from healthmon import charts
from healthmon.ui import panels
from healthmon.ui.format import fmt_seconds
from healthmon.ui.i18n import translator
from healthmon.ui.state import download_csv, empty_state, monitor, refresh_seconds, window_bounds

t = translator({
    "How the service performed over the time window chosen in the sidebar. Request and generation figures count "
    "user requests only; canary probes are on the Model page.":
        "服务在侧边栏所选时间窗口内的表现。请求与生成统计只计用户请求；金丝雀探测见模型页。",
    "Performance score": "性能评分", "Overall and by component": "总分与各组成部分", "overall": "总分",
    "system": "系统", "model": "模型", "service": "服务",
    "quality": "质量", "Score (0-100)": "评分 (0-100)",
    "healthy ≥ 80": "健康 ≥ 80", "warning ≥ 60": "警告 ≥ 60",
    "No score in this window yet: it is computed every collection cycle once monitoring runs.":
        "此时间窗口内尚无评分：监控运行后每个采集周期计算一次。",
    "Requests": "请求", "requests": "请求数", "Failed": "失败", "Rejected": "拒绝", "Latency p50": "延迟 p50",
    "Latency p95": "延迟 p95",
    "Latency p99": "延迟 p99", "Requests / min": "每分钟请求数",
    "in this window; latency percentiles of the successful ones": "本时间窗口内；延迟分位数只计成功请求",
    "received in the last minute": "最近一分钟收到的请求",
    "No user requests in this window yet. Send one from the Generate page or to POST /api/model/generate.":
        "此时间窗口内尚无用户请求。请在生成页或通过 POST /api/model/generate 发送请求。",
    "Open Generate": "打开生成页",
    "Latency percentiles (last {minutes:g} min at each point)": "延迟分位数（每点为最近 {minutes:g} 分钟）",
    "seconds": "秒",
    "Request rate": "请求速率", "requests per minute": "每分钟请求数",
    "Failure rate (last {minutes:g} min)": "失败率（最近 {minutes:g} 分钟）",
    "failure rate": "失败率",
    "No latency figures in this window yet: they need successful requests.":
        "此时间窗口内尚无延迟数据：需要成功的请求。",
    "No service samples in this window yet.": "此时间窗口内尚无服务数据。",
    "No failure rate yet: it needs requests in the last {minutes:g} minutes.":
        "尚无失败率：需要最近 {minutes:g} 分钟内有请求。",
    "Generation": "生成", "Throughput per request": "单请求吞吐量", "tokens/s": "tokens/s",
    "Prompt length": "提示长度", "Output length": "输出长度", "tokens": "tokens", "Finish reasons": "结束原因",
    "No user requests in this window yet.": "此时间窗口内尚无用户请求。",
    "No successful generations in this window yet.": "此时间窗口内尚无成功的生成。",
    "No request reported a throughput.": "没有请求报告吞吐量。",
    "No request reported its prompt length.": "没有请求报告提示长度。",
    "No request reported its output length.": "没有请求报告输出长度。",
    "stop": "自然结束", "length": "达到长度上限", "cancelled": "已取消", "error": "错误", "none": "无",
})
SCORE_SERIES = {"performance_score": "overall", "score_system": "system", "score_model": "model",
                "score_service": "service", "score_quality": "quality"}
SERVICE_COLUMNS = ("requests_per_minute", "failure_rate", "latency_p50_seconds", "latency_p95_seconds",
                   "latency_p99_seconds")
REQUEST_COLUMNS = ["ts", "status", "finish_reason", "prompt_tokens", "output_tokens", "latency_seconds",
                   "tokens_per_second"]

m = monitor()
st.title(t("Analysis"))
st.caption(t("How the service performed over the time window chosen in the sidebar. Request and generation figures "
             "count user requests only; canary probes are on the Model page."))
panels.refresh_note(m)


def score_section(score: pd.DataFrame) -> None:
    st.subheader(t("Performance score"))
    panels.trend(score, {column: t(label) for column, label in SCORE_SERIES.items()}, "score",
                 title=t("Overall and by component"), y_title=t("Score (0-100)"),
                 missing=t("No score in this window yet: it is computed every collection cycle once monitoring runs."),
                 thresholds=[(80.0, "healthy", t("healthy ≥ 80")), (60.0, "warning", t("warning ≥ 60"))],
                 y_range=(0, 105), height=320)


def request_tiles(requests: pd.DataFrame) -> None:
    summary = panels.request_summary(requests)
    in_window = t("in this window; latency percentiles of the successful ones")
    cols = st.columns(7)
    cols[0].metric(t("Requests"), summary["requests"], help=in_window)
    cols[1].metric(t("Failed"), summary["failed"], help=in_window)
    cols[2].metric(t("Rejected"), summary["rejected"], help=in_window)
    cols[3].metric(t("Latency p50"), fmt_seconds(summary["latency_p50_seconds"]), help=in_window)
    cols[4].metric(t("Latency p95"), fmt_seconds(summary["latency_p95_seconds"]), help=in_window)
    cols[5].metric(t("Latency p99"), fmt_seconds(summary["latency_p99_seconds"]), help=in_window)
    cols[6].metric(t("Requests / min"), m.request_stats.snapshot(m.clock())["requests_per_minute"],
                   help=t("received in the last minute"))
    if requests.empty:
        empty_state(t("No user requests in this window yet. Send one from the Generate page or to "
                      "POST /api/model/generate."), link_page="views/generate.py", link_label=t("Open Generate"))


def request_trends(service: pd.DataFrame) -> None:
    minutes = m.request_stats.window_seconds / 60  # the service layer's percentiles and rates slide over this
    panels.trend(service, {"latency_p50_seconds": "p50", "latency_p95_seconds": "p95", "latency_p99_seconds": "p99"},
                 "latency-percentiles", title=t("Latency percentiles (last {minutes:g} min at each point)").format(
                     minutes=minutes), y_title=t("seconds"),
                 missing=t("No latency figures in this window yet: they need successful requests."))
    left, right = st.columns(2)
    with left:
        panels.trend(service, {"requests_per_minute": t("requests per minute")}, "request-rate",
                     title=t("Request rate"), y_title=t("requests per minute"),
                     missing=t("No service samples in this window yet."), height=240)
    with right:
        panels.trend(service, {"failure_rate": t("failure rate")}, "failure-rate",
                     title=t("Failure rate (last {minutes:g} min)").format(minutes=minutes), y_title="%",
                     missing=t("No failure rate yet: it needs requests in the last {minutes:g} minutes.").format(
                         minutes=minutes), thresholds=panels.limits("failure_rate", " %"), y_range=(0, 100), height=240)


def finish_reasons(requests: pd.DataFrame) -> None:
    """Every user request's ending, failures included (as "error"), so a spike of errors shows beside the rest."""
    reasons = panels.finish_reason_counts(requests)
    colors = [charts.LEVEL_COLORS["critical"] if reason == "error" else charts.SERIES_COLORS[0]
              for reason in reasons["finish_reason"]]
    fig = charts.bars([t(reason) for reason in reasons["finish_reason"]], reasons["requests"].tolist(),
                      title=t("Finish reasons"), y_title=t("requests"), colors=colors)
    panels.plot(fig, "chart-finish-reasons")
    download_csv(reasons, "finish-reasons")


def generation_section(requests: pd.DataFrame) -> None:
    st.subheader(t("Generation"))
    if requests.empty:
        empty_state(t("No user requests in this window yet."))
        return
    ok = requests[requests["status"] == "ok"]
    left, right = st.columns(2)
    with right:
        finish_reasons(requests)
    with left:
        if ok.empty:
            empty_state(t("No successful generations in this window yet."))
            return
        panels.distribution(ok["tokens_per_second"], "tokens-per-second", title=t("Throughput per request"),
                            x_title=t("tokens/s"), missing=t("No request reported a throughput."))
    left, right = st.columns(2)
    with left:
        panels.distribution(ok["prompt_tokens"], "prompt-tokens", title=t("Prompt length"), x_title=t("tokens"),
                            missing=t("No request reported its prompt length."), integer=True)
    with right:
        panels.distribution(ok["output_tokens"], "output-tokens", title=t("Output length"), x_title=t("tokens"),
                            missing=t("No request reported its output length."), integer=True)


@st.fragment(run_every=panels.chart_refresh_seconds(m))
def score_trend() -> None:
    score_section(panels.history(m, "score", list(SCORE_SERIES)))


@st.fragment(run_every=refresh_seconds(m))
def live_request_tiles() -> None:
    """Counts and percentiles of the window, every collection interval: a new request shows at once."""
    since, until = window_bounds(m)
    request_tiles(m.store.requests_frame(since, until, columns=["status", "latency_seconds"]))


@st.fragment(run_every=panels.chart_refresh_seconds(m))
def request_charts() -> None:
    """Trends and distributions, each time the window can have gained a point; each source read once."""
    since, until = window_bounds(m)
    request_trends(panels.history(m, "service", SERVICE_COLUMNS))
    generation_section(m.store.requests_frame(since, until, columns=REQUEST_COLUMNS))


score_trend()
st.subheader(t("Requests"))
live_request_tiles()
request_charts()
