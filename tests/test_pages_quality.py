"""Generation quality on the pages: Analysis trends and the scorer's state, per-request quality in Traces, and
canary drift on the Model page, headless (AppTest) through the real entry file against a real Monitor.

Relevance is off (HEALTHMON_EMBEDDING_MODEL=off) except in one test, which loads the bundled embedding model
and waits for the background scorer to fill relevance and canary drift in.
"""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest
import streamlit as st
from conftest import plotly_spec, wait_for_model
from streamlit.testing.v1 import AppTest

from healthmon.collectors.gpu import GpuCollector
from healthmon.params import GenerationParams
from healthmon.quality.drift import REFERENCE_RECORDED
from healthmon.quality.metrics import text_quality
from healthmon.registry import get_monitor, release_monitor


class _NvmlError(Exception):
    """Stands in for pynvml.NVMLError."""


class NoGpuNvml:
    """An NVML whose driver is missing, so every machine running the suite reads as GPU-less."""

    NVMLError = _NvmlError

    def nvmlInit(self) -> None:  # noqa: N802 - pynvml's name
        raise _NvmlError("Driver Not Loaded")


def _reset() -> None:
    release_monitor()
    st.cache_resource.clear()


def _monitor(monkeypatch, data_dir, embedding_model: str | None):
    monkeypatch.setenv("HEALTHMON_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HEALTHMON_PROBE_INTERVAL", "0")  # the test sends its probes itself
    monkeypatch.setenv("HEALTHMON_INTERVAL", "1")
    if embedding_model is None:
        monkeypatch.delenv("HEALTHMON_EMBEDDING_MODEL", raising=False)  # the default, bundled MiniLM
    else:
        monkeypatch.setenv("HEALTHMON_EMBEDDING_MODEL", embedding_model)
    monkeypatch.setattr("healthmon.monitor.GpuCollector", lambda: GpuCollector(nvml=NoGpuNvml()))
    _reset()
    monitor = get_monitor(start=False)
    assert wait_for_model(monitor) == "loaded", monitor.target.info()
    return monitor


@pytest.fixture
def quality_off(data_dir, monkeypatch):
    yield _monitor(monkeypatch, data_dir, "off")
    _reset()


@pytest.fixture
def quality_on(data_dir, monkeypatch):
    yield _monitor(monkeypatch, data_dir, None)
    _reset()


def collect(monitor, cycles: int = 3) -> None:
    for _ in range(cycles):
        time.sleep(0.1)
        monitor.loop.collect_once()
    monitor.store.flush()


def finalized(monitor, trace_ids: list[str], timeout_seconds: float = 60) -> list[dict]:
    """The stored records once the background scorer has re-emitted every one (relevance no longer pending)."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        monitor.store.flush()
        records = [monitor.store.get_request(trace_id) for trace_id in trace_ids]
        if all(r and r["quality"]["relevance_reason"] != "pending" for r in records):
            time.sleep(0.1)  # the scorer stores a record, then adds it to the quality window
            return records
        assert time.monotonic() < deadline, [r and r["quality"] for r in records]
        time.sleep(0.05)


def serve(monitor, prompts: list[str], probes: int = 0) -> list[dict]:
    """User requests (and canary probes), scored, then a few collection cycles: the quality layer holds them."""
    ids = [monitor.target.generate(GenerationParams(prompt, max_new_tokens=12, temperature=0.0)).trace_id
           for prompt in prompts]
    for _ in range(probes):
        probe = monitor.probe.probe_once()
        assert probe is not None and probe.status == "ok"
        ids.append(probe.trace_id)
        finalized(monitor, ids)  # the first probe becomes the reference before the next one is compared
    records = finalized(monitor, ids)
    collect(monitor)
    return records


def run_page(page: str, lang: str = "en", **state) -> AppTest:
    at = AppTest.from_file("../streamlit_app.py", default_timeout=30)
    at.session_state["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def charts_by_key(at: AppTest) -> dict[str, dict]:
    """{user key: figure spec}; the element id ends with the key given to st.plotly_chart."""
    return {element.proto.id[element.proto.id.index("chart-"):]: plotly_spec(element.proto.spec)
            for element in at.get("plotly_chart") if "chart-" in element.proto.id}


def points(spec: dict) -> int:
    return sum(len(trace.get("y") or []) for trace in spec["data"])


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def select_first_request(at: AppTest) -> AppTest:
    at.session_state["traces-table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def table(at: AppTest, column: str) -> pd.DataFrame:
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


# ---- Analysis -------------------------------------------------------------------------------------------

def test_analysis_without_requests_says_what_is_missing_and_that_relevance_is_off(quality_off):
    collect(quality_off)
    at = run_page("views/analysis.py")
    assert texts(at.subheader)[-1] == "Generation quality"
    info = texts(at.info)
    assert any(text.startswith("No generation quality in this window yet") for text in info)
    assert any(text.startswith("Relevance is off (HEALTHMON_EMBEDDING_MODEL=off)") and
               "HEALTHMON_EMBEDDING_MODEL=multilingual-e5-small" in text for text in info)
    assert [link.proto.page for link in at.get("page_link")] == ["generate", "generate"]
    tiles = metrics(at)
    assert tiles["Embedding model"] == "off" and tiles["Queue"] == "0 / 256" and tiles["Dropped"] == "0"
    assert not any(key.startswith("chart-quality") for key in charts_by_key(at))  # empty states, no blank charts


def test_analysis_charts_the_quality_of_user_requests(quality_off):
    records = serve(quality_off, ["Tell me about GPUs", "What is a memory leak?", "Why do timeouts matter?"],
                    probes=1)
    at = run_page("views/analysis.py")
    tiles = metrics(at)
    user = [r["quality"] for r in records if not r["synthetic"]]
    expected = sum(q["quality_score"] for q in user) / len(user)  # probes are left out of the quality layer
    assert float(tiles["Quality score"]) == pytest.approx(expected, abs=0.051)
    assert tiles["Relevance"] == "off" and tiles["Perplexity"] != "—" and tiles["Truncated"].endswith(" %")
    assert tiles["Embedding model"] == "off" and tiles["Failed"] == "0"
    figures = charts_by_key(at)
    score = figures["chart-quality-score"]
    assert points(score) > 0 and score["layout"]["yaxis"]["range"] == [0, 105]
    shares = figures["chart-quality-relevance-repetition"]
    assert [trace["name"] for trace in shares["data"]] == ["repetition rate", "distinct-2"]  # no relevance: off
    assert shares["layout"]["yaxis"]["range"][1] == 1.05
    assert points(figures["chart-quality-perplexity"]) > 0
    verdicts = figures["chart-quality-verdicts"]
    assert [trace["name"] for trace in verdicts["data"]] == ["language mismatch", "empty", "truncated"]
    assert all(points({"data": [trace]}) > 0 for trace in verdicts["data"])
    downloads = [button.proto.id for button in at.get("download_button")]
    for name in ("quality-score", "quality-relevance-repetition", "quality-perplexity", "quality-verdicts"):
        assert any(element_id.endswith(f"download-{name}") for element_id in downloads), name


# ---- Traces ---------------------------------------------------------------------------------------------

def test_traces_show_the_selected_requests_quality(quality_off):
    [record] = serve(quality_off, ["请介绍一下显卡的内存"])
    at = run_page("views/traces.py")
    shown = table(at, "quality_score")
    assert shown["quality_score"].tolist() == [pytest.approx(record["quality"]["quality_score"])]
    at = select_first_request(at)
    tiles = metrics(at)
    quality = record["quality"]
    assert tiles["Quality score"] == f"{quality['quality_score']:.1f}"
    assert tiles["Relevance"] == "—"  # off: never scored, not pending
    assert tiles["Perplexity"] == f"{quality['perplexity']:.2f}"
    assert tiles["Repetition"] == f"{quality['repetition_rate']:.2f}"
    assert tiles["Distinct-2"] == f"{quality['distinct_2']:.2f}"
    assert tiles["Language"] == {True: "match", False: "mismatch", None: "—"}[quality["language_match"]]
    assert tiles["Empty"] == "no" and tiles["Truncated"] in ("yes", "no")
    notes = "\n".join(texts(at.text))
    assert f"Language: expected zh → answer {quality['response_language'] or '—'}" in notes
    assert "Relevance: not scored: relevance is off (HEALTHMON_EMBEDDING_MODEL='off')" in notes
    assert not any('"quality_score"' in text for text in texts(at.json))  # figures, not a JSON dump


# ---- Model: canary drift, and relevance once scored (the one test with the embedding model) -------------

def test_relevance_and_canary_drift_show_once_the_scorer_has_run(quality_on):
    records = serve(quality_on, ["Tell me about GPU memory"], probes=2)
    assert quality_on.quality_scorer.stats()["relevance_scored_total"] == 3
    user, first_probe, second_probe = records
    assert user["quality"]["relevance"] is not None
    assert first_probe["quality"]["drift_reason"] == REFERENCE_RECORDED
    drift = second_probe["quality"]["drift_similarity"]
    assert drift is not None

    model = run_page("views/model.py")
    probes = table(model, "drift")
    assert probes["drift"].tolist() == [f"{drift:.3f}", "reference"]  # newest first
    assert metrics(model)["Drift similarity"] == f"{drift:.3f}"
    chart = charts_by_key(model)["chart-canary-drift"]
    assert chart["data"][0]["y"][-1] == pytest.approx(drift, abs=1e-4)
    assert [a["text"] for a in chart["layout"]["annotations"]] == ["drift warning < 0.8"]

    traces = select_first_request(run_page("views/traces.py"))
    tiles = metrics(traces)
    assert tiles["Relevance"] == f"{user['quality']['relevance']:.3f}"
    assert tiles["Quality score"] == f"{user['quality']['quality_score']:.1f}"
    assert "Relevance:" not in "\n".join(texts(traces.text))  # scored: no reason to give

    analysis = run_page("views/analysis.py")
    tiles = metrics(analysis)
    assert tiles["Embedding model"] == "ready" and tiles["Scored"] == "3"
    assert tiles["Relevance"] == f"{user['quality']['relevance']:.3f}"
    shares = charts_by_key(analysis)["chart-quality-relevance-repetition"]
    assert [trace["name"] for trace in shares["data"]][0] == "relevance"


def test_model_page_says_drift_is_off_without_the_embedding_model(quality_off):
    serve(quality_off, [], probes=1)
    at = run_page("views/model.py")
    assert any(text.startswith("Canary drift is off") for text in texts(at.info))
    assert table(at, "drift")["drift"].tolist() == ["—"] and metrics(at)["Drift similarity"] == "off"
    assert "chart-canary-drift" not in charts_by_key(at)


def test_an_embedding_model_that_cannot_load_is_shown_with_its_reason(data_dir, monkeypatch, tmp_path):
    monitor = _monitor(monkeypatch, data_dir, str(tmp_path / "no-such-embedder"))
    try:
        [record] = serve(monitor, ["Tell me about GPUs"])
        at = run_page("views/analysis.py")
        assert metrics(at)["Embedding model"] == "unavailable" and metrics(at)["Relevance"] == "—"
        assert any(w.value.startswith("The embedding model could not be loaded") for w in at.warning)
        assert monitor.quality_scorer.embedder_error in texts(at.code)  # the reason, verbatim and inert
        assert "no-such-embedder" in record["quality"]["relevance_reason"]
    finally:
        _reset()


# ---- Chinese --------------------------------------------------------------------------------------------

def test_quality_sections_in_chinese(quality_off):
    serve(quality_off, ["Tell me about GPUs"], probes=1)
    analysis = run_page("views/analysis.py", lang="zh")
    assert "生成质量" in texts(analysis.subheader)
    assert {"质量评分", "相关性", "困惑度", "向量模型"} <= set(metrics(analysis))
    assert metrics(analysis)["相关性"] == "已关闭"
    assert "质量评分（每周期平均）" in json.dumps(charts_by_key(analysis), ensure_ascii=False)
    model = run_page("views/model.py", lang="zh")
    assert "漂移" in table(model, "漂移").columns and "漂移相似度" in metrics(model)
    assert any(text.startswith("金丝雀漂移已关闭") for text in texts(model.info))
    traces = select_first_request(run_page("views/traces.py", lang="zh"))
    assert {"质量评分", "相关性", "语言", "被截断"} <= set(metrics(traces))
    assert any(md.value == "**生成质量**" for md in traces.markdown)


def test_analysis_shows_each_answers_figures_and_the_worst_answers_link_to_their_traces(quality_off):
    records = serve(quality_off, ["Tell me about GPUs", "What is a memory leak?"])
    loop = quality_off.store.get_request(records[0]["trace_id"])
    looping = "la Francine, " * 30
    quality_off.store.append_request(loop | {"trace_id": "worst1", "response": looping, "quality": text_quality(
        loop["prompt"], looping, "length")})
    at = run_page("views/analysis.py")
    figures = charts_by_key(at)
    for name in ("quality-score", "degeneration-score"):
        assert points(figures[f"chart-answers-{name}"]) > 0, name
    flags = figures["chart-answers-flags"]["data"][0]
    assert dict(zip(flags["x"], flags["y"], strict=True))["degenerate"] == 1
    worst = table(at, "trace")
    assert worst["trace"].tolist()[0] == "/traces?trace=worst1" and "degenerate" in worst["flags"].tolist()[0]
    assert len(worst) == 3 and worst["quality_score"].is_monotonic_increasing


def test_traces_filter_by_flag_and_open_a_linked_trace(quality_off):
    [record] = serve(quality_off, ["What is a memory leak?"])
    looping = "yes, " * 40
    quality_off.store.append_request(record | {"trace_id": "loop1", "ts": record["ts"] - 1, "response": looping,
                                               "quality": text_quality(record["prompt"], looping, "length")})
    at = run_page("views/traces.py", **{"traces-flags": ["degenerate"]})
    assert table(at, "trace_id")["trace_id"].tolist() == ["loop1"]
    at = run_page("views/traces.py", **{"traces-flags": ["empty"]})
    assert any("No request in this window carries these flags" in info.value for info in at.info)
    linked = AppTest.from_file("../streamlit_app.py", default_timeout=30)
    linked.query_params["trace"] = "loop1"
    linked.switch_page("views/traces.py").run()
    assert not linked.exception and "Linked request" in texts(linked.subheader)
    assert looping in [code.value for code in linked.code]
