"""Rule definitions: the defaults keep the original design's limits; rules files fail loudly and precisely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healthmon.analysis import rules as rules_module
from healthmon.analysis.rules import BaselineRule, Condition, ForecastRule, ThresholdRule, default_rules, load_rules


def test_defaults_keep_the_original_limits() -> None:
    rules = {rule.name: rule for rule in default_rules()}
    assert len(rules) == len(default_rules())
    thresholds = {(r.metric, r.op, r.fire, r.level) for r in rules.values() if isinstance(r, ThresholdRule)}
    assert {("cpu_usage", ">", 85, "warning"), ("memory_usage", ">", 90, "critical"),
            ("disk_usage", ">", 95, "critical"), ("failure_percent", ">", 10, "warning"),
            ("memory_usage", ">", 80, "warning"), ("degenerate_recent", ">", 2.5, "warning"),
            ("language_mismatch_recent", ">", 2.5, "warning")} <= thresholds
    # No fixed latency or throughput limit: a request's time grows with its answer and depends on the hardware.
    assert not {metric for metric, *_ in thresholds} & {"latency_seconds", "window_tokens_per_second", "ttft_seconds"}
    assert rules["failure_rate_warning"].min_traffic == 10
    baselines = {(r.metric, r.bad_direction) for r in rules.values() if isinstance(r, BaselineRule)}
    assert baselines == {("inter_token_latency_seconds", "up"), ("ttft_seconds", "up"),
                         ("window_tokens_per_second", "down"),
                         ("quality_score", "down"), ("relevance", "down"), ("perplexity", "up")}
    forecasts = {(r.metric, r.threshold) for r in rules.values() if isinstance(r, ForecastRule)}
    assert forecasts == {("memory_usage", 90), ("disk_usage", 95), ("gpu_memory_usage", 95)}
    assert all(rule.reason for rule in rules.values())


def test_threshold_condition_with_hysteresis() -> None:
    rule = ThresholdRule(name="m", metric="memory_usage", op=">", fire=90, resolve=85)
    assert [rule.condition(v) for v in (95, 90, 87, 85, 84)] == [
        Condition.BREACH, Condition.BAND, Condition.BAND, Condition.BAND, Condition.CLEAR]


TOML = """
[[threshold]]
name = "cpu_hot"
metric = "cpu_usage"
op = ">"
fire = 95
resolve = 90
level = "critical"
for_seconds = 10

[[baseline]]
name = "latency_learned"
metric = "latency_seconds"
bad_direction = "up"
threshold = 5.0

[[forecast]]
name = "disk_fill"
metric = "disk_usage"
threshold = 98
horizon_seconds = 3600
"""


def test_load_toml_and_json(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(TOML)
    rules = load_rules(path)
    assert [(type(r).__name__, r.name) for r in rules] == [
        ("ThresholdRule", "cpu_hot"), ("BaselineRule", "latency_learned"), ("ForecastRule", "disk_fill")]
    assert rules[0].for_seconds == 10 and rules[0].for_samples == 3
    as_json = tmp_path / "rules.json"
    as_json.write_text(json.dumps({"threshold": [{"name": "t", "metric": "failure_percent", "op": ">", "fire": 5,
                                                  "resolve": 2, "min_traffic": 20}]}))
    assert load_rules(as_json)[0].min_traffic == 20


def test_a_rules_file_naming_the_old_service_throughput_keeps_its_meaning(tmp_path: Path) -> None:
    """tokens_per_second in a rules file meant the users' throughput over the stats window before the model and
    service layers got names of their own; it still does."""
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"baseline": [{"name": "tps", "metric": "tokens_per_second", "bad_direction": "down"}]}))
    assert load_rules(path)[0].metric == "window_tokens_per_second"
    with pytest.raises(ValueError, match="metric: one of"):  # in code, the model layer's own metric is not watched
        BaselineRule(name="tps", metric="tokens_per_second", bad_direction="down")


def test_a_rules_file_naming_the_former_latency_name_reads_it_as_latency_seconds(tmp_path: Path) -> None:
    """inference_time was the model layer's mean whole-request time before it took the records' name (issue 22)."""
    path = tmp_path / "rules.toml"
    path.write_text('baseline = [{name = "latency_learned", metric = "inference_time", bad_direction = "up"}]\n')
    assert load_rules(path)[0].metric == "latency_seconds"
    path.write_text('[[threshold]]\nname = "errors"\nmetric = "failure_rate"\nop = ">"\nfire = 10\nresolve = 5\n')
    assert load_rules(path)[0].metric == "failure_percent"  # a percent, now named so


@pytest.mark.parametrize(("table", "message"), [
    ({"metric": "cpu_usage", "op": ">", "fire": 1, "resolve": 0}, "missing required field 'name'"),
    ({"name": "x", "metric": "cpu_usage", "op": ">", "fire": 1, "resolve": 0, "fier": 2}, "unknown field 'fier'"),
    ({"name": "x", "metric": "cpu", "op": ">", "fire": 1, "resolve": 0}, "metric: one of"),
    ({"name": "x", "metric": "cpu_usage", "op": ">=", "fire": 1, "resolve": 0}, "op:"),
    ({"name": "x", "metric": "cpu_usage", "op": ">", "fire": "high", "resolve": 0}, "fire: expected a number"),
    ({"name": "x", "metric": "cpu_usage", "op": ">", "fire": 80, "resolve": 90}, "resolve: must be on the healthy"),
    ({"name": "x", "metric": "cpu_usage", "op": ">", "fire": 80, "resolve": 70, "level": "page"}, "level:"),
    ({"name": "x", "metric": "cpu_usage", "op": ">", "fire": 80, "resolve": 70, "for_samples": 0}, "for_samples:"),
    ({"name": "x", "metric": "cpu_usage", "op": ">", "fire": 80, "resolve": 70, "for_seconds": True}, "for_seconds:"),
])
def test_bad_threshold_tables_name_the_field(tmp_path: Path, table: dict, message: str) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"threshold": [table]}))
    with pytest.raises(ValueError, match="threshold\\[0\\]") as info:
        load_rules(path)
    assert message in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize(("content", "suffix", "message"), [
    ('{"alerts": []}', ".json", "unknown section 'alerts'"),
    ('{"threshold": {}}', ".json", "must be an array"),
    ("{}", ".json", "no rules"),
    ("[[threshold]\n", ".toml", "cannot read rules"),
    ("x", ".yaml", "must end in .toml or .json"),
    ('{"baseline": [{"name": "a", "metric": "ttft_seconds", "bad_direction": "sideways"}]}', ".json", "bad_direction"),
    ('{"forecast": [{"name": "a", "metric": "disk_usage", "threshold": 95, "min_r2": 2}]}', ".json", "min_r2"),
    ('{"forecast": [{"name": "a", "metric": "disk_usage", "threshold": 95}, '
     '{"name": "a", "metric": "disk_usage", "threshold": 90}]}', ".json", "duplicate rule name"),
])
def test_bad_files(tmp_path: Path, content: str, suffix: str, message: str) -> None:
    path = tmp_path / f"rules{suffix}"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_rules(path)


def test_docstring_example_loads(tmp_path: Path) -> None:
    block = (rules_module.__doc__ or "").split("::\n\n", 1)[1].split("\n\nJSON", 1)[0]
    path = tmp_path / "example.toml"
    path.write_text("\n".join(line[4:] for line in block.splitlines()))
    assert [rule.kind for rule in load_rules(path)] == ["baseline", "forecast", "threshold"]
