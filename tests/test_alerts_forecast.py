"""Linear forecasts: the fit itself, and a slow leak warned about well before the limit, then handed over."""

from __future__ import annotations

import random
import re

import pytest

from healthmon.analysis.alerts import AlertEngine, Transition
from healthmon.analysis.forecast import TrendWindow, predict_linear
from healthmon.analysis.rules import default_rules

T0 = 1_700_000_000.0


def test_predict_linear_on_an_exact_line() -> None:
    ts = [T0 + 10 * i for i in range(31)]
    values = [50 + 0.01 * (t - T0) for t in ts]  # 50% rising 0.6%/min, now at 53%
    fit = predict_linear(ts, values, horizon_seconds=600, threshold=90)
    assert fit is not None
    assert fit.slope_per_second == pytest.approx(0.01)
    assert fit.intercept == pytest.approx(53.0)
    assert fit.predicted == pytest.approx(59.0)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.seconds_to_cross == pytest.approx(3700.0)
    assert fit.span_seconds == 300 and fit.samples == 31


def test_predict_linear_without_approach() -> None:
    ts = [float(i) for i in range(10)]
    falling = predict_linear(ts, [90 - i for i in range(10)], 600, threshold=95)
    assert falling is not None and falling.seconds_to_cross is None
    flat = predict_linear(ts, [70.0] * 10, 600, threshold=95)
    assert flat is not None and flat.r2 == 0 and flat.seconds_to_cross is None
    assert predict_linear([1.0, 1.0], [1.0, 2.0], 60) is None  # no time span: no slope
    assert predict_linear([], [], 60) is None
    with pytest.raises(ValueError):
        predict_linear([1.0], [], 60)
    below = predict_linear(ts, [30 - i for i in range(10)], 600, threshold=5, op="<")
    assert below is not None and below.seconds_to_cross == pytest.approx(16.0)


def test_trend_window_matches_one_shot_fit_over_a_long_run() -> None:
    rng = random.Random(3)
    window = TrendWindow(window_seconds=600)
    samples = [(T0 + 5 * i, 40 + 0.002 * i + rng.gauss(0, 0.5)) for i in range(20_000)]  # > a day, rebases
    for ts, value in samples:
        window.add(ts, value)
    recent = [(ts, v) for ts, v in samples if samples[-1][0] - ts <= 600]
    expected = predict_linear([t for t, _ in recent], [v for _, v in recent], 900, threshold=90)
    got = window.fit(900, threshold=90)
    assert expected is not None and got is not None
    assert got.samples == expected.samples
    assert got.slope_per_second == pytest.approx(expected.slope_per_second, rel=1e-6, abs=1e-9)
    assert got.intercept == pytest.approx(expected.intercept, rel=1e-9)
    assert got.r2 == pytest.approx(expected.r2, rel=1e-6, abs=1e-9)


def run_memory(values: list[float], step: float = 5.0) -> list[Transition]:
    engine = AlertEngine(default_rules())
    out: list[Transition] = []
    for i, value in enumerate(values):
        out.extend(engine.evaluate(T0 + i * step, {"memory_usage": value}))
    return out


def test_slow_leak_forecast_fires_early_then_threshold_takes_over() -> None:
    rng = random.Random(11)
    slope_per_sample = 0.1  # 1.2 %/min at 5 s samples: 50% -> 90% in about 33 minutes
    values = [min(100.0, 50 + slope_per_sample * i + rng.gauss(0, 0.3)) for i in range(600)]
    transitions = run_memory(values)
    forecast_fired = [t for t in transitions if t.kind == "forecast" and t.state == "firing"]
    assert len(forecast_fired) == 1
    first = forecast_fired[0]
    assert first.value is not None and first.value < 80  # warned before even the warning threshold
    match = re.fullmatch(r"memory_usage 90% in ~(\d+) min", first.message)
    assert match, first.message
    actual_minutes = (90 - first.value) / (slope_per_sample * 12)
    assert abs(int(match.group(1)) - actual_minutes) <= 0.2 * actual_minutes + 1
    critical = [t for t in transitions if t.alert_id.startswith("memory_critical") and t.state == "pending"]
    superseded = [t for t in transitions if t.kind == "forecast" and t.state == "resolved"]
    assert len(critical) == 1 and len(superseded) == 1
    assert superseded[0].ts == critical[0].ts and "superseded by memory_critical" in superseded[0].message
    assert [t for t in transitions if t.kind == "forecast" and t.ts > superseded[0].ts] == []


def test_noisy_flat_memory_never_forecasts() -> None:
    rng = random.Random(12)
    values = [70 + rng.gauss(0, 2) for _ in range(4000)]
    assert [t for t in run_memory(values) if t.kind == "forecast"] == []


def test_already_over_threshold_is_not_a_forecast() -> None:
    values = [91 + 0.01 * i for i in range(600)]  # over 90 and still climbing: memory_critical owns it
    kinds = {t.kind for t in run_memory(values)}
    assert kinds == {"threshold"}


def test_forecast_needs_span_and_clear_fit() -> None:
    # 5 minutes of a steep climb: fewer than min_span_seconds of data, no forecast yet
    values = [50 + 0.5 * i for i in range(60)]
    assert [t for t in run_memory(values) if t.kind == "forecast"] == []
    # a saw-tooth (GC cycles) trending up slowly has a poor fit: no forecast
    saw = [60 + 0.01 * i + (15 if i % 20 < 10 else -15) for i in range(1500)]
    assert [t for t in run_memory(saw) if t.kind == "forecast" and t.state == "firing"] == []
