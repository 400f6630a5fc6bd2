"""Analysis: the performance score over time, request statistics and generation statistics (user requests only)."""

import pandas as pd
import streamlit as st

from healthmon import charts
from healthmon.quality.embedder import DISABLED_NAMES
from healthmon.ui import panels
from healthmon.ui.answers import show_answers
from healthmon.ui.format import escape_markdown, fmt, fmt_seconds
from healthmon.ui.i18n import translator
from healthmon.ui.metric_text import metric_help, metric_label
from healthmon.ui.shaping.analysis import (
    burn_rate_limits,
    finish_reason_colors,
    finish_reason_counts,
    request_summary,
    slo_bucket_seconds,
    slo_frame,
    slo_window_figures,
    weighted_mean,
)
from healthmon.ui.shaping.series import baseline_columns, present
from healthmon.ui.state import download_csv, empty_state, monitor, refresh_seconds, window_bounds
from healthmon.ui.tiles import Tile

t = translator("analysis")
SCORE_SERIES = {"performance_score": "overall", "score_system": "system", "score_model": "model",
                "score_service": "service", "score_quality": "quality"}
SERVICE_COLUMNS = ("requests_per_minute", "failure_percent", "latency_p50_seconds", "latency_p95_seconds",
                   "latency_p99_seconds")
REQUEST_COLUMNS = ["ts", "status", "finish_reason", "prompt_tokens", "output_tokens", "latency_seconds",
                   "tokens_per_second"]
# Nine time charts: at most 1,000 points each keeps them SVG. Above that Plotly goes WebGL, which with box
# selection on (drag to zoom) took the first chart from 1.4 s to 2.8 s in headless Chromium; a zoom reads
# its stretch again at full resolution anyway.
POINTS = charts.WEBGL_ABOVE_POINTS
QUALITY_BASELINES = baseline_columns("quality_score", "relevance", "perplexity")
QUALITY_TILES = (Tile.of("quality_score"), Tile.of("relevance", 3), Tile.of("perplexity", 2),
                 Tile.of("repetition_rate", 2), Tile.of("distinct_2", 2), Tile.of("language_mismatch_percent"),
                 Tile.of("empty_response_percent"), Tile.of("truncated_percent"))
QUALITY_COLUMNS = ("quality_requests", *(tile.column for tile in QUALITY_TILES))  # the tiles' weights and means

m = monitor()
st.title(t("Analysis"))
st.caption(t("How the service performed over the time window chosen in the sidebar. Request and generation figures "
             "count user requests only; canary probes are on the Model page."))
panels.refresh_note(m, POINTS)


def score_section(score: pd.DataFrame) -> None:
    st.subheader(t("Performance score"))
    panels.trend(score, {column: t(label) for column, label in SCORE_SERIES.items()}, "score",
                 title=t("Overall and by component"), y_title=t("Score (0-100)"),
                 missing=t("No score in this window yet: it is computed every collection cycle once monitoring runs."),
                 thresholds=[(80.0, "healthy", t("healthy ≥ 80")), (60.0, "warning", t("warning ≥ 60"))],
                 y_range=(0, 105), height=320)


def request_tiles(requests: pd.DataFrame) -> None:
    summary = request_summary(requests)
    in_window = t("in this window; latency percentiles of the successful ones")
    cols = st.columns(7)
    cols[0].metric(t("Requests"), summary["requests"], help=in_window)
    cols[1].metric(t("Failed"), summary["failed"], help=in_window)
    cols[2].metric(t("Rejected"), summary["rejected"], help=in_window)
    cols[3].metric(t("Latency p50"), fmt_seconds(summary["latency_p50_seconds"]), help=in_window)
    cols[4].metric(t("Latency p95"), fmt_seconds(summary["latency_p95_seconds"]), help=in_window)
    cols[5].metric(t("Latency p99"), fmt_seconds(summary["latency_p99_seconds"]), help=in_window)
    cols[6].metric(metric_label("requests_per_minute"), m.request_stats.snapshot(m.clock())["requests_per_minute"],
                   help=metric_help("requests_per_minute"))
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
        panels.trend(service, {"failure_percent": t("failure rate")}, "failure-rate",
                     title=t("Failure rate (last {minutes:g} min)").format(minutes=minutes), y_title="%",
                     missing=t("No failure rate yet: it needs requests in the last {minutes:g} minutes.").format(
                         minutes=minutes), thresholds=panels.limits(m, "failure_percent", " %"), y_range=(0, 100),
                     height=240)


def finish_reasons(requests: pd.DataFrame) -> None:
    """Every user request's ending, failures included (as "error"), so a spike of errors shows beside the rest."""
    reasons = finish_reason_counts(requests)
    fig = charts.bars([t(reason) for reason in reasons["finish_reason"]], reasons["requests"].tolist(),
                      title=t("Finish reasons"), y_title=t("requests"),
                      colors=finish_reason_colors(reasons["finish_reason"]), counts=True)
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


def relevance_off() -> bool:
    return m.settings.embedding_model.strip().lower() in DISABLED_NAMES


def quality_tiles(quality: pd.DataFrame) -> None:
    """The window's means, each collection interval weighted by the requests it measured."""
    for start in range(0, len(QUALITY_TILES), 4):
        for col, tile in zip(st.columns(4), QUALITY_TILES[start:start + 4], strict=False):
            value = weighted_mean(quality, tile.column, "quality_requests")
            off = value is None and tile.column == "relevance" and relevance_off()
            col.metric(metric_label(tile.column), t("off") if off else fmt(value, tile.unit, tile.digits),
                       help=metric_help(tile.column))


def quality_trends(quality: pd.DataFrame, baseline: pd.DataFrame) -> None:
    left, right = st.columns(2)
    with left:
        panels.trend(quality, {"quality_score": t("quality score")}, "quality-score",
                     title=t("Quality score (mean per interval)"), y_title=t("Score (0-100)"),
                     missing=t("No quality score in this window yet."), y_range=(0, 105), height=280, connect=True,
                     baseline=(baseline, "quality_score"))
    with right:
        shares = {"relevance": t("relevance"), "repetition_rate": t("repetition rate"), "distinct_2": t("distinct-2")}
        panels.trend(quality, shares, "quality-relevance-repetition", title=t("Relevance, repetition and diversity"),
                     y_title=t("0-1"), missing=t("No relevance in this window yet: it is scored in the background "
                                                  "once the embedding model is ready."),
                     thresholds=[(value, level, f"{t('repetition')} {label}")
                                 for value, level, label in panels.limits(m, "repetition_rate")],
                     y_range=charts.similarity_range(quality, shares), height=280, connect=True,
                     baseline=(baseline, "relevance"))
    left, right = st.columns(2)
    with left:
        panels.trend(quality, {"perplexity": t("perplexity")}, "quality-perplexity",
                     title=t("Perplexity of the responses"), y_title=t("perplexity"),
                     missing=t("No perplexity in this window yet: it needs the generations' token scores."),
                     height=280, connect=True, baseline=(baseline, "perplexity"))
    with right:
        panels.trend(quality, {"language_mismatch_percent": t("language mismatch"),
                               "empty_response_percent": t("empty"), "truncated_percent": t("truncated")},
                     "quality-verdicts", title=t("Language mismatch, empty and truncated responses"),
                     y_title=t("% of requests"), missing=t("No verdicts in this window yet."), y_range=(0, 105),
                     height=280, connect=True)


@st.fragment(run_every=refresh_seconds(m))
def scorer_state() -> None:
    """The background relevance scorer, live: whether its model is ready, its queue and its totals."""
    scorer = m.quality_scorer
    stats = scorer.stats()
    name = m.settings.embedding_model
    off, ready, failed = relevance_off(), bool(stats["embedding_model_ready"]), bool(scorer.embedder_error)
    state = t("off") if off else t("ready") if ready else t("unavailable") if failed else t("not loaded yet")
    waiting = not (off or ready or failed)
    st.markdown(f"**{t('Relevance scorer')}**")
    cols = st.columns(5)
    setting = escape_markdown(f"HEALTHMON_EMBEDDING_MODEL={name or repr(name)}")
    cols[0].metric(t("Embedding model"), state, help=setting + (
        "  \n" + t("The embedding model loads in the background with the first finished request.") if waiting else ""))
    cols[1].metric(t("Queue"), f"{stats['relevance_queue_depth']} / {scorer.queue_max}",
                   help=t("Requests waiting for their relevance, of the queue's capacity."))
    for col, key in zip(cols[2:], ("relevance_scored_total", "relevance_dropped_total", "relevance_failed_total"),
                        strict=True):
        col.metric(metric_label(key), stats[key], help=metric_help(key))
    if off:
        st.info(t("Relevance is off (HEALTHMON_EMBEDDING_MODEL={name}): quality scores leave it out and canary drift "
                  "is not measured. To turn it on, set HEALTHMON_EMBEDDING_MODEL=multilingual-e5-small (the "
                  "default, bundled for offline use), all-MiniLM-L6-v2 or the path of a sentence-transformers model, "
                  "and restart healthmon.").format(name=escape_markdown(name or "''")), icon=":material/info:")
    elif failed:
        st.warning(t("The embedding model could not be loaded, so relevance and canary drift are not scored:"),
                   icon=":material/warning:")
        st.code(scorer.embedder_error, language=None, wrap_lines=True)  # an exception's text, shown verbatim


@st.fragment(run_every=panels.chart_refresh_seconds(m, POINTS))
def quality_charts() -> None:
    """Quality tiles and trends from the quality layer, each time the window can have gained a point."""
    quality = panels.history(m, "quality", QUALITY_COLUMNS, POINTS)
    if not present(quality, ["quality_score"]):
        empty_state(t("No generation quality in this window yet: it is measured on every successful user request. "
                      "Send one from the Generate page or to POST /api/model/generate."),
                    link_page="views/generate.py", link_label=t("Open Generate"))
        return
    quality_tiles(quality)
    quality_trends(quality, panels.history(m, "baseline", QUALITY_BASELINES, POINTS))


@st.fragment(run_every=panels.chart_refresh_seconds(m, POINTS))
def score_trend() -> None:
    score_section(panels.history(m, "score", list(SCORE_SERIES), POINTS))


@st.fragment(run_every=refresh_seconds(m))
def live_request_tiles() -> None:
    """Counts and percentiles of the window, every collection interval: a new request shows at once."""
    since, until = window_bounds(m)
    request_tiles(m.store.requests_frame(since, until, columns=["status", "latency_seconds"]))


@st.fragment(run_every=panels.chart_refresh_seconds(m, POINTS))
def request_charts() -> None:
    """Trends and distributions, each time the window can have gained a point; each source read once."""
    since, until = window_bounds(m)
    request_trends(panels.history(m, "service", SERVICE_COLUMNS, POINTS))
    generation_section(m.store.requests_frame(since, until, columns=REQUEST_COLUMNS))


@st.fragment(run_every=panels.chart_refresh_seconds(m, POINTS))
def slo_section() -> None:
    """Attainment and burn rate over the window, counted from the stored requests as /api/slo counts them."""
    since, until = window_bounds(m)
    objective = m.slo.objectives.objective
    bucket = slo_bucket_seconds(since, until)
    buckets = m.slo.buckets(since, until, bucket)
    figures = slo_window_figures(buckets, objective)
    cols = st.columns(3)
    cols[0].metric(t("Requests counted"), figures["requests"],
                   help=t("User requests the objective counts: refusals for the client's own fault and canary "
                          "probes are left out."))
    attained = figures["attainment"]
    cols[1].metric(t("Attainment"), fmt(None if attained is None else attained * 100, " %", 2),
                   help=t("The share of counted requests that succeeded within every latency objective."))
    cols[2].metric(t("Burn rate"), fmt(figures["burn_rate"], "×", 2),
                   help=t("The share of bad requests over the share the objective allows: 1 spends the error "
                          "budget exactly over the compliance window."))
    frame = slo_frame(buckets, objective, bucket)
    missing = t("No user requests in this window yet.")
    left, right = st.columns(2)
    with left:
        panels.trend(frame, {"attainment_percent": t("per {minutes:g} min").format(minutes=bucket / 60),
                             "cumulative_attainment_percent": t("since the window's start")}, "slo-attainment",
                     title=t("SLO attainment"), y_title="%", missing=missing, connect=True, height=280,
                     thresholds=[(objective * 100, "warning", f"{t('objective')} {objective * 100:g}%")])
    with right:
        panels.trend(frame, {"burn_rate": t("per {minutes:g} min").format(minutes=bucket / 60)}, "slo-burn-rate",
                     title=t("Error budget burn rate"), y_title="×", missing=missing, connect=True, height=280,
                     thresholds=burn_rate_limits(t))


score_trend()
st.subheader(t("Service level objective"))
objectives = m.slo.objectives
st.caption(t("Good requests succeeded within every latency objective set: {objectives}. The objective: {share:g}% of "
             "them over {window}.").format(
    objectives=", ".join(f"{name} ≤ {value:g} s" for name, value in objectives.latency_objectives().items()
                         if value is not None) or t("none"),
    share=objectives.objective * 100, window=objectives.compliance_window))
slo_section()
st.subheader(t("Requests"))
live_request_tiles()
request_charts()
st.subheader(t("Generation quality"))
st.caption(t("Measured on every successful user request (canary probes are left out): degeneration, language and "
             "truncation at answer time, confidence from the model's own token probabilities, relevance in the "
             "background. Trends are means over the last 5 minutes of answers; tiles weight each point by its "
             "answers."))
quality_charts()
scorer_state()


@st.fragment(run_every=panels.chart_refresh_seconds(m, POINTS))
def answer_section() -> None:
    """Each answer's own figures (the trends above are means), the newest 1,000 of the window."""
    since, until = window_bounds(m)
    show_answers(m.store.answer_qualities(since, until), t)


st.markdown(f"#### {t('Per answer')}")
answer_section()
