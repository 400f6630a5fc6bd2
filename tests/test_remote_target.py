"""A remote OpenAI-compatible server as the monitored target: a real `transformers serve` on the packaged SmolLM2.

Measured from the stream, traced like any request, its health polled; a server that goes away is an error with
its reason and a firing alert, and the target comes back by itself when the server does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from healthmon.params import ChatMessage, GenerationParams
from healthmon.remote.client import RemoteStreamBroken
from healthmon.remote.target import RemoteTarget
from healthmon.target import ModelNotReady, ModelStatus

FIXTURES = Path(__file__).parent / "fixtures" / "server_metrics"


@pytest.fixture
def target(transformers_serve):
    records: list = []
    target = RemoteTarget(transformers_serve.base_url, sink=SimpleNamespace(record=records.append),
                          model=transformers_serve.model, poll_interval_seconds=3600)  # polled by hand below
    target.records = records
    yield target
    target.close()


@pytest.mark.e2e
def test_a_streamed_generation_is_measured_from_the_stream_and_recorded(target):
    target.poll_once()
    assert target.status is ModelStatus.LOADED and target.info().remote.target_health_latency_seconds > 0
    params = GenerationParams("Hi", max_new_tokens=6, temperature=0.0,
                              messages=(ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")))
    stream = target.stream(params, source="api")
    text = "".join(stream)
    record = stream.result(60)
    assert target.records == [record] and record.status == "ok" and record.source == "api"
    assert record.response == text and text
    assert record.output_tokens == 6 and record.prompt_tokens > 0  # the server's usage
    assert 0 < record.ttft_seconds < record.latency_seconds
    assert record.inter_token_latency_seconds > 0 and record.tokens_per_second > 0
    assert [span["name"] for span in record.spans] == ["prefill", "decode"]
    assert record.quality["quality_score"] is not None


@pytest.mark.e2e
def test_a_server_that_dies_mid_stream_fails_that_request_and_the_target_recovers(target, transformers_serve):
    target.poll_once()
    stream = target.stream(GenerationParams("Count from one to one hundred.", max_new_tokens=400), source="api")
    deltas = iter(stream)
    next(deltas)
    transformers_serve.kill()
    with pytest.raises(RemoteStreamBroken):  # the broken stream, raised to whoever reads the answer
        list(deltas)
    record = target.records[-1]
    assert record.status == "error" and record.trace_id == stream.trace_id
    target.poll_once()
    assert target.status is ModelStatus.ERROR and target.info().error
    with pytest.raises(ModelNotReady, match="remote target is error"):
        target.stream(GenerationParams("Hi"))
    transformers_serve.restart()
    target.poll_once()
    assert target.status is ModelStatus.LOADED and target.info().error is None
    assert target.stream(GenerationParams("Hi", max_new_tokens=2)).result(60).status == "ok"


async def _relayed(target: RemoteTarget, params: GenerationParams, take: int | None = None) -> tuple[str, object]:
    """A generation run on this event loop, read through aiter(); `take` deltas only, then the reader leaves."""
    stream = target.stream(params, source="openai", on_event_loop=True)
    deltas = []
    async for delta in stream.aiter():
        deltas.append(delta)
        if take is not None and len(deltas) == take:
            break
    await asyncio.wrap_future(stream.finished)
    return "".join(deltas), stream


@pytest.mark.e2e
@pytest.mark.parametrize("prompt", ["Name three colours.", "请用中文说出三种颜色。"], ids=["english", "chinese"])
def test_on_the_event_loop_a_generation_is_measured_and_recorded_as_on_a_thread(target, prompt):
    """The proxy's path: no thread between the server's bytes and the reader; the record is the same kind."""
    target.poll_once()
    params = GenerationParams(prompt, max_new_tokens=12, temperature=0.0)
    text, stream = asyncio.run(_relayed(target, params))
    record = stream.result(0)
    assert target.records == [record] and record.status == "ok" and record.source == "openai"
    assert record.response == text and text.strip()
    assert record.output_tokens == 12 and record.prompt_tokens > 0 and record.finish_reason == "length"
    assert 0 < record.ttft_seconds < record.latency_seconds and record.tokens_per_second > 0
    assert [span["name"] for span in record.spans] == ["prefill", "decode"]
    assert record.quality["quality_score"] is not None and target.is_idle()
    threaded = target.stream(params, source="api")  # greedy: the thread's path says the same
    assert "".join(threaded) == text


@pytest.mark.e2e
def test_a_reader_that_leaves_early_stops_the_servers_generation_and_leaves_one_record(target):
    target.poll_once()
    text, stream = asyncio.run(_relayed(target, GenerationParams("Count from one to one hundred.",
                                                                 max_new_tokens=300), take=2))
    record = stream.result(0)
    assert target.records == [record] and record.status == "ok" and record.finish_reason == "cancelled"
    assert record.response.startswith(text) and target.is_idle()
    with pytest.raises(RuntimeError, match="aiter"):  # a loop-run stream is not to be read from a thread
        next(iter(stream))


@pytest.mark.e2e
def test_on_the_event_loop_a_server_that_dies_mid_stream_fails_that_request(target, transformers_serve):
    target.poll_once()

    async def killed_after_first_delta() -> object:
        stream = target.stream(GenerationParams("Count from one to one hundred.", max_new_tokens=400),
                               on_event_loop=True)
        deltas = stream.aiter()
        await anext(deltas)
        transformers_serve.kill()
        with pytest.raises(RemoteStreamBroken):
            async for _ in deltas:
                pass
        return stream

    stream = asyncio.run(killed_after_first_delta())
    assert [r.status for r in target.records] == ["error"] and target.records[0].trace_id == stream.trace_id
    assert target.is_idle()


@pytest.mark.e2e
def test_the_app_proxies_openai_clients_to_the_server_and_alerts_when_it_goes_away(transformers_serve, tmp_path):
    openai = pytest.importorskip("openai")
    from tests.appserver import AppServer

    data = tmp_path / "data"
    data.mkdir()
    app = AppServer(data, tmp_path / "app.log", HEALTHMON_MODEL=f"openai:{transformers_serve.base_url}",
                    HEALTHMON_TARGET_MODEL=transformers_serve.model, HEALTHMON_INTERVAL="1")
    app.start()
    try:
        client = openai.OpenAI(base_url=app.url + "/v1", api_key="none", max_retries=0, timeout=120)
        raw = client.chat.completions.with_raw_response.create(model="any", max_tokens=4, temperature=0,
                                                               messages=[{"role": "user", "content": "Hello"}])
        answer, trace_id = raw.parse(), raw.headers["x-trace-id"]  # the server's own id; healthmon's trace id
        assert answer.choices[0].message.content and answer.usage.completion_tokens == 4
        chunks = list(client.chat.completions.create(model="any", max_tokens=4, temperature=0, stream=True,
                                                     messages=[{"role": "user", "content": "Hello"}],
                                                     stream_options={"include_usage": True}))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert chunks[-1].usage.completion_tokens == 4
        native = app.post("/api/model/generate", json={"prompt": "Hi", "max_new_tokens": 3})
        assert native.status_code == 200 and native.json()["output_tokens"] == 3
        record = app.get(f"/api/traces/{trace_id}").json()
        assert record["source"] == "openai" and record["model"] == transformers_serve.model
        info = app.get("/api/model/info").json()["model_info"]
        assert info["source"] == "openai" and info["status"] == "loaded"

        transformers_serve.kill()
        app.wait_until(lambda: any(a["rule"] == "model_unavailable" and a["state"] == "firing"
                                   for a in app.get("/api/alerts").json()["alerts"]),
                       "the model_unavailable alert firing", 60)
        assert app.get("/api/model/info").json()["model_info"]["status"] == "error"
        refused = app.post("/api/model/generate", json={"prompt": "Hi"})
        assert refused.status_code == 503 and "remote target is error" in refused.json()["error"]
        assert app.get("/api/health/status").status_code == 200  # everything else keeps serving

        transformers_serve.restart()
        app.wait_until(lambda: app.get("/api/model/info").json()["model_info"]["status"] == "loaded",
                       "the target back by itself", 60)
    finally:
        app.stop()
        shutil.rmtree(data, ignore_errors=True)


class _VllmShaped(BaseHTTPRequestHandler):
    """The parts of a vLLM server a monitor reads between requests: /health and /metrics in vLLM's own format
    (a recorded fixture with two engines; vLLM itself cannot run on this machine)."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/health":
            body, kind = b"", "text/plain"
        elif self.path == "/metrics":
            body, kind = (FIXTURES / "vllm.txt").read_bytes(), "text/plain; version=0.0.4"
        elif self.path == "/v1/models":
            body, kind = json.dumps({"object": "list", "data": [{"id": "served-model"}]}).encode(), "application/json"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def vllm_shaped():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _VllmShaped)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


@pytest.mark.filterwarnings("ignore")
def test_a_servers_own_metrics_reach_the_model_layer_and_the_model_page(vllm_shaped, data_dir, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from healthmon.registry import get_monitor, release_monitor

    monkeypatch.setenv("HEALTHMON_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HEALTHMON_PROBE_INTERVAL", "0")
    monkeypatch.setenv("HEALTHMON_MODEL", f"openai:{vllm_shaped}")
    release_monitor()
    st.cache_resource.clear()
    monitor = get_monitor(start=False)
    try:
        monitor.target.poll_once()
        monitor.target.poll_once()  # two scrapes: the interval figures come from their difference
        info = monitor.target.info()
        server = info.remote.server
        assert info.status == "loaded" and info.name == "served-model" and info.remote.server_kind == "vllm"
        assert server.server_requests_running == 3 + 2 and 0 <= server.server_kv_cache_usage_ratio <= 1
        sample = monitor.loop.collect_once()["model"]
        assert sample["server_requests_running"] == 5 and sample["model_available"] == 1
        at = AppTest.from_file("../streamlit_app.py", default_timeout=30)
        at.switch_page("views/model.py")
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        shown = {m.label: m.value for m in at.metric}
        assert shown["Server kind"] == "vllm" and shown["Server running"] == "5" and shown["State"] == "loaded"
    finally:
        release_monitor()
        st.cache_resource.clear()


class _NoUsage(BaseHTTPRequestHandler):
    """A server whose streams carry no `usage` (as some llama.cpp and Ollama builds): text, finish, [DONE]."""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        chunks = [{"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
                  for text in ("Red, green", " and blue.")]
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        body = b"".join(b"data: " + json.dumps(chunk | {"model": "m"}).encode() + b"\n\n" for chunk in chunks)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(body) + len(b"data: [DONE]\n\n")))
        self.end_headers()
        self.wfile.write(body + b"data: [DONE]\n\n")


@pytest.fixture
def no_usage_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoUsage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_without_usage_tokens_are_counted_by_the_configured_tokenizer_and_else_left_unknown(no_usage_server,
                                                                                             caplog):
    from transformers import AutoTokenizer

    from healthmon.remote.tokens import load_token_counter
    from tests.serve_fixture import packaged_checkpoint, unavailable_reason

    if unavailable_reason() is not None:
        pytest.skip(unavailable_reason())
    checkpoint = str(packaged_checkpoint())
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    params = GenerationParams("Name three colours.", max_new_tokens=8)
    for counter, expected in ((load_token_counter(checkpoint, logging.getLogger("t")), True), (None, False)):
        records: list = []
        target = RemoteTarget(no_usage_server, sink=SimpleNamespace(record=records.append), model="m",
                              poll_interval_seconds=3600, token_counter=counter)
        try:
            target.poll_once()
            record = target.stream(params).result(30)
        finally:
            target.close()
        assert record.status == "ok" and record.response == "Red, green and blue."
        if expected:
            assert record.output_tokens == len(tokenizer.encode("Red, green and blue.", add_special_tokens=False))
            template = tokenizer.apply_chat_template(params.chat(), add_generation_prompt=True, tokenize=True)
            assert record.prompt_tokens == len(template["input_ids"] if hasattr(template, "keys") else template)
            assert record.prompt_tokens > record.output_tokens > 0 and record.tokens_per_second > 0
        else:  # no usage and no tokenizer: unknown, never a guess
            assert record.output_tokens is None and record.prompt_tokens is None
    with caplog.at_level(logging.WARNING):
        assert load_token_counter("/nonexistent/tokenizer", logging.getLogger("healthmon.t")) is None
    assert "cannot load a tokenizer" in caplog.text
