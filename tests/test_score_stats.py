"""Health score (renormalized weighted mean) and request statistics."""

import pytest

from healthmon.analysis.score import health_score, is_starting, status_from, without_model
from healthmon.analysis.stats import RequestStats
from healthmon.curve import Curve
from healthmon.records import RequestRecord


def test_curve_both_directions():
    assert Curve(good=70, bad=100)(50) == 100
    assert Curve(good=70, bad=100)(85) == 50
    assert Curve(good=70, bad=100)(120) == 0
    assert Curve(good=20, bad=2)(11) == 50


def test_no_data_is_no_score_not_100():
    assert health_score({}).score is None
    assert status_from(None, []) == "no_data"


def test_a_first_load_under_way_is_starting_not_critical():
    assert is_starting("loading", ever_loaded=False) and is_starting("not_loaded", ever_loaded=False)
    assert not is_starting("error", ever_loaded=False)  # a model that failed to load is a real problem
    assert not is_starting("loading", ever_loaded=True)  # a reload of a model that served: scored as it is
    metrics = {"cpu_usage": 20.0, "model_loaded": 0.0}
    assert health_score(metrics).score < 80  # what a fresh start used to show: the model component at 0
    assert health_score(without_model(metrics)).score == 100
    assert status_from(100, [], starting=True) == "starting" and status_from(None, [], starting=True) == "starting"
    assert status_from(100, ["warning"], starting=True) == "warning"
    assert status_from(100, ["critical"], starting=True) == "critical"


def test_the_monitor_says_starting_until_the_model_first_loads(data_dir):
    from prometheus_client import generate_latest

    from healthmon.config import load_settings
    from healthmon.export.prometheus import build_registry
    from healthmon.monitor import Monitor

    monitor = Monitor(load_settings(env={}, model="demo", data_dir=data_dir, probe_interval=0.0), collectors=[])
    try:
        monitor.loop.collect_once()
        assert monitor.loop.health()["status"] == "starting"
        assert 'healthmon_health_status{status="starting"} 1.0' in generate_latest(build_registry(monitor)).decode()
        assert monitor.target.load() is True
        monitor.loop.collect_once()
        assert monitor.loop.health()["status"] == "healthy"
    finally:
        monitor.close()


def test_missing_components_are_left_out_and_weights_renormalized():
    result = health_score({"cpu_usage": 85.0, "memory_usage": 50.0})
    assert [c["component"] for c in result.components] == ["system"]
    assert result.components[0]["normalized_weight"] == 1.0
    assert result.score == pytest.approx((50 + 100) / 2)


def test_score_is_weighted_mean_of_components():
    result = health_score({"cpu_usage": 100.0, "failure_percent": 0.0})
    system = next(c for c in result.components if c["component"] == "system")
    service = next(c for c in result.components if c["component"] == "service")
    expected = (system["score"] * 0.25 + service["score"] * 0.30) / 0.55
    assert result.score == pytest.approx(expected, abs=0.01)
    assert result.score < 60  # a saturated CPU is visible, unlike the seed's score stuck at 100


def test_status_from_score_and_alerts():
    assert status_from(95, []) == "healthy"
    assert status_from(95, ["warning"]) == "warning"
    assert status_from(95, ["critical"]) == "critical"
    assert status_from(70, []) == "warning"
    assert status_from(30, []) == "critical"


def record(ts, status="ok", latency=1.0, ttft=0.1, tps=20.0):
    return {"ts": ts, "status": status, "latency_seconds": latency, "ttft_seconds": ttft,
            "tokens_per_second": tps, "prompt_tokens": 5, "output_tokens": 10}


def test_stats_account_for_every_request():
    stats = RequestStats(window_seconds=300)
    for i in range(8):
        stats.record(RequestRecord.from_row(record(1000 + i, latency=float(i + 1))))
    stats.record(RequestRecord.from_row(record(1010, status="error")))
    stats.record(RequestRecord.from_row(record(1011, status="rejected")))
    snap = stats.snapshot(now=1020)
    assert snap["total_requests"] == 10
    assert snap["succeeded_requests"] + snap["failed_requests"] + snap["rejected_requests"] == 10
    assert snap["mean_latency_seconds"] == pytest.approx(4.5)
    assert snap["latency_p50_seconds"] == pytest.approx(4.5)
    assert snap["requests_per_minute"] == 10
    assert snap["failure_percent"] == pytest.approx(10.0)
    assert snap["output_tokens_total"] == 80


def test_stats_empty_window_reports_none_not_zero():
    stats = RequestStats(window_seconds=60)
    stats.record(RequestRecord.from_row(record(0)))
    snap = stats.snapshot(now=10_000)
    assert snap["total_requests"] == 1
    assert snap["latency_p95_seconds"] is None and snap["window_tokens_per_second"] is None
    assert snap["requests_per_minute"] == 0


def test_the_model_and_service_throughputs_have_names_of_their_own():
    """The model layer's tokens_per_second (last interval, probes included) and the service layer's
    window_tokens_per_second (the stats window, users only) both reach the flat metrics; the score reads the users'."""
    from healthmon.analysis.score import health_score
    from healthmon.loop import flatten_layers

    samples = {"service": {"window_tokens_per_second": 4.0, "failure_percent": 0.0},
               "model": {"tokens_per_second": 40.0, "model_loaded": 1}}
    flat = flatten_layers(samples)
    assert flat == {"window_tokens_per_second": 4.0, "tokens_per_second": 40.0, "failure_percent": 0.0,
                    "model_loaded": 1}
    model = next(c for c in health_score(flat).components if c["component"] == "model")
    assert model["inputs"] == {"model_loaded": 1, "window_tokens_per_second": 4.0}


def test_a_long_answer_at_a_normal_pace_scores_healthy():
    """128 tokens at 19 tokens/s take 7 s: whole-request latency says nothing about health, the pace does."""
    from healthmon.analysis.score import health_score

    normal = {"model_loaded": 1, "latency_seconds": 7.0, "latency_p95_seconds": 13.0, "window_tokens_per_second": 19.0,
              "inter_token_latency_seconds": 0.052, "ttft_p95_seconds": 0.4, "failure_percent": 0.0}
    assert health_score(normal).score >= 95
    slow = normal | {"inter_token_latency_seconds": 0.4, "window_tokens_per_second": 2.5}
    assert health_score(slow).score < 80
