"""deploy/: the rules mirror default_rules() and behave (promtool), the config is valid, the dashboard is sound."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from healthmon.analysis.rules import METRIC_UNITS, ForecastRule, ThresholdRule, default_rules
from healthmon.config import load_settings
from healthmon.export.prometheus import build_registry
from healthmon.fleet import fleet_queries
from healthmon.monitor import Monitor
from healthmon.samples import Sample
from tests.target_infos import loaded

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
RULES_FILE = DEPLOY / "healthmon-rules.yml"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package 'prometheus')")
SERIES = {  # built-in metric -> the series its Prometheus rule reads
    "model_available": "healthmon_model_available",
    "cpu_usage": "healthmon_system_cpu_usage_ratio", "memory_usage": "healthmon_system_memory_usage_ratio",
    "disk_usage": "healthmon_system_disk_usage_ratio", "gpu_memory_usage": "instance:healthmon_gpu_memory_usage:ratio",
    "latency_seconds": "instance:healthmon_e2e_request_latency_seconds:mean1m",
    "window_tokens_per_second": "instance:healthmon_generation_tokens_per_second:ratio_rate1m",
    "failure_percent": "instance:healthmon_request_failure:ratio5m",
    "repetition_rate": "healthmon_quality_repetition_rate",
    "degenerate_recent": "healthmon_quality_degenerate_recent",
    "language_mismatch_recent": "healthmon_quality_language_mismatch_recent",
    "canary_drift_similarity": "healthmon_quality_canary_drift_similarity",
    "queue_usage": "healthmon_queue_usage_ratio",
}


def seconds(duration: str | None) -> float:
    """A Prometheus duration ('1m', '30s', '1h30m') in seconds; absent is 0."""
    units = {"h": 3600, "m": 60, "s": 1}
    return float(sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", duration or "")))


def alerts_by_name() -> dict[str, dict]:
    groups = yaml.safe_load(RULES_FILE.read_text())["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}


def compared_numbers(expr: str) -> set[float]:
    return {float(n) for n in re.findall(r"[<>]=?\s*([0-9.]+)", expr)}


@pytest.mark.parametrize("rule", [r for r in default_rules() if isinstance(r, (ThresholdRule, ForecastRule))],
                         ids=lambda rule: rule.name)
def test_every_threshold_and_forecast_rule_is_mirrored(rule):
    mirrored = alerts_by_name()[rule.name]
    scale = 0.01 if METRIC_UNITS[rule.metric] == "%" else 1.0
    assert mirrored["labels"] == {"severity": rule.level, "metric": rule.metric, "kind": rule.kind}
    assert mirrored["annotations"]["description"] == rule.reason
    assert seconds(mirrored.get("for")) == rule.for_seconds
    assert seconds(mirrored.get("keep_firing_for")) == rule.keep_firing_seconds
    assert SERIES[rule.metric] in mirrored["expr"]
    if isinstance(rule, ThresholdRule):
        expected = {round(rule.fire * scale, 6), round(rule.resolve * scale, 6)}
        expected |= {float(rule.min_traffic)} if rule.min_traffic is not None else set()
        assert f'ALERTS{{alertname="{rule.name}", alertstate="firing"}}' in mirrored["expr"]  # the hysteresis
    else:
        window = f"{int(rule.fit_window_seconds // 60)}m" if rule.fit_window_seconds < 3600 else "1h"
        assert f"predict_linear({SERIES[rule.metric]}[{window}], {int(rule.horizon_seconds)})" in mirrored["expr"]
        expected = {round(rule.threshold * scale, 6), rule.min_span_seconds}
    assert {round(n, 6) for n in compared_numbers(mirrored["expr"])} == expected


@needs_promtool
def test_promtool_accepts_the_rules_and_the_scrape_config():
    rules = subprocess.run([PROMTOOL, "check", "rules", str(RULES_FILE)], capture_output=True, text=True, timeout=60)
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = subprocess.run([PROMTOOL, "check", "config", str(DEPLOY / "prometheus.yml")], capture_output=True,
                            text=True, timeout=60)
    assert config.returncode == 0, config.stdout + config.stderr


def expected(alertname: str, summary: str = "", **labels: str) -> dict:
    """One firing alert with these labels and summary (the description is the rule's fixed text), or none."""
    if not labels:
        return {"alertname": alertname, "exp_alerts": []}
    description = alerts_by_name()[alertname]["annotations"]["description"]
    return {"alertname": alertname, "exp_alerts": [
        {"exp_labels": labels, "exp_annotations": {"summary": summary, "description": description}}]}


AGENT = {"instance": "gpu-1:8502", "job": "healthmon"}
CPU = {"severity": "warning", "metric": "cpu_usage", "kind": "threshold", **AGENT}
MEMORY = {"metric": "memory_usage", **AGENT}
UNIT_TESTS = {"rule_files": [str(RULES_FILE)], "evaluation_interval": "15s", "tests": [
    {"interval": "15s",  # CPU 90 % for 3 min, 82 % for 5 min, then 50 %: hysteresis keeps it firing at 82 %
     "input_series": [{"series": 'healthmon_system_cpu_usage_ratio{instance="gpu-1:8502", job="healthmon"}',
                       "values": "0.5x3 0.9x12 0.82x20 0.5x12"}],
     "alert_rule_test": [
         {"eval_time": "1m45s", **expected("cpu_warning")},  # pending: `for: 1m` has not passed
         {"eval_time": "2m30s", **expected("cpu_warning", "CPU 90% on gpu-1:8502 (limit > 85%)", **CPU)},
         {"eval_time": "6m", **expected("cpu_warning", "CPU 82% on gpu-1:8502 (limit > 85%)", **CPU)},
         {"eval_time": "10m45s", **expected("cpu_warning")}]},  # 50 % for over a minute (keep_firing_for)
    {"interval": "1m",  # memory climbing 1 %/min from 50 %: forecast first, then the critical threshold
     "input_series": [{"series": 'healthmon_system_memory_usage_ratio{instance="gpu-1:8502", job="healthmon"}',
                       "values": "0.50+0.01x60"}],
     "alert_rule_test": [
         {"eval_time": "8m", **expected("memory_forecast")},  # under ten minutes of samples: no extrapolation
         {"eval_time": "15m", **expected("memory_forecast", "Memory on gpu-1:8502 is on course to pass 90% within "
                                         "30 minutes", severity="warning", kind="forecast", **MEMORY)},
         {"eval_time": "42m", **expected("memory_forecast")},  # superseded by memory_critical
         {"eval_time": "42m", **expected("memory_critical", "Memory 92% on gpu-1:8502 (limit > 90%)",
                                         severity="critical", kind="threshold", **MEMORY)}]},
    {"interval": "1m",  # a third of requests fail: quiet below 10 requests in 5 minutes, firing above
     "input_series": [
         {"series": 'healthmon_requests_total{instance="gpu-1:8502", job="healthmon", status="ok"}',
          "values": "0+0.2x10 2+2x10"},
         {"series": 'healthmon_requests_total{instance="gpu-1:8502", job="healthmon", status="error"}',
          "values": "0+0.1x10 1+1x10"},
         {"series": 'healthmon_requests_total{instance="gpu-1:8502", job="healthmon", status="rejected"}',
          "values": "0x21"}],
     "alert_rule_test": [
         {"eval_time": "9m", **expected("failure_rate_warning")},
         {"eval_time": "19m", **expected("failure_rate_warning", "33.33% of requests failed on gpu-1:8502 (limit > "
                                         "10%)", severity="warning", metric="failure_percent", kind="threshold",
                                         **AGENT)}]},
    {"interval": "15s",  # an agent's learned-baseline alert is relayed; an unreachable agent is an alert
     "input_series": [
         {"series": 'healthmon_alerts{instance="gpu-1:8502", job="healthmon", rule="ttft_baseline", '
                    'metric="ttft_seconds", level="warning", kind="baseline", state="firing"}', "values": "1x8"},
         {"series": 'up{instance="gpu-2:8502", job="healthmon"}', "values": "0x8"}],
     "alert_rule_test": [
         {"eval_time": "1m", **expected("healthmon_baseline_shift", "ttft_baseline fires on gpu-1:8502: "
                                        "ttft_seconds left its learned normal", severity="warning", kind="baseline",
                                        rule="ttft_baseline", metric="ttft_seconds", level="warning",
                                        state="firing", **AGENT)},
         {"eval_time": "1m30s", **expected("healthmon_agent_down", "Prometheus cannot scrape the healthmon agent "
                                           "on gpu-2:8502", severity="critical", kind="availability",
                                           instance="gpu-2:8502", job="healthmon")}]},
]}


@needs_promtool
def test_the_rules_fire_and_resolve_as_the_built_in_engine_does(tmp_path):
    tests_file = tmp_path / "healthmon-rules.test.yml"
    tests_file.write_text(yaml.safe_dump(UNIT_TESTS, sort_keys=False))
    result = subprocess.run([PROMTOOL, "test", "rules", str(tests_file)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def exposed_names(tmp_path_factory) -> set[str]:
    """Every series name a fully populated agent exposes (GPU, loaded model, an open alert)."""
    class Fixed:
        def __init__(self, layer: str, values: dict) -> None:
            self.layer, self.values = layer, values

        def collect(self) -> dict:
            return dict(self.values)

    device = {"index": 0, "name": "gpu", "utilization_percent": 1, "memory_used_mb": 1.0, "memory_total_mb": 2.0,
              "memory_percent": 50.0, "temperature_c": 40, "power_w": 100.0, "process_memory_mb": 1.0}
    collectors = [Fixed("system", {"cpu_usage": 99.0, **{key: 1.0 for key in (
        "memory_usage", "memory_used_gb", "memory_total_gb", "memory_available_gb", "swap_usage", "swap_used_gb",
        "disk_usage", "disk_used_gb", "disk_total_gb", "disk_read_bytes_per_second", "disk_write_bytes_per_second",
        "network_recv_bytes_per_second", "network_sent_bytes_per_second", "load_avg_1m", "load_avg_5m",
        "load_avg_15m")}}),
        Fixed("process", {"process_rss_mb": 1.0, "process_cpu_percent": 1.0, "process_threads": 1,
                          "process_open_files": 1}),
        Fixed("gpu", {"gpu_available": True, "devices": [device], "torch_cuda_allocated_mb": 1.0,
                      "torch_cuda_reserved_mb": 1.0})]
    settings = load_settings(env={}, model="demo", data_dir=tmp_path_factory.mktemp("names"), probe_interval=0.0)
    monitor = Monitor(settings, collectors=collectors)
    info = loaded(monitor.target.info())
    monitor.target.info = lambda: info
    try:
        monitor.loop.collect_once()
        monitor.loop.rings["quality"].append(Sample("quality", monitor.clock(), {
            "quality_score": 90.0, "relevance": 0.5, "perplexity": 3.0, "repetition_rate": 0.0, "distinct_2": 1.0,
            "canary_drift_similarity": 1.0, "degenerate_recent": 0, "language_mismatch_recent": 0}))
        text = generate_latest(build_registry(monitor)).decode()
    finally:
        monitor.close()
    return {sample.name for family in text_string_to_metric_families(text) for sample in family.samples} | {
        family.name for family in text_string_to_metric_families(text)}


def referenced(expr: str) -> set[str]:
    return set(re.findall(r"\b(?:instance:)?healthmon_[a-z0-9_:]+", expr))


def recorded_names() -> set[str]:
    groups = yaml.safe_load(RULES_FILE.read_text())["groups"]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_rules_dashboard_and_fleet_read_only_series_that_exist(exposed_names):
    groups = yaml.safe_load(RULES_FILE.read_text())["groups"]
    exprs = [rule["expr"] for group in groups for rule in group["rules"]]
    exprs += dashboard_exprs() + list(fleet_queries("healthmon", 60).values())
    known = exposed_names | recorded_names()
    unknown = {name for expr in exprs for name in referenced(expr)} - known
    assert not unknown


def test_the_dashboard_covers_the_four_layers_histograms_and_alerts():
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    rows = [panel["title"] for panel in dashboard["panels"] if panel["type"] == "row"]
    assert rows == ["Health", "System", "Process", "GPU", "Model", "Service", "Alerts"]
    exprs = " ".join(dashboard_exprs())
    for histogram in ("healthmon_e2e_request_latency_seconds", "healthmon_time_to_first_token_seconds",
                      "healthmon_time_per_output_token_seconds"):
        assert f"histogram_quantile(0.95, sum by (instance, le) (rate({histogram}_bucket" in exprs
    assert "ALERTS{" in exprs and "healthmon_alerts{" in exprs
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert variables == {"datasource", "instance"}
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
