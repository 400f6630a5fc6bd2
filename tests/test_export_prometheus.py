"""The /metrics exposition: layers read at scrape time, names and units, alerts, health, the route, promtool."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.testclient import TestClient

from healthmon.config import load_settings
from healthmon.export.prometheus import MonitorCollector, build_registry, metrics_route
from healthmon.monitor import Monitor
from healthmon.params import GenerationParams
from healthmon.records import RequestRecord
from tests.target_infos import loaded

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package 'prometheus')")


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class Fixed:
    """A collector that returns the same sample every cycle."""

    def __init__(self, layer: str, values: dict) -> None:
        self.layer, self.values = layer, values

    def collect(self) -> dict:
        return dict(self.values)


SYSTEM = {"cpu_usage": 42.5, "memory_usage": 61.0, "memory_used_gb": 2.0, "memory_total_gb": 8.0,
          "memory_available_gb": 6.0, "swap_usage": 0.0, "swap_used_gb": 0.0, "disk_usage": 71.4, "disk_used_gb": 50.0,
          "disk_total_gb": 100.0, "disk_read_bytes_per_second": 1000.0, "disk_write_bytes_per_second": None,
          "network_recv_bytes_per_second": 10.0, "network_sent_bytes_per_second": 20.0, "load_avg_1m": 0.5,
          "load_avg_5m": 0.4, "load_avg_15m": 0.3, "cpu_per_core": [40.0, 45.0], "cpu_count": 2}
PROCESS = {"process_rss_mb": 512.0, "process_cpu_percent": 150.0, "process_threads": 12, "process_open_files": 7}
GPU = {"gpu_available": True, "gpu_count": 2, "devices": [
    {"index": 0, "name": "NVIDIA H100", "utilization_percent": 80, "memory_used_mb": 1024.0, "memory_total_mb": 4096.0,
     "memory_percent": 25.0, "temperature_c": 61, "power_w": 300.5, "process_memory_mb": 512.0},
    {"index": 1, "name": "NVIDIA H100", "utilization_percent": 10, "memory_used_mb": 0.0, "memory_total_mb": 4096.0,
     "memory_percent": 0.0, "temperature_c": 40, "power_w": None, "process_memory_mb": None}],
       "gpu_utilization": 45.0, "gpu_memory_usage": 12.5}


@pytest.fixture
def monitor(tmp_path, demo_model_dir):
    shutil.copytree(demo_model_dir, tmp_path / "demo-model")  # loads at once instead of being built (minutes)
    clock = FakeClock()
    collectors = [Fixed("system", SYSTEM), Fixed("process", PROCESS), Fixed("gpu", GPU)]
    monitor = Monitor(load_settings(env={}, model="demo", data_dir=tmp_path, probe_interval=0.0, interval=5.0),
                      collectors=collectors, clock=clock)
    monitor.loop.collect_once()
    yield monitor
    monitor.close()


def exposition(monitor: Monitor) -> str:
    return generate_latest(build_registry(monitor)).decode()


def families(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}


def value(text: str, metric: str, /, **labels: str) -> float:
    matches = [s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == metric and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(matches) == 1, (metric, labels, matches)
    return matches[0]


def test_layers_are_gauges_in_base_units(monitor):
    text = exposition(monitor)
    parsed = families(text)
    assert parsed["healthmon_system_cpu_usage_ratio"].type == "gauge"
    assert value(text, "healthmon_system_cpu_usage_ratio") == 0.425
    assert value(text, "healthmon_system_disk_usage_ratio") == 0.714
    assert value(text, "healthmon_system_memory_total_bytes") == 8 * 1024**3
    assert value(text, "healthmon_system_network_transmit_bytes_per_second") == 20.0
    assert value(text, "healthmon_system_load15") == 0.3
    assert "healthmon_system_disk_written_bytes_per_second" not in parsed  # None this cycle: no sample, not 0
    assert value(text, "healthmon_process_resident_memory_bytes") == 512 * 1024**2
    assert value(text, "healthmon_process_cpu_usage_ratio") == 1.5
    assert value(text, "healthmon_process_threads") == 12
    assert value(text, "healthmon_monitoring") == 0  # collect_once by hand: the loop is not running


def test_gpus_are_labeled_per_device(monitor):
    text = exposition(monitor)
    assert value(text, "healthmon_gpu_available") == 1
    assert value(text, "healthmon_gpu_utilization_ratio", gpu="0", name="NVIDIA H100") == 0.8
    assert value(text, "healthmon_gpu_utilization_ratio", gpu="1") == 0.1
    assert value(text, "healthmon_gpu_memory_used_bytes", gpu="0") == 1024 * 1024**2
    assert value(text, "healthmon_gpu_temperature_celsius", gpu="0") == 61
    assert value(text, "healthmon_gpu_power_usage_watts", gpu="0") == 300.5
    power = [s for s in families(text)["healthmon_gpu_power_usage_watts"].samples]
    assert [s.labels["gpu"] for s in power] == ["0"]  # device 1 has no power reading: no series, not 0


def test_stale_layers_are_left_out_rather_than_frozen(monitor):
    monitor.clock.now += 10  # two intervals: still fresh
    assert "healthmon_system_cpu_usage_ratio" in families(exposition(monitor))
    monitor.clock.now += 60  # far beyond three intervals: the loop is not collecting
    parsed = families(exposition(monitor))
    assert "healthmon_system_cpu_usage_ratio" not in parsed and "healthmon_gpu_utilization_ratio" not in parsed
    assert "healthmon_model_state" in parsed  # read live from the runtime, never stale


def test_model_state_is_one_hot_and_info_names_the_model(monitor):
    text = exposition(monitor)
    states = {s.labels["state"]: s.value for s in families(text)["healthmon_model_state"].samples}
    assert states == {"not_loaded": 1.0, "loading": 0.0, "loaded": 0.0, "error": 0.0}
    info = families(text)["healthmon_model_info"].samples[0]  # the text format has no info type: a gauge of 1
    assert info.labels["source"] == "demo" and info.labels["demo"] == "true" and info.value == 1
    assert value(text, "healthmon_model_loaded") == 0
    assert value(text, "healthmon_num_requests_waiting") == 0


def test_a_failed_reload_leaves_no_facts_of_the_previous_model(monitor, tmp_path):
    from healthmon.runtime.sources import parse_model_spec

    assert monitor.target.load() is True
    loaded = families(exposition(monitor))["healthmon_model_info"].samples[0].labels
    assert loaded["architecture"] and loaded["device"]
    assert monitor.target.load(parse_model_spec(str(tmp_path / "nowhere"))) is False
    info = families(exposition(monitor))["healthmon_model_info"].samples[0].labels
    assert "nowhere" in info["model_name"] and info["architecture"] == "" and info["device"] == ""
    assert value(exposition(monitor), "healthmon_model_state", state="error") == 1


def test_health_score_status_and_components(monitor):
    text = exposition(monitor)
    health = monitor.loop.health()
    assert value(text, "healthmon_health_score") == health["performance_score"]
    statuses = {s.labels["status"]: s.value for s in families(text)["healthmon_health_status"].samples}
    assert statuses[health["status"]] == 1 and sum(statuses.values()) == 1
    assert value(text, "healthmon_health_component_score", component="system") > 0


def test_alert_states_follow_the_engine(monitor):
    monitor.loop.collectors[0].values = SYSTEM | {"disk_usage": 99.0}
    for _ in range(5):
        monitor.clock.now += 10
        monitor.loop.collect_once()
    text = exposition(monitor)
    assert value(text, "healthmon_alerts", rule="disk_critical", state="firing", level="critical",
                 kind="threshold", metric="disk_usage") == 1
    assert value(text, "healthmon_alerts_active", level="critical") == 1
    assert value(text, "healthmon_alerts_active", level="warning") == 0
    assert value(text, "healthmon_health_status", status="critical") == 1


def test_a_failing_section_costs_only_its_own_series(monitor, monkeypatch):
    def broken():
        raise RuntimeError("runtime lock poisoned")

    monkeypatch.setattr(monitor.target, "info", broken)
    parsed = families(exposition(monitor))
    assert "healthmon_model_state" not in parsed
    assert "healthmon_system_cpu_usage_ratio" in parsed and "healthmon_health_score" in parsed


def test_requests_through_the_real_runtime_reach_the_histograms(data_dir):
    monitor = Monitor(load_settings(env={}, model="demo", data_dir=data_dir, probe_interval=0.0))
    try:
        assert monitor.target.load()
        monitor.target.generate(GenerationParams("What is a histogram?", max_new_tokens=6, temperature=0.0))
        monitor.target.generate(GenerationParams("Probe", max_new_tokens=4, temperature=0.0),
                                 source="probe", synthetic=True)
        text = exposition(monitor)
        assert value(text, "healthmon_requests_total", status="ok") == 1
        assert value(text, "healthmon_e2e_request_latency_seconds_count") == 1
        assert value(text, "healthmon_time_to_first_token_seconds_count") == 1
        assert value(text, "healthmon_generation_tokens_total") >= 1
        assert value(text, "healthmon_canary_requests_total", status="ok") == 1
        assert value(text, "healthmon_model_loaded") == 1
        assert value(text, "healthmon_model_parameters") > 0
        assert value(text, "healthmon_model_load_duration_seconds") > 0
    finally:
        monitor.close()


def test_names_follow_prometheus_conventions(monitor):
    parsed = families(exposition(monitor))
    for name, family in parsed.items():
        assert name.startswith("healthmon_"), name
        assert not any(bad in name for bad in ("percent", "_mb", "_gb", "milli", "_hours")), name
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples), name
    assert {"healthmon_alerts", "healthmon_collection_cycles", "healthmon_collector_errors"} <= set(parsed)


@needs_promtool
def test_promtool_check_metrics_finds_nothing_to_say(monitor):
    info = loaded(monitor.target.info())
    monitor.target.info = lambda: info
    monitor.request_metrics.record(RequestRecord.from_row({
        "status": "ok", "synthetic": False, "latency_seconds": 0.2, "ttft_seconds": 0.01,
        "prompt_tokens": 3, "output_tokens": 2, "finish_reason": "stop"}))
    result = subprocess.run([PROMTOOL, "check", "metrics"], input=exposition(monitor), capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0 and result.stdout.strip() == "" and result.stderr.strip() == "", result


def test_the_route_serves_both_formats_and_refuses_other_methods(monitor):
    current = {"monitor": monitor}
    client = TestClient(Starlette(routes=[metrics_route(lambda: current["monitor"])]))
    plain = client.get("/metrics")
    assert plain.status_code == 200 and plain.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "healthmon_health_score" in families(plain.text)
    openmetrics = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.endswith("# EOF\n")
    refused = client.post("/metrics")
    assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD"


def test_the_route_follows_a_replaced_monitor(monitor, tmp_path):
    current = {"monitor": monitor}
    client = TestClient(Starlette(routes=[metrics_route(lambda: current["monitor"])]))
    assert "healthmon_system_cpu_usage_ratio" in families(client.get("/metrics").text)
    fresh = Monitor(load_settings(env={}, model="demo", data_dir=tmp_path / "second", probe_interval=0.0),
                    collectors=[])
    try:
        current["monitor"] = fresh
        assert "healthmon_system_cpu_usage_ratio" not in families(client.get("/metrics").text)
    finally:
        fresh.close()


def test_collector_protocol_is_usable_alone(monitor):
    names = [family.name for family in MonitorCollector(monitor).collect()]
    assert "healthmon_health_score" in names and "healthmon_requests" not in names
