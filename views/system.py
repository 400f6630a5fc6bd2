"""System: this machine and the healthmon process over the shared window, live: CPU, memory, disk, network, GPU."""

import pandas as pd
import streamlit as st

from healthmon import charts
from healthmon.ui import panels
from healthmon.ui.format import escape_markdown, fmt
from healthmon.ui.i18n import translator
from healthmon.ui.metric_text import metric_help, metric_label
from healthmon.ui.shaping.system import gpu_columns, gpu_series, gpu_table, has_gpu, peak, per_core_frame
from healthmon.ui.state import download_csv, empty_state, monitor, refresh_seconds

t = translator("system")
SYSTEM_COLUMNS = ("cpu_usage", "cpu_count", "load_avg_1m", "load_avg_5m", "load_avg_15m", "memory_usage",
                  "swap_usage", "disk_usage", "disk_read_bytes_per_second", "disk_write_bytes_per_second",
                  "network_sent_bytes_per_second", "network_recv_bytes_per_second")
PROCESS_CHARTS = (("process_rss_mb", "MiB"), ("process_cpu_percent", "% of one core"), ("process_threads", "threads"),
                  ("process_open_files", "open files"))  # (metric, y-axis title); titles from the catalog
PROCESS_COLUMNS = tuple(column for column, _ in PROCESS_CHARTS)
# (per-device metric, chart title, y-axis title, alert metric whose limits apply)
GPU_CHARTS = (("utilization", "GPU utilization", "%", None), ("memory_usage", "GPU memory", "%", "gpu_memory_usage"),
              ("temperature_c", "GPU temperature", "°C", None), ("power_w", "GPU power", "W", None))
# Thirteen charts: at most 1,000 points each keeps them all SVG (Plotly goes WebGL above that; browsers
# cap WebGL contexts, and the design allows 8 a page). 1,000 points is still one per pixel or more.
POINTS = charts.WEBGL_ABOVE_POINTS

m = monitor()
st.title(t("System"))
st.caption(t("This machine and the healthmon process over the time window chosen in the sidebar."))
panels.refresh_note(m, POINTS)


def now_tiles(system_now: dict, process_now: dict) -> None:
    if not system_now:
        st.caption(t("Waiting for the first sample…"))
        return
    top, bottom = st.columns(3), st.columns(3)
    top[0].metric(metric_label("cpu_usage"), fmt(system_now.get("cpu_usage"), " %"), help=metric_help("cpu_usage"))
    top[1].metric(metric_label("load_avg_1m"), fmt(system_now.get("load_avg_1m"), digits=2),
                  help=f"{system_now.get('cpu_count')} {t('cores')}")
    top[2].metric(metric_label("process_rss_mb"), fmt(process_now.get("process_rss_mb"), " MiB", 0),
                  help=metric_help("process_rss_mb"))
    bottom[0].metric(metric_label("memory_usage"), fmt(system_now.get("memory_usage"), " %"),
                     help=f"{fmt(system_now.get('memory_used_gb'), ' GiB', 2)} / "
                          f"{fmt(system_now.get('memory_total_gb'), ' GiB', 2)}")
    bottom[1].metric(metric_label("swap_usage"), fmt(system_now.get("swap_usage"), " %"),
                     help=fmt(system_now.get("swap_used_gb"), " GiB", 2))
    bottom[2].metric(metric_label("disk_usage"), fmt(system_now.get("disk_usage"), " %"),
                     help=f"{fmt(system_now.get('disk_used_gb'), ' GiB', 1)} / "
                          f"{fmt(system_now.get('disk_total_gb'), ' GiB', 1)}")


def per_core(system_now: dict) -> None:
    """Per-core use is only in the live sample (history keeps scalars), so this bar chart is 'now'."""
    cores = system_now.get("cpu_per_core") or []
    if not cores:
        empty_state(t("Per-core figures appear after the first collection cycle."))
        return
    labels = [str(index) for index in range(len(cores))]
    fig = charts.bars(labels, cores, title=t("CPU per core, now"), y_title="%",
                      colors=charts.level_bar_colors(cores, panels.limits(m, "cpu_usage")), height=240)
    fig.update_yaxes(range=[0, 100])
    fig.update_xaxes(title_text=t("core"), type="category")
    panels.plot(fig, "chart-cpu-per-core")
    download_csv(per_core_frame(cores), "cpu-per-core")


def io_rates(frame: pd.DataFrame, series: dict[str, str], name: str, title: str, missing: str) -> None:
    """Byte rates in KiB/s or MiB/s, whichever the window's peak calls for."""
    divisor, unit = charts.bytes_rate_unit(peak(frame, series))
    panels.trend(frame, series, name, title=title, y_title=unit, missing=missing, scale=divisor)


def gpu_section(gpu_now: dict, gpu: pd.DataFrame | None) -> None:
    st.subheader(t("GPU"))
    if not gpu_now:
        empty_state(t("No GPU sample yet."))
        return
    if gpu is None:
        st.info(f"**{t('No GPU')}**: {escape_markdown(gpu_now.get('reason') or '')}. "
                f"{t('GPU metrics appear when an NVIDIA GPU and its driver (NVML) are present.')}",
                icon=":material/developer_board_off:")
        return
    devices = gpu_now["devices"]
    st.dataframe(gpu_table(devices, t), hide_index=True, width="stretch")
    cols = st.columns(2)
    for index, (metric, title, unit, alert_metric) in enumerate(GPU_CHARTS):
        with cols[index % 2]:
            panels.trend(gpu, gpu_series(devices, metric), f"gpu-{metric}", title=t(title), y_title=unit,
                         missing=t("No samples for this GPU metric in this window yet."),
                         thresholds=panels.limits(m, alert_metric, " %") if alert_metric else (),
                         y_range=(0, 100) if unit == "%" else None)


def cpu_section(system: pd.DataFrame, cores: int | None) -> None:
    st.subheader(t("CPU"))
    left, right = st.columns(2)
    with left:
        panels.trend(system, {"cpu_usage": t("CPU total")}, "cpu", title=t("CPU total"), y_title="%",
                     missing=t("This machine does not report CPU use."), thresholds=panels.limits(m, "cpu_usage", " %"),
                     y_range=(0, 100))
    with right:
        panels.trend(system, {"load_avg_1m": t("1 min"), "load_avg_5m": t("5 min"), "load_avg_15m": t("15 min")},
                     "load", title=t("Load average"), y_title=t("runnable processes"),
                     missing=t("This OS does not report a load average."),
                     thresholds=[(float(cores), "info", f"{cores} {t('cores')}")] if cores else ())


def memory_and_disk_section(system: pd.DataFrame) -> None:
    st.subheader(t("Memory and disk"))
    left, right = st.columns(2)
    with left:
        panels.trend(system, {"memory_usage": t("Memory"), "swap_usage": t("Swap")}, "memory",
                     title=t("Memory and swap"), y_title="%", missing=t("This machine does not report memory use."),
                     thresholds=panels.limits(m, "memory_usage", " %"), y_range=(0, 100))
    with right:
        panels.trend(system, {"disk_usage": t("Disk")}, "disk", title=t("Disk usage"), y_title="%",
                     missing=t("This machine does not report disk use."),
                     thresholds=panels.limits(m, "disk_usage", " %"), y_range=(0, 100))
    st.subheader(t("Disk and network I/O"))
    left, right = st.columns(2)
    with left:
        io_rates(system, {"disk_read_bytes_per_second": t("read"), "disk_write_bytes_per_second": t("write")},
                 "disk-io", t("Disk I/O"), t("Disk I/O counters are not available on this machine (or only one "
                                             "sample so far: rates need two)."))
    with right:
        io_rates(system, {"network_sent_bytes_per_second": t("sent"), "network_recv_bytes_per_second": t("received")},
                 "network", t("Network"), t("Network counters are not available on this machine (or only one "
                                            "sample so far: rates need two)."))


def process_section(process: pd.DataFrame) -> None:
    st.subheader(t("Process"))
    if process.empty:
        empty_state(no_samples())
        return
    cols = st.columns(2)
    for index, (column, unit) in enumerate(PROCESS_CHARTS):
        with cols[index % 2]:
            title = metric_label(column)
            panels.trend(process, {column: title}, column.replace("_", "-"), title=title, y_title=t(unit),
                         missing=t("This OS does not let the process count this."), height=240)


def no_samples() -> str:
    return t("No samples in this window yet: the first arrives one collection interval ({interval:g} s) after "
             "monitoring starts.").format(interval=m.settings.interval)


@st.fragment(run_every=refresh_seconds(m))
def live_now() -> None:
    """The latest sample, every collection interval."""
    system_now = m.loop.latest("system")
    left, right = st.columns([3, 2])
    with left:
        now_tiles(system_now, m.loop.latest("process"))
    with right:
        per_core(system_now)


@st.fragment(run_every=panels.chart_refresh_seconds(m, POINTS))
def history_charts() -> None:
    """The window's history, each time it can have gained a point; each layer read once."""
    gpu_now = m.loop.latest("gpu")
    system = panels.history(m, "system", SYSTEM_COLUMNS, POINTS)
    process = panels.history(m, "process", PROCESS_COLUMNS, POINTS)
    gpu = None
    if has_gpu(gpu_now):
        gpu = panels.history(m, "gpu", gpu_columns(gpu_now["devices"], [metric for metric, *_ in GPU_CHARTS]),
                             POINTS)
    if system.empty:
        empty_state(no_samples())
    else:
        cpu_section(system, m.loop.latest("system").get("cpu_count"))
        memory_and_disk_section(system)
    process_section(process)
    gpu_section(gpu_now, gpu)


live_now()
history_charts()
