"""A remote OpenAI-compatible server as the monitored target: a real `transformers serve` on the packaged SmolLM2.

Measured from the stream, traced like any request, its health polled; a server that goes away is an error with
its reason and a firing alert, and the target comes back by itself when the server does.
"""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest

from healthmon.remote.target import RemoteTarget
from healthmon.runtime.params import ChatMessage, GenerationParams
from healthmon.target import ModelNotReady, ModelStatus

pytestmark = pytest.mark.e2e


@pytest.fixture
def target(transformers_serve):
    records: list = []
    target = RemoteTarget(transformers_serve.base_url, sink=SimpleNamespace(record=records.append),
                          model=transformers_serve.model, poll_interval_seconds=3600)  # polled by hand below
    target.records = records
    yield target
    target.close()


def test_a_streamed_generation_is_measured_from_the_stream_and_recorded(target):
    target.poll_once()
    assert target.status is ModelStatus.LOADED and target.info()["target_health_latency_seconds"] > 0
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


def test_a_server_that_dies_mid_stream_fails_that_request_and_the_target_recovers(target, transformers_serve):
    target.poll_once()
    stream = target.stream(GenerationParams("Count from one to one hundred.", max_new_tokens=400), source="api")
    deltas = iter(stream)
    next(deltas)
    transformers_serve.kill()
    with pytest.raises(Exception):  # the broken stream, raised to whoever reads the answer
        list(deltas)
    record = target.records[-1]
    assert record.status == "error" and record.trace_id == stream.trace_id
    target.poll_once()
    assert target.status is ModelStatus.ERROR and target.info()["error"]
    with pytest.raises(ModelNotReady, match="remote target is error"):
        target.stream(GenerationParams("Hi"))
    transformers_serve.restart()
    target.poll_once()
    assert target.status is ModelStatus.LOADED and target.info()["error"] is None
    assert target.stream(GenerationParams("Hi", max_new_tokens=2)).result(60).status == "ok"


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
        answer = client.chat.completions.create(model="any", max_tokens=4, temperature=0,
                                                messages=[{"role": "user", "content": "Hello"}])
        assert answer.choices[0].message.content and answer.usage.completion_tokens == 4
        chunks = list(client.chat.completions.create(model="any", max_tokens=4, temperature=0, stream=True,
                                                     messages=[{"role": "user", "content": "Hello"}],
                                                     stream_options={"include_usage": True}))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert chunks[-1].usage.completion_tokens == 4
        native = app.post("/api/model/generate", json={"prompt": "Hi", "max_new_tokens": 3})
        assert native.status_code == 200 and native.json()["output_tokens"] == 3
        record = app.get(f"/api/traces/{answer.id.removeprefix('chatcmpl-')}").json()
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
