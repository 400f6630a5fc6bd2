"""Continuous batching through a real `streamlit run`: concurrent /v1 clients (the official `openai` client among
them) share one batch, one leaves mid-batch, and every request is counted exactly once."""

from __future__ import annotations

import shutil
import threading

import pytest
import requests

openai = pytest.importorskip("openai")

pytestmark = pytest.mark.e2e

PROMPTS = ["Tell me about memory.", "写一句关于天气的话。", "What is latency?", "GPU usage is", "Explain caching.",
           "用中文介绍一下缓存。", "A story about servers:", "Why monitor models?"]


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_model_dir):
    from tests.appserver import AppServer

    data = tmp_path_factory.mktemp("batching") / "data"
    shutil.copytree(demo_model_dir, data / "demo-model")
    app = AppServer(data, data.parent / "app.log", HEALTHMON_MAX_BATCH="8", HEALTHMON_QUEUE_MAX="8",
                    HEALTHMON_RATE_LIMIT_PER_MINUTE="0", HEALTHMON_PROBE_INTERVAL="0")
    app.start()
    yield app
    app.stop()


def _greedy(server, prompt: str, max_tokens: int = 24) -> str:
    body = {"model": "m", "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
            "temperature": 0}
    answer = requests.post(server.url + "/v1/chat/completions", json=body, timeout=120)
    assert answer.status_code == 200, answer.text
    return answer.json()["choices"][0]["message"]["content"]


def test_eight_concurrent_clients_share_the_batch_and_each_gets_its_own_answer(server):
    alone = [_greedy(server, prompt) for prompt in PROMPTS]
    before = server.get("/api/health/status").json()["request_stats"]
    answers: dict[int, str] = {}
    streamed: dict[int, list[str]] = {}
    start = threading.Barrier(len(PROMPTS))

    def plain(index: int) -> None:
        start.wait(30)
        answers[index] = _greedy(server, PROMPTS[index])

    def streaming(index: int) -> None:
        with openai.OpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0, timeout=120) as client:
            start.wait(30)
            pieces = client.chat.completions.create(model="m", messages=[{"role": "user", "content": PROMPTS[index]}],
                                                    max_tokens=24, temperature=0, stream=True)
            streamed[index] = [c.choices[0].delta.content or "" for c in pieces if c.choices]

    threads = [threading.Thread(target=streaming if i % 2 else plain, args=(i,)) for i in range(len(PROMPTS))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    for index, text in streamed.items():
        answers[index] = "".join(text)
        assert len([piece for piece in text if piece]) > 1  # token by token, not one lump at the end
    assert [answers[i] for i in range(len(PROMPTS))] == alone
    metrics = server.get("/metrics").text
    steps = _sample(metrics, "healthmon_scheduler_decode_steps_total")
    carried = _sample(metrics, "healthmon_scheduler_decode_step_requests_total")
    assert carried > steps > 0  # some steps carried more than one request
    assert _sample(metrics, "healthmon_num_requests_running_max") == 8
    after = server.get("/api/health/status").json()["request_stats"]
    assert after["total_requests"] - before["total_requests"] == len(PROMPTS)
    assert after["succeeded_requests"] - before["succeeded_requests"] == len(PROMPTS)


def test_a_client_that_disconnects_mid_batch_frees_its_row_and_the_accounting_stays_exact(server):
    before = server.get("/api/health/status").json()["request_stats"]
    others: dict[int, str] = {}

    def other(index: int) -> None:
        others[index] = _greedy(server, PROMPTS[index], max_tokens=32)

    body = {"model": "m", "messages": [{"role": "user", "content": "Write a very long story."}], "max_tokens": 400,
            "temperature": 0.8, "seed": 3, "stream": True}
    leaving = requests.post(server.url + "/v1/chat/completions", json=body, stream=True, timeout=60)
    lines = leaving.iter_lines()
    assert next(line for line in lines if line.startswith(b"data: ")).startswith(b"data: ")
    trace_id = leaving.headers["X-Trace-Id"]
    threads = [threading.Thread(target=other, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    leaving.close()  # the client goes away while the batch decodes
    for thread in threads:
        thread.join(120)
    assert len(others) == 3
    server.wait_until(lambda: server.get(f"/api/traces/{trace_id}").status_code == 200, "the left request", 30)
    record = server.get(f"/api/traces/{trace_id}").json()
    assert record["finish_reason"] == "cancelled" and record["output_tokens"] < 400
    info = server.get("/api/model/info").json()["model_info"]
    assert info["batching"] is True and info["max_batch"] == 8 and 0 <= info["kv_cache_usage_ratio"] <= 1
    assert info["in_flight"] == 0  # its row is free: the others ran to their end, it was not waited for
    after = server.get("/api/health/status").json()["request_stats"]
    assert after["total_requests"] - before["total_requests"] == 4
    assert after["total_requests"] == (after["succeeded_requests"] + after["failed_requests"]
                                       + after["rejected_requests"])


def _sample(metrics: str, name: str) -> float:
    line = next(line for line in metrics.splitlines() if line.startswith(name + " "))
    return float(line.split()[1])
