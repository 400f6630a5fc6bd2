"""healthmon in front of a real llama.cpp `llama-server` (tests/llama_fixture.py: the packaged SmolLM2 GGUF,
`--metrics --slots -np 4 --jinja -c 2048`): the /v1 proxy passes every field through and answers as the server
does, /slots reaches the model layer and /metrics under four concurrent requests, the proxy holds under
concurrency, and a killed server is an alert that resolves by itself when it is back.

One server and one proxy for the module (module-scoped fixtures); greedy or seeded requests, so the server's
answer directly and through the proxy is the same answer.
"""

from __future__ import annotations

import json
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.llama_fixture import LlamaServer, require
from tests.proxy_app import ProxyApp

pytestmark = pytest.mark.e2e
VARYING = ("id", "created", "timings", "prompt_tokens_details")  # differ between any two answers of the server
# itself (the second of two alike reads its prompt from the cache)
HI = [{"role": "user", "content": "Hi"}]
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    binary, gguf = require()
    server = LlamaServer(binary, gguf, tmp_path_factory.mktemp("llama-server"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def proxy(llama, tmp_path_factory):
    with ProxyApp(llama.base_url, tmp_path_factory.mktemp("proxy-data")) as app:
        yield app


def without_varying(answer: Any) -> Any:
    if isinstance(answer, dict):
        return {key: without_varying(value) for key, value in answer.items() if key not in VARYING}
    if isinstance(answer, list):
        return [without_varying(value) for value in answer]
    return answer


def both(llama: LlamaServer, proxy: ProxyApp, path: str, body: dict) -> tuple[httpx.Response, httpx.Response]:
    direct = httpx.post(f"{llama.base_url}{path}", json=body, timeout=120)
    proxied = httpx.post(f"{proxy.url}/v1{path}", json=body, timeout=120)
    return direct, proxied


def events(response: httpx.Response) -> list:
    return [json.loads(line[6:]) if line != "data: [DONE]" else "[DONE]"
            for line in response.text.splitlines() if line.startswith("data: ")]


@pytest.mark.parametrize("path, body", [
    ("/chat/completions", {"messages": HI, "max_tokens": 8, "top_k": 1, "min_p": 0.1, "ignore_eos": True, "seed": 7}),
    ("/chat/completions", {"messages": [{"role": "user", "content": "A JSON object with a name, please."}],
                           "max_tokens": 12, "temperature": 0, "response_format": {"type": "json_object"}}),
    ("/chat/completions", {"messages": HI, "max_tokens": 4, "temperature": 0, "logprobs": True, "top_logprobs": 2}),
    ("/chat/completions", {"messages": [{"role": "user", "content": "What is the weather in Paris?"}],
                           "max_tokens": 16, "temperature": 0, "tools": [WEATHER_TOOL], "tool_choice": "auto"}),
    ("/chat/completions", {"messages": HI, "max_tokens": 6, "temperature": 0,
                           "chat_template_kwargs": {"enable_thinking": False}, "a_field_nobody_knows": [1, 2]}),
    ("/chat/completions", {"messages": "not a list", "max_tokens": 4}),  # the server's own error, its status
    ("/completions", {"prompt": "The capital of France is", "max_tokens": 6, "temperature": 0, "n_probs": 2}),
    ("/embeddings", {"input": "hello"}),  # llama.cpp without --embeddings says so itself (501)
    ("/no/such/path", {"input": "hello"}),  # and 404 for a path it does not serve
], ids=["top_k-min_p-ignore_eos", "response_format", "logprobs", "tools", "chat_template_kwargs-unknown",
        "server-error", "completion-n_probs", "embeddings", "unknown-path"])
def test_each_field_passes_through_and_the_answer_is_the_servers(llama, proxy, path, body):
    before = len(proxy.records)
    direct, proxied = both(llama, proxy, path, {"model": "any"} | body)
    assert proxied.status_code == direct.status_code
    assert proxied.headers["content-type"] == direct.headers["content-type"]
    assert without_varying(proxied.json()) == without_varying(direct.json())
    assert len(proxy.records) == before + 1  # counted, whatever the answer
    record = proxy.records[-1]
    assert record.status == ("ok" if direct.status_code == 200 else "error") and record.source == "openai"
    if direct.status_code != 200:
        assert str(direct.status_code) in record.error  # the server's words, in the record


def test_a_streamed_answer_with_logprobs_is_relayed_chunk_for_chunk_and_measured(llama, proxy):
    body = {"model": "any", "messages": HI, "max_tokens": 6, "temperature": 0, "stream": True, "logprobs": True,
            "top_logprobs": 2, "stream_options": {"include_usage": True}}
    direct, proxied = both(llama, proxy, "/chat/completions", body)
    assert proxied.status_code == direct.status_code == 200
    assert without_varying(events(proxied)) == without_varying(events(direct))
    content = [e for e in events(proxied)[:-1] if e["choices"] and e["choices"][0]["delta"].get("content")]
    assert content and all(e["choices"][0]["logprobs"]["content"] for e in content)  # logprobs streamed
    record = proxy.records[-1]
    assert record.status == "ok" and record.output_tokens == 6 and record.response
    assert 0 < record.ttft_seconds < record.latency_seconds


def streamed_tool_calls(chunks: list) -> list[dict]:
    """The tool calls a stream made, its deltas joined per call (a name, then its arguments in pieces)."""
    calls: dict[int, dict] = {}
    for chunk in chunks:
        for choice in chunk["choices"] if isinstance(chunk, dict) else ():
            for delta in choice["delta"].get("tool_calls") or ():
                call = calls.setdefault(delta["index"], {"name": "", "arguments": ""})
                function = delta.get("function") or {}
                call["name"] += function.get("name") or ""
                call["arguments"] += function.get("arguments") or ""
    return [calls[index] for index in sorted(calls)]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_tool_call_is_the_servers_through_the_proxy_and_its_record_says_so(llama, proxy, stream):
    """Greedy, with tool_choice "required", so the model's leanings do not decide whether there is a call to compare.
    The same status and answer as direct, tool calls included, streamed and not; the record of a call has no text
    to score and says so. llama.cpp b11434 finds no tool-call syntax in SmolLM2's chat template (it renders no
    tools) and answers in text even when a call is required: then the record check cannot run, and says why."""
    body = {"model": "any", "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
            "max_tokens": 24, "temperature": 0, "tools": [WEATHER_TOOL], "tool_choice": "required", "stream": stream}
    before = len(proxy.records)
    direct, proxied = both(llama, proxy, "/chat/completions", body)
    assert proxied.status_code == direct.status_code == 200
    if stream:
        assert without_varying(events(proxied)) == without_varying(events(direct))
        calls, relayed = streamed_tool_calls(events(direct)), streamed_tool_calls(events(proxied))
    else:
        assert without_varying(proxied.json()) == without_varying(direct.json())
        calls, relayed = ([{"name": call["function"]["name"], "arguments": call["function"]["arguments"]}
                           for call in answer.json()["choices"][0]["message"].get("tool_calls") or ()]
                          for answer in (direct, proxied))
    assert relayed == calls
    record = proxy.wait_for_records(before + 1)[before]
    if not calls:
        pytest.skip("llama-server answered in text although a tool call was required (SmolLM2's template has no "
                    "tool-call syntax for it): the record of a tool call was NOT checked against the real server")
    assert calls[0]["name"] == "get_weather" and "city" in json.loads(calls[0]["arguments"])  # the only tool
    assert record.status == "ok" and record.finish_reason == "tool_calls" and not record.response
    assert record.quality["answer_kind"] == "tool_calls" and record.quality["quality_score"] is None


def test_a_request_without_max_tokens_is_bounded_by_healthmons_default(proxy):
    body = {"model": "any", "messages": [{"role": "user", "content": "Tell a long story."}], "ignore_eos": True}
    answer = httpx.post(f"{proxy.url}/v1/chat/completions", json=body, timeout=120).json()
    cap = min(128, proxy.settings.max_new_tokens_cap)  # healthmon's default, as the in-process target's
    assert answer["usage"]["completion_tokens"] == cap and answer["choices"][0]["finish_reason"] == "length"


def test_slots_under_four_concurrent_requests_reach_the_model_layer_and_metrics(proxy):
    body = {"model": "any", "messages": [{"role": "user", "content": "Count to a thousand."}], "max_tokens": 300,
            "ignore_eos": True, "temperature": 0, "stream": True}
    started, release = threading.Barrier(5), threading.Event()

    def one() -> int:
        with httpx.stream("POST", f"{proxy.url}/v1/chat/completions", json=body, timeout=120) as response:
            lines = response.iter_lines()
            next(line for line in lines if '"content":"' in line)  # the server is generating for it
            started.wait(60)
            release.wait(60)
            return sum(1 for line in lines if line.startswith("data: "))

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(one) for _ in range(4)]
        started.wait(60)
        proxy.monitor.target.poll_once()  # all four are mid-answer: every slot is busy
        info = proxy.monitor.target.info()
        model = proxy.monitor.loop.collect_once()["model"]
        exposed = httpx.get(f"{proxy.url}/metrics", timeout=30).text
        release.set()
        assert all(f.result(120) > 0 for f in futures)
    server = info.remote.server
    assert server.server_slots_busy == server.server_slots_total == 4
    assert 0 < server.server_context_usage_ratio < 1
    assert model["server_slots_busy"] == 4 and model["server_context_usage_ratio"] > 0
    assert "healthmon_server_slots_busy 4.0" in exposed and "healthmon_server_slots_total 4.0" in exposed


def test_the_proxy_under_concurrency_answers_every_client_and_records_each(proxy):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="none", max_retries=0, timeout=120)
    before = len(proxy.records)

    def ask(i: int) -> tuple[str, int]:
        stream = client.chat.completions.create(model="any", messages=[{"role": "user", "content": f"Say {i}."}],
                                                max_tokens=12, temperature=0, stream=True,
                                                stream_options={"include_usage": True})
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        return text, chunks[-1].usage.completion_tokens

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert all(text and tokens > 0 for text, tokens in answers)
    records = proxy.records[before:]
    assert len(records) == 8 and all(r.status == "ok" for r in records)
    assert sorted(r.output_tokens for r in records) == sorted(tokens for _, tokens in answers)
    assert proxy.monitor.target.is_idle()


def test_a_killed_server_is_an_alert_and_the_target_recovers_when_it_is_back(llama, tmp_path):
    from tests.appserver import AppServer

    data = tmp_path / "data"
    data.mkdir()
    app = AppServer(data, tmp_path / "app.log", HEALTHMON_MODEL=f"openai:{llama.base_url}", HEALTHMON_INTERVAL="1")
    app.start()
    try:
        answer = app.post("/v1/chat/completions", json={"model": "any", "messages": HI, "max_tokens": 3})
        assert answer.status_code == 200 and answer.json()["usage"]["completion_tokens"] == 3
        llama.kill()
        app.wait_until(lambda: any(a["rule"] == "model_unavailable" and a["state"] == "firing"
                                   for a in app.get("/api/alerts").json()["alerts"]),
                       "the model_unavailable alert firing", 60)
        refused = app.post("/v1/chat/completions", json={"model": "any", "messages": HI, "max_tokens": 3})
        assert refused.status_code == 503 and "remote target is error" in refused.json()["error"]["message"]
        llama.start()
        app.wait_until(lambda: app.get("/api/model/info").json()["model_info"]["status"] == "loaded",
                       "the target back by itself", 60)
        again = app.post("/v1/chat/completions", json={"model": "any", "messages": HI, "max_tokens": 3})
        assert again.status_code == 200
    finally:
        app.stop()
        shutil.rmtree(data, ignore_errors=True)
