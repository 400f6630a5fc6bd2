"""The seed-compatible JSON payloads keep the seed's field names as aliases of the canonical ones (issue 22):
each alias is there, with the canonical field's value."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from healthmon import payloads
from healthmon.analysis.stats import RequestStats
from healthmon.api.handlers import generate_answer
from healthmon.catalog import CATALOG, FORMER_KEYS
from healthmon.records import RequestRecord
from healthmon.store.sqlite import HistoryStore

START = 1_700_000_000.0
MODEL = {"latency_seconds": 1.25, "ttft_seconds": 0.2, "tokens_per_second": 18.5, "parameters_billions": 0.135}


@pytest.fixture
def monitor(tmp_path: Path):
    store = HistoryStore(tmp_path / "history.sqlite3", clock=lambda: START + 60, flush_interval_seconds=3600).open()
    store.append_sample("model", START, MODEL)
    store.append_sample("score", START, {"performance_score": 90.0})
    store.append_sample("service", START, {"mean_latency_seconds": 1.375, "total_requests": 2})
    for index, latency in enumerate((1.0, 1.75)):
        store.append_request({"trace_id": f"t{index}", "ts": START + index, "source": "api", "status": "ok",
                              "prompt_tokens": 5, "output_tokens": 10, "latency_seconds": latency,
                              "ttft_seconds": 0.1, "tokens_per_second": 20.0})
    store.flush()
    loop = SimpleNamespace(latest=lambda layer: {"ts": START} | MODEL if layer == "model" else {})
    yield SimpleNamespace(store=store, loop=loop)
    store.close()


def test_every_alias_names_a_canonical_field_and_no_alias_is_a_catalog_key() -> None:
    canonical = set(CATALOG) | {"mean_tokens_per_second"}  # request_totals' mean; the rest are catalog keys
    assert set(payloads.SEED_ALIASES.values()) <= canonical
    # process_memory_mb: the seed's name for the process's RSS, and (a different quantity) the catalog's per-GPU
    # entry for the process's GPU memory, a clash left for a later change
    assert set(payloads.SEED_ALIASES) & set(CATALOG) == {"process_memory_mb"}
    assert {old for renames in FORMER_KEYS.values() for old in renames} <= set(payloads.SEED_ALIASES)


def test_latest_model_and_model_rows_carry_the_seed_names_with_the_latency(monitor) -> None:
    latest = payloads.latest_model(monitor)
    assert latest["inference_speed"] == latest["inference_time"] == latest["latency_seconds"] == 1.25
    assert latest["throughput_tokens_per_sec"] == 18.5 and latest["model_parameters_billions"] == 0.135
    metrics = payloads.metrics_payload(monitor, START - 1, START + 60, 500)
    row = metrics["model_metrics"][-1]
    assert row["inference_time"] == row["latency_seconds"] == 1.25
    score = metrics["performance_metrics"][-1]
    assert score["avg_response_time"] == score["mean_latency_seconds"] == 1.375
    assert [(r["inference_time"], r["latency_seconds"]) for r in metrics["generation_stats"]] == [(1.0, 1.0),
                                                                                              (1.75, 1.75)]


def test_analysis_payloads_carry_the_seed_lists_and_statistics(monitor) -> None:
    inference = payloads.inference_analysis(monitor, START - 1, START + 60)
    assert inference["inference_times"] == inference["latency_seconds"] == [1.25]
    requests = payloads.request_analysis(monitor, START - 1, START + 60)
    assert requests["response_times"] == requests["latency_seconds"] == [1.0, 1.75]
    generation = payloads.generation_analysis(monitor, START - 1, START + 60)
    statistics = generation["statistics"]
    assert statistics["avg_response_time"] == statistics["mean_latency_seconds"] == pytest.approx(1.375)
    assert statistics["success_rate"] == statistics["success_percent"] == 100.0
    assert statistics["avg_tokens_per_sec"] == statistics["mean_tokens_per_second"] == pytest.approx(20.0)
    assert [point[1] for point in generation["performance_data"]] == [1.0, 1.75]


def test_request_stats_and_the_generate_answer_carry_their_aliases() -> None:
    stats = RequestStats(window_seconds=300)
    stats.record(RequestRecord.from_row({"ts": START, "status": "ok", "latency_seconds": 2.5, "ttft_seconds": 0.1,
                                         "tokens_per_second": 20.0, "prompt_tokens": 5, "output_tokens": 10}))
    request_stats = payloads.with_aliases(stats.snapshot(START + 1), "avg_response_time", "success_rate",
                                          "failure_rate")
    assert request_stats["avg_response_time"] == request_stats["mean_latency_seconds"] == 2.5
    assert request_stats["success_rate"] == request_stats["success_percent"] == 100.0
    assert request_stats["failure_rate"] == request_stats["failure_percent"] == 0.0
    answer = generate_answer(RequestRecord.from_row({"trace_id": "t", "ts": START, "status": "ok",
                                                     "latency_seconds": 0.75, "ttft_seconds": 0.1}))
    assert answer["inference_time"] == answer["latency_seconds"] == 0.75
