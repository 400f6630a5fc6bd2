"""Overview: health status, score and its breakdown, model state, the machine and the service, live."""

import pandas as pd
import streamlit as st

from healthmon import views
from healthmon.ui.format import NO_DATA, fmt, fmt_duration_hours, fmt_seconds
from healthmon.charts import LEVEL_COLORS
from healthmon.ui.state import monitor, refresh_seconds

m = monitor()
st.title("Overview")


@st.fragment(run_every=refresh_seconds(m))
def live_overview() -> None:
    status = views.status_payload(m)
    info = status["model_info"]
    level = status["status"]
    color = LEVEL_COLORS.get(level, LEVEL_COLORS["no_data"])
    st.markdown(f"<span style='background:{color};color:white;padding:0.25rem 0.75rem;border-radius:1rem;"
                f"font-weight:600'>{level.replace('_', ' ').upper()}</span>", unsafe_allow_html=True)

    cols = st.columns(5)
    cols[0].metric("Performance score", fmt(status["performance_score"], digits=0) + (" / 100" if status["performance_score"] is not None else ""))
    cols[1].metric("Service uptime", fmt_duration_hours(status["service_uptime_hours"]))
    cols[2].metric("Model", info["status"].replace("_", " "), help=info["name"])
    cols[3].metric("Active alerts", status["active_alerts"])
    cols[4].metric("Monitoring", "running" if status["monitoring"] else "stopped")

    if info.get("is_demo"):
        st.info(info["note"] if info.get("note") else "Built-in demo model.", icon=":material/science:")
    if info["status"] == "loading":
        progress = info.get("progress") or {}
        st.progress(progress.get("fraction") or 0.0, text=f"Loading {info['name']}: {progress.get('message', 'starting')}")
    elif info["status"] == "error":
        st.error(f"The model failed to load: {info['error']}. System monitoring goes on. Retry from Settings "
                 f"or `POST /api/model/load`.", icon=":material/error:")

    system = status["latest_system"]
    st.subheader("Machine")
    if not system:
        st.caption("Waiting for the first sample…")
    else:
        gpu = system.get("gpu_info", {})
        cols = st.columns(5)
        cols[0].metric("CPU", fmt(system.get("cpu_usage"), " %"))
        cols[1].metric("Memory", fmt(system.get("memory_usage"), " %"),
                       help=f"{fmt(system.get('memory_used_gb'), ' GB', 2)} of {fmt(system.get('memory_total_gb'), ' GB', 2)}")
        cols[2].metric("Disk", fmt(system.get("disk_usage"), " %"))
        cols[3].metric("GPU memory", fmt(gpu.get("gpu_memory_usage"), " %") if gpu.get("gpu_available") else "no GPU",
                       help=gpu.get("reason"))
        cols[4].metric("Process RSS", fmt(system.get("process_rss_mb"), " MB", 0))

    stats = status["request_stats"]
    st.subheader("Service")
    cols = st.columns(6)
    cols[0].metric("Requests", stats["total_requests"],
                   help=f"{stats['succeeded_requests']} ok, {stats['failed_requests']} failed, "
                        f"{stats['rejected_requests']} rejected")
    cols[1].metric("Requests / min", stats["requests_per_minute"])
    cols[2].metric("Latency p95", fmt_seconds(stats["latency_p95_seconds"]))
    cols[3].metric("TTFT p95", fmt_seconds(stats["ttft_p95_seconds"]))
    cols[4].metric("Tokens / s", fmt(stats["tokens_per_second"]))
    cols[5].metric("Failure rate", fmt(stats["failure_rate"], " %"))
    if stats["total_requests"] == 0:
        st.caption("No requests yet: send one to `POST /api/model/generate`.")

    st.subheader("Score breakdown")
    components = status["score_components"]
    if components:
        st.dataframe(pd.DataFrame([{"component": c["component"], "score": c["score"],
                                    "weight": c["normalized_weight"],
                                    "inputs": ", ".join(f"{k}={v:.3g}" for k, v in c["inputs"].items())}
                                   for c in components]), hide_index=True, width="stretch")
    else:
        st.caption(f"No score yet {NO_DATA} the first collection cycle has not run.")


live_overview()
