"""Model-server /metrics parsing on recorded fixtures of vLLM's, llama.cpp's and TGI's real output format."""

import json
from dataclasses import fields, replace
from pathlib import Path

import pytest

from healthmon.remote.server_metrics import (
    LatencyTotals,
    ServerFigures,
    ServerMetrics,
    ServerMetricsError,
    SlotsSnapshot,
    interval_figures,
    parse_server_metrics,
    parse_slots,
    server_figures_of,
)

FIXTURES = Path(__file__).parent / "fixtures" / "server_metrics"


def fixture(name: str) -> ServerMetrics:
    """The figures parsed from one recorded /metrics page."""
    return parse_server_metrics((FIXTURES / name).read_text(encoding="utf-8"))


def test_vllm_sums_both_engines_and_ignores_created_series() -> None:
    metrics = fixture("vllm.txt")
    assert metrics == ServerMetrics(
        server_kind="vllm",
        requests_running=5,
        requests_waiting=1,
        kv_cache_usage_ratio=0.375,  # mean of the engines' 0.25 and 0.5
        preemptions_total=3,
        prompt_tokens_total=2000,
        generation_tokens_total=6000,
        server_ttft=LatencyTotals(seconds_sum=2.0, count=16),
        server_request=LatencyTotals(seconds_sum=64.0, count=16),
    )
    assert metrics.server_ttft_seconds_mean == 0.125
    assert metrics.server_request_seconds_mean == 4.0


def test_older_vllm_reads_gpu_cache_usage_perc_as_a_fraction() -> None:
    metrics = fixture("vllm_gpu_cache.txt")
    assert metrics == ServerMetrics(
        server_kind="vllm",
        requests_running=4,
        requests_waiting=2,
        kv_cache_usage_ratio=0.625,
        preemptions_total=7,
        prompt_tokens_total=1196,
        generation_tokens_total=218152,
        server_ttft=LatencyTotals(seconds_sum=7.4375, count=216),
        server_request=None,
    )


def test_llamacpp_current_format_has_no_kv_cache_figure() -> None:
    """The real server's output (recorded from llama-server under five requests: four slots busy, one deferred)."""
    assert fixture("llamacpp.txt") == ServerMetrics(
        server_kind="llamacpp",
        requests_running=4,
        requests_waiting=1,
        prompt_tokens_total=45,
        generation_tokens_total=5,
    )


def test_llamacpp_slots_give_busy_and_total_slots_and_the_context_they_hold() -> None:
    """llama.cpp's /slots, recorded with the metrics above: four slots of 512 tokens, each holding its prompt."""
    slots = parse_slots(json.loads((FIXTURES / "llamacpp_slots.json").read_text()))
    assert slots == SlotsSnapshot(busy=4, total=4, context_tokens=38 + 38 + 38 + 39, context_capacity_tokens=2048)
    assert slots.context_usage_ratio == 153 / 2048
    idle = parse_slots([{"id": 0, "n_ctx": 512, "is_processing": False}])  # a slot never used has no token count
    assert idle == SlotsSnapshot(0, 1, 0, 512) and idle.context_usage_ratio == 0
    for bad in ({"slots": []}, [1], [{"n_ctx": -1}], [{"n_ctx": "512"}]):
        with pytest.raises(ServerMetricsError):
            parse_slots(bad)


def test_server_figures_are_named_as_the_catalog_declares_them() -> None:
    """One place per metric: every figure a server adds to the model layer is a catalog key of that layer, and the
    loop's list of them is derived from the catalog, not written again."""
    from healthmon.catalog import CATALOG
    from healthmon.loop import SERVER_FIGURES

    names = {f.name for f in fields(ServerFigures)}
    assert names <= set(SERVER_FIGURES) and all(CATALOG[name].layer == "model" for name in names)
    assert set(SERVER_FIGURES) - names == {"target_health_latency_seconds"}
    before, after = fixture("vllm.txt"), fixture("vllm.txt")
    after = replace(after, server_request=LatencyTotals(after.server_request.seconds_sum + 3.0,
                                                        after.server_request.count + 2))
    figures = server_figures_of(interval_figures(before, after, 5.0), None).as_dict()
    assert figures["server_request_seconds"] == pytest.approx(1.5)  # parsed, and no longer dropped
    assert figures["server_slots_busy"] is None


def test_llamacpp_older_format_reports_kv_cache_usage_ratio() -> None:
    assert fixture("llamacpp_kv_cache.txt") == ServerMetrics(
        server_kind="llamacpp",
        requests_running=0,
        requests_waiting=0,
        kv_cache_usage_ratio=0.491063,
        prompt_tokens_total=6886,
        generation_tokens_total=3469,
    )


def test_tgi_reads_batch_queue_and_token_histogram_sums() -> None:
    metrics = fixture("tgi.txt")
    assert metrics == ServerMetrics(
        server_kind="tgi",
        requests_running=3,
        requests_waiting=2,
        prompt_tokens_total=2100,
        generation_tokens_total=3000,
        server_request=LatencyTotals(seconds_sum=30.0, count=12),
    )
    assert metrics.server_request_seconds_mean == 2.5
    assert metrics.server_ttft_seconds_mean is None


def test_llamacpp_six_digit_values_are_read_as_printed() -> None:
    text = "# TYPE llamacpp:prompt_tokens_total counter\nllamacpp:prompt_tokens_total 1.23457e+06\n"
    assert parse_server_metrics(text).prompt_tokens_total == 1234570


def test_vllm_families_without_samples_detect_the_server_but_give_no_figures() -> None:
    text = (
        "# HELP vllm:num_requests_running Number of requests in model execution batches.\n"
        "# TYPE vllm:num_requests_running gauge\n"
        "# HELP vllm:num_preemptions_total Cumulative number of preemption from the engine.\n"
        "# TYPE vllm:num_preemptions_total counter\n"
    )
    assert parse_server_metrics(text) == ServerMetrics(server_kind="vllm")


def test_unknown_server_gives_no_kind_and_no_figures() -> None:
    text = (
        "# HELP process_open_fds Number of open file descriptors.\n"
        "# TYPE process_open_fds gauge\n"
        "process_open_fds 45.0\n"
        "# TYPE sglang:num_running_reqs gauge\n"
        'sglang:num_running_reqs{model_name="m"} 3.0\n'
    )
    assert parse_server_metrics(text) == ServerMetrics()
    assert parse_server_metrics("") == ServerMetrics()


@pytest.mark.parametrize(
    "text",
    [
        "<html><body><h1>404 Not Found</h1></body></html>",
        '{"error": {"message": "metrics disabled", "code": 501}}',
        "vllm:num_requests_running{engine=\"0\" 1.0\n",
        "# TYPE vllm:num_requests_running\n",
        "vllm:num_requests_running one\n",
        "\x00\x01\x02",
    ],
)
def test_malformed_pages_raise_one_clear_error(text: str) -> None:
    with pytest.raises(ServerMetricsError, match="not Prometheus text"):
        parse_server_metrics(text)


def test_interval_rates_and_means_from_two_vllm_scrapes() -> None:
    before = fixture("vllm.txt")
    after = replace(
        before,
        requests_running=7,
        preemptions_total=5,
        prompt_tokens_total=2600,
        generation_tokens_total=7000,
        server_ttft=LatencyTotals(seconds_sum=3.0, count=20),
        server_request=LatencyTotals(seconds_sum=64.0, count=16),
    )
    interval = interval_figures(before, after, interval_seconds=4.0)
    assert interval.server_kind == "vllm"
    assert interval.requests_running == 7
    assert interval.kv_cache_usage_ratio == 0.375
    assert interval.preemptions == 2
    assert interval.prompt_tokens_per_second == 150.0
    assert interval.generation_tokens_per_second == 250.0
    assert interval.server_ttft_seconds_mean == 0.25  # (3.0 - 2.0) s over 4 new first tokens
    assert interval.server_request_seconds_mean is None  # no request finished in the interval
    assert interval.counter_reset is False


def test_server_restart_counts_from_zero_and_never_goes_negative() -> None:
    before = fixture("vllm.txt")
    restarted = replace(
        before,
        preemptions_total=0,
        prompt_tokens_total=300,
        generation_tokens_total=90,
        server_ttft=LatencyTotals(seconds_sum=0.5, count=2),
    )
    interval = interval_figures(before, restarted, interval_seconds=10.0)
    assert interval.counter_reset is True
    assert interval.preemptions == 0
    assert interval.prompt_tokens_per_second == 30.0
    assert interval.generation_tokens_per_second == 9.0
    assert interval.server_ttft_seconds_mean == 0.25


def test_interval_over_figures_a_server_lacks_stays_none() -> None:
    before = fixture("llamacpp.txt")
    after = replace(before, prompt_tokens_total=245, generation_tokens_total=105)
    interval = interval_figures(before, after, interval_seconds=2.0)
    assert interval.prompt_tokens_per_second == 100.0
    assert interval.generation_tokens_per_second == 50.0
    assert interval.preemptions is None
    assert interval.server_ttft_seconds_mean is None
    assert interval.kv_cache_usage_ratio is None


def test_a_different_server_between_scrapes_gives_no_rates() -> None:
    interval = interval_figures(fixture("vllm.txt"), fixture("tgi.txt"), interval_seconds=5.0)
    assert interval.server_kind == "tgi"
    assert interval.prompt_tokens_per_second is None
    assert interval.server_request_seconds_mean is None
    assert interval.counter_reset is False


@pytest.mark.parametrize("seconds", [0.0, -1.0, float("nan"), float("inf")])
def test_interval_needs_a_positive_duration(seconds: float) -> None:
    metrics = fixture("tgi.txt")
    with pytest.raises(ValueError, match="interval_seconds"):
        interval_figures(metrics, metrics, interval_seconds=seconds)
