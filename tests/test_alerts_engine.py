"""Engine-wide behaviour: inhibition, acknowledge, silences, restore after restart, no duplicates."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from healthmon.analysis.alerts import STORE_KEYS, AlertEngine, Transition
from healthmon.analysis.rules import METRICS, ThresholdRule, default_rules
from healthmon.store.sqlite import HistoryStore

T0 = 1_700_000_000.0


def feed(engine: AlertEngine, metrics: dict[str, float | None], count: int, start: float) -> list[Transition]:
    out: list[Transition] = []
    for i in range(count):
        out.extend(engine.evaluate(start + 5 * i, metrics))
    return out


def test_memory_critical_inhibits_memory_warning() -> None:
    engine = AlertEngine(default_rules())
    transitions = feed(engine, {"memory_usage": 85.0}, 20, T0)
    assert [(t.alert_id.split("-")[0], t.state) for t in transitions] == [("memory_warning", "pending"),
                                                                          ("memory_warning", "firing")]
    transitions = feed(engine, {"memory_usage": 95.0}, 20, T0 + 100)
    assert [t.state for t in transitions if t.alert_id.startswith("memory_critical")] == ["pending", "firing"]
    assert [t for t in transitions if t.alert_id.startswith("memory_warning")] == []
    now = T0 + 200
    assert [a.rule for a in engine.active(now)] == ["memory_critical"]
    warning = next(a for a in engine.all_alerts() if a.rule == "memory_warning")
    assert warning.state == "firing" and warning.inhibited
    # back under the critical level: the critical resolves and the warning is visible again
    transitions = feed(engine, {"memory_usage": 82.0}, 3, now)
    assert [(t.alert_id.split("-")[0], t.state) for t in transitions] == [("memory_critical", "resolved")]
    assert [a.rule for a in engine.active(now + 15)] == ["memory_warning"]


def test_warning_that_fires_while_critical_fires_is_not_notified() -> None:
    engine = AlertEngine(default_rules())
    transitions = feed(engine, {"memory_usage": 95.0}, 20, T0)  # both limits crossed in one step
    firing = {t.alert_id.split("-")[0]: t.notify for t in transitions if t.state == "firing"}
    assert firing == {"memory_critical": True, "memory_warning": False}
    assert [a.rule for a in engine.active(T0 + 200)] == ["memory_critical"]


def test_worst_first_and_acknowledge() -> None:
    engine = AlertEngine(default_rules())
    feed(engine, {"cpu_usage": 99.0}, 20, T0)
    feed(engine, {"cpu_usage": 99.0, "disk_usage": 99.0}, 20, T0 + 100)
    active = engine.active(T0 + 300)
    assert [a.rule for a in active] == ["disk_critical", "cpu_warning"]
    assert engine.acknowledge(active[1].id) is True
    assert engine.acknowledge("no-such-alert") is False
    assert [(a.rule, a.acknowledged) for a in engine.active(T0 + 300)] == [("disk_critical", False),
                                                                           ("cpu_warning", True)]
    assert engine.get(active[0].id) is active[0]


def test_silence_mutes_until_it_expires() -> None:
    engine = AlertEngine(default_rules())
    engine.silence("cpu_usage", until_ts=T0 + 600)
    transitions = feed(engine, {"cpu_usage": 99.0}, 20, T0)
    assert [(t.state, t.notify) for t in transitions] == [("pending", False), ("firing", False)]
    alert = engine.get(transitions[-1].alert_id)
    assert alert is not None and alert.state == "firing" and alert.silenced_until == T0 + 600
    assert engine.active(T0 + 599) == []
    assert [a.rule for a in engine.active(T0 + 600)] == ["cpu_warning"]  # expired: counted again
    feed(engine, {"cpu_usage": 99.0}, 1, T0 + 605)
    assert alert.silenced_until is None
    with pytest.raises(ValueError, match="no_such_rule"):
        engine.silence("no_such_rule", T0 + 1000)


def test_silence_by_rule_name_and_lifting_it() -> None:
    engine = AlertEngine(default_rules())
    feed(engine, {"disk_usage": 99.0}, 10, T0)
    engine.silence("disk_critical", T0 + 10_000)
    assert engine.active(T0 + 100) == []
    engine.silence("disk_critical", T0)  # a past end lifts it
    assert [a.rule for a in engine.active(T0 + 100)] == ["disk_critical"]


def test_restore_after_restart_keeps_firing_without_renotifying(tmp_path: Path) -> None:
    first = AlertEngine(default_rules())
    feed(first, {"memory_usage": 95.0, "cpu_usage": 99.0}, 20, T0)
    first.acknowledge(first.active(T0 + 100)[0].id)
    first.silence("cpu_warning", T0 + 10_000)
    with HistoryStore(tmp_path / "history.sqlite3", flush_interval_seconds=3600) as store:  # the real round trip
        for alert in first.all_alerts():
            store.upsert_alert(alert.to_dict())
        rows = store.load_alerts()
    assert {row["id"]: {key: row[key] for key in STORE_KEYS} for row in rows} == {
        alert.id: alert.to_dict() for alert in first.all_alerts()}
    assert all(row["fired_at"] for row in rows) and [row["rule"] for row in rows if row["silenced_until"]] == [
        "cpu_warning"]
    rows.append({"id": "gone-1", "rule": "removed_rule", "state": "firing", "started_at": T0})
    rows.append({"id": "broken-1", "rule": "disk_critical", "state": "firing"})
    second = AlertEngine(default_rules())  # the process restarted
    skipped = second.restore(rows)
    assert set(skipped) >= {"gone-1", "broken-1"}
    before = {a.id: a.acknowledged for a in second.active(T0 + 200)}
    assert before == {a.id: a.acknowledged for a in first.active(T0 + 200)}
    assert feed(second, {"memory_usage": 95.0, "cpu_usage": 99.0}, 10, T0 + 200) == []
    transitions = feed(second, {"memory_usage": 50.0, "cpu_usage": 10.0}, 20, T0 + 300)
    assert {t.alert_id for t in transitions if t.state == "resolved"} >= set(before)


def test_no_duplicate_alerts_per_rule_over_1000_cycles() -> None:
    rng = random.Random(42)
    engine = AlertEngine(default_rules())
    level = {metric: 50.0 for metric in METRICS}
    opened: list[str] = []
    for cycle in range(1000):
        for metric in METRICS:
            level[metric] = min(100.0, max(0.0, level[metric] + rng.gauss(0, 4)))
        metrics = {m: (None if rng.random() < 0.05 else v) for m, v in level.items()} | {"request_count": 50}
        for transition in engine.evaluate(T0 + 5 * cycle, metrics):
            if transition.state in ("pending", "firing") and transition.alert_id not in opened:
                opened.append(transition.alert_id)
        open_rules = [a.rule for a in engine.all_alerts() if a.state != "resolved"]
        assert len(open_rules) == len(set(open_rules))
    ids = [a.id for a in engine.all_alerts()]
    assert len(ids) == len(set(ids)) and len(opened) == len(set(opened)) and opened


def test_ids_are_unique_even_within_one_second() -> None:
    rule = ThresholdRule(name="m", metric="memory_usage", op=">", fire=90, resolve=85, for_samples=1, for_seconds=0)
    engine = AlertEngine([rule])
    values = [95.0, 50.0] * 3  # fire, resolve, fire again... all within one second
    ids = [t.alert_id for i, value in enumerate(values) for t in engine.evaluate(T0 + i * 0.1, {"memory_usage": value})]
    assert ids == ["m-1700000000", "m-1700000000", "m-1700000000-2", "m-1700000000-2", "m-1700000000-3",
                   "m-1700000000-3"]


def test_duplicate_rule_names_are_rejected() -> None:
    rule = ThresholdRule(name="m", metric="memory_usage", op=">", fire=90, resolve=85)
    with pytest.raises(ValueError, match="duplicate"):
        AlertEngine([rule, rule])
