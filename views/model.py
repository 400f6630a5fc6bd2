"""Model: what is loaded and in what state, its latency, TTFT and throughput trends, its queue, and canary probes."""

import pandas as pd
import streamlit as st

from healthmon import charts
from healthmon.quality.embedder import DISABLED_NAMES
from healthmon.target import ModelStatus
from healthmon.target_info import RemoteInfo, SchedulerInfo, TargetInfo
from healthmon.ui import panels
from healthmon.ui.format import NO_DATA, bytes_to_text, count_to_text, escape_markdown, fmt_seconds
from healthmon.ui.i18n import translator
from healthmon.ui.metric_text import metric_help, metric_label
from healthmon.ui.shaping.model import (
    USERS_TPS,
    ProbeAnswers,
    health_latency_text,
    newest_probes,
    probe_counts,
    probe_csv,
    probe_table,
    server_figures,
    with_users_throughput,
)
from healthmon.ui.shaping.series import baseline_columns, present
from healthmon.ui.state import download_csv, empty_state, monitor, refresh_seconds, window_bounds

t = translator("model")
MODEL_COLUMNS = ("latency_seconds", "ttft_seconds", "tokens_per_second", "in_flight", "queued", "batch_size",
                 "kv_cache_usage_ratio")
PROBE_COLUMNS = ["trace_id", "ts", "synthetic", "status", "latency_seconds", "ttft_seconds", "tokens_per_second",
                 "output_tokens"]
RECENT_PROBES = 20
SERVER_TILES_PER_ROW = 5

m = monitor()
st.title(t("Model"))
st.caption(t("The loaded model and how it performs over the time window chosen in the sidebar."))
panels.refresh_note(m)


def remote_card(info: TargetInfo, remote: RemoteInfo) -> None:
    """A remote target: the server's state and health, and its own metrics where it exposes them."""
    with st.container(border=True):
        st.markdown(f"#### {escape_markdown(info.name)}")
        cols = st.columns(4)
        cols[0].metric(t("State"), t(info.status.value.replace("_", " ")))
        cols[1].metric(metric_label("target_health_latency_seconds"), health_latency_text(info),
                       help=metric_help("target_health_latency_seconds"))
        cols[2].metric(t("Running here"), f"{info.in_flight} / {1 + info.queue_max}",
                       help=t("Requests healthmon is streaming from the server now, of the most it lets run at once."))
        cols[3].metric(t("Server kind"), escape_markdown(remote.server_kind or NO_DATA))
        since = info.loaded_at
        panels.facts({t("Source"): f"{info.source}: {info.ref}",
                      t("Connected since"): since[:19].replace("T", " ") + " UTC" if since else None})
        if info.status is ModelStatus.ERROR:
            st.error(f"**{t('The remote server does not answer')}**: {escape_markdown(info.error or '')}  \n"
                     f"{t('healthmon checks it every few seconds and reconnects by itself.')}", icon=":material/error:")
        elif info.status is ModelStatus.LOADING:
            message = remote.status_message
            st.info(f"**{t('The server is loading its model')}**"
                    + (f": {escape_markdown(message)}" if message else "") + "  \n"
                    + t("Requests are refused until it is ready; this is no outage."),
                    icon=":material/hourglass_empty:")
        elif remote.server_kind is None and remote.server.server_slots_total is None:
            st.caption(t("The server exposes no metrics healthmon reads (vLLM, llama.cpp with --metrics and TGI do): "
                         "the figures below are measured from the streams alone."))
        else:
            figures = list(server_figures(remote.server).items())
            for row in range(0, len(figures), SERVER_TILES_PER_ROW):
                for col, (key, value) in zip(st.columns(SERVER_TILES_PER_ROW), figures[row:row + SERVER_TILES_PER_ROW],
                                             strict=False):
                    col.metric(metric_label(key), value, help=metric_help(key))


def model_card(info: TargetInfo) -> None:
    if info.remote is not None:
        remote_card(info, info.remote)
        return
    facts = info.facts
    with st.container(border=True):
        st.markdown(f"#### {escape_markdown(info.name)}")  # a model source is the client's text
        if info.is_demo:
            st.info(f"**{t('Demo model')}**: " + t("a tiny model built offline for trying healthmon, not a real LLM: "
                                                   "its speed and output say nothing about a production model."),
                    icon=":material/science:")
        cols = st.columns(4)
        cols[0].metric(t("State"), t(info.status.value.replace("_", " ")))
        cols[1].metric(metric_label("parameters"), count_to_text(facts.parameters if facts else None),
                       help=metric_help("parameters"))
        cols[2].metric(metric_label("memory_footprint_bytes"),
                       bytes_to_text(facts.memory_footprint_bytes if facts else None),
                       help=metric_help("memory_footprint_bytes"))
        loaded_at = info.loaded_at
        when = f" ({loaded_at[:19].replace('T', ' ')} UTC)" if loaded_at else ""
        cols[3].metric(metric_label("load_seconds"), fmt_seconds(info.load_seconds),
                       help=metric_help("load_seconds") + when)
        context = facts.context_tokens if facts else None
        scheduler = info.scheduler if info.loaded else None
        panels.facts({t("Source"): f"{info.source}: {info.ref}", t("Architecture"): info.architecture,
                      t("Data type"): facts.dtype if facts else None, t("Device"): facts.device if facts else None,
                      t("Context window"): f"{context:,} {t('tokens')}" if context else None,
                      # a fact, not a tile: "one at a time" in a metric's large type is cut off
                      **({t("Batching"): t("continuous") if scheduler.batching else t("one at a time")}
                         if scheduler is not None else {})})
        if scheduler is not None:
            scheduler_tiles(info, scheduler)
        if info.status is ModelStatus.LOADING:
            progress = info.progress
            st.progress((progress.fraction if progress else None) or 0.0,
                        text=f"{t('Loading')} {escape_markdown(info.name)}: "
                             f"{escape_markdown((progress.message if progress else None) or t('starting'))}")
        elif info.status is ModelStatus.ERROR:
            st.error(f"**{t('The model failed to load')}**: {escape_markdown(info.error or '')}  \n"
                     f"{t('System monitoring goes on. Retry from Settings or with POST /api/model/load.')}",
                     icon=":material/error:")
        elif info.status is ModelStatus.NOT_LOADED:
            empty_state(t("No model is loaded. Load one from Settings."), link_page="views/settings.py",
                        link_label=t("Open Settings"))


def scheduler_tiles(info: TargetInfo, scheduler: SchedulerInfo) -> None:
    """The batch as the scheduler sees it now: who runs, who waits, and how full the KV cache is."""
    cols = st.columns(4)
    cols[0].metric(metric_label("in_flight"), f"{info.in_flight} / {scheduler.max_batch}",
                   help=metric_help("in_flight") + " " + metric_help("max_batch"))
    cols[1].metric(metric_label("queued"), f"{info.queued} / {info.queue_max}",
                   help=metric_help("queued") + " " + metric_help("queue_max"))
    ratio, capacity = scheduler.kv_cache_usage_ratio, scheduler.kv_cache_capacity_tokens
    cols[2].metric(metric_label("kv_cache_usage_ratio"), NO_DATA if ratio is None else f"{ratio:.1%}",
                   help=metric_help("kv_cache_usage_ratio")
                   + (f" {count_to_text(scheduler.kv_cache_used_tokens)} / {count_to_text(capacity)} {t('tokens')}."
                      if capacity else ""))
    counters = scheduler.counters
    queried, hits = counters.prefix_cache_queried_tokens_total, counters.prefix_cache_hit_tokens_total
    cols[3].metric(metric_label("prefix_cache_hit_ratio"),
                   t("off") if not scheduler.prefix_cache_capacity_tokens else
                   NO_DATA if not queried else f"{hits / queried:.0%}",
                   help=metric_help("prefix_cache_hit_tokens_total") + " " + t("Since start: {hits} of {queried} "
                   "prompt tokens.").format(hits=count_to_text(hits), queried=count_to_text(queried)) + " "
                   + metric_help("prefix_cache_capacity_tokens"))
    reason = info.facts.batching_unsupported_reason if info.facts else None
    if reason is not None:
        st.caption(t("This model cannot be batched: {reason}.").format(reason=escape_markdown(reason)))


def batch_trends(model: pd.DataFrame, max_batch: int) -> None:
    """How full the batch ran in each interval (requests per decode step; tokens per pass, prefills included, are
    on another scale: on /metrics), and the KV cache it held."""
    if not present(model, ["batch_size", "kv_cache_usage_ratio"]):
        return
    left, right = st.columns(2)
    with left:
        panels.trend(model, {"batch_size": metric_label("batch_size")}, "batch", title=t("Batch per step"),
                     y_title=t("requests per step"), missing=t("No decode step ran in this window yet."), height=240,
                     connect=True, thresholds=[(float(max_batch), "warning",
                                                f"{metric_label('max_batch')} {max_batch}")])
    with right:
        panels.trend(model, {"kv_cache_usage_ratio": metric_label("kv_cache_usage_ratio")}, "kv-cache",
                     title=metric_label("kv_cache_usage_ratio"), y_title=t("share of the cache"),
                     missing=t("No model samples in this window yet."), height=240,
                     y_range=(0.0, min(1.0, max(0.05, 1.25 * float(model["kv_cache_usage_ratio"].max() or 0.0)))))


def inference_trends(model: pd.DataFrame, baseline: pd.DataFrame, queue_max: int, max_batch: int) -> None:
    st.subheader(t("Inference"))
    st.caption(t("Means of the requests that completed in each collection interval, canary probes included."))
    if model.empty:
        empty_state(t("No model samples in this window yet."))
        return
    no_requests = t("No completed requests in this window yet. Send one from the Generate page.")
    if not present(model, ["latency_seconds", "tokens_per_second"]):
        empty_state(no_requests, link_page="views/generate.py", link_label=t("Open Generate"))
    else:
        left, right = st.columns(2)
        with left:
            latency = model[["latency_seconds", "ttft_seconds"]].stack()
            panels.trend(model, {"latency_seconds": t("end-to-end latency"), "ttft_seconds": t("time to first token")},
                         "latency", title=t("Latency"), y_title=t("seconds"), missing=no_requests, connect=True,
                         thresholds=charts.limits_in_reach(panels.limits(m, "latency_seconds", " s"), latency),
                         baseline=(baseline, "ttft_seconds"))  # TTFT has a learned band; a request's time has none
        with right:
            # The throughput rules read the service layer's mean over the stats window of user requests, a
            # steadier line than the per-interval means: drawn beside them, with its learned band.
            panels.trend(model, {"tokens_per_second": t("per interval"), USERS_TPS: t("users, 5-min mean")},
                         "throughput", title=t("Throughput"), y_title=t("tokens/s"), missing=no_requests,
                         connect=True, baseline=(baseline, USERS_TPS),
                         thresholds=charts.limits_in_reach(panels.limits(m, USERS_TPS),
                                                           model[["tokens_per_second", USERS_TPS]].stack()))
    panels.trend(model, {"in_flight": t("in flight"), "queued": t("queued")}, "queue",
                 title=t("Requests in flight and queued"), y_title=t("requests"),
                 missing=t("No model samples in this window yet."),
                 thresholds=[(float(queue_max), "warning", f"{t('queue capacity')} {queue_max}")], height=240)
    batch_trends(model, max_batch)


def embedding_off() -> bool:
    """Canary drift compares embeddings: with HEALTHMON_EMBEDDING_MODEL=off it is never measured."""
    return m.settings.embedding_model.strip().lower() in DISABLED_NAMES


def drift_trend(drift: pd.DataFrame) -> None:
    """The quality layer's lowest canary similarity per interval, with the alert rule's limit."""
    name = m.settings.embedding_model
    if embedding_off():
        empty_state(t("Canary drift is off: it compares answers by their embeddings, and the embedding model is off "
                      "(HEALTHMON_EMBEDDING_MODEL={name}). Set HEALTHMON_EMBEDDING_MODEL=all-MiniLM-L6-v2 (the "
                      "default) or the path of a sentence-transformers model and restart healthmon.").format(
                          name=escape_markdown(name or "''")))
        return
    st.caption(t("The lowest similarity of the probes in each collection interval to the model's first recorded "
                 "answer."))
    panels.trend(drift, {"canary_drift_similarity": t("similarity to the first answer")}, "canary-drift",
                 title=t("Canary drift"), y_title=t("similarity"),
                 missing=t("No drift measured in this window yet: the first probe's answer becomes the model's "
                           "reference, and the probes after it are compared with it."),
                 thresholds=[(value, level, f"{t('drift')} {label}")
                             for value, level, label in panels.limits(m, "canary_drift_similarity")],
                 y_range=charts.similarity_range(drift, ["canary_drift_similarity"]), height=240, connect=True)


def probe_section(probes: pd.DataFrame, drift: pd.DataFrame) -> None:
    st.subheader(t("Canary probes"))
    st.caption(t("A short fixed prompt, decoded greedily, sent only while the model is idle: a change in its latency "
                 "or output shows drift that user traffic can hide."))
    interval = m.settings.probe_interval
    if interval <= 0:
        empty_state(t("Canary probes are off (probe interval 0). Enable them on the Settings page, or start "
                      "healthmon with HEALTHMON_PROBE_INTERVAL=60 (seconds between probes)."),
                    link_page="views/settings.py", link_label=t("Open Settings"))
    if probes.empty:
        if interval > 0:
            empty_state(t("No probe has run in this window yet: one runs every {interval} s while the model is "
                          "loaded and idle.").format(interval=f"{interval:g}"))
        return
    recent = newest_probes(probes, RECENT_PROBES)
    # One read each; a record pruned by retention since the window's query reads as empty.
    answers = ProbeAnswers.of({trace_id: m.store.get_request(trace_id) or {} for trace_id in recent["trace_id"]}, t)
    counts, newest_drift = probe_counts(probes), answers.newest_drift()
    drift_limits = ", ".join(label for *_, label in panels.limits(m, "canary_drift_similarity"))
    cols = st.columns(5)
    cols[0].metric(t("Probes"), counts.probes)
    cols[1].metric(t("Failed"), counts.failed)
    cols[2].metric(t("Median latency"), fmt_seconds(counts.median_latency_seconds))
    cols[3].metric(t("Distinct outputs"), answers.distinct_outputs(),
                   help=t("Greedy decoding of a fixed prompt gives the same output every time; more than one "
                          "means the model, its weights or its settings changed.") + f" ({len(answers.outputs)})")
    cols[4].metric(t("Drift similarity"),
                   f"{newest_drift:.3f}" if newest_drift is not None else t("off") if embedding_off() else NO_DATA,
                   help=metric_help("canary_drift_similarity")
                   + (f" {t('Alert limits')}: {drift_limits}." if drift_limits else ""))
    no_success = t("No probe succeeded in this window.")
    left, right = st.columns(2)
    with left:
        panels.trend(probes, {"latency_seconds": t("end-to-end latency"), "ttft_seconds": t("time to first token")},
                     "probe-latency", title=t("Probe latency"), y_title=t("seconds"), missing=no_success, height=240,
                     connect=True)
    with right:
        panels.trend(probes, {"tokens_per_second": t("tokens/s")}, "probe-throughput", title=t("Probe throughput"),
                     y_title=t("tokens/s"), missing=no_success, height=240, connect=True)
    drift_trend(drift)
    st.markdown(f"**{t('Recent probes')}**")
    # The model's output as plain text cells, never Markdown.
    one_decimal = st.column_config.NumberColumn(format="%.1f")  # 181.0 ms beside 450.2 ms, not 181
    st.dataframe(probe_table(recent, answers, t), hide_index=True, width="stretch",
                 column_config={t(name): one_decimal for name in ("latency ms", "TTFT ms", "tokens/s")})
    download_csv(probe_csv(recent, answers), "probes")


@st.fragment(run_every=refresh_seconds(m))
def live_card() -> None:
    """What is loaded and its state (loading progress, errors, requests running), every collection interval."""
    model_card(m.target.info())


@st.fragment(run_every=panels.chart_refresh_seconds(m))
def history_charts() -> None:
    """The window's trends and probes, each time the window can have gained a point."""
    model = with_users_throughput(panels.history(m, "model", MODEL_COLUMNS),
                                  panels.history(m, "service", [USERS_TPS]))
    since, until = window_bounds(m)
    requests = m.store.requests_frame(since, until, include_synthetic=True, columns=PROBE_COLUMNS)
    info = m.target.info()
    inference_trends(model, panels.history(m, "baseline", baseline_columns("ttft_seconds", USERS_TPS)),
                     info.queue_max, info.scheduler.max_batch if info.scheduler else 1)
    probe_section(requests[requests["synthetic"] == 1], panels.history(m, "quality", ["canary_drift_similarity"]))


live_card()
history_charts()
