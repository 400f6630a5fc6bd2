"""Linear trend forecasts, like Prometheus `predict_linear`: when will this metric cross its limit?

`predict_linear` is the pure, one-shot fit. `TrendWindow` keeps the same least-squares fit over a sliding
time window with running sums (O(1) per sample, so a day of 5 s samples replays in well under a second);
timestamps are taken relative to an origin that moves with the window, so the sums never square unix
timestamps and lose precision.

A forecast fires only when the fit is clear (enough samples over a minimum span, r2 >= min_r2), the
crossing is within the horizon, and the metric is not already past the threshold (then the threshold
rule owns it). A timestamp that goes backwards restarts the window; a gap simply ages samples out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from healthmon.analysis.messages import Message
from healthmon.analysis.rules import METRIC_UNITS, Condition, ForecastRule


@dataclass(frozen=True)
class Forecast:
    """A least-squares line through recent samples, anchored at the newest sample's time ('now')."""

    slope_per_second: float
    intercept: float  # fitted value now
    r2: float
    samples: int
    span_seconds: float
    predicted: float  # fitted value at now + horizon (what predict_linear returns)
    seconds_to_cross: float | None  # None: no threshold given, or the line is not heading toward it


def _crossing(intercept: float, slope_per_second: float, threshold: float, op: str) -> float | None:
    """Seconds until the line reaches `threshold` from the healthy side; 0 if already there."""
    sign = 1.0 if op == ">" else -1.0
    if sign * (intercept - threshold) >= 0:
        return 0.0
    if sign * slope_per_second <= 0:
        return None
    return (threshold - intercept) / slope_per_second


def _from_sums(n: int, st: float, sv: float, stt: float, stv: float, svv: float, now: float, span_seconds: float,
               horizon_seconds: float, threshold: float | None, op: str) -> Forecast | None:
    """The fit from running sums of t, v, t*t, t*v, v*v (t relative to any origin; `now` on the same one)."""
    if n < 2:
        return None
    mean_t, mean_v = st / n, sv / n
    var_t = stt - st * mean_t
    if var_t <= 0:
        return None
    cov = stv - st * mean_v
    var_v = max(svv - sv * mean_v, 0.0)
    slope = cov / var_t
    r2 = min(cov * cov / (var_t * var_v), 1.0) if var_v > 0 else 0.0
    intercept = mean_v + slope * (now - mean_t)
    crossing = None if threshold is None else _crossing(intercept, slope, threshold, op)
    return Forecast(slope, intercept, r2, n, span_seconds, intercept + slope * horizon_seconds, crossing)


def predict_linear(ts_list: Sequence[float], values: Sequence[float], horizon_seconds: float,
                   threshold: float | None = None, op: str = ">") -> Forecast | None:
    """Least-squares fit of values over time; None with fewer than two distinct timestamps."""
    if len(ts_list) != len(values):
        raise ValueError(f"ts_list has {len(ts_list)} items but values has {len(values)}")
    if not ts_list:
        return None
    origin = ts_list[-1]
    rel = [t - origin for t in ts_list]
    sums = (sum(rel), sum(values), sum(t * t for t in rel),
            sum(t * v for t, v in zip(rel, values, strict=True)), sum(v * v for v in values))
    return _from_sums(len(rel), *sums, now=0.0, span_seconds=max(ts_list) - min(ts_list),
                      horizon_seconds=horizon_seconds, threshold=threshold, op=op)


class TrendWindow:
    """Samples of one metric within the last `window_seconds`, with the running sums of their fit."""

    def __init__(self, window_seconds: float) -> None:
        self.window_seconds = window_seconds
        self._samples: deque[tuple[float, float]] = deque()
        self._origin = 0.0
        self._sums = [0.0] * 5  # t, v, t*t, t*v, v*v with t = ts - origin

    def reset(self) -> None:
        """Forget all samples (clock went backwards)."""
        self._samples.clear()
        self._sums = [0.0] * 5

    def _rebase(self) -> None:
        """Recompute sums around the oldest sample: bounds both t and accumulated rounding."""
        self._origin = self._samples[0][0] if self._samples else 0.0
        self._sums = [0.0] * 5
        for ts, value in self._samples:
            self._accumulate(ts, value, 1.0)

    def _accumulate(self, ts: float, value: float, sign: float) -> None:
        t = ts - self._origin
        s = self._sums
        s[0] += sign * t
        s[1] += sign * value
        s[2] += sign * t * t
        s[3] += sign * t * value
        s[4] += sign * value * value

    def add(self, ts: float, value: float) -> None:
        """Append a sample and drop the ones that fell out of the window."""
        if self._samples and ts < self._samples[-1][0]:
            self.reset()
        if not self._samples:
            self._origin = ts
        self._samples.append((ts, value))
        self._accumulate(ts, value, 1.0)
        while ts - self._samples[0][0] > self.window_seconds:
            old_ts, old_value = self._samples.popleft()
            self._accumulate(old_ts, old_value, -1.0)
        if self._samples[0][0] - self._origin > 4 * self.window_seconds:
            self._rebase()

    def fit(self, horizon_seconds: float, threshold: float | None = None, op: str = ">") -> Forecast | None:
        """The current fit, anchored at the newest sample."""
        if not self._samples:
            return None
        now = self._samples[-1][0]
        st, sv, stt, stv, svv = self._sums
        return _from_sums(len(self._samples), st, sv, stt, stv, svv, now=now - self._origin,
                          span_seconds=now - self._samples[0][0], horizon_seconds=horizon_seconds,
                          threshold=threshold, op=op)


def forecast_message(rule: ForecastRule, seconds_to_cross: float) -> Message:
    """'memory_usage 90% in ~24 min': what will happen and when, rounded the way people talk."""
    minutes = max(1, round(seconds_to_cross / 60))
    return Message("{metric} {limit} in ~{minutes} min", {
        "metric": rule.metric, "limit": f"{rule.threshold:g}{METRIC_UNITS.get(rule.metric, '')}",
        "minutes": str(minutes)})


def judge(rule: ForecastRule, window: TrendWindow, value: float) -> tuple[Condition, Message | None]:
    """Classify the latest sample (BREACH: a clear trend crosses within the horizon) and say why."""
    sign = 1.0 if rule.op == ">" else -1.0
    limit = f"{rule.threshold:g}{METRIC_UNITS.get(rule.metric, '')}"
    if sign * (value - rule.threshold) >= 0:  # the threshold rule owns it
        return Condition.BAND, Message("{metric} already past {limit}", {"metric": rule.metric, "limit": limit})
    fit = window.fit(rule.horizon_seconds, rule.threshold, rule.op)
    if fit is None or fit.samples < rule.min_samples or fit.span_seconds < rule.min_span_seconds:
        return Condition.UNKNOWN, None
    if fit.seconds_to_cross is None or fit.seconds_to_cross > 2 * rule.horizon_seconds:
        return Condition.CLEAR, Message("{metric} not heading for {limit} within {minutes} min", {
            "metric": rule.metric, "limit": limit, "minutes": f"{2 * rule.horizon_seconds / 60:g}"})
    message = forecast_message(rule, fit.seconds_to_cross)
    if fit.r2 >= rule.min_r2 and fit.seconds_to_cross <= rule.horizon_seconds:
        return Condition.BREACH, message
    return Condition.BAND, message
