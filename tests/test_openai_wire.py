"""The OpenAI wire format (healthmon.openai_wire, healthmon.openai_stream): request parsing and its errors, the
mapping onto GenerationParams, answer bodies and chunks, and the SSE reader, byte split by byte split."""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings, strategies as st

from healthmon.openai_stream import (
    DONE,
    DONE_SSE,
    ChunkContent,
    ChunkStream,
    MalformedEvent,
    SSEReader,
    Usage,
    completion_id,
    encode_sse,
    models_body,
    openai_finish_reason,
    read_chunk,
    response_body,
)
from healthmon.openai_wire import OpenAIError, OpenAIRequest, from_invalid_request, generation_kwargs, parse_request
from healthmon.params import ChatMessage, GenerationParams, InvalidRequest, parse_generate_body

CAP = 512
MAX_CHARS = 1000
USER = [{"role": "user", "content": "Hi"}]


def chat(**fields) -> OpenAIRequest:
    return parse_request("chat", {"model": "m", "messages": USER} | fields, max_new_tokens_cap=CAP,
                         max_prompt_chars=MAX_CHARS)


def completion(**fields) -> OpenAIRequest:
    return parse_request("completion", {"model": "m", "prompt": "Once"} | fields, max_new_tokens_cap=CAP,
                         max_prompt_chars=MAX_CHARS)


def refused(kind: str, body: object) -> OpenAIError:
    with pytest.raises(OpenAIError) as caught:
        parse_request(kind, body, max_new_tokens_cap=CAP, max_prompt_chars=MAX_CHARS)
    return caught.value


# --- requests -------------------------------------------------------------------------------------------------

def test_a_chat_request_carries_every_setting_it_names():
    request = chat(messages=[{"role": "developer", "content": "Be brief."},
                             {"role": "user", "name": "ann",
                              "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]}],
                   stream=True, stream_options={"include_usage": True}, max_completion_tokens=20, temperature=0,
                   top_p=0.5, stop="\n\n", seed=7)
    assert request == OpenAIRequest(kind="chat", model="m",
                                    messages=(ChatMessage("system", "Be brief."), ChatMessage("user", "Hello")),
                                    stream=True, include_usage=True, max_tokens=20, temperature=0.0, top_p=0.5,
                                    stop=("\n\n",), seed=7)


def test_a_completion_prompt_may_be_a_list_of_one_string():
    assert completion(prompt=["Once upon"], max_tokens=5).prompt == "Once upon"
    assert completion().messages == () and completion().stream is False and completion().include_usage is False


@pytest.mark.parametrize("field, value", [
    ("user", "u-1"), ("frequency_penalty", 0), ("presence_penalty", 0.0), ("logprobs", False), ("n", 1),
    ("response_format", {"type": "text"}), ("tools", []), ("tool_choice", "none"), ("metadata", {"k": "v"}),
    ("store", False), ("service_tier", "auto"), ("logit_bias", {}), ("top_logprobs", 0), ("parallel_tool_calls", True),
    ("modalities", ["text"]), ("stream_options", None), ("max_tokens", None), ("reasoning_effort", "low"),
])
def test_fields_that_ask_for_nothing_healthmon_lacks_are_accepted(field, value):
    assert chat(**{field: value}).model == "m"


@pytest.mark.parametrize("kind, field, value", [
    ("chat", "n", 2), ("completion", "n", 3), ("chat", "n", True),
    ("chat", "tools", [{"type": "function", "function": {"name": "f"}}]), ("chat", "tool_choice", "auto"),
    ("chat", "functions", [{"name": "f"}]), ("chat", "logprobs", True), ("chat", "top_logprobs", 2),
    ("chat", "response_format", {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}),
    ("chat", "response_format", {"type": "json_object"}), ("chat", "frequency_penalty", 0.5),
    ("chat", "presence_penalty", -1), ("chat", "logit_bias", {"50256": -100}), ("chat", "audio", {"voice": "x"}),
    ("completion", "echo", True), ("completion", "best_of", 2), ("completion", "logprobs", 2),
    ("completion", "suffix", "end"),
])
def test_fields_healthmon_cannot_honour_are_a_400_naming_the_param(kind, field, value):
    base = {"model": "m", "messages": USER} if kind == "chat" else {"model": "m", "prompt": "x"}
    error = refused(kind, base | {field: value})
    assert (error.status_code, error.param, error.code) == (400, field, "unsupported_value")
    assert error.body() == {"error": {"message": str(error), "type": "invalid_request_error", "param": field,
                                      "code": "unsupported_value"}}
    assert str(error).startswith(f"'{field}'")


@pytest.mark.parametrize("kind, field", [("chat", "foo"), ("chat", "prompt"), ("chat", "echo"),
                                         ("completion", "messages"), ("completion", "max_completion_tokens"),
                                         ("completion", "tools"), ("chat", "top_k")])
def test_a_field_the_endpoint_does_not_know_is_named(kind, field):
    base = {"model": "m", "messages": USER} if kind == "chat" else {"model": "m", "prompt": "x"}
    error = refused(kind, base | {field: 1})
    assert (error.status_code, error.param, error.code) == (400, field, "unknown_parameter")
    assert str(error) == f"Unrecognized request argument supplied: {field}"


@pytest.mark.parametrize("fields, param", [
    ({"temperature": 2.5}, "temperature"), ({"temperature": "hot"}, "temperature"), ({"top_p": 0}, "top_p"),
    ({"top_p": float("nan")}, "top_p"), ({"max_tokens": 0}, "max_tokens"), ({"max_tokens": CAP + 1}, "max_tokens"),
    ({"max_tokens": "10"}, "max_tokens"), ({"max_tokens": 10.0}, "max_tokens"),
    ({"max_completion_tokens": -1}, "max_completion_tokens"),
    ({"max_tokens": 5, "max_completion_tokens": 6}, "max_completion_tokens"), ({"seed": -1}, "seed"),
    ({"seed": 2**32}, "seed"), ({"stop": ["a", "b", "c", "d", "e"]}, "stop"), ({"stop": 5}, "stop"),
    ({"stream": "yes"}, "stream"), ({"stream_options": {"include_usage": True}}, "stream_options"),
    ({"stream": True, "stream_options": {"include_usage": 1}}, "stream_options.include_usage"),
    ({"stream": True, "stream_options": {"usage": True}}, "stream_options.usage"),
    ({"stream": True, "stream_options": []}, "stream_options"), ({"model": ""}, "model"), ({"model": 3}, "model"),
    ({"messages": []}, "messages"), ({"messages": "Hi"}, "messages"), ({"messages": ["Hi"]}, "messages[0]"),
    ({"messages": [{"role": "assistant", "content": "Hi"}]}, "messages"),
    ({"messages": [{"role": "user", "content": None}]}, "messages"),
    ({"messages": [{"role": ["user"], "content": "Hi"}]}, "messages"),
    ({"messages": [{"role": "tool", "content": "42", "tool_call_id": "c"}]}, "messages[0].role"),
    ({"messages": [{"role": "user", "content": "Hi", "tool_calls": [{"id": "c"}]}]}, "messages[0].tool_calls"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, "messages"),
    ({"repetition_penalty": 5}, "repetition_penalty"),
])
def test_an_invalid_chat_request_is_a_400_naming_the_param(fields, param):
    error = refused("chat", {"model": "m", "messages": USER} | fields)
    assert (error.status_code, error.param, error.error_type) == (400, param, "invalid_request_error")


@pytest.mark.parametrize("body, param", [({"model": "m"}, "prompt"), ({"prompt": "x"}, "model"),
                                         ({"model": "m", "prompt": ["a", "b"]}, "prompt"),
                                         ({"model": "m", "prompt": [1, 2, 3]}, "prompt"),
                                         ({"model": "m", "prompt": "  "}, "prompt"),
                                         ({"model": "m", "prompt": "a\x00b"}, "prompt")])
def test_an_invalid_completion_request_is_a_400_naming_the_param(body, param):
    error = refused("completion", body)
    assert (error.status_code, error.param) == (400, param)


def test_a_body_that_is_not_an_object_is_a_400():
    assert refused("chat", ["model"]).status_code == 400


def test_a_prompt_over_the_limit_keeps_params_413():
    error = refused("completion", {"model": "m", "prompt": "x" * (MAX_CHARS + 1)})
    assert (error.status_code, error.param) == (413, "prompt")
    long_turn = [{"role": "user", "content": "x" * (MAX_CHARS + 1)}]
    assert refused("chat", {"model": "m", "messages": long_turn}).status_code == 413


def test_invalid_request_from_the_runtime_becomes_openai_shaped():
    assert from_invalid_request(InvalidRequest("the prompt exceeds the context"), "messages").body() == {
        "error": {"message": "the prompt exceeds the context", "type": "invalid_request_error", "param": "messages",
                  "code": None}}
    assert from_invalid_request(InvalidRequest("too big", 413)).status_code == 413
    assert from_invalid_request(InvalidRequest("bad")).status_code == 400


def test_any_error_type_and_status_can_be_said():
    error = OpenAIError("slow down", status_code=429, error_type="rate_limit_error", code="rate_limit_exceeded")
    assert error.body()["error"] == {"message": "slow down", "type": "rate_limit_error", "param": None,
                                     "code": "rate_limit_exceeded"}


# --- the mapping onto GenerationParams ------------------------------------------------------------------------

def test_a_chat_request_maps_to_params_with_its_conversation():
    request = chat(messages=[{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}], max_tokens=9,
                   stop=["x"], seed=1, temperature=0.2, top_p=0.8)
    assert GenerationParams(**generation_kwargs(request)) == GenerationParams(
        "Q", max_new_tokens=9, temperature=0.2, top_p=0.8, seed=1,
        messages=(ChatMessage("system", "S"), ChatMessage("user", "Q")), stop=("x",))


def test_what_a_request_does_not_send_keeps_healthmons_defaults():
    assert GenerationParams(**generation_kwargs(completion())) == GenerationParams("Once", raw_prompt=True)


_SETTINGS = st.fixed_dictionaries({}, optional={
    "temperature": st.one_of(st.none(), st.floats(-1, 3), st.integers(-1, 3), st.booleans()),
    "top_p": st.one_of(st.none(), st.floats(-0.5, 1.5), st.sampled_from([0, 1])),
    "seed": st.one_of(st.none(), st.integers(-2, 2**33), st.floats(0, 10)),
    "max_tokens": st.one_of(st.none(), st.integers(-1, CAP + 2), st.booleans()),
    "stop": st.one_of(st.none(), st.text(max_size=3), st.lists(st.text(max_size=3), max_size=6)),
    "repetition_penalty": st.one_of(st.none(), st.floats(0, 3)),
})


@settings(max_examples=300, deadline=None)
@given(_SETTINGS, st.booleans())
def test_requests_are_accepted_and_mapped_exactly_as_the_generate_api_would(fields, as_chat):
    """Same validation as /api/model/generate: one accepts what the other does, into the same GenerationParams."""
    native = dict(fields)
    if "max_tokens" in native:
        native["max_new_tokens"] = native.pop("max_tokens")
    native |= {"messages": USER} if as_chat else {"prompt": "Once"}
    try:
        expected = parse_generate_body(native, max_new_tokens_cap=CAP, max_prompt_chars=MAX_CHARS)
    except InvalidRequest:
        expected = None
    try:
        request = chat(**fields) if as_chat else completion(**fields)
    except OpenAIError as error:
        assert expected is None, error
        assert error.status_code == 400
        return
    # a text completion continues its prompt as it is: that, and only that, differs from the generate API
    assert GenerationParams(**generation_kwargs(request)) == dataclasses.replace(expected, raw_prompt=not as_chat)


# --- answers ---------------------------------------------------------------------------------------------------

def test_a_chat_answer_has_openais_shape():
    assert response_body("chat", trace_id="abc", model="m", created_s=1700000000, text="Hello",
                         finish_reason="eos", usage=Usage(4, 2)) == {
        "id": "chatcmpl-abc", "object": "chat.completion", "created": 1700000000, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "logprobs": None,
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}}


def test_a_text_completion_answer_has_openais_shape():
    body = response_body("completion", trace_id="abc", model="m", created_s=5, text=" upon", finish_reason="length",
                         usage=Usage(1, 16))
    assert body["id"] == "cmpl-abc" and body["object"] == "text_completion"
    assert body["choices"] == [{"index": 0, "text": " upon", "logprobs": None, "finish_reason": "length"}]
    assert body["usage"]["total_tokens"] == 17


@pytest.mark.parametrize("healthmon, openai", [("stop", "stop"), ("eos", "stop"), ("length", "length"),
                                                ("cancelled", "stop"), ("content_filter", "content_filter")])
def test_finish_reasons_read_as_openais(healthmon, openai):
    assert openai_finish_reason(healthmon) == openai


def test_a_finish_reason_without_an_openai_meaning_is_a_bug():
    with pytest.raises(ValueError, match="error"):
        openai_finish_reason("error")


def test_a_chat_stream_names_the_role_then_text_then_the_finish_then_usage():
    stream = ChunkStream("chat", "t", "m", created_s=9, include_usage=True)
    chunks = [*stream.head(), stream.text("Hi"), *stream.tail("length", Usage(3, 1))]
    assert [chunk["choices"] for chunk in chunks] == [
        [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}],
        [{"index": 0, "delta": {"content": "Hi"}, "logprobs": None, "finish_reason": None}],
        [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "length"}],
        []]
    assert [chunk["usage"] for chunk in chunks] == [None, None, None,
                                                    {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}]
    assert {(c["id"], c["object"], c["created"], c["model"]) for c in chunks} == {
        ("chatcmpl-t", "chat.completion.chunk", 9, "m")}


def test_without_include_usage_a_stream_has_no_usage_at_all():
    stream = ChunkStream("chat", "t", "m", created_s=9)
    chunks = [*stream.head(), stream.text("Hi"), *stream.tail("stop", Usage(3, 1))]
    assert len(chunks) == 3 and not any("usage" in chunk for chunk in chunks)


def test_a_completion_stream_is_text_then_the_finish_then_usage():
    stream = ChunkStream("completion", "t", "m", created_s=9, include_usage=True)
    assert stream.head() == []
    chunks = [stream.text(" upon"), *stream.tail("eos", Usage(1, 1))]
    assert [chunk["choices"] for chunk in chunks] == [
        [{"index": 0, "text": " upon", "logprobs": None, "finish_reason": None}],
        [{"index": 0, "text": "", "logprobs": None, "finish_reason": "stop"}], []]
    assert {chunk["object"] for chunk in chunks} == {"text_completion"}
    assert chunks[0]["id"] == completion_id("completion", "t") == "cmpl-t"


def test_the_models_list_has_openais_shape():
    assert models_body(["smol"], created_s=3) == {
        "object": "list", "data": [{"id": "smol", "object": "model", "created": 3, "owned_by": "healthmon"}]}


def test_an_sse_event_is_one_data_line_of_utf8_json():
    assert encode_sse({"t": "é\n"}) == 'data: {"t":"é\\n"}\n\n'.encode()
    assert DONE_SSE == b"data: [DONE]\n\n"
    with pytest.raises(ValueError):
        encode_sse({"x": float("nan")})


# --- the SSE reader ----------------------------------------------------------------------------------------------

def _stream_chunks(kind: str, pieces: list[str], include_usage: bool) -> list[dict]:
    stream = ChunkStream(kind, "t", "m", created_s=9, include_usage=include_usage)
    return [*stream.head(), *map(stream.text, pieces), *stream.tail("eos", Usage(3, len(pieces)))]


def _read(parts: list[bytes]) -> list:
    reader = SSEReader()
    return [event for part in parts for event in reader.feed(part)]


ROUND_TRIP_PIECES = ["Hé", "llo", " 世界", "\n\"quoted\"", "🙂"]


@pytest.mark.parametrize("kind", ["chat", "completion"])
@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"])
def test_chunks_read_back_equal_when_split_at_every_byte(kind, line_end):
    chunks = _stream_chunks(kind, ROUND_TRIP_PIECES, include_usage=True)
    wire = (b"".join(map(encode_sse, chunks)) + DONE_SSE).replace(b"\n", line_end)
    expected = [*chunks, DONE]
    assert _read([wire]) == expected
    for cut in range(len(wire) + 1):
        assert _read([wire[:cut], wire[cut:]]) == expected, cut
    assert _read([wire[i:i + 1] for i in range(len(wire))]) == expected


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["chat", "completion"]), st.lists(st.text(min_size=1, max_size=8), max_size=6),
       st.booleans(), st.sampled_from([b"\n", b"\r\n", b"\r"]), st.lists(st.integers(0, 4000), max_size=12))
def test_any_stream_split_anywhere_reads_back_its_text_finish_and_usage(kind, pieces, include_usage, line_end, cuts):
    chunks = _stream_chunks(kind, pieces, include_usage)
    wire = (b": ping\n\n" + b"".join(map(encode_sse, chunks)) + DONE_SSE).replace(b"\n", line_end)
    bounds = [0, *sorted(cut % (len(wire) + 1) for cut in cuts), len(wire)]
    events = _read([wire[a:b] for a, b in itertools.pairwise(bounds)])
    assert events == [*chunks, DONE]
    contents = [read_chunk(event) for event in events[:-1]]
    assert "".join(content.text for content in contents) == "".join(pieces)
    assert [content.finish_reason for content in contents if content.finish_reason] == ["stop"]
    usages = [content.usage for content in contents if content.usage]
    assert usages == ([Usage(3, len(pieces))] if include_usage else [])


def test_comments_other_fields_and_empty_events_are_skipped():
    wire = b": ping\n\nevent: message\nid: 4\nretry: 100\ndata: {\"a\": 1}\n\n\n\ndata\n\ndata:\n\n:\n"
    assert _read([wire]) == [{"a": 1}, MalformedEvent(""), MalformedEvent("")]


def test_data_lines_of_one_event_join_with_newlines_even_across_a_cr_lf_split():
    assert _read([b'data: {"a":\r', b'\ndata: 1}\r', b'\n\r', b'\n']) == [{"a": 1}]
    assert _read([b'data: {"a":\r', b'', b'\n', b'data: 2}\r\n\r\n']) == [{"a": 2}]


def test_a_malformed_event_is_kept_and_the_next_still_arrives():
    assert _read([b"data: {oops\n\ndata: [1]\n\ndata: {\"b\": 2}\n\ndata: [DONE]\n\n"]) == [
        MalformedEvent("{oops"), MalformedEvent("[1]"), {"b": 2}, DONE]


def test_an_event_cut_off_by_the_end_of_the_stream_is_never_dispatched():
    reader = SSEReader()
    assert reader.feed(b'data: {"a": 1}\n\ndata: {"b": ') == [{"a": 1}]
    assert reader.feed(b"") == []


def test_invalid_utf8_is_replaced_not_raised():
    assert _read([b'data: {"t": "\xff"}\n\n']) == [{"t": "\ufffd"}]


def test_an_endless_event_is_refused():
    reader = SSEReader(max_event_bytes=100)
    reader.feed(b"data: " + b"x" * 50 + b"\n")
    with pytest.raises(ValueError, match="100 bytes"):
        reader.feed(b"data: " + b"x" * 50)


# Recorded from transformers 5.23's `serve` (cli/serving/*._build_chunk_sse): usage rides on the finish chunk,
# nulls are left out, and no [DONE] follows.
TRANSFORMERS_CHAT = (
    b'data: {"id":"req_0","choices":[{"delta":{"role":"assistant"},"index":0}],"created":1796293212,"model":"m",'
    b'"object":"chat.completion.chunk","system_fingerprint":""}\n\n'
    b'data: {"id":"req_0","choices":[{"delta":{"content":"H\xc3\xa9"},"index":0}],"created":1796293212,"model":"m",'
    b'"object":"chat.completion.chunk","system_fingerprint":""}\n\n'
    b'data: {"id":"req_0","choices":[{"delta":{},"index":0,"finish_reason":"length"}],"created":1796293212,'
    b'"model":"m","object":"chat.completion.chunk","system_fingerprint":"","usage":{"completion_tokens":2,'
    b'"prompt_tokens":5,"total_tokens":7}}\n\n')
TRANSFORMERS_COMPLETION = (
    b'data: {"id":"req_1","choices":[{"index":0,"text":"H\xc3\xa9"}],"created":1796293212,"model":"m",'
    b'"object":"text_completion"}\n\n'
    b'data: {"id":"req_1","choices":[{"finish_reason":"stop","index":0,"text":""}],"created":1796293212,'
    b'"model":"m","object":"text_completion","usage":{"completion_tokens":2,"prompt_tokens":5,"total_tokens":7}}\n\n')


@pytest.mark.parametrize("wire, finish", [(TRANSFORMERS_CHAT, "length"), (TRANSFORMERS_COMPLETION, "stop")])
def test_a_transformers_serve_stream_reads_its_text_finish_and_usage(wire, finish):
    contents = [read_chunk(event) for event in _read([wire[i:i + 7] for i in range(0, len(wire), 7)])]
    assert "".join(content.text for content in contents) == "Hé"
    assert contents[-1] == ChunkContent(finish_reason=finish, usage=Usage(5, 2))


@pytest.mark.parametrize("payload, expected", [
    ({"choices": [{"index": 0, "delta": {"reasoning_content": "hm"}}]}, ChunkContent(reasoning_text="hm")),
    ({"choices": [{"index": 0, "delta": {"reasoning": "hm", "content": None}}]}, ChunkContent(reasoning_text="hm")),
    ({"choices": [{"index": 0, "message": {"role": "assistant", "content": "whole"}, "finish_reason": "stop"}],
      "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}},
     ChunkContent("whole", finish_reason="stop", usage=Usage(1, 1))),
    ({"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}}, ChunkContent(usage=Usage(1, 2))),
    ({"error": {"message": "overloaded", "type": "server_error"}}, ChunkContent(error="overloaded")),
    ({"error": "CUDA out of memory"}, ChunkContent(error="CUDA out of memory")),
    ({"object": "error", "message": "too long", "type": "BadRequestError", "code": 400},
     ChunkContent(error="too long")),
    ({"choices": "x", "usage": {"prompt_tokens": "1", "completion_tokens": 2}}, ChunkContent()),
    ({"choices": [None, {"text": 5, "finish_reason": 1}], "usage": {"prompt_tokens": True, "completion_tokens": 1}},
     ChunkContent()),
    ({}, ChunkContent()),
])
def test_read_chunk_takes_what_is_there_and_never_raises(payload, expected):
    assert read_chunk(payload) == expected


# --- the official client --------------------------------------------------------------------------------------

class _Canned(BaseHTTPRequestHandler):
    """Answers every POST and GET with the server's canned (status, content type, body); keeps the request body."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.requests.append(json.loads(self.rfile.read(length)) if length else None)
        status, content_type, body = self.server.answer
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        """Quiet: the test says what went wrong."""


@pytest.fixture
def canned():
    """A loopback server the `openai` client talks to, and the client."""
    openai = pytest.importorskip("openai")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", api_key="k", max_retries=0)
    yield openai, client, server
    client.close()
    server.shutdown()
    server.server_close()


def _sse(events: list[dict]) -> tuple[int, str, bytes]:
    return 200, "text/event-stream", b"".join(map(encode_sse, events)) + DONE_SSE


def _json(body: dict, status: int = 200) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(body).encode()


def test_the_openai_client_streams_a_chat_answer_and_its_request_parses(canned):
    openai, client, server = canned
    server.answer = _sse(_stream_chunks("chat", ROUND_TRIP_PIECES, include_usage=True))
    chunks = list(client.chat.completions.create(
        model="m", messages=[{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        stream=True, stream_options={"include_usage": True}, max_completion_tokens=20, stop=["\n\n"], seed=3,
        temperature=0.5, top_p=0.9, n=1, user="u"))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "".join(ROUND_TRIP_PIECES)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage.total_tokens == 3 + len(ROUND_TRIP_PIECES) and chunks[0].id == "chatcmpl-t"
    request = parse_request("chat", server.requests[0], max_new_tokens_cap=CAP, max_prompt_chars=MAX_CHARS)
    assert (request.stream, request.include_usage, request.max_tokens, request.seed) == (True, True, 20, 3)


def test_the_openai_client_reads_a_chat_answer(canned):
    openai, client, server = canned
    server.answer = _json(response_body("chat", trace_id="t", model="m", created_s=9, text="Hé", finish_reason="eos",
                                        usage=Usage(3, 1)))
    answer = client.chat.completions.create(model="m", messages=USER, max_tokens=5)
    assert (answer.choices[0].message.content, answer.choices[0].finish_reason, answer.usage.total_tokens) == (
        "Hé", "stop", 4)
    assert isinstance(answer, openai.types.chat.ChatCompletion)
    assert parse_request("chat", server.requests[0], max_new_tokens_cap=CAP, max_prompt_chars=MAX_CHARS).max_tokens == 5


def test_the_openai_client_streams_and_reads_text_completions(canned):
    openai, client, server = canned
    server.answer = _sse(_stream_chunks("completion", ["Once", " upon"], include_usage=True))
    chunks = list(client.completions.create(model="m", prompt="x", stream=True, stream_options={"include_usage": True},
                                            max_tokens=2, echo=False, best_of=1, logprobs=None))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "Once upon"
    assert chunks[-1].usage.completion_tokens == 2
    server.answer = _json(response_body("completion", trace_id="t", model="m", created_s=9, text=" upon",
                                        finish_reason="length", usage=Usage(1, 2)))
    assert client.completions.create(model="m", prompt="x").choices[0].finish_reason == "length"
    for body in server.requests:
        parse_request("completion", body, max_new_tokens_cap=CAP, max_prompt_chars=MAX_CHARS)


def test_the_openai_client_lists_models_and_raises_healthmons_errors(canned):
    openai, client, server = canned
    server.answer = _json(models_body(["smol"], created_s=3))
    assert [model.id for model in client.models.list()] == ["smol"]
    error = refused("chat", {"model": "m", "messages": USER, "n": 2})
    server.answer = _json(error.body(), error.status_code)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="m", messages=USER, n=2)
    assert (caught.value.param, caught.value.code, caught.value.type) == ("n", "unsupported_value",
                                                                          "invalid_request_error")
    server.answer = _sse([ChunkStream("chat", "t", "m", 9).head()[0], OpenAIError("boom", status_code=500,
                                                                                  error_type="server_error").body()])
    with pytest.raises(openai.APIError, match="boom"):
        list(client.chat.completions.create(model="m", messages=USER, stream=True))


def test_bodies_and_chat_chunks_pass_the_openai_types_strict_validation():
    """Stricter than the client, which constructs without validating; completion chunks are left out: mid-stream
    they carry finish_reason null, as OpenAI's own do, which the Completion type does not allow."""
    openai = pytest.importorskip("openai")
    for chunk in _stream_chunks("chat", ["a"], include_usage=True):
        openai.types.chat.ChatCompletionChunk.model_validate(chunk, strict=True)
    for kind, model_type in (("chat", openai.types.chat.ChatCompletion), ("completion", openai.types.Completion)):
        model_type.model_validate(response_body(kind, trace_id="t", model="m", created_s=9, text="x",
                                                finish_reason="length", usage=Usage(1, 1)), strict=True)
    openai.types.Model.model_validate(models_body(["m"], created_s=1)["data"][0], strict=True)
