"""The System, Model and Analysis pages headless (AppTest) against a real Monitor, plus their pure helpers.

Pages run through the entry file, as a browser gets them: navigation and the sidebar exist and page links
resolve. The monitor is created with start=False, so the test drives every collection cycle itself.
"""

from __future__ import annotations

import json
import time

import pandas as pd
import plotly.graph_objects as go
import pytest
import streamlit as st
from conftest import plotly_spec, wait_for_model
from streamlit.testing.v1 import AppTest

from healthmon import charts
from healthmon.collectors.gpu import GpuCollector
from healthmon.params import GenerationParams
from healthmon.registry import get_monitor, release_monitor
from healthmon.ui import panels
from healthmon.ui.format import bytes_to_text, count_to_text
from healthmon.ui.shaping.system import gpu_series

MB = 1024**2


class _NvmlError(Exception):
    """Stands in for pynvml.NVMLError."""


class NoGpuNvml:
    """An NVML whose driver is missing, so every machine running the suite reads as GPU-less."""

    NVMLError = _NvmlError

    def nvmlInit(self) -> None:  # noqa: N802 - pynvml's name
        raise _NvmlError("Driver Not Loaded")


class TwoGpuNvml(NoGpuNvml):
    """Two GPUs with fixed readings."""

    NVML_TEMPERATURE_GPU = 0
    READINGS = (
        {"name": "NVIDIA H100", "util": 55, "used": 40_000 * MB, "total": 80_000 * MB, "temp": 61, "mw": 250_000},
        {"name": "Tesla T4", "util": 20, "used": 1_000 * MB, "total": 16_000 * MB, "temp": 48, "mw": 30_000},
    )

    def nvmlInit(self) -> None:  # noqa: N802
        pass

    def nvmlShutdown(self) -> None:  # noqa: N802
        pass

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        return len(self.READINGS)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:  # noqa: N802
        return index

    def nvmlDeviceGetName(self, handle: int) -> str:  # noqa: N802
        return self.READINGS[handle]["name"]

    def nvmlDeviceGetUtilizationRates(self, handle: int):  # noqa: N802
        return type("Rates", (), {"gpu": self.READINGS[handle]["util"]})

    def nvmlDeviceGetMemoryInfo(self, handle: int):  # noqa: N802
        reading = self.READINGS[handle]
        return type("Memory", (), {"used": reading["used"], "total": reading["total"]})

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:  # noqa: N802
        return self.READINGS[handle]["temp"]

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:  # noqa: N802
        return self.READINGS[handle]["mw"]

    def nvmlDeviceGetComputeRunningProcesses(self, handle: int) -> list:  # noqa: N802
        return []


def _monitor(monkeypatch, data_dir, nvml, **env: str):
    monkeypatch.setenv("HEALTHMON_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HEALTHMON_PROBE_INTERVAL", "0")
    monkeypatch.setenv("HEALTHMON_INTERVAL", "1")  # live panels every second, as `streamlit run` is usually set up
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("healthmon.monitor.GpuCollector", lambda: GpuCollector(nvml=nvml))
    release_monitor()
    st.cache_resource.clear()
    monitor = get_monitor(start=False)  # its model loads in the background: wait, never load a second time
    wait_for_model(monitor)
    return monitor


@pytest.fixture
def live_monitor(data_dir, monkeypatch):
    yield _monitor(monkeypatch, data_dir, NoGpuNvml())
    release_monitor()
    st.cache_resource.clear()


def collect(monitor, cycles: int = 3) -> None:
    """A few cycles, far enough apart for psutil to measure CPU over each (as the loop's interval is)."""
    for _ in range(cycles):
        time.sleep(0.1)
        monitor.loop.collect_once()
    monitor.store.flush()


def serve_requests(monitor, count: int = 3) -> None:
    """User requests and one canary probe, each followed by a cycle (model metrics are per-cycle means)."""
    for index in range(count):
        monitor.target.generate(GenerationParams(f"Tell me about request {index}", max_new_tokens=8 + 4 * index,
                                                  temperature=0.0))
        monitor.loop.collect_once()
    assert monitor.probe.probe_once() is not None
    collect(monitor)


def run_page(page: str, lang: str = "en", window: str | None = None) -> AppTest:
    at = AppTest.from_file("../streamlit_app.py", default_timeout=30)
    at.session_state["lang"] = lang
    if window:
        at.session_state["window"] = window
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def charts_by_key(at: AppTest) -> dict[str, dict]:
    """{user key: figure spec}; the element id ends with the key given to st.plotly_chart."""
    out = {}
    for element in at.get("plotly_chart"):
        key = element.proto.id[element.proto.id.index("chart-"):]
        out[key] = plotly_spec(element.proto.spec)
    return out


def points(spec: dict) -> int:
    return sum(len(trace.get("y") or trace.get("x") or []) for trace in spec["data"])


def texts(elements) -> list[str]:
    return [element.value for element in elements]


# ---- pages -----------------------------------------------------------------------------------------------

def test_system_page_charts_the_machine_and_says_there_is_no_gpu(live_monitor):
    collect(live_monitor)
    at = run_page("views/system.py")
    assert texts(at.title) == ["System"]
    assert texts(at.subheader) == ["CPU", "Memory and disk", "Disk and network I/O", "Process", "GPU"]
    metrics = {metric.label: metric for metric in at.metric}
    assert {"CPU", "Memory", "Swap", "Disk", "Process RSS"} <= set(metrics)
    assert metrics["Process RSS"].value.endswith(" MiB")  # sizes are 1024-based: binary units
    assert metrics["Memory"].proto.help.endswith(" GiB") and metrics["Disk"].proto.help.endswith(" GiB")
    figures = charts_by_key(at)
    assert figures["chart-process-rss-mb"]["layout"]["yaxis"]["title"]["text"] == "MiB"
    assert figures["chart-network"]["layout"]["yaxis"]["title"]["text"] in ("KiB/s", "MiB/s")
    for key in ("chart-cpu", "chart-cpu-per-core", "chart-memory", "chart-disk", "chart-process-rss-mb",
                "chart-process-threads"):
        assert points(figures[key]) > 0, key
    assert len(figures["chart-cpu-per-core"]["data"][0]["y"]) == live_monitor.loop.latest("system")["cpu_count"]
    assert figures["chart-cpu"]["layout"]["xaxis"]["title"]["text"] == "time (UTC)"
    limits = [a["text"] for a in figures["chart-memory"]["layout"]["annotations"]]
    assert limits == ["warning > 80 %", "critical > 90 %"]  # the alert rules' own limits
    assert any("No GPU" in text and "Driver Not Loaded" in text for text in texts(at.info))
    assert len(at.get("download_button")) == len(figures)  # every chart downloads what it shows


def test_a_dragged_box_zooms_every_chart_until_reset(live_monitor):
    """The box a user drags across a time chart (Plotly sends its x range as UTC date text) becomes the range
    of every chart, read from the store at full resolution; it outlives reruns; Reset zoom and a new window
    both undo it."""
    now = live_monitor.clock()
    for index in range(300):  # 50 minutes of 10 s samples, older than any live collection
        ts = now - 3000 + 10 * index
        live_monitor.store.append_sample("system", ts, {"cpu_usage": float(index % 100), "memory_usage": 40.0})
    live_monitor.store.flush()

    def plotly_text(ts: float) -> str:
        return pd.Timestamp(ts, unit="s", tz="UTC").strftime("%Y-%m-%d %H:%M:%S.%f")

    def cpu_x_seconds(at: AppTest) -> list[float]:
        return [x / 1000 for x in charts_by_key(at)["chart-cpu"]["data"][0]["x"]]

    at = run_page("views/system.py")
    assert min(cpu_x_seconds(at)) < now - 2900
    at.session_state["zoom_request"] = (plotly_text(now - 2005), plotly_text(now - 1005))
    at.run()
    assert not at.exception
    zoomed = cpu_x_seconds(at)
    assert zoomed and now - 2005 <= min(zoomed) and max(zoomed) <= now - 1005
    assert len(zoomed) == 100  # every 10 s sample of the stretch, not a 1 h window's buckets
    captions = " ".join(texts(at.sidebar.caption))
    assert "Zoomed in:" in captions and "UTC (17 min)" in captions
    assert "hold still" in " ".join(texts(at.caption))  # a fixed stretch of the past stops refreshing
    at.run()
    assert cpu_x_seconds(at) == zoomed  # a rerun keeps the zoom
    reset = next(button for button in at.sidebar.button if button.label == "Reset zoom")
    reset.click().run()
    assert min(cpu_x_seconds(at)) < now - 2900 and not any(b.label == "Reset zoom" for b in at.sidebar.button)

    at.session_state["zoom_request"] = ((now - 600) * 1000, now * 1000)  # reaches the right edge: live
    at.run()
    assert "the last 10 min (live)" in " ".join(texts(at.sidebar.caption))
    at.sidebar.selectbox[0].set_value("6h").run()
    assert "zoom" not in at.session_state and not any(b.label == "Reset zoom" for b in at.sidebar.button)


def test_learned_baselines_are_kept_as_history_and_shaded_on_the_charts(live_monitor, monkeypatch):
    """Each cycle stores every warmed-up baseline's band (layer "baseline"); the Model latency chart and the
    Analysis quality charts shade it as it stood at each point."""
    bands = {"ttft_seconds": (0.2, 0.6), "quality_score": (60.0, 90.0)}
    monkeypatch.setattr(live_monitor.alerts.engine, "baseline_bands", lambda: dict(bands))
    serve_requests(live_monitor)
    # Quality is scored as requests finish, and may land in a later cycle: one scored cycle, written outright.
    live_monitor.store.append_sample("quality", live_monitor.clock(), {"quality_score": 80.0, "quality_requests": 1})
    live_monitor.store.flush()
    stored = live_monitor.store.frame("baseline", live_monitor.clock() - 600)
    assert stored["ttft_seconds_baseline_high"].dropna().tolist()[-1] == 0.6
    assert set(stored.columns) == {"ts", "ttft_seconds_baseline_low", "ttft_seconds_baseline_high",
                                   "quality_score_baseline_low", "quality_score_baseline_high"}

    latency = charts_by_key(run_page("views/model.py"))["chart-latency"]
    shaded = [trace for trace in latency["data"] if trace.get("legendgroup") == "band"]
    assert [trace.get("name") for trace in shaded][-1] == "learned normal: time to first token"
    assert {y for y in shaded[0]["y"] if y is not None} == {0.6} and shaded[1].get("fill") == "tonexty"
    analysis = charts_by_key(run_page("views/analysis.py"))
    assert "chart-quality-score" in analysis, sorted(analysis)
    quality = analysis["chart-quality-score"]
    assert any(trace.get("name") == "learned normal" for trace in quality["data"])
    throughput = charts_by_key(run_page("views/model.py"))["chart-throughput"]
    names = [trace.get("name") for trace in throughput["data"]]
    assert "users, 5-min mean" in names and "per interval" in names  # what the throughput rules read, beside
    assert "learned normal" not in " ".join(n or "" for n in names)  # no tokens/s baseline was patched in
    relevance = analysis.get("chart-quality-relevance-repetition", {"data": []})  # drawn once requests are scored
    assert not any(trace.get("legendgroup") == "band" for trace in relevance["data"])  # no relevance baseline yet


def test_limit_lines_are_those_of_the_rules_file(data_dir, monkeypatch, tmp_path):
    """With HEALTHMON_RULES_FILE set, charts draw the limits of the rules the Monitor runs, not the defaults."""
    rules = tmp_path / "rules.toml"
    rules.write_text('[[threshold]]\nname = "memory_high"\nmetric = "memory_usage"\nop = ">"\nfire = 70\n'
                     'resolve = 65\nlevel = "critical"\n')
    monitor = _monitor(monkeypatch, data_dir, NoGpuNvml(), HEALTHMON_RULES_FILE=str(rules))
    try:
        collect(monitor)
        figures = charts_by_key(run_page("views/system.py"))
        assert [a["text"] for a in figures["chart-memory"]["layout"]["annotations"]] == ["critical > 70 %"]
        assert not figures["chart-cpu"]["layout"].get("annotations")  # the file has no CPU rule
    finally:
        release_monitor()
        st.cache_resource.clear()


def test_system_page_charts_each_gpu(data_dir, monkeypatch):
    monitor = _monitor(monkeypatch, data_dir, TwoGpuNvml())
    try:
        collect(monitor)
        at = run_page("views/system.py")
        figures = charts_by_key(at)
        for metric in ("utilization", "memory_usage", "temperature_c", "power_w"):
            names = [trace["name"] for trace in figures[f"chart-gpu-{metric}"]["data"]]
            assert names == ["GPU 0 · NVIDIA H100", "GPU 1 · Tesla T4"], metric
        assert figures["chart-gpu-utilization"]["data"][0]["y"][-1] == 55
        assert len(at.dataframe[0].value) == 2  # one row per device
        assert {"memory used MiB", "memory total MiB"} <= set(at.dataframe[0].value.columns)
        assert not any("No GPU" in text for text in texts(at.info))
    finally:
        release_monitor()
        st.cache_resource.clear()


def test_model_page_before_requests_shows_card_and_what_to_do(live_monitor):
    collect(live_monitor)
    at = run_page("views/model.py")
    assert texts(at.title) == ["Model"]
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["State"] == "loaded" and metrics["Parameters"].endswith("K") and metrics["Model memory"]
    card = " ".join(texts(at.markdown))
    for fact in ("Source  \n**demo\\: demo**", "Architecture  \n**Qwen2ForCausalLM**", "Data type  \n**float32**",
                 "Device  \n**cpu**", "Context window  \n**1\\,024 tokens**"):  # values through escape_markdown
        assert fact in card, fact
    info = texts(at.info)
    assert any(text.startswith("**Demo model**") for text in info)
    assert any(text.startswith("No completed requests in this window yet") for text in info)
    assert any(text.startswith("Canary probes are off") for text in info)
    assert [link.proto.page for link in at.get("page_link")] == ["generate", "settings"]
    assert points(charts_by_key(at)["chart-queue"]) > 0  # in flight and queued are sampled every cycle


def test_model_page_with_requests_charts_latency_throughput_and_probes(live_monitor):
    serve_requests(live_monitor)
    at = run_page("views/model.py")
    figures = charts_by_key(at)
    for key in ("chart-latency", "chart-throughput", "chart-queue", "chart-probe-latency", "chart-probe-throughput"):
        assert points(figures[key]) > 0, key
    assert [trace["name"] for trace in figures["chart-latency"]["data"]] == ["end-to-end latency",
                                                                            "time to first token"]
    assert {"Probes": "1", "Failed": "0", "Distinct outputs": "1"}.items() <= {
        metric.label: metric.value for metric in at.metric}.items()
    probes = at.dataframe[0].value
    assert len(probes) == 1 and probes["status"].tolist() == ["ok"] and probes["output"].iloc[0]


def test_model_page_shows_a_failed_load_with_its_reason(data_dir, monkeypatch, tmp_path):
    monitor = _monitor(monkeypatch, data_dir, NoGpuNvml(), HEALTHMON_MODEL=str(tmp_path / "missing"))
    try:
        at = run_page("views/model.py")
        assert monitor.target.info().status == "error"
        assert at.error and at.error[0].value.startswith("**The model failed to load**")
        assert "missing" in at.error[0].value
    finally:
        release_monitor()
        st.cache_resource.clear()


def test_analysis_page_without_requests_links_to_generate(live_monitor):
    collect(live_monitor)
    at = run_page("views/analysis.py")
    assert texts(at.title) == ["Analysis"]
    assert texts(at.subheader) == ["Performance score", "Service level objective", "Requests", "Generation",
                                   "Generation quality"]
    assert {metric.label: metric.value for metric in at.metric}["Requests"] == "0"
    assert {metric.label: metric.value for metric in at.metric}["Requests counted"] == "0"
    assert any(text.startswith("No user requests in this window yet. Send one") for text in texts(at.info))
    assert [link.proto.page for link in at.get("page_link")] == ["generate", "generate"]
    figures = charts_by_key(at)
    assert points(figures["chart-score"]) > 0
    assert "chart-tokens-per-second" not in figures  # an empty state, not a blank chart


def test_analysis_page_with_requests_counts_user_requests_only(live_monitor):
    serve_requests(live_monitor, count=3)
    at = run_page("views/analysis.py")
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Requests"] == "3" and metrics["Failed"] == "0"  # the probe is not a user request
    assert metrics["Latency p95"] != "—"
    assert metrics["Requests counted"] == "3"  # the SLO counts user requests only too
    figures = charts_by_key(at)
    assert points(figures["chart-slo-attainment"]) > 0 and points(figures["chart-slo-burn-rate"]) > 0
    burn_lines = {a["text"] for a in figures["chart-slo-burn-rate"]["layout"]["annotations"]}
    assert burn_lines == {"1× ticket", "6× page", "14.4× page"}
    for key in ("chart-score", "chart-latency-percentiles", "chart-request-rate"):
        assert points(figures[key]) > 0, key
    for key in ("chart-tokens-per-second", "chart-prompt-tokens", "chart-output-tokens"):
        assert sum(figures[key]["data"][0]["y"]) == 3, key  # bars binned on the server, one count per request
    reasons = figures["chart-finish-reasons"]["data"][0]
    assert sum(reasons["y"]) == 3 and set(reasons["x"]) <= {"stop", "length"}
    lines = {a["text"] for a in figures["chart-score"]["layout"]["annotations"]}
    assert lines == {"healthy ≥ 80", "warning ≥ 60"}


def test_a_long_window_reads_cached_history(live_monitor):
    serve_requests(live_monitor, count=1)
    expected = {"views/system.py": {"chart-cpu", "chart-memory", "chart-process-rss-mb"},
                "views/model.py": {"chart-latency", "chart-throughput", "chart-queue"},
                "views/analysis.py": {"chart-score", "chart-latency-percentiles", "chart-request-rate"}}
    for page, keys in expected.items():
        figures = charts_by_key(run_page(page, window="24h"))
        assert keys <= set(figures), (page, sorted(figures))  # all() over no charts would pass
        assert all(points(spec) > 0 for spec in figures.values()), page


def test_charts_redraw_once_per_point_and_not_while_paused(live_monitor):
    collect(live_monitor)
    captions = " ".join(texts(run_page("views/system.py").caption))
    assert "every 5.0 s" in captions  # 1 h in 1,000 points is 3.6 s, but a redraw mid-drag would drop a zoom
    captions = " ".join(texts(run_page("views/system.py", window="24h").caption))
    assert "every 86 s" in captions  # 24 h in 1,000 points
    at = AppTest.from_file("../streamlit_app.py", default_timeout=30)
    at.session_state["paused"] = True
    at.switch_page("views/model.py").run()
    assert not at.exception
    assert any(text.startswith("Live refresh is paused") for text in texts(at.caption))


def test_pages_in_chinese(live_monitor):
    collect(live_monitor)
    expected = {"views/system.py": ("系统", "内存与磁盘"), "views/model.py": ("模型", "推理"),
                "views/analysis.py": ("分析", "性能评分")}
    for page, (title, subheader) in expected.items():
        at = run_page(page, lang="zh")
        assert texts(at.title) == [title]
        assert subheader in texts(at.subheader)
    assert "时间 (UTC)" in json.dumps(charts_by_key(at), ensure_ascii=False)


def test_a_refresh_within_a_point_keeps_history_charts_unchanged(live_monitor):
    """Streamlit remounts a chart whose figure changed (zoom lost, flicker): until the window gains a point,
    a refresh must send the same history figures (per-core use is live and may change)."""
    collect(live_monitor)
    frozen = live_monitor.clock()
    live_monitor.clock = lambda: frozen  # both runs fall in one point-width slot
    at = run_page("views/system.py")
    before = {key: spec for key, spec in charts_by_key(at).items() if key != "chart-cpu-per-core"}
    live_monitor.loop.collect_once()
    live_monitor.store.flush()
    at.run()
    after = {key: spec for key, spec in charts_by_key(at).items() if key != "chart-cpu-per-core"}
    assert after == before and len(after) >= 8


# ---- pure helpers ----------------------------------------------------------------------------------------

def test_bytes_rate_unit_switches_to_mib_at_one_mib_per_second():
    assert charts.bytes_rate_unit(None) == (1024.0, "KiB/s")  # binary units, as the divisors are
    assert charts.bytes_rate_unit(1024**2 - 1) == (1024.0, "KiB/s")
    assert charts.bytes_rate_unit(1024**2) == (1024.0**2, "MiB/s")


def test_limit_helpers_follow_the_rules_and_the_data(live_monitor):
    limits = panels.limits(live_monitor, "memory_usage", " %")
    assert limits == [(80.0, "warning", "warning > 80 %"), (90.0, "critical", "critical > 90 %")]
    assert panels.limits(live_monitor, "latency_seconds", " s") == []  # no fixed latency limit any more
    assert charts.limits_in_reach(limits, [10.0, 30.0, float("nan")]) == []  # far below 80 %: not drawn
    assert charts.limits_in_reach(limits, [40.0, 60.0]) == limits
    assert charts.limits_in_reach(limits, [None]) == []
    assert charts.level_bar_colors([10, 85, 95], limits) == [
        charts.SERIES_COLORS[0], charts.LEVEL_COLORS["warning"], charts.LEVEL_COLORS["critical"]]


def test_limit_lines_are_drawn_once_each_and_close_ones_are_labelled_on_opposite_sides():
    frame = pd.DataFrame({"ts": [1.0, 2.0], "v": [1.0, 2.0]})
    lines = [(90.0, "critical", "critical > 90 %"), (80.0, "warning", "warning > 80 %")]
    layout = charts.time_series(frame, {"v": "v"}, thresholds=lines).to_dict()["layout"]
    assert [(shape["y0"], shape["line"]["color"]) for shape in layout["shapes"]] == [
        (80.0, charts.LEVEL_COLORS["warning"]), (90.0, charts.LEVEL_COLORS["critical"])]
    assert [(a["text"], a["x"], a["xanchor"]) for a in layout["annotations"]] == [
        ("warning > 80 %", 0, "left"), ("critical > 90 %", 1, "right")]
    assert charts.add_limit_lines(charts.time_series(frame, {"v": "v"}), lines).to_dict()["layout"] == layout
    assert charts.add_limit_lines(go.Figure(), []).layout.shapes == ()


def test_text_helpers():
    assert count_to_text(778_368) == "778.37 K"
    assert count_to_text(1_540_000_000) == "1.54 B"
    assert count_to_text(None) == "—"
    assert bytes_to_text(3 * MB + MB // 2) == "3.50 MiB"
    assert bytes_to_text(5 * 1024**3) == "5.00 GiB"
    assert bytes_to_text(512) == "512 B"
    assert gpu_series([{"index": 0, "name": "A"}, {"index": 1, "name": None}], "power_w") == {
        "gpu0_power_w": "GPU 0 · A", "gpu1_power_w": "GPU 1"}
