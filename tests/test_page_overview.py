"""The Overview page headless (AppTest) against a real Monitor: gauges, breakdown, tiles, alerts, Chinese."""

from __future__ import annotations

import pytest
import streamlit as st
from conftest import plotly_spec, wait_for_model
from streamlit.testing.v1 import AppTest

from healthmon.params import GenerationParams
from healthmon.registry import get_monitor, release_monitor


@pytest.fixture
def live_monitor(data_dir, monkeypatch):
    monkeypatch.setenv("HEALTHMON_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HEALTHMON_PROBE_INTERVAL", "0")
    release_monitor()
    st.cache_resource.clear()
    monitor = get_monitor(start=False)  # starts loading the model in the background
    wait_for_model(monitor)
    yield monitor
    release_monitor()
    st.cache_resource.clear()


def plotly_specs(at: AppTest) -> list[dict]:
    return [plotly_spec(element.proto.spec) for element in at.get("plotly_chart")]


def run_page(lang: str = "en") -> AppTest:
    """Through the entry file, as a browser gets it: navigation, sidebar and page links resolve."""
    at = AppTest.from_file("../streamlit_app.py", default_timeout=30)
    at.session_state["lang"] = lang
    return at.run()


def test_overview_with_data_shows_gauges_breakdown_and_tiles(live_monitor):
    for _ in range(3):
        live_monitor.target.generate(GenerationParams("How busy is the CPU?", max_new_tokens=8))
        live_monitor.loop.collect_once()
    live_monitor.store.flush()
    at = run_page()
    assert not at.exception
    assert at.title[0].value == "Overview"
    labels = [metric.label for metric in at.metric]
    assert {"Service uptime", "Active alerts", "CPU", "Latency p95", "Tokens / s"} <= set(labels)
    specs = plotly_specs(at)
    gauges = [s for s in specs if s["data"] and s["data"][0]["type"] == "indicator"]
    assert len(gauges) == 3  # score, CPU, memory (no GPU here: a metric says so instead)
    assert all(isinstance(g["data"][0]["value"], (int, float)) for g in gauges)
    sparklines = [s for s in specs if s["data"] and s["data"][0]["type"] == "scatter"]
    assert any(len(s["data"][0]["y"]) >= 2 for s in sparklines)
    assert all(s["layout"]["yaxis"]["range"] for s in sparklines if s["data"][0]["y"])  # set, with a margin
    assert "no GPU" in [metric.value for metric in at.metric]
    assert at.dataframe and len(at.dataframe[0].value) >= 2  # score components
    # The SLO at a glance, from the stored requests: every request counted, attainment a share of them.
    assert {"SLO attainment", "Error budget left", "Burn rate (1h)", "Goodput"} <= set(labels)
    assert "Service level" in [subheader.value for subheader in at.subheader]


def test_latency_tiles_read_in_seconds_from_one_second(live_monitor):
    """A p95 of 7.701 s showed as "7,701…" (milliseconds cut off by the tile's width)."""
    now = live_monitor.clock()
    live_monitor.store.append_sample("service", now - 60, {"latency_p95_seconds": 0.35, "ttft_p95_seconds": 0.2})
    live_monitor.store.append_sample("service", now, {"latency_p95_seconds": 7.701, "ttft_p95_seconds": 0.45})
    values = {metric.label: (metric.value, metric.proto.delta) for metric in run_page().metric}
    assert values["Latency p95"] == ("7.7 s", "7.4 s")
    assert values["TTFT p95"] == ("450 ms", "250 ms")


def test_overview_before_any_sample_or_request_says_so(live_monitor):
    at = run_page()
    assert not at.exception
    assert any("first collection cycle" in c.value for c in at.caption)
    assert any("No requests yet" in i.value for i in at.info)


def test_overview_shows_a_firing_alert(live_monitor):
    for i in range(6):
        live_monitor.alerts.engine.evaluate(1_800_000_000 + 20 * i, {"disk_usage": 99.0})
    live_monitor.clock = lambda: 1_800_000_000 + 200
    at = run_page()
    assert not at.exception
    assert any(r"disk\_usage" in e.value for e in at.error)  # the message goes through escape_markdown


def test_overview_in_chinese(live_monitor):
    live_monitor.loop.collect_once()
    at = run_page("zh")
    assert not at.exception
    assert at.title[0].value == "总览"
    metrics = {metric.label: metric.value for metric in at.metric}
    assert "服务运行时间" in metrics
    assert metrics["模型"] == "已加载"  # the model's state, not the code "loaded"


def test_overview_words_an_alert_in_the_reader_s_language(live_monitor):
    for i in range(6):
        live_monitor.alerts.engine.evaluate(1_800_000_000 + 20 * i, {"disk_usage": 99.0})
    live_monitor.clock = lambda: 1_800_000_000 + 200
    at = run_page("zh")
    assert not at.exception
    assert [e.value for e in at.error] == [r"disk\_usage 99\%（阈值 \> 95\%）"]  # markdown-escaped, in Chinese
