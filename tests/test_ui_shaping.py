"""The pages' Streamlit-free shaping (healthmon.ui.shaping, charts.similarity_range), on the frames and records
the store and the monitor hand the pages, including empty frames, missing columns and None."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pandas as pd
import pytest

from healthmon import charts
from healthmon.quality.drift import REFERENCE_RECORDED
from healthmon.ui.shaping.analysis import finish_reason_colors
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
from healthmon.ui.shaping.overview import breakdown_table, inputs_text
from healthmon.ui.shaping.system import gpu_columns, gpu_series, gpu_table, peak, per_core_frame

SHAPING_MODULES = ("healthmon.ui.shaping", "healthmon.ui.shaping.analysis", "healthmon.ui.shaping.fleet",
                   "healthmon.ui.shaping.model", "healthmon.ui.shaping.overview", "healthmon.ui.shaping.system")
ZH = {"reference": "基准", "pending": "待计算", "time (UTC)": "时间 (UTC)", "drift": "漂移", "down": "离线",
      "warning": "警告", "Instance": "实例", "Status": "状态", "component": "组件", "system": "系统"}


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
    figures = server_figures({"server_requests_running": 3, "server_requests_waiting": 1_500,
                              "server_kv_cache_usage_ratio": 0.425, "server_ttft_seconds": 0.0421,
                              "server_generation_tokens_per_second": 1234.56})
    assert figures == {"server_requests_running": "3", "server_requests_waiting": "1.50 K",
                       "server_kv_cache_usage_ratio": "42%", "server_ttft_seconds": "42 ms",
                       "server_generation_tokens_per_second": "1,234.6"}
    assert set(server_figures({}).values()) == {"—"}  # a server that exposes none of them


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
