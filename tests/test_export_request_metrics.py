"""RequestMetrics: outcome and token counters, OTel GenAI histogram buckets, canaries kept apart."""

from __future__ import annotations

import math

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from healthmon.export.request_metrics import (
    REQUEST_DURATION_BUCKETS_SECONDS,
    TPOT_BUCKETS_SECONDS,
    TTFT_BUCKETS_SECONDS,
    RequestMetrics,
    inference_seconds,
)
from healthmon.records import RequestRecord

SPANS = [{"name": "queue", "start_offset_seconds": 0.0, "duration_seconds": 0.01},
         {"name": "prefill", "start_offset_seconds": 0.02, "duration_seconds": 0.03},
         {"name": "decode", "start_offset_seconds": 0.05, "duration_seconds": 0.2}]


def ok_record(**overrides) -> dict:
    record = {"trace_id": "ab" * 16, "ts": 1_800_000_000.0, "status": "ok", "synthetic": False, "source": "api",
              "latency_seconds": 0.3, "ttft_seconds": 0.05, "inter_token_latency_seconds": 0.02, "queue_seconds": 0.01,
              "prompt_tokens": 12, "output_tokens": 11, "finish_reason": "length", "spans": SPANS}
    return record | overrides


def samples(metrics: RequestMetrics) -> dict[tuple[str, tuple], float]:
    registry = CollectorRegistry()
    registry.register(metrics)
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def buckets(values: dict, name: str) -> list[float]:
    return sorted(float(dict(labels)["le"]) for (sample, labels) in values if sample == f"{name}_bucket")


def test_histograms_use_the_opentelemetry_genai_bucket_boundaries():
    values = samples(RequestMetrics())
    assert buckets(values, "healthmon_time_to_first_token_seconds") == [*TTFT_BUCKETS_SECONDS, math.inf]
    assert buckets(values, "healthmon_time_per_output_token_seconds") == [*TPOT_BUCKETS_SECONDS, math.inf]
    assert buckets(values, "healthmon_e2e_request_latency_seconds") == [*REQUEST_DURATION_BUCKETS_SECONDS, math.inf]
    assert TTFT_BUCKETS_SECONDS == (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5,
                                    10)  # DESIGN.md, from the OTel GenAI semantic conventions
    assert TPOT_BUCKETS_SECONDS == (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5)


def test_every_outcome_series_exists_before_the_first_request():
    values = samples(RequestMetrics())
    for status in ("ok", "error", "rejected"):
        assert values[("healthmon_requests_total", (("status", status),))] == 0
        assert values[("healthmon_canary_requests_total", (("status", status),))] == 0
    for reason in ("stop", "length", "cancelled"):
        assert values[("healthmon_request_success_total", (("finished_reason", reason),))] == 0


def test_a_completed_request_counts_once_everywhere():
    metrics = RequestMetrics()
    metrics.record(RequestRecord.from_row(ok_record()))
    values = samples(metrics)
    assert values[("healthmon_requests_total", (("status", "ok"),))] == 1
    assert values[("healthmon_request_success_total", (("finished_reason", "length"),))] == 1
    assert values[("healthmon_prompt_tokens_total", ())] == 12
    assert values[("healthmon_generation_tokens_total", ())] == 11
    assert values[("healthmon_e2e_request_latency_seconds_sum", ())] == 0.3
    assert values[("healthmon_e2e_request_latency_seconds_bucket", (("le", "0.32"),))] == 1
    assert values[("healthmon_e2e_request_latency_seconds_bucket", (("le", "0.16"),))] == 0
    assert values[("healthmon_time_to_first_token_seconds_bucket", (("le", "0.06"),))] == 1
    assert values[("healthmon_time_to_first_token_seconds_bucket", (("le", "0.04"),))] == 0
    assert values[("healthmon_time_per_output_token_seconds_count", ())] == 1
    assert values[("healthmon_request_queue_time_seconds_count", ())] == 1
    assert math.isclose(values[("healthmon_request_inference_time_seconds_sum", ())], 0.23)


def test_failed_and_rejected_requests_are_counted_but_not_timed():
    metrics = RequestMetrics()
    metrics.record(RequestRecord.from_row({"status": "error", "synthetic": False, "latency_seconds": 1.0,
                                           "finish_reason": "error"}))
    metrics.record(RequestRecord.from_row({"status": "rejected", "synthetic": False, "latency_seconds": 0.0,
                                           "finish_reason": "error"}))
    # an unknown status counts as an error
    metrics.record(RequestRecord.from_row({"status": "mystery", "synthetic": False, "latency_seconds": 0.0}))
    values = samples(metrics)
    assert values[("healthmon_requests_total", (("status", "error"),))] == 2
    assert values[("healthmon_requests_total", (("status", "rejected"),))] == 1
    assert values[("healthmon_e2e_request_latency_seconds_count", ())] == 0
    assert values[("healthmon_generation_tokens_total", ())] == 0


def test_canary_probes_never_touch_the_user_metrics():
    metrics = RequestMetrics()
    metrics.record(RequestRecord.from_row(ok_record(synthetic=True, source="probe")))
    metrics.record(RequestRecord.from_row(ok_record(synthetic=True, source="probe", status="error")))
    values = samples(metrics)
    assert values[("healthmon_canary_requests_total", (("status", "ok"),))] == 1
    assert values[("healthmon_canary_requests_total", (("status", "error"),))] == 1
    assert values[("healthmon_canary_e2e_request_latency_seconds_count", ())] == 1
    user = {key: value for key, value in values.items() if not key[0].startswith("healthmon_canary")
            and not key[0].endswith("_created")}
    assert not any(user.values()), {key: value for key, value in user.items() if value}


def test_inference_time_is_prefill_plus_decode_and_absent_without_tokens():
    assert math.isclose(inference_seconds(RequestRecord.from_row({"status": "ok", "spans": SPANS})), 0.23)
    assert inference_seconds(RequestRecord.from_row({"status": "ok", "spans": [SPANS[0]]})) is None
    assert inference_seconds(RequestRecord.from_row({"status": "rejected"})) is None
