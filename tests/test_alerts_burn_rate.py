"""Burn-rate alerts in healthmon's own engine, and alert messages as a key and values for each reader's language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healthmon.analysis.alerts import AlertEngine
from healthmon.analysis.messages import Message, render
from healthmon.analysis.rules import BurnRateRule, ThresholdRule, burn_rate_rules, default_rules, load_rules
from healthmon.ui.i18n import catalog
from healthmon.ui.shaping.alerts import alert_message, rule_condition

T0 = 1_800_000_000.0


def rates(**values: float) -> dict[str, float]:
    """Every window's burn rate, 0 unless given: `rates(r1h=20, r5m=30)`."""
    windows = ("5m", "30m", "1h", "6h", "24h", "3d")
    return {f"slo_burn_rate_{w}": values.get(f"r{w}", 0.0) for w in windows}


def firing(engine: AlertEngine) -> set[str]:
    return {a.rule for a in engine.active(engine._last_ts or 0)}


def test_the_default_rules_carry_the_three_burn_rate_alerts():
    rules = {r.name: r for r in default_rules() if isinstance(r, BurnRateRule)}
    assert {(r.metric, r.short_metric, r.factor, r.level) for r in rules.values()} == {
        ("slo_burn_rate_1h", "slo_burn_rate_5m", 14.4, "critical"),
        ("slo_burn_rate_6h", "slo_burn_rate_30m", 6.0, "critical"),
        ("slo_burn_rate_3d", "slo_burn_rate_6h", 1.0, "warning")}


def test_a_fast_burn_pages_at_once_and_resolves_when_the_short_window_recovers():
    engine = AlertEngine(burn_rate_rules())
    transitions = engine.evaluate(T0, rates(r5m=30, r1h=20, r30m=20, r6h=7, r3d=2))
    assert {(t.alert_id.rsplit("-", 1)[0], t.state, t.level) for t in transitions} == {
        ("slo_burn_rate_page_fast", "firing", "critical"), ("slo_burn_rate_page_slow", "firing", "critical"),
        ("slo_burn_rate_ticket", "firing", "warning")}
    # The long windows still burn, the short ones stopped: the pages resolve, the ticket's short window (6h) not.
    transitions = engine.evaluate(T0 + 60, rates(r5m=0, r30m=0, r1h=19, r6h=7, r3d=2))
    assert {(t.alert_id.rsplit("-", 1)[0], t.state) for t in transitions} == {
        ("slo_burn_rate_page_fast", "resolved"), ("slo_burn_rate_page_slow", "resolved")}
    assert firing(engine) == {"slo_burn_rate_ticket"}


def test_only_both_windows_together_fire_and_a_slow_burn_makes_a_ticket():
    engine = AlertEngine(burn_rate_rules())
    assert engine.evaluate(T0, rates(r5m=100, r30m=50)) == []  # a spike: the long windows have not moved
    assert engine.evaluate(T0 + 5, rates(r1h=20, r6h=10)) == []  # long windows burning, the short ones recovered
    transitions = engine.evaluate(T0 + 10, rates(r5m=1.5, r30m=1.5, r1h=1.5, r6h=1.5, r3d=1.2))
    assert [(t.metric, t.state, t.level) for t in transitions] == [("slo_burn_rate_3d", "firing", "warning")]
    assert engine.evaluate(T0 + 15, rates(r5m=0.2, r30m=0.5, r1h=0.8, r6h=1.1, r3d=1.1)) == []  # still burning
    healthy = engine.evaluate(T0 + 20, rates(r6h=0.9, r3d=1.1))
    assert [(t.metric, t.state) for t in healthy] == [("slo_burn_rate_3d", "resolved")]


def test_no_short_window_figure_is_no_verdict_and_silences_hold():
    engine = AlertEngine(burn_rate_rules())
    assert engine.evaluate(T0, {"slo_burn_rate_1h": 20.0}) == []
    engine.silence("slo_burn_rate_page_fast", T0 + 3600)
    transitions = engine.evaluate(T0 + 5, rates(r5m=20, r1h=20))
    assert [(t.state, t.notify) for t in transitions] == [("firing", False)]
    assert firing(engine) == set()


def test_a_rules_file_may_declare_burn_rate_rules(tmp_path: Path):
    path = tmp_path / "rules.toml"
    path.write_text('[[burn_rate]]\nname = "budget_fast"\nmetric = "slo_burn_rate_1h"\n'
                    'short_metric = "slo_burn_rate_5m"\nfactor = 10\n', encoding="utf-8")
    (rule,) = load_rules(path)
    assert isinstance(rule, BurnRateRule) and rule.factor == 10 and rule.level == "critical"
    path.write_text('[[burn_rate]]\nname = "x"\nmetric = "slo_burn_rate_1h"\nshort_metric = "cpu"\nfactor = 1\n',
                    encoding="utf-8")
    with pytest.raises(ValueError, match="short_metric"):
        load_rules(path)


# ---- messages in the reader's language ---------------------------------------------------------------------------
ZH = catalog("zh", "alerts")


def zh(text: str) -> str:
    return ZH.get(text, text)


def test_an_alert_keeps_its_english_text_beside_its_key_and_values():
    engine = AlertEngine([ThresholdRule(name="mem", metric="memory_usage", op=">", fire=90, resolve=85,
                                        for_samples=1, for_seconds=0)])
    (fired,) = engine.evaluate(T0, {"memory_usage": 95.0})
    alert = engine.get(fired.alert_id)
    assert alert is not None and fired.message == alert.message == "memory_usage 95% (limit > 90%)"
    row = json.loads(json.dumps(alert.to_dict()))  # as the store keeps it
    assert row["message_key"] == "{metric} {value} (limit {op} {limit})"
    assert alert_message(row, zh) == "memory_usage 95%（阈值 > 90%）"
    (resolved,) = engine.evaluate(T0 + 5, {"memory_usage": 50.0})
    assert resolved.message == "resolved: memory_usage 50% (limit > 90%)"  # the webhook's and the log's: English
    row = engine.get(resolved.alert_id).to_dict()  # type: ignore[union-attr]
    assert alert_message(row, zh) == "已恢复：memory_usage 50%（阈值 > 90%）"


def test_burn_rate_and_nested_messages_are_worded_in_chinese():
    engine = AlertEngine(burn_rate_rules())
    engine.evaluate(T0, rates(r5m=30, r1h=20))
    alert = next(a for a in engine.all_alerts() if a.rule == "slo_burn_rate_page_fast")
    assert alert.message == ("error budget burning: slo_burn_rate_1h 20 × and slo_burn_rate_5m 30 × "
                             "(limit > 14.4 ×)")
    worded = alert_message(alert.to_dict(), zh)
    assert "错误预算" in worded and "slo_burn_rate_1h 20 ×" in worded and "14.4 ×" in worded


def test_an_alert_stored_before_keys_shows_its_stored_text():
    assert alert_message({"message": "cpu_usage 91% (limit > 85%)"}, zh) == "cpu_usage 91% (limit > 85%)"
    assert alert_message({"message": "x", "message_key": "{a} and {b}", "message_args": {"a": "1"}},
                         zh) == "1 and {b}"  # a value gone missing shows its placeholder, never raises


def test_every_message_key_the_engine_can_write_has_a_chinese_wording():
    for key in ("{metric} {value} (limit {op} {limit})", "resolved: {message}", "superseded by {id}: {message}",
                "{message}; traces {traces}", "{metric} {value} vs learned baseline {baseline} ({facts})",
                "{metric} {value} vs learned baseline {baseline}", "{ratio}x", "robust z {z}",
                "the baseline was a steady 0", "the baseline never varied", "{metric} {limit} in ~{minutes} min",
                "{metric} already past {limit}", "{metric} not heading for {limit} within {minutes} min",
                "error budget burning: {metric} {value} and {short_metric} {short_value} (limit > {limit})"):
        assert key in ZH, key
    nested = Message("resolved: {message}", {"message": Message("{ratio}x", {"ratio": "2"})})
    assert render(nested, zh) == "已恢复：2 倍"


def test_the_rules_table_words_a_burn_rate_condition():
    rule = burn_rate_rules()[0]
    assert rule_condition(rule, lambda text: text).startswith(
        "slo_burn_rate_1h > 14.4 × and slo_burn_rate_5m > 14.4 ×")


# ---- the live path: stored requests -> the slo layer -> the engine -> the store and the API ----------------------
def test_a_fast_burn_in_the_stored_requests_pages_through_the_collection_loop(tmp_path):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from healthmon.api import build_routes
    from healthmon.config import load_settings
    from healthmon.monitor import Monitor
    from healthmon.records import RequestRecord

    now = [T0]
    monitor = Monitor(load_settings(env={}, data_dir=tmp_path, probe_interval=0.0, model="demo",
                                    slo_ttft_seconds=1.0), collectors=[], clock=lambda: now[0])
    client = TestClient(Starlette(routes=build_routes(lambda: monitor)))
    try:
        for index in range(100):  # 30 % too slow to first token: burn rate 30 over every window
            monitor.pipeline.record(RequestRecord(trace_id=f"r{index}", ts=T0 - 600 + 5 * index, source="api",
                                                  status="ok", model="m", latency_seconds=3.0,
                                                  ttft_seconds=5.0 if index % 10 < 3 else 0.5))
        monitor.loop.collect_once()
        sample = monitor.loop.latest("slo")
        assert round(sample["slo_burn_rate_5m"], 6) == round(sample["slo_burn_rate_3d"], 6) == 30.0
        firing = {a.rule: a.level for a in monitor.alerts.active()}
        assert firing == {"slo_burn_rate_page_fast": "critical", "slo_burn_rate_page_slow": "critical",
                          "slo_burn_rate_ticket": "warning"}
        listed = {a["rule"]: a for a in client.get("/api/alerts").json()["alerts"]}
        assert listed["slo_burn_rate_page_fast"]["message_key"].startswith("error budget burning:")
        hour = client.get("/api/slo").json()["windows"]["1h"]
        assert (hour["requests"], hour["good"], hour["attainment"]) == (100, 70, 0.7)
        assert hour["burn_rate"] == pytest.approx(30.0)
        now[0] += 3600  # an hour without requests: the short windows are empty, nothing burns, the pages resolve
        monitor.loop.collect_once()
        assert {a.rule for a in monitor.alerts.active()} == {"slo_burn_rate_ticket"}  # 6 h and 3 d still burning
    finally:
        monitor.close()
