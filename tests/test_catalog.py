"""The metric catalog: every sampled key declared once, in its layer, and what reads it agrees with it."""

from __future__ import annotations

import pytest

from healthmon.analysis.rules import METRIC_UNITS, METRICS, BaselineRule, default_rules
from healthmon.analysis.score import DEFAULT_COMPONENTS
from healthmon.analysis.stats import RequestStats
from healthmon.catalog import CATALOG, by_layer, exported, label, spec, unit, unit_suffix
from healthmon.collectors.gpu import _fleet_metrics, _unavailable
from healthmon.collectors.process import ProcessCollector
from healthmon.collectors.system import SystemCollector
from healthmon.quality.window import summarize

DEVICE = {"index": 0, "name": "GPU", "utilization_percent": 80, "memory_used_mb": 1024.0, "memory_total_mb": 4096.0,
          "memory_percent": 25.0, "temperature_c": 61, "power_w": 300.5, "process_memory_mb": 512.0}


def keys(layer: str) -> set[str]:
    return {s.key for s in by_layer(layer)}


def test_the_collectors_sample_exactly_the_declared_keys() -> None:
    assert set(SystemCollector().collect()) == keys("system")
    assert set(ProcessCollector().collect()) == keys("process")
    gpu = {"gpu_available": True, "gpu_count": 1} | _fleet_metrics([DEVICE])
    per_gpu = {key for key in gpu if key.startswith("gpu0_")}  # derived copies of the device fields
    assert set(gpu) - per_gpu <= keys("gpu") and set(_unavailable("none")) - {"reason"} <= keys("gpu")
    assert set(DEVICE) - {"index", "name"} == keys("gpu_device")


def test_the_service_and_quality_layers_sample_exactly_the_declared_keys() -> None:
    assert set(RequestStats().snapshot(0.0)) - {"window_seconds"} == keys("service")
    scorer_counters = {"relevance_queue_depth", "relevance_scored_total", "relevance_dropped_total",
                       "relevance_failed_total", "embedding_model_ready"}
    assert set(summarize([], [])) | scorer_counters == keys("quality")


def test_model_and_service_throughput_are_two_metrics() -> None:
    assert spec("tokens_per_second").layer == "model" and spec("window_tokens_per_second").layer == "service"
    assert "window_tokens_per_second" in METRICS and "tokens_per_second" not in METRICS


def test_rules_and_score_read_declared_metrics_in_their_good_direction() -> None:
    assert all(spec(metric).alertable for metric in METRICS)
    for rule in default_rules():
        assert rule.metric in METRICS
        if isinstance(rule, BaselineRule) and spec(rule.metric).good is not None:
            assert (rule.bad_direction == "up") == (spec(rule.metric).good == "low"), rule.name
    for component in DEFAULT_COMPONENTS:
        for metric, curve in component.curves.items():
            assert spec(metric).good == ("low" if curve.good < curve.bad else "high"), metric


def test_prometheus_names_are_unique_and_conventional() -> None:
    names = [s.prometheus_name for s in CATALOG.values() if s.prometheus_name]
    assert len(names) == len(set(names))
    for s in CATALOG.values():
        if s.prometheus_name and s.unit == "%":
            assert s.prometheus_name.endswith("_ratio") and s.prometheus_scale == 0.01, s.key
        if s.prometheus_name and s.unit in ("GiB", "MiB"):
            assert s.prometheus_name.endswith("_bytes") and s.prometheus_scale in (1024**3, 1024**2), s.key
    assert {s.key for s in exported("system")} >= {"cpu_usage", "memory_total_gb", "load_avg_15m"}


def test_lookups() -> None:
    assert unit("ttft_seconds") == "s" and unit("not_a_metric") == ""
    assert unit_suffix("memory_usage") == "%" and unit_suffix("ttft_seconds") == " s"
    assert METRIC_UNITS["degenerate_recent"] == " of 5" and METRIC_UNITS["quality_score"] == ""
    assert label("cpu_usage") == "CPU" and label("gpu0_utilization") == "gpu0_utilization"
    with pytest.raises(KeyError):
        spec("cpu")
