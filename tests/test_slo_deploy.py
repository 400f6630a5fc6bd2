"""deploy/healthmon-slo-rules.yml: promtool accepts it, its unit tests pass, and its alerts are the engine's."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from healthmon.analysis.rules import BurnRateRule, default_rules

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
RULES_FILE = DEPLOY / "healthmon-slo-rules.yml"
TESTS_FILE = DEPLOY / "healthmon-slo-rules-test.yml"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package 'prometheus')")


def alerts() -> dict[str, dict]:
    groups = yaml.safe_load(RULES_FILE.read_text())["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}


@needs_promtool
def test_promtool_accepts_the_slo_rules_and_their_unit_tests_pass():
    for command in (["check", "rules", str(RULES_FILE)], ["test", "rules", str(TESTS_FILE)]):
        result = subprocess.run([str(PROMTOOL), *command], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rule", [r for r in default_rules() if isinstance(r, BurnRateRule)], ids=lambda r: r.name)
def test_each_built_in_burn_rate_rule_is_mirrored_with_its_windows_and_factor(rule: BurnRateRule):
    mirrored = alerts()[rule.name]
    assert mirrored["labels"] == {"severity": rule.level, "metric": rule.metric, "kind": rule.kind}
    assert mirrored["annotations"]["description"] == rule.reason
    assert "for" not in mirrored and rule.for_seconds == 0
    windows = {metric.removeprefix("slo_burn_rate_") for metric in (rule.metric, rule.short_metric)}
    read = dict(re.findall(r"instance:healthmon_slo_burn_rate:rate(\w+) > ([0-9.]+)", mirrored["expr"]))
    assert set(read) == windows and {float(factor) for factor in read.values()} == {rule.factor}


def test_the_scrape_config_loads_the_slo_rules():
    assert RULES_FILE.name in yaml.safe_load((DEPLOY / "prometheus.yml").read_text())["rule_files"]
