"""The remote-target client against a real `transformers serve` (e2e), and against recorded wire shapes that
server never sends (OpenAI's `[DONE]` ending, broken SSE, a server without /health) through httpx's MockTransport."""

from __future__ import annotations

import json

import httpx
import pytest

from healthmon.remote.client import (
    RemoteClient,
    RemoteConnectError,
    RemoteHTTPError,
    RemoteInvalidResponse,
    RemoteStreamBroken,
    StreamEnd,
    TextDelta,
    Usage,
)
from tests.appserver import free_port

HI = [{"role": "user", "content": "Say hello to the world."}]
STORY = [{"role": "user", "content": "Write a very long story about a cat who travels the world."}]


@pytest.mark.e2e
def test_a_streamed_answer_arrives_in_deltas_then_ends_with_finish_reason_and_usage(transformers_serve):
    with RemoteClient(transformers_serve.base_url) as client:
        events = list(client.stream_chat(HI, max_tokens=6, temperature=0))
        health = client.health()
        assert (client.list_models(), client.fetch_metrics()) == ((), None)  # empty Hub home; no /metrics
    *deltas, end = events
    assert len(deltas) >= 3 and all(isinstance(delta, TextDelta) and delta.text for delta in deltas)
    arrivals = [delta.arrived_seconds for delta in deltas] + [end.arrived_seconds]
    assert arrivals == sorted(arrivals)
    # transformers serve sends usage on the finish chunk, asked or not (it ignores stream_options)
    assert isinstance(end, StreamEnd) and end.finish_reason == "length" and end.usage.completion_tokens == 6
    assert end.usage.prompt_tokens > 0 and end.model.startswith(transformers_serve.model)
    assert health.ok and health.url == f"{transformers_serve.root_url}/health"


@pytest.mark.e2e
def test_a_request_the_server_refuses_is_an_http_error_with_its_message(transformers_serve):
    with RemoteClient(transformers_serve.base_url) as client:
        with pytest.raises(RemoteHTTPError) as wrong_model:
            next(client.stream_chat(HI, model="no-such-model", max_tokens=4))
        with pytest.raises(RemoteHTTPError) as unknown_field:
            next(client.stream_chat(HI, max_tokens=4, bogus_field=1))
    assert wrong_model.value.status_code == 400 and "pinned" in wrong_model.value.message
    assert "no-such-model" in str(wrong_model.value)
    assert unknown_field.value.status_code == 422 and "bogus_field" in unknown_field.value.message


def test_a_port_nobody_listens_on_is_a_connect_error():
    with RemoteClient(f"http://127.0.0.1:{free_port()}/v1", connect_timeout_seconds=2) as client:
        with pytest.raises(RemoteConnectError):
            next(client.stream_chat(HI))
        with pytest.raises(RemoteConnectError):
            client.health()


@pytest.mark.e2e
def test_a_server_killed_mid_stream_breaks_the_stream_and_answers_again_after_restart(transformers_serve):
    with RemoteClient(transformers_serve.base_url) as client:
        stream = client.stream_chat(STORY, max_tokens=512, temperature=0)
        assert isinstance(next(stream), TextDelta) and isinstance(next(stream), TextDelta)
        transformers_serve.kill()
        with pytest.raises(RemoteStreamBroken) as broken:
            list(stream)
        assert broken.value.deltas_received >= 2
        transformers_serve.restart()
        *deltas, end = client.stream_chat(HI, max_tokens=3, temperature=0)
    assert deltas and end.finish_reason == "length" and end.usage == Usage(end.usage.prompt_tokens, 3)


def _sse(*payloads: object) -> list[bytes]:
    return [b"data: " + (p if isinstance(p, bytes) else json.dumps(p).encode()) + b"\r\n\r\n" for p in payloads]


def _client(handler) -> RemoteClient:
    return RemoteClient("http://upstream.test/v1", api_key="sk-test", transport=httpx.MockTransport(handler))


def _stream_response(pieces: list[bytes]) -> httpx.Response:
    async def body():  # the client reads every answer on an event loop (its thread's own, for stream_chat)
        for piece in pieces:
            yield piece
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())


def test_an_openai_style_stream_split_anywhere_ends_at_done_with_the_usage_chunk():
    thinking = {"model": "m", "choices": [{"index": 0, "delta": {"reasoning_content": "hmm"}}]}
    chunk = {"model": "m", "choices": [{"index": 0, "delta": {"content": "Hé"}, "finish_reason": None}]}
    finish = {"model": "m", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    wire = b": keep-alive\r\n\r\n" + b"".join(_sse(thinking, chunk, chunk, finish, {"choices": [], "usage": {
        "prompt_tokens": 5, "completion_tokens": 2}}, b"[DONE]", {"choices": [{"delta": {"content": "after"}}]}))
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _stream_response([wire[i:i + 1] for i in range(len(wire))])  # one byte at a time: mid-\r\n, mid-é

    with _client(handler) as client:
        events = list(client.stream_chat(HI, model="m", max_tokens=2))
    assert [(e.text, e.reasoning) for e in events[:-1]] == [("hmm", True), ("Hé", False), ("Hé", False)]
    assert events[-1] == StreamEnd(  # the last event: what followed [DONE] was not read
"stop", Usage(5, 2), "m", events[-1].arrived_seconds)
    body = json.loads(seen[0].content)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True} and body["max_tokens"] == 2
    assert seen[0].headers["authorization"] == "Bearer sk-test"


@pytest.mark.parametrize("response, message", [
    (_stream_response(_sse(b"{not json")), "not a JSON object"),
    (_stream_response(_sse([1, 2])), "not a JSON object"),
    (_stream_response(_sse({"object": "chat.completion.chunk"})), "without choices"),
    (lambda: httpx.Response(200, text="<html>hi</html>", headers={"content-type": "text/html"}),
     "not an event stream"),
])
def test_what_is_not_an_openai_stream_is_an_invalid_response(response, message):
    with _client(lambda request: response() if callable(response) else response) as client, \
            pytest.raises(RemoteInvalidResponse, match=message):
        list(client.stream_chat(HI))


def test_a_stream_closed_before_a_finish_reason_is_broken_and_an_error_event_carries_the_servers_words():
    text = {"choices": [{"delta": {"content": "partial"}}]}
    with _client(lambda request: _stream_response(_sse(text))) as client, pytest.raises(RemoteStreamBroken) as cut:
        list(client.stream_chat(HI))
    assert cut.value.deltas_received == 1 and "before a finish reason" in cut.value.reason
    error = {"error": {"message": "CUDA out of memory", "type": "internal_error"}}
    with _client(lambda request: _stream_response(_sse(text, error))) as client, \
            pytest.raises(RemoteStreamBroken, match="CUDA out of memory"):
        list(client.stream_chat(HI))


def test_health_falls_back_to_the_model_list_and_metrics_are_none_where_a_server_has_none():
    def handler(request: httpx.Request) -> httpx.Response:
        answers = {"/health": httpx.Response(404, text="404 page not found"),
                   "/v1/models": httpx.Response(200, json={"object": "list", "data": [{"id": "llama3"}]}),
                   "/metrics": httpx.Response(501, json={"error": {"message": "metrics are off"}})}
        return answers[request.url.path]

    with _client(handler) as client:
        health = client.health()
        assert (client.list_models(), client.fetch_metrics()) == (("llama3",), None)
    assert health.ok and health.status_code == 200 and health.url == "http://upstream.test/v1/models"


def test_a_whole_json_answer_to_a_stream_request_is_read_as_one_answer():
    """A server that ignores `stream` answers with one JSON body: its text and usage, measured as one piece."""
    answer = {"model": "m", "choices": [{"index": 0, "message": {"content": "Hello"}, "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 3, "completion_tokens": 1}}
    with _client(lambda request: httpx.Response(200, json=answer)) as client:
        *deltas, end = client.stream_chat(HI)
    assert [d.text for d in deltas] == ["Hello"] and end.finish_reason == "stop" and end.usage == Usage(3, 1)
