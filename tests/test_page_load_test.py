"""The Load test page, headless by AppTest against a real Monitor: targets, a run against the paced stub, the
result table, charts and the report; and its shaping (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from healthmon.loadtest.client import RequestTiming
from healthmon.loadtest.report import LoadTestReport
from healthmon.loadtest.stats import Objectives, summarize_level
from healthmon.registry import get_monitor, release_monitor
from healthmon.ui.shaping.load_test import error_lines, levels_frame, table_view, verdict
from tests.paced_openai import PacedServer

ROOT = Path(__file__).resolve().parents[1]
ENTRY = """
import streamlit as st
from healthmon.ui.state import monitor, sidebar_controls
navigation = st.navigation([st.Page("views/load_test.py")])
sidebar_controls(monitor())
navigation.run()
"""


def _reset() -> None:
    release_monitor()
    st.cache_resource.clear()


@pytest.fixture
def stub():
    with PacedServer(slots=2, first_token_seconds=0.0, token_interval_seconds=0.001, tokens=4) as server:
        yield server


@pytest.fixture
def page(data_dir, monkeypatch, tmp_path, stub):
    monkeypatch.setenv("HEALTHMON_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HEALTHMON_PROBE_INTERVAL", "0")
    monkeypatch.setenv("HEALTHMON_LOAD_TEST_URLS", stub.url)
    _reset()
    monitor = get_monitor(start=False)
    (tmp_path / "views").symlink_to(ROOT / "views")
    (tmp_path / "app.py").write_text(ENTRY)
    at = AppTest.from_file(str(tmp_path / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    yield at, monitor
    _reset()


def test_the_page_offers_only_the_allowed_targets_and_runs_against_one(page, stub):
    at, monitor = page
    assert at.title[0].value == "Load test"
    target = at.selectbox(key="lt-target")
    labels = [str(option) for option in target.options]
    assert len(labels) == 2 and labels[0].startswith("This monitor's /v1 (http://127.0.0.1:")
    assert labels[1] == stub.url
    assert any("No load test has run yet" in info.value for info in at.info)
    target.select_index(1)
    at.text_input(key="lt-levels").set_value("1,2")
    at.number_input(key="lt-requests").set_value(6)
    at.number_input(key="lt-max-tokens").set_value(4)
    at.button[0].click()  # the form's Start
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    status = monitor.load_test.wait(60)
    assert status.state == "finished" and status.target == stub.url
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("Capacity: concurrency 2" in box.value for box in at.success)
    shown = at.dataframe[0].value
    assert list(shown["Concurrency"]) == [1, 2] and list(shown["Errors"]) == [0, 0]
    assert stub.requests == 12
    report = json.loads(json.dumps(status.report.to_dict()))
    assert report["capacity"] == {"concurrency": 2}


def words(text: str) -> str:
    return text


def report_of(*levels) -> LoadTestReport:
    return LoadTestReport(url="http://x/v1", model="m", objectives=Objectives(1.0, None, None, 0.9),
                          levels=levels, capacity_concurrency=None, requests_per_level=2, max_tokens=4,
                          started_at_s=100.0, finished_at_s=110.0, stopped=False, machine={})


def test_the_shaping_gives_milliseconds_readable_headers_and_what_failed():
    ok = RequestTiming(0.0, 0.5, (0.25, 0.5), 2)
    failed = RequestTiming(0.0, 0.1, error="HTTP 429: rate limit exceeded", error_kind="http_4xx")
    report = report_of(summarize_level(1, [ok, ok], 1.0, Objectives(1.0, None, None, 0.9)),
                       summarize_level(2, [ok, failed], 1.0, Objectives(1.0, None, None, 0.9)))
    frame = levels_frame(report)
    assert list(frame["ttft_p50_ms"]) == [250.0, 250.0] and list(frame["slo_attainment_percent"]) == [100.0, 50.0]
    assert "TTFT p50 (ms)" in table_view(report, words).columns
    assert error_lines(report, words) == ["Concurrency 2: 1 of 2 failed: HTTP 429: rate limit exceeded"]
    assert verdict(report, words) == "No level kept 90.0% of requests within the objectives."
