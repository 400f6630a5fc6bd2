"""The Alerts, Traces, Generate and Settings pages, run headless by AppTest against a real Monitor and demo model.

The pages run inside an st.navigation of their own (a small entry script in tmp_path, beside a link to the
real views/), as they do in the app: st.page_link only resolves pages registered with navigation. Keeping it
to these four pages keeps the test independent of the other views.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from conftest import wait_for_model
from streamlit.testing.v1 import AppTest

from healthmon.monitor import Monitor
from healthmon.params import GenerationParams
from healthmon.registry import get_monitor, release_monitor

ROOT = Path(__file__).resolve().parents[1]
ENTRY = """
import streamlit as st
from healthmon.ui.state import monitor, sidebar_controls

PAGES = ["views/alerts.py", "views/traces.py", "views/generate.py", "views/settings.py"]
navigation = st.navigation([st.Page(path) for path in PAGES])
sidebar_controls(monitor())
navigation.run()
"""


def _reset() -> None:
    release_monitor()
    st.cache_resource.clear()


@pytest.fixture
def monitor(data_dir, monkeypatch) -> Monitor:
    """The process's Monitor on a fresh data dir with its demo model loaded, and no collection loop: the loop
    would judge this machine's real CPU, and a busy CI runner must not fire alerts into these tests."""
    monkeypatch.setenv("HEALTHMON_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HEALTHMON_INTERVAL", "1")
    monkeypatch.setenv("HEALTHMON_PROBE_INTERVAL", "0")
    _reset()
    m = get_monitor(start=False)
    assert wait_for_model(m) == "loaded", m.target.info()
    yield m
    _reset()


@pytest.fixture
def open_page(monitor, tmp_path):
    """open_page("views/x.py") -> an AppTest that has run that page once, without an exception."""
    (tmp_path / "views").symlink_to(ROOT / "views")
    (tmp_path / "app.py").write_text(ENTRY)

    def open_(page: str) -> AppTest:
        at = AppTest.from_file(str(tmp_path / "app.py"), default_timeout=60)
        at.switch_page(page).run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    return open_


def codes(at: AppTest) -> list[str]:
    return [element.value for element in at.code]


def table(at: AppTest, column: str) -> pd.DataFrame:
    """The first table with this column (AppTest keeps the key of selectable tables only)."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def generate(at: AppTest, prompt: str, max_new_tokens: int = 16) -> AppTest:
    at.number_input(key="generate-max-new-tokens").set_value(max_new_tokens)
    at.chat_input(key="generate-input").set_value(prompt).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def turns(at: AppTest) -> list:
    return at.session_state["generate-turns"]


# ---- every page ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("page, title", [("views/alerts.py", "Alerts"), ("views/traces.py", "Traces"),
                                         ("views/generate.py", "Generate"), ("views/settings.py", "Settings")])
def test_page_renders_its_title_and_no_exception(open_page, page, title):
    at = open_page(page)
    assert at.title[0].value == title


# ---- Generate -----------------------------------------------------------------------------------------------
def test_generate_streams_text_counts_the_request_and_traces_show_it(open_page, monitor):
    before = monitor.request_stats.snapshot(monitor.clock())["total_requests"]
    at = generate(open_page("views/generate.py"), "What is latency?")

    question, answer = turns(at)
    assert question.role == "user" and answer.role == "assistant" and answer.error is None
    record = monitor.store.get_request(answer.trace_id)  # no flush needed: reads see accepted writes
    assert record["status"] == "ok" and record["source"] == "ui" and record["output_tokens"] >= 1
    assert record["response"] == answer.content and answer.content in codes(at)  # the answer, shown as text
    assert "What is latency?" in codes(at)  # the question, in its bubble
    assert record["prompt_text"].rstrip("\n") in codes(at)  # what the model received, chat template included
    assert len(at.chat_message) == 2
    assert monitor.request_stats.snapshot(monitor.clock())["total_requests"] == before + 1
    assert [s["name"] for s in record["spans"]][:2] == ["validate", "queue"]
    assert any(chart.proto.spec for chart in at.get("plotly_chart"))  # the spans waterfall

    traces = open_page("views/traces.py")
    assert table(traces, "trace_id")["trace_id"].tolist()[0] == record["trace_id"]
    traces.session_state["traces-table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    traces.run()
    assert not traces.exception
    assert "What is latency?" in codes(traces) and record["response"] in codes(traces)

    newer = monitor.target.generate(GenerationParams("Another one", max_new_tokens=4), source="api")
    traces.run()  # what a live refresh does: the new request comes first, the selection moves with its request
    assert table(traces, "trace_id")["trace_id"].tolist()[:2] == [newer.trace_id, record["trace_id"]]
    assert list(traces.session_state["traces-table"]["selection"]["rows"]) == [1]
    assert "What is latency?" in codes(traces) and "Another one" not in codes(traces)


def test_a_second_turn_sends_the_conversation_and_clear_starts_over(open_page, monitor):
    at = open_page("views/generate.py")
    at.text_area(key="generate-system").input("You are a terse assistant.")
    generate(at, "First question", max_new_tokens=4)
    generate(at, "Second question", max_new_tokens=4)
    assert [turn.role for turn in turns(at)] == ["user", "assistant", "user", "assistant"]
    record = monitor.store.get_request(turns(at)[-1].trace_id)
    sent = record["params"]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == "First question" and sent[2]["content"] == turns(at)[1].content
    assert record["prompt"] == "Second question"
    assert record["prompt_text"].index("terse assistant") < record["prompt_text"].index("Second question")
    at.button(key="generate-clear").click().run()
    assert turns(at) == [] and len(at.chat_message) == 0


def test_relevance_shows_once_the_background_scorer_adds_it(open_page, monitor, monkeypatch):
    monkeypatch.setattr(monitor.quality_scorer, "submit", lambda record: None)  # the test plays the scorer
    at = generate(open_page("views/generate.py"), "What is memory?", max_new_tokens=4)
    trace_id = turns(at)[-1].trace_id
    assert any("being scored in the background" in caption.value for caption in at.caption)
    stored = monitor.store.get_request(trace_id)
    monitor.store.append_request(stored | {"quality": stored["quality"] | {"relevance": 0.42,
                                                                            "relevance_reason": None}})
    at.run()  # what the pending details' refresh does
    assert not any("being scored in the background" in caption.value for caption in at.caption)
    assert any(metric.value == "0.420" for metric in at.metric)


def test_generate_settings_and_conversation_survive_a_visit_to_traces(open_page):
    at = open_page("views/generate.py")
    at.slider(key="generate-temperature").set_value(0.0)
    answer = turns(generate(at, "Keep me", max_new_tokens=4))[-1].content
    at.switch_page("views/traces.py").run()
    at.switch_page("views/generate.py").run()
    assert at.slider(key="generate-temperature").value == 0.0
    assert "Keep me" in codes(at) and answer in codes(at)


def test_generate_refuses_a_bad_request_with_the_api_words_and_keeps_the_question(open_page, monitor):
    at = open_page("views/generate.py")
    at.text_area(key="generate-stop").input("a\nb\nc\nd\ne")  # five stop strings: the API takes four
    generate(at, "Hello there")
    assert any("at most 4" in error.value for error in at.error)
    assert [turn.role for turn in turns(at)] == ["user"] and "Hello there" in codes(at)
    assert monitor.request_stats.snapshot(monitor.clock())["rejected_requests"] == 1  # refused, and counted


def test_generate_shows_markup_as_text(open_page):
    prompt = "<script>alert(1)</script> **bold** <img src=x onerror=alert(2)>"
    at = generate(open_page("views/generate.py"), prompt, max_new_tokens=4)
    assert prompt in codes(at)
    assert not any("<script" in md.value or "onerror" in md.value for md in at.markdown if md.allow_html)
    assert not any("alert(1)" in md.value for md in at.markdown)  # nor as Markdown: only in code blocks


def test_generate_says_when_the_model_is_not_ready(open_page, monitor):
    monitor.target.unload()
    at = generate(open_page("views/generate.py"), "Hello")
    assert any("not loaded" in warning.value for warning in at.warning)
    assert turns(at)[-1].error and "not loaded" in turns(at)[-1].error
    assert monitor.request_stats.snapshot(monitor.clock())["rejected_requests"] == 1


def test_generate_from_the_page_takes_from_the_same_rate_limit(open_page, monitor):
    from healthmon.ratelimit import RateLimiter

    monitor.generate.rate_limiter = RateLimiter(rate_per_minute=0.01, burst=1)
    at = generate(open_page("views/generate.py"), "Hello", max_new_tokens=2)
    assert [turn.role for turn in turns(at)] == ["user", "assistant"]
    generate(at, "Hello again", max_new_tokens=2)
    assert turns(at)[-1].role == "user" and "Rate limit" in turns(at)[-1].error
    assert monitor.request_stats.snapshot(monitor.clock())["rejected_requests"] == 1


def test_a_question_sent_as_relevance_lands_is_not_lost(open_page, monitor):
    """The scorer finishing between the page's read of the newest answer and its pending fragment's made the
    fragment rerun the page before it read the chat input: the question was dropped (a loaded machine's race,
    made certain here by answering the two reads differently)."""
    from healthmon.quality.metrics import RELEVANCE_PENDING
    from healthmon.ratelimit import RateLimiter

    monitor.generate.rate_limiter = RateLimiter(rate_per_minute=0.01, burst=1)
    at = generate(open_page("views/generate.py"), "Hello", max_new_tokens=2)
    trace_id = turns(at)[-1].trace_id
    stored, read = monitor.store.get_request, monitor.store.get_request

    def pending_then_scored(asked: str):
        record = read(asked)
        if asked != trace_id or record is None:
            return record
        state["reads"] += 1
        quality = dict(record.get("quality") or {})
        if state["reads"] % 2:  # the page's read: still pending
            quality |= {"relevance": None, "relevance_reason": RELEVANCE_PENDING}
        else:  # the fragment's: scored meanwhile
            quality |= {"relevance": 0.9, "relevance_reason": "scored"}
        return record | {"status": "ok", "quality": quality}

    state = {"reads": 0}
    monitor.store.get_request = pending_then_scored
    try:
        generate(at, "Hello again", max_new_tokens=2)
    finally:
        monitor.store.get_request = stored
    assert state["reads"] >= 2  # both reads happened
    assert turns(at)[-1].role == "user" and "Rate limit" in turns(at)[-1].error  # the question was asked


# ---- Traces -------------------------------------------------------------------------------------------------
def test_traces_empty_state_links_to_generate(open_page):
    at = open_page("views/traces.py")
    assert "No requests in this window yet" in at.info[0].value
    assert at.get("page_link")[0].proto.page_script_hash


# ---- Alerts -------------------------------------------------------------------------------------------------
def fire_cpu_alert(m: Monitor) -> str:
    """Four CPU samples at 99 %, 31 s apart, ending now: past cpu_warning's 3 samples and 60 s."""
    now = m.clock()
    for index in range(4):
        m.alerts.engine.evaluate(now - 93 + 31 * index, {"cpu_usage": 99.0})
    [alert] = m.alerts.active()
    return alert.id


def test_alerts_lists_a_firing_alert_acknowledges_and_silences_it(open_page, monitor):
    alert_id = fire_cpu_alert(monitor)
    at = open_page("views/alerts.py")
    assert any("cpu_usage 99%" in text.value for text in at.text)
    listed = table(at, "acknowledged")
    assert listed.loc[0, "id"] == alert_id and listed.loc[0, "layer"] == "system"
    assert listed.loc[0, "state"] == "firing" and listed.loc[0, "level"] == "warning"

    at.button(key=f"alerts-ack-{alert_id}").click().run()
    assert monitor.alerts.engine.get(alert_id).acknowledged
    assert any(alert_id in toast.value.replace("\\", "") for toast in at.toast)  # escape_markdown's backslashes
    assert at.button(key=f"alerts-ack-{alert_id}").disabled

    at.selectbox(key="alerts-silence-matcher").select("cpu_warning")
    at.button(key="alerts-silence").click().run()
    assert monitor.alerts.active() == []  # still listed, no longer active
    assert any(r"cpu\_warning" in toast.value for toast in at.toast)
    assert table(at, "acknowledged").loc[0, "silenced_until"]


def test_alerts_filters_by_level(open_page, monitor):
    alert_id = fire_cpu_alert(monitor)
    at = open_page("views/alerts.py")
    at.pills(key="alerts-levels").set_value(["critical"]).run()
    assert not at.exception
    assert f"alerts-ack-{alert_id}" not in [button.key for button in at.button]
    assert any("No open alerts match the filters." in caption.value for caption in at.caption)


def test_alerts_empty_state_lists_the_rules_watched(open_page):
    at = open_page("views/alerts.py")
    assert "No alerts in this window" in at.info[0].value
    rules = table(at, "condition")
    assert {"cpu_warning", "memory_critical", "ttft_baseline", "memory_forecast"} <= set(rules["rule"])
    fast = rules[rules["rule"] == "slo_burn_rate_page_fast"].iloc[0]  # the SLO's burn-rate alerts, in the slo layer
    assert fast["layer"] == "slo" and fast["condition"].startswith("slo_burn_rate_1h > 14.4 × and slo_burn_rate_5m")


# ---- Settings -----------------------------------------------------------------------------------------------
def test_settings_start_and_stop_monitoring(open_page, monitor):
    at = open_page("views/settings.py")
    assert not monitor.running and at.button(key="settings-stop").disabled
    at.button(key="settings-start").click().run()
    assert monitor.running and at.button(key="settings-start").disabled
    at.button(key="settings-stop").click().run()
    assert not monitor.running and not at.exception


def test_settings_switches_the_ui_to_chinese(open_page):
    at = open_page("views/settings.py")
    at.radio(key="lang_choice").set_value("zh").run()
    assert not at.exception
    assert at.title[0].value == "设置"
    assert "监控" in [header.value for header in at.subheader]
    assert [metric.value for metric in at.metric if metric.label == "状态"][0] == "已加载"  # the model state is first


def test_settings_counts_parameters_as_the_model_page_does(open_page):
    """The demo model's 778.4 K parameters read "0.8 M" here while the Model page said "778.40 K"."""
    metrics = open_page("views/settings.py").metric
    assert [metric.value for metric in metrics if metric.label == "Parameters"][0].endswith(" K")


def test_settings_refuses_a_malformed_model_source_and_keeps_the_model(open_page, monitor):
    at = open_page("views/settings.py")
    assert at.text_input(key="settings-model-spec").value == "demo"
    at.text_input(key="settings-model-spec").input("ftp:somewhere")
    at.button(key="settings-load").click().run()
    assert any("unknown model source" in error.value for error in at.error)
    assert monitor.target.info().status == "loaded"


def test_settings_shows_the_configuration_without_secrets(open_page):
    at = open_page("views/settings.py")
    config = table(at, "variable")
    assert "api_token" not in set(config["setting"]) and "api_token_set" in set(config["setting"])
    assert "HEALTHMON_INTERVAL" in set(config["variable"])


