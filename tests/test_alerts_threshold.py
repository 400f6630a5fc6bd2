"""Threshold rules through the engine: for-duration, hysteresis, flapping, spikes, gaps, traffic guard."""

from __future__ import annotations

import random

from healthmon.analysis.alerts import AlertEngine, Transition
from healthmon.analysis.rules import ThresholdRule

MEMORY_CRITICAL = ThresholdRule(name="memory_critical", metric="memory_usage", op=">", fire=90, resolve=85,
                                level="critical", for_samples=3, for_seconds=30)


def feed(engine: AlertEngine, values: list[float | None], metric: str = "memory_usage", start: float = 1000.0,
         step: float = 5.0, extra: dict | None = None) -> list[Transition]:
    """One evaluation per value, `step` seconds apart; all transitions."""
    out: list[Transition] = []
    for i, value in enumerate(values):
        out.extend(engine.evaluate(start + i * step, {metric: value, **(extra or {})}))
    return out


def test_step_fires_after_for_duration_not_before_and_resolves_with_hysteresis() -> None:
    engine = AlertEngine([MEMORY_CRITICAL])
    # samples at 1000, 1005, ...; the step to 95 happens at index 10 (ts 1050)
    transitions = feed(engine, [50.0] * 10 + [95.0] * 10 + [88.0] * 5 + [80.0] * 3)
    states = [(t.ts, t.state) for t in transitions]
    assert states == [(1050.0, "pending"), (1080.0, "firing"), (1125.0, "resolved")]
    assert len({t.alert_id for t in transitions}) == 1
    assert transitions[0].alert_id == "memory_critical-1050"
    assert transitions[1].level == "critical" and transitions[1].kind == "threshold"
    assert "memory_usage 95" in transitions[1].message and transitions[1].notify
    assert not transitions[0].notify  # pending is never a notification
    assert "resolved" in transitions[2].message


def test_for_samples_counts_too_when_samples_are_sparse() -> None:
    rule = ThresholdRule(name="m", metric="memory_usage", op=">", fire=90, resolve=85, for_samples=3, for_seconds=0)
    engine = AlertEngine([rule])
    transitions = feed(engine, [95.0, 95.0, 95.0], step=60.0)
    assert [t.state for t in transitions] == ["pending", "firing"]
    assert transitions[1].ts == 1120.0  # the third sample, although for_seconds was met long before


def test_band_keeps_firing_and_keep_firing_delays_resolution() -> None:
    rule = ThresholdRule(name="m", metric="memory_usage", op=">", fire=90, resolve=85, keep_firing_seconds=20)
    engine = AlertEngine([rule])
    transitions = feed(engine, [95.0] * 8 + [87.0] * 20 + [80.0] * 3 + [92.0] + [80.0] * 6)
    states = [(t.state, t.ts) for t in transitions]
    # the 92 at 1155 resets the keep-firing clock; resolution comes 20 s after the clear run restarts at 1160
    assert states == [("pending", 1000.0), ("firing", 1030.0), ("resolved", 1180.0)]


def test_flapping_around_the_limit_does_not_storm() -> None:
    rng = random.Random(7)
    engine = AlertEngine([MEMORY_CRITICAL])
    flapping = [rng.uniform(86.0, 94.0) for _ in range(720)]  # an hour straddling 90, never below resolve
    transitions = feed(engine, [50.0] * 5 + flapping + [50.0])
    assert [t.state for t in transitions] == ["pending", "firing", "resolved"]


def test_alternating_just_around_the_limit_fires_once() -> None:
    engine = AlertEngine([MEMORY_CRITICAL])
    transitions = feed(engine, [89.0, 91.0] * 200)
    assert [t.state for t in transitions] == ["pending", "firing"]


def test_single_spike_never_fires_and_pending_is_dropped_silently() -> None:
    engine = AlertEngine([MEMORY_CRITICAL])
    transitions = feed(engine, [50.0] * 10 + [99.0] + [50.0] * 10)
    assert [t.state for t in transitions] == ["pending"]
    assert engine.pending() == [] and engine.active(2000.0) == []


def test_less_than_rule_uses_mirrored_hysteresis() -> None:
    rule = ThresholdRule(name="throughput_warning", metric="window_tokens_per_second", op="<", fire=10, resolve=12)
    engine = AlertEngine([rule])
    transitions = feed(engine, [40.0] * 3 + [5.0] * 8 + [11.0] * 5 + [13.0], metric="window_tokens_per_second")
    assert [t.state for t in transitions] == ["pending", "firing", "resolved"]
    assert transitions[-1].ts == 1000.0 + 16 * 5


def test_missing_data_neither_advances_nor_resolves() -> None:
    engine = AlertEngine([MEMORY_CRITICAL])
    transitions = feed(engine, [95.0] + [None] * 20 + [float("nan"), "n/a"] + [95.0])  # type: ignore[list-item]
    assert [t.state for t in transitions] == ["pending"]  # only 2 real samples: for_samples=3 not met
    transitions = feed(engine, [95.0], start=1200.0)
    assert [t.state for t in transitions] == ["firing"]
    transitions = feed(engine, [None] * 50, start=1300.0)
    assert transitions == [] and [a.rule for a in engine.active(1600.0)] == ["memory_critical"]


def test_zero_for_fires_at_once_without_pending() -> None:
    rule = ThresholdRule(name="m", metric="memory_usage", op=">", fire=90, resolve=85, for_samples=1, for_seconds=0)
    transitions = feed(AlertEngine([rule]), [95.0, 80.0])
    assert [t.state for t in transitions] == ["firing", "resolved"]


def test_min_traffic_guard_for_failure_rate() -> None:
    rule = ThresholdRule(name="failure_rate_warning", metric="failure_percent", op=">", fire=10, resolve=5,
                         min_traffic=10)
    engine = AlertEngine([rule])
    # 1 failure in 3 requests is 33%: no verdict below the guard, nor without a request count at all
    assert feed(engine, [33.0] * 20, metric="failure_percent", extra={"request_count": 3}) == []
    assert feed(engine, [33.0] * 20, metric="failure_percent", start=2000.0) == []
    assert feed(engine, [33.0] * 20, metric="failure_percent", start=3000.0, extra={"request_count": 10}) == []
    transitions = feed(engine, [33.0] * 20, metric="failure_percent", start=4000.0, extra={"request_count": 40})
    assert [t.state for t in transitions] == ["pending", "firing"]
    # traffic drops away: the rate means nothing any more, so the alert neither resolves nor re-fires
    assert feed(engine, [0.0] * 20, metric="failure_percent", start=5000.0, extra={"request_count": 2}) == []
    transitions = feed(engine, [0.0], metric="failure_percent", start=6000.0, extra={"request_count": 40})
    assert [t.state for t in transitions] == ["resolved"]


def test_clock_stepping_back_drops_pending() -> None:
    engine = AlertEngine([MEMORY_CRITICAL])
    feed(engine, [95.0, 95.0], start=1000.0)
    assert len(engine.pending()) == 1
    feed(engine, [95.0], start=900.0)
    pending = engine.pending()
    assert len(pending) == 1 and pending[0].started_at == 900.0
