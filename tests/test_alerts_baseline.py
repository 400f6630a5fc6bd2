"""Learned baselines: catch shifts no fixed limit sees, stay quiet on noise, spikes, improvements and gaps."""

from __future__ import annotations

import dataclasses
import random

import numpy as np

from healthmon.analysis.alerts import AlertEngine, Transition
from healthmon.analysis.baseline import RobustBaseline, robust_stats
from healthmon.analysis.rules import BaselineRule, Condition, default_rules

STEP_SECONDS = 5.0
LATENCY = BaselineRule(name="latency_baseline", metric="latency_seconds", bad_direction="up")


def series(rng: random.Random, level: float, noise: float, count: int) -> list[float]:
    return [max(0.0, rng.gauss(level, noise)) for _ in range(count)]


def feed(engine: AlertEngine, values: list[float | None], metric: str, start: float = 0.0) -> list[Transition]:
    out: list[Transition] = []
    for i, value in enumerate(values):
        out.extend(engine.evaluate(start + i * STEP_SECONDS, {metric: value}))
    return out


def fired(transitions: list[Transition], kind: str | None = None) -> list[Transition]:
    return [t for t in transitions if t.state == "firing" and (kind is None or t.kind == kind)]


def minutes(n: float) -> int:
    return int(n * 60 / STEP_SECONDS)


def test_robust_stats_ignore_outliers() -> None:
    median, sigma = robust_stats(np.array([1.0, 1.1, 0.9, 1.0, 100.0]))
    assert median == 1.0 and 0.1 < sigma < 0.2


def test_noisy_stationary_metric_stays_quiet_for_hours() -> None:
    rng = random.Random(1)
    engine = AlertEngine(default_rules())
    noisy = series(rng, 0.8, 0.12, minutes(6 * 60))  # 15% noise for six hours
    assert fired(feed(engine, noisy, "inter_token_latency_seconds")) == []


def test_time_per_token_doubling_fires_within_minutes_and_stays_firing() -> None:
    rng = random.Random(2)
    engine = AlertEngine(default_rules())
    normal = series(rng, 0.8, 0.05, minutes(30))
    doubled = series(rng, 1.6, 0.1, minutes(90))  # no fixed limit exists: only the learned baseline can see it
    transitions = feed(engine, normal + doubled + series(rng, 0.8, 0.05, minutes(10)), "inter_token_latency_seconds")
    firing = fired(transitions)
    assert [t.kind for t in firing] == ["baseline"]
    shift_ts = len(normal) * STEP_SECONDS
    assert firing[0].ts - shift_ts <= 3 * 60
    assert "baseline 0.8" in firing[0].message
    resolved = [t for t in transitions if t.state == "resolved"]
    shift_end_ts = (len(normal) + len(doubled)) * STEP_SECONDS
    assert len(resolved) == 1 and 0 <= resolved[0].ts - shift_end_ts <= 3 * 60  # no re-warm-up needed


def test_throughput_halving_above_the_limit_fires() -> None:
    rng = random.Random(3)
    engine = AlertEngine(default_rules())
    values = series(rng, 40.0, 3.0, minutes(30)) + series(rng, 20.0, 2.0, minutes(20))
    firing = fired(feed(engine, values, "window_tokens_per_second"))
    assert [(t.kind, t.alert_id.split("-")[0]) for t in firing] == [("baseline", "throughput_baseline")]
    assert firing[0].ts - minutes(30) * STEP_SECONDS <= 3 * 60


def test_improvement_is_quiet() -> None:
    rng = random.Random(4)
    engine = AlertEngine(default_rules())
    values = series(rng, 0.8, 0.05, minutes(30)) + series(rng, 0.4, 0.03, minutes(60))
    assert feed(engine, values, "latency_seconds") == []
    values = series(rng, 20.0, 2.0, minutes(30)) + series(rng, 40.0, 3.0, minutes(60))
    assert feed(engine, values, "window_tokens_per_second", start=10**6) == []


def test_single_spike_is_quiet() -> None:
    rng = random.Random(5)
    engine = AlertEngine(default_rules())
    values = series(rng, 0.8, 0.05, minutes(30)) + [2.5] + series(rng, 0.8, 0.05, minutes(30))
    assert fired(feed(engine, values, "latency_seconds")) == []


def test_near_constant_metric_ignores_trivial_shift() -> None:
    engine = AlertEngine(default_rules())
    assert feed(engine, [40.0] * minutes(30) + [38.0] * minutes(30), "window_tokens_per_second") == []


def test_gap_longer_than_window_restarts_warm_up() -> None:
    rng = random.Random(6)
    engine = AlertEngine(default_rules())
    before = series(rng, 0.8, 0.05, minutes(30))
    gap = [None] * minutes(120)  # collector down, or model swapped, for two hours
    after = series(rng, 1.6, 0.1, minutes(30))  # a new normal after the gap is not compared with stale data
    assert fired(feed(engine, before + gap + after, "latency_seconds")) == []


def test_detector_warm_up_restarts_after_gap_and_clock_step_back() -> None:
    baseline = RobustBaseline(LATENCY)
    for i in range(LATENCY.warmup_samples):
        assert baseline.observe(i * 5.0, 0.8).condition is Condition.UNKNOWN
    assert baseline.observe(400.0, 0.8).condition is Condition.CLEAR
    assert baseline.observe(400.0 + LATENCY.window_seconds + 1, 3.0).condition is Condition.UNKNOWN
    assert baseline.warming_up
    for i in range(LATENCY.warmup_samples):
        baseline.observe(10_000.0 + i * 5.0, 0.8)
    assert not baseline.warming_up
    baseline.observe(50.0, 0.8)  # timestamps went backwards: a restarted source
    assert baseline.warming_up


def test_counter_reset_after_restart_gives_no_false_alert() -> None:
    engine = AlertEngine(default_rules())
    transitions: list[Transition] = []
    for i in range(minutes(10)):  # a healthy service restarts: its request counter starts again from zero
        count = 100 if i < minutes(5) else i - minutes(5)
        rate = 1.0 if i < minutes(5) else (100.0 / count if count else None)  # one early failure: 100%, 50%, ...
        transitions += engine.evaluate(i * STEP_SECONDS, {"failure_percent": rate, "request_count": count})
    assert transitions == []


def test_anomalous_samples_are_not_learned_until_relearn() -> None:
    rule = dataclasses.replace(LATENCY, relearn_seconds=1800.0, warmup_samples=20)
    baseline = RobustBaseline(rule)
    conditions = [baseline.observe(i * 5.0, 0.8 + 0.01 * (i % 3)) for i in range(100)]
    assert conditions[-1].condition is Condition.CLEAR
    shifted = [baseline.observe(500.0 + i * 5.0, 1.6).condition for i in range(359)]
    assert set(shifted) == {Condition.BREACH}  # 30 minutes later still anomalous: the window is frozen
    after = [baseline.observe(500.0 + 1800.0 + i * 5.0, 1.6).condition for i in range(40)]
    assert Condition.UNKNOWN in after and after[-1] is Condition.CLEAR  # accepted as the new normal


def test_the_learned_band_is_where_a_sample_would_breach() -> None:
    """The band a chart shades: median +- max(threshold x sigma, min_relative_change x median); none while warming."""
    rule = dataclasses.replace(LATENCY, warmup_samples=5, max_samples=50)
    detector = RobustBaseline(rule)
    for i, value in enumerate([1.0, 1.2, 0.8, 1.0, 1.1]):
        detector.observe(i * STEP_SECONDS, value)
        assert detector.band() is None  # still learning: nothing judged yet
    detector.observe(5 * STEP_SECONDS, 1.0)
    median, sigma = robust_stats(np.array([1.0, 1.2, 0.8, 1.0, 1.1]))
    reach = max(rule.threshold * sigma, rule.min_relative_change * median)
    low, high = detector.band()
    assert (low, high) == (median - reach, median + reach)
    assert detector.observe(6 * STEP_SECONDS, high * 1.05).condition is Condition.BREACH
    detector.reset()
    assert detector.band() is None


def test_the_engine_reports_each_warmed_up_baseline_band() -> None:
    engine = AlertEngine([dataclasses.replace(LATENCY, warmup_samples=5, max_samples=50),
                          dataclasses.replace(LATENCY, name="latency_again", warmup_samples=50, max_samples=60),
                          BaselineRule(name="tps", metric="window_tokens_per_second", bad_direction="down")])
    assert engine.baseline_bands() == {}
    feed(engine, [1.0, 1.2, 0.8, 1.0, 1.1, 1.0], "latency_seconds")
    bands = engine.baseline_bands()
    assert list(bands) == ["latency_seconds"]  # the first rule on a metric; the warming one adds nothing
    low, high = bands["latency_seconds"]
    assert low < 1.0 < high


def test_a_baseline_that_never_varied_is_worded_without_inf_or_nan() -> None:
    """A metric flat for half an hour has no spread (MAD 0), so its robust z is infinite: the alert once read
    'robust z inf'. A flat 0.8 doubled, and a flat 0 lifted, fire with messages in words."""
    messages = []
    for before, after in ((0.8, 1.6), (0.0, 0.5)):
        engine = AlertEngine(default_rules())
        flat = [before] * minutes(30) + [after] * minutes(30)
        messages += [t.message for t in fired(feed(engine, flat, "inter_token_latency_seconds"))]
    assert len(messages) == 2
    assert "2x, the baseline never varied" in messages[0] and "the baseline was a steady 0" in messages[1]
    for text in messages:
        assert "inf" not in text.replace("inference", "") and "nan" not in text
