"""`python -m healthmon replay`: JSON lines for transitions, exit code 2 with a line number for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from healthmon.analysis.replay import ReplayError, read_samples

ROOT = Path(__file__).resolve().parents[1]


def replay(*args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "healthmon", "replay", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)


def write_csv(path: Path, memory: list[float], start: int = 1_700_000_000) -> Path:
    lines = ["timestamp,metric,value"]
    for i, value in enumerate(memory):
        lines += [f"{start + 5 * i},memory_usage,{value}", f"{start + 5 * i},failure_percent,50"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_replay_prints_transitions_as_json_lines(tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "samples.csv", [50.0] * 5 + [95.0] * 10 + [50.0] * 2)
    result = replay(str(csv_path))
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    memory = [(e["metric"], e["level"], e["state"]) for e in events if e["alert_id"].startswith("memory_critical")]
    assert memory == [("memory_usage", "critical", "pending"), ("memory_usage", "critical", "firing"),
                      ("memory_usage", "critical", "resolved")]
    for event in events:
        assert {"ts", "metric", "state", "level", "kind", "message"} <= set(event)
        assert event["kind"] in {"threshold", "baseline", "forecast"}
    # the CSV has no request_count: failure_percent is taken as past the traffic guard
    assert any(e["metric"] == "failure_percent" and e["state"] == "firing" for e in events)
    assert [e["ts"] for e in events if e["metric"] == "memory_usage"][0] == 1_700_000_025  # the samples' clock


def test_replay_with_a_rules_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[threshold]]\nname = "mem"\nmetric = "memory_usage"\nop = ">"\nfire = 60\nresolve = 55\n'
                     'for_samples = 1\nfor_seconds = 0\n')
    result = replay(str(write_csv(tmp_path / "s.csv", [50.0, 70.0, 50.0])), "--rules", str(rules))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["state"] for line in result.stdout.splitlines()] == ["firing", "resolved"]


@pytest.mark.parametrize(("content", "message"), [
    ("ts,metric,value\n1,cpu_usage,5\n", ":1: expected the header"),
    ("", ":1: expected the header"),
    ("timestamp,metric,value\n1,cpu_usage,5\n2,cpu_temp,5\n", ":3: unknown metric 'cpu_temp'"),
    ("timestamp,metric,value\n1,cpu_usage,5\n2,cpu_usage,high\n", ":3: value 'high' is not a number"),
    ("timestamp,metric,value\n1,cpu_usage,nan\n", ":2: value 'nan' is not a finite number"),
    ("timestamp,metric,value\nyesterday,cpu_usage,1\n", ":2: timestamp 'yesterday' is not a number"),
    ("timestamp,metric,value\n1,cpu_usage\n", ":2: expected 3 columns"),
    ("timestamp,metric,value\n1,cpu_usage,1\n1,cpu_usage,2\n", ":3: second value for cpu_usage"),
])
def test_bad_csv_exits_2_naming_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = replay(str(path))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_missing_file_and_bad_rules_exit_2(tmp_path: Path) -> None:
    result = replay(str(tmp_path / "missing.csv"))
    assert result.returncode == 2 and "missing.csv" in result.stderr and "Traceback" not in result.stderr
    rules = tmp_path / "rules.json"
    rules.write_text('{"threshold": [{"name": "x"}]}')
    result = replay(str(write_csv(tmp_path / "s.csv", [50.0])), "--rules", str(rules))
    assert result.returncode == 2 and "missing required field" in result.stderr


def test_read_samples_groups_by_timestamp_and_sorts() -> None:
    lines = ["timestamp,metric,value", "20,cpu_usage,1", "10,cpu_usage,2", "20,memory_usage,3", "", "10.0,disk_usage,4"]
    assert read_samples(lines) == [(10.0, {"cpu_usage": 2.0, "disk_usage": 4.0}),
                                   (20.0, {"cpu_usage": 1.0, "memory_usage": 3.0})]
    with pytest.raises(ReplayError, match="x.csv:2"):
        read_samples(["timestamp,metric,value", "1,bad,1"], "x.csv")


def test_a_recording_under_the_old_throughput_name_replays_as_the_new_one() -> None:
    lines = ["timestamp,metric,value", "10,tokens_per_second,18.5"]
    assert read_samples(lines) == [(10.0, {"window_tokens_per_second": 18.5})]
