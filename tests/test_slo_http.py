"""GET /api/slo over real HTTP against `streamlit run`: its counts are those of the requests sent, judged as
analysis/slo.py judges them, /metrics counts the same, and the windows survive a restart on the same data dir."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from healthmon.analysis.slo import SloObjectives, counts_against_service, is_good
from healthmon.records import RequestRecord

# Any answer of two or more tokens breaks a time-per-token objective of a nanosecond, and a one-token answer has no
# time per token to break: which requests are good follows from their lengths, not from how fast this machine is.
SLO_ENV = {"HEALTHMON_SLO_TTFT_SECONDS": "600", "HEALTHMON_SLO_TIME_PER_OUTPUT_TOKEN_SECONDS": "0.000000001",
           "HEALTHMON_SLO_OBJECTIVE": "0.9", "HEALTHMON_SLO_WINDOW_DAYS": "7"}
OBJECTIVES = SloObjectives(ttft_seconds=600, time_per_output_token_seconds=1e-9, objective=0.9, window_days=7)


def slo_counters(server) -> dict[str, float]:
    """healthmon_slo_requests_total by result, from /metrics."""
    counts = {}
    for family in text_string_to_metric_families(server.get("/metrics").text):
        if family.name == "healthmon_slo_requests":
            counts |= {s.labels["result"]: s.value for s in family.samples if s.name.endswith("_total")}
    return counts


def test_api_slo_counts_the_requests_sent_and_survives_a_restart(app_factory, data_dir):
    first = app_factory(data_dir, **SLO_ENV)
    trace_ids = []
    for tokens in (1, 1, 1, 12, 12, 12):
        response = first.post("/api/model/generate", json={"prompt": "Tell me about rivers.", "max_new_tokens": tokens})
        assert response.status_code == 200, response.text
        trace_ids.append(response.json()["trace_id"])
    for body in ({"prompt": ""}, {"prompt": "hi", "max_new_tokens": -3}):  # the client's own fault: not counted
        assert first.post("/api/model/generate", json=body).status_code in (400, 422)
    records = [RequestRecord.from_row(first.get(f"/api/traces/{trace_id}").json()) for trace_id in trace_ids]
    assert all(counts_against_service(r) for r in records)
    good = sum(is_good(r, OBJECTIVES) for r in records)
    assert 0 < good < len(records), [(r.status, r.output_tokens, r.inter_token_latency_seconds) for r in records]

    body = first.get("/api/slo").json()
    assert body["objectives"] == {"ttft_seconds": 600.0, "time_per_output_token_seconds": 1e-9,
                                  "e2e_seconds": None, "objective": 0.9, "window_days": 7.0}
    assert body["compliance_window"] == "7d"
    assert list(body["windows"]) == ["5m", "30m", "1h", "6h", "24h", "3d", "7d"]
    bad_share = (len(records) - good) / len(records)
    for figures in body["windows"].values():
        assert (figures["requests"], figures["good"]) == (len(records), good)
        assert abs(figures["attainment"] - good / len(records)) < 1e-9
        assert abs(figures["burn_rate"] - bad_share / 0.1) < 1e-9
    assert abs(body["error_budget_remaining_ratio"] - (1 - bad_share / 0.1)) < 1e-9
    assert abs(body["goodput_requests_per_second"] - good / 300) < 1e-12
    assert slo_counters(first) == {"good": good, "bad": len(records) - good}

    first.stop()
    second = app_factory(data_dir, **SLO_ENV)
    after = second.get("/api/slo").json()
    assert {name: (w["requests"], w["good"]) for name, w in after["windows"].items()} == {
        name: (w["requests"], w["good"]) for name, w in body["windows"].items()}
    # The counters are this process's, as a Prometheus counter is: they start again at 0, and rate() reads the reset.
    assert slo_counters(second) == {"good": 0, "bad": 0}
