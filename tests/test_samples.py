"""Sample: a layer's values at one time, read-only, and checked against the metric catalog by the loop."""

from __future__ import annotations

import logging
import math

import pytest

from healthmon.catalog import alertable
from healthmon.config import load_settings
from healthmon.monitor import Monitor
from healthmon.samples import Sample, undeclared_keys
from tests.test_collectors_gpu import FakeNvml, make_collector


def test_a_sample_reads_like_the_dict_it_was_built_from_but_cannot_change() -> None:
    values = {"cpu_usage": 12.5, "cpu_per_core": [10.0, 15.0]}
    sample = Sample("system", 100, values)
    values["cpu_usage"] = 99.0
    assert sample["cpu_usage"] == 12.5 and sample.get("memory_usage") is None
    assert sample == {"cpu_usage": 12.5, "cpu_per_core": [10.0, 15.0]} and len(sample) == 2
    assert dict(sample.items()) == dict(sample) and list(sample.values())[0] == 12.5
    assert isinstance(sample.timestamp_s, float) and sample.timestamp_s == 100.0
    with pytest.raises(TypeError):
        sample.metrics["cpu_usage"] = 1.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        sample.layer = "gpu"  # type: ignore[misc]


@pytest.mark.parametrize(("layer", "timestamp_s"), [("", 1.0), (None, 1.0), ("system", math.nan),
                                                    ("system", math.inf), ("system", "now"), ("system", True)])
def test_a_sample_needs_a_layer_and_a_finite_time(layer: object, timestamp_s: object) -> None:
    with pytest.raises(ValueError, match="layer|timestamp_s"):
        Sample(layer, timestamp_s, {})  # type: ignore[arg-type]


def test_undeclared_keys_know_the_catalog_and_its_derived_families() -> None:
    assert undeclared_keys("system", ["cpu_usage", "disk_usage"]) == frozenset()
    assert undeclared_keys("system", ["cpu_usage", "cpu_temp"]) == {"cpu_temp"}
    # a GPU's own copy of an all-GPU metric, and the layer's facts
    assert undeclared_keys("gpu", ["gpu3_utilization", "gpu12_power_w", "devices", "reason"]) == frozenset()
    assert undeclared_keys("gpu", ["gpu0_fan_speed", "gpu_fan_speed", "gpux_utilization"]) == {
        "gpu0_fan_speed", "gpu_fan_speed", "gpux_utilization"}
    # learned bands exist for metrics a rule may watch, nothing else
    bands = [f"{metric}_baseline_{side}" for metric in alertable() for side in ("low", "high")]
    assert undeclared_keys("baseline", bands) == frozenset()
    assert undeclared_keys("baseline", ["cpu_count_baseline_low", "cpu_usage_baseline_mid"]) == {
        "cpu_count_baseline_low", "cpu_usage_baseline_mid"}
    # the device fields belong to the gpu sample's device list, not to the flat layer
    assert undeclared_keys("system", ["gpu0_utilization"]) == {"gpu0_utilization"}
    assert undeclared_keys("my_layer", ["anything"]) == {"anything"}


def test_every_layer_of_a_real_cycle_is_a_declared_sample(data_dir) -> None:
    """Real system and process collectors, a GPU collector over a fake NVML, the demo model loaded and answering."""
    from healthmon.collectors.process import ProcessCollector
    from healthmon.collectors.system import SystemCollector

    settings = load_settings(env={}, model="demo", data_dir=data_dir, probe_interval=0.0)  # the session's build
    monitor = Monitor(settings, collectors=[SystemCollector(), ProcessCollector(), make_collector(FakeNvml())])
    try:
        assert monitor.target.load() is True
        monitor.generate.start({"prompt": "hello", "max_new_tokens": 4}, client="test", source="api").result(60)
        samples = monitor.loop.collect_once()
        assert {"system", "process", "gpu", "model", "service", "quality", "score"} <= set(samples)
        for layer, sample in samples.items():
            assert isinstance(sample, Sample) and sample.layer == layer
            assert sample.undeclared() == frozenset(), layer
        assert samples["gpu"]["gpu_count"] == 2 and "gpu1_utilization" in samples["gpu"]
        assert samples["model"]["completed_requests"] == 1
        assert monitor.loop.rings["model"].latest() is samples["model"]  # the ring holds the very record
        latest = monitor.loop.latest("model")
        assert latest["ts"] == samples["model"].timestamp_s and latest["completed_requests"] == 1
    finally:
        monitor.close()


class OwnCollector:
    """A collector of a user's own: its layer and keys are not in the catalog."""

    layer = "fans"

    def collect(self) -> dict[str, float]:
        return {"fan_rpm": 1200.0}


def test_an_undeclared_key_is_kept_and_named_once_in_the_log(tmp_path, caplog) -> None:
    settings = load_settings(env={}, model="demo", data_dir=tmp_path, probe_interval=0.0)
    monitor = Monitor(settings, collectors=[OwnCollector()])
    try:
        with caplog.at_level(logging.WARNING, logger="healthmon"):
            monitor.loop.collect_once()
            monitor.loop.collect_once()
        warnings = [r.getMessage() for r in caplog.records if "does not declare" in r.getMessage()]
        assert warnings == ["the fans layer sampled keys the metric catalog does not declare (kept, not exported): "
                            "fan_rpm"]
        assert [s["fan_rpm"] for s in monitor.loop.rings["fans"].items()] == [1200.0, 1200.0]
        monitor.store.flush()
        assert monitor.store.frame("fans", since=0)["fan_rpm"].tolist() == [1200.0, 1200.0]
    finally:
        monitor.close()


class NumberedCollector:
    """A collector keyed by numbers (say, per core): not metric names, but no reason to stop the loop."""

    layer = "cores"

    def collect(self) -> dict:
        return {0: 12.0, 1: 30.0}


def test_a_collector_with_keys_that_are_not_names_does_not_stop_the_cycle(tmp_path, caplog) -> None:
    settings = load_settings(env={}, model="demo", data_dir=tmp_path, probe_interval=0.0)
    monitor = Monitor(settings, collectors=[NumberedCollector()])
    try:
        with caplog.at_level(logging.WARNING, logger="healthmon"):
            samples = monitor.loop.collect_once()
        assert samples["cores"].undeclared() == {0, 1} and "score" in samples  # the cycle went on to the end
        assert monitor.loop.cycles_total == 1
        assert any("cores layer sampled keys" in r.getMessage() and "0, 1" in r.getMessage() for r in caplog.records)
    finally:
        monitor.close()
