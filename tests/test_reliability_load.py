"""Load on the real app: 32 concurrent generations and 200 concurrent status reads, over HTTP.

Asserts behaviour only (2 shared cores: no timed assertions): no call hangs, every answer is 200, 429 or
503 (never 500), status reads answer while the model is busy, and the request statistics account for
every generate request. Latency figures are printed (`pytest -s`) and measured properly by
benchmarks/bench_load.py.
"""

from __future__ import annotations

import statistics
import threading
import time

import pytest
import requests

pytestmark = pytest.mark.e2e

GENERATIONS = 32
STATUS_READS = 200
QUEUE_MAX = 8
CALL_TIMEOUT_SECONDS = 120  # generous: a call that takes longer than this is a hang, not a slow answer


def run_at_once(count: int, call) -> tuple[list, list[threading.Thread], threading.Barrier]:
    """Start `count` threads that each wait on one barrier, then make one call; results land in a list."""
    results: list = [None] * count
    barrier = threading.Barrier(count + 1)

    def worker(index: int) -> None:
        barrier.wait()
        started = time.perf_counter()
        try:
            response = call(index)
            results[index] = (response, time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - a timeout or a dropped connection is the finding
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    return results, threads, barrier


def join_all(threads: list[threading.Thread]) -> None:
    deadline = time.monotonic() + CALL_TIMEOUT_SECONDS + 30
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not [t for t in threads if t.is_alive()], "calls still running: a deadlock or a hang"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def test_concurrent_generations_and_status_reads(app_factory, data_dir):
    server = app_factory(data_dir, HEALTHMON_RATE_LIMIT_PER_MINUTE="0", HEALTHMON_QUEUE_MAX=str(QUEUE_MAX))
    before = server.get("/api/health/status").json()["request_stats"]

    generations, generate_threads, release_generations = run_at_once(GENERATIONS, lambda i: requests.post(
        server.url + "/api/model/generate", timeout=CALL_TIMEOUT_SECONDS,
        json={"prompt": f"Request {i}: what does a health monitor watch?", "max_new_tokens": 64, "temperature": 0}))
    reads, read_threads, release_reads = run_at_once(STATUS_READS, lambda i: requests.get(
        server.url + "/api/health/status", timeout=CALL_TIMEOUT_SECONDS))
    release_generations.wait()

    def model_busy() -> bool:
        info = server.get("/api/health/status").json()["model_info"]
        return info["in_flight"] > 0 or info["queued"] > 0
    server.wait_until(model_busy, "the model busy with the generations", 60)
    release_reads.wait()  # 200 status reads at once, while the model works through its queue
    join_all(read_threads + generate_threads)

    failures = [r for r in generations + reads if isinstance(r, Exception)]
    assert not failures, failures[:3]
    codes = [response.status_code for response, _ in generations]
    assert set(codes) <= {200, 429, 503}, [r.text for r, _ in generations if r.status_code not in (200, 429, 503)]
    assert codes.count(429) == 0  # the rate limit is off for this server
    assert codes.count(200) >= 1 + QUEUE_MAX  # the first 1 + QUEUE_MAX to arrive are always admitted
    assert codes.count(503) >= 1, "32 at once into a queue of 8 must refuse some"
    for response, _ in generations:
        body = response.json()
        if response.status_code == 200:
            assert body["trace_id"] and isinstance(body["generated_text"], str)
        else:
            assert int(response.headers["Retry-After"]) >= 1 and "busy" in body["error"]
    assert len({r.json()["trace_id"] for r, _ in generations if r.status_code == 200}) == codes.count(200)

    assert [response.status_code for response, _ in reads] == [200] * STATUS_READS
    busy_reads = sum(1 for response, _ in reads
                     if response.json()["model_info"]["in_flight"] or response.json()["model_info"]["queued"])
    assert busy_reads >= 1, "no status read was answered while the model was busy"

    after = server.get("/api/health/status").json()["request_stats"]
    assert after["total_requests"] - before["total_requests"] == GENERATIONS
    assert after["total_requests"] == (after["succeeded_requests"] + after["failed_requests"]
                                       + after["rejected_requests"])
    assert after["succeeded_requests"] - before["succeeded_requests"] == codes.count(200)
    assert after["rejected_requests"] - before["rejected_requests"] == codes.count(503)
    assert after["failed_requests"] == before["failed_requests"]
    after_storm = server.post("/api/model/generate", json={"prompt": "after the storm", "max_new_tokens": 2})
    assert after_storm.status_code == 200

    read_seconds = [seconds for _, seconds in reads]
    generate_seconds = [seconds for response, seconds in generations if response.status_code == 200]
    print(f"\nload: {codes.count(200)} generated, {codes.count(503)} refused busy; generate p50 "
          f"{statistics.median(generate_seconds):.3f} s; status reads p50 {statistics.median(read_seconds):.3f} s, "
          f"p95 {percentile(read_seconds, 0.95):.3f} s, max {max(read_seconds):.3f} s; "
          f"{busy_reads}/{STATUS_READS} reads answered while the model was busy")
