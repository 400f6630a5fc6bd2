"""The real app (`streamlit run streamlit_app.py`) over HTTP: the REST API contract, errors, auth, restarts."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
import requests

pytestmark = pytest.mark.e2e

SEED_STATUS_FIELDS = {"status", "performance_score", "service_uptime_hours", "model_loaded", "model_info",
                      "latest_system", "latest_model", "request_stats", "active_alerts"}
SEED_SYSTEM_FIELDS = {"cpu_usage", "memory_usage", "memory_used_gb", "memory_total_gb", "disk_usage", "gpu_info"}


@pytest.fixture(scope="module")
def app(tmp_path_factory, demo_model_dir):
    import shutil

    from tests.conftest import AppServer

    data = tmp_path_factory.mktemp("app") / "data"
    data.mkdir()
    shutil.copytree(demo_model_dir, data / "demo-model")
    server = AppServer(data, data.parent / "app.log").start()
    yield server
    server.stop()


def wait_for_sample(app) -> dict:
    app.wait_until(lambda: app.get("/api/health/status").json()["latest_system"], "a first sample", 30)
    return app.get("/api/health/status").json()


def test_status_has_the_seed_fields_measured(app):
    status = wait_for_sample(app)
    assert SEED_STATUS_FIELDS <= set(status)
    assert SEED_SYSTEM_FIELDS <= set(status["latest_system"])
    assert status["status"] in ("healthy", "warning", "critical")
    assert 0 <= status["performance_score"] <= 100
    assert status["model_loaded"] is True and status["model_info"]["is_demo"] is True
    assert "demo model" in status["model_info"]["note"]
    assert status["latest_system"]["gpu_info"]["gpu_available"] is False
    stats = status["request_stats"]
    assert set(stats) >= {"total_requests", "failed_requests", "rejected_requests", "avg_response_time",
                          "success_rate", "requests_per_minute"}
    assert (stats["avg_response_time"], stats["success_rate"]) == (stats["mean_latency_seconds"],
                                                                   stats["success_percent"])  # aliases
    assert isinstance(status["active_alerts"], int)
    assert status["collector_threads"] == 1


def test_generate_answers_seed_fields_in_tokens_and_is_traced(app):
    answer = app.post("/api/model/generate", json={"prompt": "What is latency?", "max_new_tokens": 16,
                                                   "temperature": 0})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {"generated_text", "inference_time", "prompt_length", "response_length", "tokens_per_second",
            "trace_id", "prompt_tokens", "output_tokens", "ttft_seconds", "finish_reason"} <= set(body)
    assert isinstance(body["generated_text"], str) and "What is latency?" not in body["generated_text"]
    assert body["response_length"] == body["output_tokens"] <= 16
    assert body["finish_reason"] in ("stop", "length")
    assert 0 < body["ttft_seconds"] <= body["inference_time"] == body["latency_seconds"]
    app.wait_until(lambda: app.get(f"/api/traces/{body['trace_id']}").status_code == 200, "the trace", 10)
    trace = app.get(f"/api/traces/{body['trace_id']}").json()
    assert [s["name"] for s in trace["spans"]] == ["validate", "queue", "tokenize", "prefill", "decode", "detokenize"]
    assert trace["source"] == "api" and trace["status"] == "ok"
    listed = app.get("/api/traces").json()["traces"]
    assert body["trace_id"] in [t["trace_id"] for t in listed]


def test_every_generate_request_is_counted(app):
    before = app.get("/api/health/status").json()["request_stats"]
    assert app.post("/api/model/generate", json={"prompt": "hi", "max_new_tokens": 2}).status_code == 200
    assert app.post("/api/model/generate", json={"prompt": ""}).status_code == 422
    assert app.post("/api/model/generate", json={"prompt": "x " * 5000, "max_new_tokens": 8}).status_code == 422
    after = app.get("/api/health/status").json()["request_stats"]
    assert after["total_requests"] - before["total_requests"] == 3  # refused requests count as rejected
    assert after["total_requests"] == (after["succeeded_requests"] + after["failed_requests"]
                                       + after["rejected_requests"])


@pytest.mark.parametrize("method, path, body, status", [
    ("GET", "/api/model/generate", None, 405),
    ("POST", "/api/health/status", None, 405),
    ("DELETE", "/api/model/info", None, 405),
    ("GET", "/api/nothing/here", None, 404),
    ("POST", "/api/model/generate", b"{not json", 400),
    ("POST", "/api/model/generate", b"", 400),
    ("POST", "/api/model/generate", b'{"prompt": NaN}', 400),
    ("POST", "/api/model/generate", b'{"prompt": "hi", "temperature": "hot"}', 422),
    ("POST", "/api/model/generate", b'{"prompt": "hi", "max_new_tokens": 100000}', 422),
    ("POST", "/api/model/generate", b"x" * 2_000_000, 413),
    ("GET", "/api/health/metrics?window=3y", None, 400),
    ("GET", "/api/health/metrics?max_requests=0", None, 400),
    ("GET", "/api/analysis/generation?max_requests=10001", None, 400),
    ("GET", "/api/traces/not-a-trace!", None, 400),
    ("GET", "/api/traces/0123456789abcdef", None, 404),
    ("POST", "/api/alerts/silences", b'{"matcher": 5}', 422),
    ("POST", "/api/alerts/nope/acknowledge", None, 404),
])
def test_bad_requests_get_a_json_4xx(app, method, path, body, status):
    response = requests.request(method, app.url + path, data=body, timeout=30,
                                headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["error"]
    assert app.get("/api/health/status").status_code == 200  # still serving


def test_metrics_history_and_analysis(app):
    wait_for_sample(app)
    app.post("/api/model/generate", json={"prompt": "Tell me about disks.", "max_new_tokens": 8})
    time.sleep(2.5)  # one flush interval plus a collection cycle
    metrics = app.get("/api/health/metrics?window=15m").json()
    for key in ("system_metrics", "model_metrics", "performance_metrics", "alerts", "generation_stats"):
        assert isinstance(metrics[key], list), key
    assert metrics["system_metrics"] and metrics["generation_stats"]
    stamp = datetime.fromisoformat(metrics["system_metrics"][-1]["timestamp"])
    assert stamp.tzinfo is not None
    assert "cpu_usage" in metrics["system_metrics"][-1]
    assert "performance_score" in metrics["performance_metrics"][-1]
    for path in ("inference", "throughput", "requests", "generation"):
        assert app.get(f"/api/analysis/{path}").status_code == 200
    generation = app.get("/api/analysis/generation").json()
    assert generation["statistics"]["total_requests"] >= 1 and generation["statistics"]["success_rate"] is not None
    assert app.get("/api/analysis/requests").json()["response_times"]


def test_per_request_lists_are_capped_and_say_so(app):
    """A week of requests must not come back in one answer: lists hold the newest max_requests, totals count all."""
    for index in range(3):
        assert app.post("/api/model/generate", json={"prompt": f"cap {index}", "max_new_tokens": 4}).status_code == 200
    app.wait_until(lambda: app.get("/api/health/metrics?window=15m").json()["generation_stats_total"] >= 3,
                   "three requests in history", 10)
    metrics = app.get("/api/health/metrics?window=15m&max_requests=2").json()
    total = metrics["generation_stats_total"]
    assert len(metrics["generation_stats"]) == 2 and metrics["generation_stats_truncated"] is True
    newest = app.get("/api/traces?limit=2").json()["traces"]
    assert [r["trace_id"] for r in metrics["generation_stats"]] == [r["trace_id"] for r in reversed(newest)]
    generation = app.get("/api/analysis/generation?max_requests=1").json()
    assert generation["statistics"]["total_requests"] == total and len(generation["performance_data"]) <= 1
    assert generation["truncated"] is True
    analysis = app.get("/api/analysis/requests?max_requests=1").json()
    assert len(analysis["response_times"]) <= 1 and analysis["total"] >= 3 and analysis["truncated"] is True
    full = app.get("/api/health/metrics?window=15m").json()
    assert full["generation_stats_truncated"] is False and len(full["generation_stats"]) == total


def test_start_stop_are_idempotent_and_keep_one_thread(app):
    assert app.post("/api/health/stop").json()["monitoring"] is False
    assert app.post("/api/health/stop").json()["message"] == "monitoring was not running"
    assert app.post("/api/health/start").json()["monitoring"] is True
    assert app.post("/api/health/start").json()["message"] == "monitoring was already running"
    assert app.post("/api/system/restart").json()["monitoring"] is True
    assert app.get("/api/health/status").json()["collector_threads"] == 1


def test_the_page_is_served(app):
    response = app.get("/")
    assert response.status_code == 200 and "<html" in response.text.lower()


def test_token_guards_state_changes_and_generation(app_factory, data_dir):
    server = app_factory(data_dir, HEALTHMON_API_TOKEN="s3cret-token")
    assert server.get("/api/health/status").status_code == 200
    assert server.get("/api/model/info").status_code == 200
    for method, path in (("POST", "/api/model/generate"), ("POST", "/api/health/stop"), ("POST", "/api/health/start"),
                         ("POST", "/api/system/restart"), ("POST", "/api/model/load")):
        response = requests.request(method, server.url + path, json={"prompt": "hi"}, timeout=30)
        assert response.status_code == 401, (path, response.text)
        wrong = requests.request(method, server.url + path, json={"prompt": "hi"}, timeout=30,
                                 headers={"Authorization": "Bearer s3cret-tokem"})
        assert wrong.status_code == 401
    ok = server.post("/api/model/generate", json={"prompt": "hi", "max_new_tokens": 2},
                     headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200
    assert "s3cret-token" not in server.get("/api/health/status").text
    assert "s3cret-token" not in server.log()


def test_rate_limit_answers_429_with_retry_after(app_factory, data_dir):
    server = app_factory(data_dir, HEALTHMON_RATE_LIMIT_PER_MINUTE="6", HEALTHMON_RATE_LIMIT_BURST="2")
    codes = [server.post("/api/model/generate", json={"prompt": "hi", "max_new_tokens": 1}) for _ in range(3)]
    assert [c.status_code for c in codes] == [200, 200, 429]
    assert int(codes[2].headers["Retry-After"]) >= 1 and "rate limit" in codes[2].json()["error"]
    stats = server.get("/api/health/status").json()["request_stats"]
    assert stats["total_requests"] == 3 and stats["rejected_requests"] == 1


def test_history_survives_a_restart(app_factory, data_dir):
    first = app_factory(data_dir)
    trace_id = first.post("/api/model/generate", json={"prompt": "remember me", "max_new_tokens": 4}).json()["trace_id"]
    first.wait_until(lambda: len(first.get("/api/health/metrics?window=15m").json()["system_metrics"]) >= 2,
                     "two samples in history", 30)
    samples_before = len(first.get("/api/health/metrics?window=15m").json()["system_metrics"])
    first.stop()
    second = app_factory(data_dir)
    assert second.get(f"/api/traces/{trace_id}").status_code == 200
    assert len(second.get("/api/health/metrics?window=15m").json()["system_metrics"]) >= samples_before


def test_a_bad_model_leaves_monitoring_running(app_factory, tmp_path):
    server = app_factory(tmp_path / "data", HEALTHMON_MODEL=str(tmp_path / "no-such-checkpoint"))
    info = server.get("/api/model/info").json()
    assert info["model_loaded"] is False and info["model_info"]["status"] == "error"
    assert "no-such-checkpoint" in info["model_info"]["error"]
    server.wait_until(lambda: server.get("/api/health/status").json()["latest_system"], "system samples", 30)
    answer = server.post("/api/model/generate", json={"prompt": "hi"})
    assert answer.status_code == 503 and answer.headers["Retry-After"]


def test_generate_answers_with_quality_and_relevance_arrives_in_history(app_factory, data_dir):
    server = app_factory(data_dir, HEALTHMON_EMBEDDING_MODEL="all-MiniLM-L6-v2")
    body = server.post("/api/model/generate", json={"prompt": "How much memory does a model need?",
                                                    "max_new_tokens": 24, "temperature": 0}).json()
    quality = body["quality"]
    assert {"relevance", "repetition_rate", "distinct_2", "language_match", "perplexity"} <= set(quality)
    assert quality["perplexity"] > 1 and quality["language_match"] is True
    server.wait_until(lambda: (server.get(f"/api/traces/{body['trace_id']}").json().get("quality") or {})
                      .get("relevance") is not None, "relevance in history", 90)
    relevance = server.get(f"/api/traces/{body['trace_id']}").json()["quality"]["relevance"]
    assert -1.0 <= relevance <= 1.0


def test_a_trace_reads_back_right_after_its_generate(app_factory, data_dir):
    """Read your own writes: the store flushes every 2 s here, yet the trace and the analysis see a request as
    soon as its answer has arrived (no waiting for the writer)."""
    server = app_factory(data_dir, HEALTHMON_FLUSH_INTERVAL="2")
    before = server.get("/api/analysis/generation").json()["statistics"]["total_requests"]
    answer = server.post("/api/model/generate", json={"prompt": "read me back", "max_new_tokens": 4})
    assert answer.status_code == 200, answer.text
    trace = server.get(f"/api/traces/{answer.json()['trace_id']}")
    assert trace.status_code == 200, trace.text
    assert server.get("/api/analysis/generation").json()["statistics"]["total_requests"] == before + 1
