"""Pure frame helpers: bucket means, percentiles, window labels, metric-name rules."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from healthmon.store.frames import check_name, downsample_frame, numeric_values, percentiles, window_seconds


def test_downsample_gives_bucket_means_of_a_known_series() -> None:
    df = pd.DataFrame({"ts": [float(t) for t in range(10)], "value": [float(t) for t in range(10)]})
    # span 9 s / 5 points = 1.8 s buckets: {0,1} {2,3} {4,5} {6,7} {8,9}; the last sample joins the last bucket
    out = downsample_frame(df, max_points=5)
    assert list(out.columns) == ["ts", "value"]
    assert out["value"].tolist() == [0.5, 2.5, 4.5, 6.5, 8.5]
    assert out["ts"].tolist() == [0.5, 2.5, 4.5, 6.5, 8.5]


def test_downsample_never_exceeds_max_points_and_skips_nan() -> None:
    df = pd.DataFrame({"ts": [t * 0.7 for t in range(5000)],
                       "a": [float("nan") if t % 2 else 1.0 for t in range(5000)]})
    out = downsample_frame(df, max_points=123)
    assert 0 < len(out) <= 123
    assert (out["a"] == 1.0).all()
    assert out["ts"].is_monotonic_increasing


def test_downsample_below_max_points_returns_rows_sorted() -> None:
    df = pd.DataFrame({"ts": [3.0, 1.0, 2.0], "a": [30.0, 10.0, 20.0]})
    out = downsample_frame(df, max_points=3)
    assert out["ts"].tolist() == [1.0, 2.0, 3.0]
    assert out["a"].tolist() == [10.0, 20.0, 30.0]


def test_downsample_rejects_zero_points() -> None:
    with pytest.raises(ValueError):
        downsample_frame(pd.DataFrame({"ts": [1.0]}), max_points=0)


def test_percentiles_interpolate_and_ignore_non_numbers() -> None:
    values = list(range(1, 101)) + [None, "x", float("nan"), float("inf")]
    result = percentiles(values)
    assert result == {"p50": pytest.approx(50.5), "p95": pytest.approx(95.05), "p99": pytest.approx(99.01)}


def test_percentiles_of_nothing_are_none() -> None:
    assert percentiles([]) == {"p50": None, "p95": None, "p99": None}
    assert percentiles([None], qs=(90, 99.9)) == {"p90": None, "p99.9": None}


@pytest.mark.parametrize(("label", "seconds"),
                         [("15m", 900), ("1h", 3600), ("6h", 21600), ("24h", 86400), ("7d", 604800)])
def test_window_seconds(label: str, seconds: int) -> None:
    assert window_seconds(label) == seconds


def test_window_seconds_rejects_unknown_labels() -> None:
    with pytest.raises(ValueError, match="unknown window"):
        window_seconds("2h")


def test_numeric_values_keeps_only_finite_numbers() -> None:
    values = {"a": 1, "b": 2.5, "c": True, "d": None, "e": "3", "f": [1], "g": math.nan, "h": -math.inf, "i": 10**400}
    assert numeric_values(values) == {"a": 1.0, "b": 2.5, "c": 1.0}


@pytest.mark.parametrize("name", ["", "Cpu", "1cpu", "cpu-util", "cpu util", "a" * 64, "ts", None, 3])
def test_check_name_rejects_bad_metric_names(name: object) -> None:
    with pytest.raises(ValueError):
        check_name(name, "metric")


def test_check_name_accepts_good_names() -> None:
    assert check_name("gpu0_utilization", "metric") == "gpu0_utilization"
    assert check_name("a" * 63, "layer") == "a" * 63
