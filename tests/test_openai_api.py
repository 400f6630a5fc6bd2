"""The OpenAI-compatible API on a real `streamlit run`, spoken to by the official `openai` client and by curl."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

openai = pytest.importorskip("openai")

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_model_dir):
    from tests.appserver import AppServer

    data = tmp_path_factory.mktemp("openai") / "data"
    shutil.copytree(demo_model_dir, data / "demo-model")
    app = AppServer(data, data.parent / "app.log", HEALTHMON_API_TOKEN="s3cret-token",
                    HEALTHMON_RATE_LIMIT_PER_MINUTE="600", HEALTHMON_RATE_LIMIT_BURST="50")
    app.start()
    yield app
    app.stop()


@pytest.fixture
def client(server):
    with openai.OpenAI(base_url=server.url + "/v1", api_key="s3cret-token", max_retries=0, timeout=60) as client:
        yield client


def trace(server, trace_id: str) -> dict:
    answer = server.get(f"/api/traces/{trace_id}", headers={"Authorization": "Bearer s3cret-token"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_chat_completion_is_answered_and_traced_as_an_openai_request(server, client):
    answer = client.chat.completions.create(model="anything", max_tokens=6, temperature=0, seed=1,
                                            messages=[{"role": "system", "content": "Be brief."},
                                                      {"role": "user", "content": "What is memory?"}])
    assert answer.object == "chat.completion" and answer.choices[0].message.role == "assistant"
    assert answer.choices[0].finish_reason in ("stop", "length")
    assert answer.model == client.models.list().data[0].id  # the one model the target serves
    record = trace(server, answer.id.removeprefix("chatcmpl-"))
    assert record["source"] == "openai" and record["status"] == "ok"
    assert record["response"] == answer.choices[0].message.content
    assert answer.usage.completion_tokens == record["output_tokens"] > 0
    assert answer.usage.prompt_tokens == record["prompt_tokens"]
    assert record["params"]["messages"][0] == {"role": "system", "content": "Be brief."}
    assert record["params"]["max_new_tokens"] == 6 and record["params"]["seed"] == 1


def test_a_streamed_chat_arrives_in_pieces_with_usage_last_and_equals_the_greedy_answer(server, client):
    messages = [{"role": "user", "content": "Tell me about latency."}]
    whole = client.chat.completions.create(model="m", messages=messages, max_tokens=12, temperature=0)
    chunks = list(client.chat.completions.create(model="m", messages=messages, max_tokens=12, temperature=0,
                                                 stream=True, stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 2
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == [whole.choices[0].finish_reason]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    assert len({c.id for c in chunks}) == 1
    assert trace(server, chunks[0].id.removeprefix("chatcmpl-"))["source"] == "openai"


def test_a_text_completion_continues_its_prompt_without_the_chat_template(server, client):
    answer = client.completions.create(model="m", prompt="Once upon a time", max_tokens=5, temperature=0)
    assert answer.object == "text_completion" and answer.choices[0].text
    record = trace(server, answer.id.removeprefix("cmpl-"))
    assert record["prompt_text"] == "Once upon a time"  # what the model received: no template around it
    streamed = list(client.completions.create(model="m", prompt="Once upon a time", max_tokens=5, temperature=0,
                                              stream=True))
    assert "".join(c.choices[0].text for c in streamed) == answer.choices[0].text


def test_errors_are_openai_errors_and_every_refusal_is_recorded(server, client):
    before = server.get("/api/health/status").json()["request_stats"]["rejected_requests"]
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}], n=2)
    assert bad.value.body["param"] == "n" and bad.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="m", messages=[])
    with openai.OpenAI(base_url=server.url + "/v1", api_key="wrong", max_retries=0) as stranger:
        with pytest.raises(openai.AuthenticationError):
            stranger.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="m", input="no embeddings here")
    after = server.get("/api/health/status").json()["request_stats"]["rejected_requests"]
    assert after == before + 3  # the three refused generations; an unknown endpoint is no generation


def test_curl_streams_server_sent_events_as_they_are_made(server):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    body = json.dumps({"model": "m", "stream": True, "max_tokens": 6, "temperature": 0,
                       "messages": [{"role": "user", "content": "Hello"}]})
    out = subprocess.run(["curl", "-sN", "--max-time", "60", server.url + "/v1/chat/completions",
                          "-H", "Content-Type: application/json", "-H", "Authorization: Bearer s3cret-token",
                          "-d", body], capture_output=True, text=True, timeout=90, check=True).stdout
    events = [line.removeprefix("data: ") for line in out.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
