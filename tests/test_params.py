"""Generate-body validation: every invalid input is an InvalidRequest with a 4xx status, never a crash."""

import math

import pytest
from hypothesis import given, settings, strategies as st

from healthmon.params import GenerationParams, InvalidRequest, parse_generate_body, resolve_max_new_tokens

CAPS = {"max_new_tokens_cap": 256, "max_prompt_chars": 1000}


def parse(body):
    return parse_generate_body(body, **CAPS)


def test_defaults_and_seed_fields():
    params = parse({"prompt": "hi", "max_length": 50, "temperature": 0, "top_p": 1})
    assert params == GenerationParams("hi", None, 50, 0.0, 1.0, None)
    assert params.greedy


@pytest.mark.parametrize("body, fragment, status", [
    ([], "JSON object", 400),
    ("hi", "JSON object", 400),
    ({}, "'prompt' is required", 422),
    ({"prompt": ""}, "empty", 422),
    ({"prompt": "   \n\t"}, "empty", 422),
    ({"prompt": 5}, "must be a string", 422),
    ({"prompt": ["a"]}, "must be a string", 422),
    ({"prompt": {"a": 1}}, "must be a string", 422),
    ({"prompt": "x" * 1001}, "limit is 1000", 413),
    ({"prompt": "a\x00b"}, "control characters", 422),
    ({"prompt": "a\ud800b"}, "surrogate", 422),
    ({"prompt": "hi", "max_new_tokens": "5"}, "must be an integer", 422),
    ({"prompt": "hi", "max_new_tokens": True}, "must be an integer", 422),
    ({"prompt": "hi", "max_new_tokens": 5.0}, "must be an integer", 422),
    ({"prompt": "hi", "max_new_tokens": 0}, "between 1 and 256", 422),
    ({"prompt": "hi", "max_new_tokens": 10**9}, "between 1 and 256", 422),
    ({"prompt": "hi", "temperature": "0.5"}, "must be a number", 422),
    ({"prompt": "hi", "temperature": False}, "must be a number", 422),
    ({"prompt": "hi", "temperature": math.nan}, "finite", 422),
    ({"prompt": "hi", "temperature": math.inf}, "finite", 422),
    ({"prompt": "hi", "temperature": -0.1}, "must be in", 422),
    ({"prompt": "hi", "temperature": 2.5}, "must be in", 422),
    ({"prompt": "hi", "top_p": 0}, "must be in (0.0", 422),
    ({"prompt": "hi", "top_p": 1.5}, "must be in", 422),
    ({"prompt": "hi", "colour": "blue"}, "unknown field", 422),
    ({"prompt": "hi", "messages": [{"role": "user", "content": "hi"}]}, "not both", 422),
    ({"messages": []}, "non-empty list", 422),
    ({"messages": "hi"}, "non-empty list", 422),
    ({"messages": [{"role": "user"}]}, "exactly 'role' and 'content'", 422),
    ({"messages": [{"role": "user", "content": "hi", "name": "x"}]}, "exactly 'role' and 'content'", 422),
    ({"messages": [{"role": "tool", "content": "hi"}]}, "must be one of", 422),
    ({"messages": [{"role": "user", "content": 5}]}, "must be a string", 422),
    ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "text only", 422),
    ({"messages": [{"role": "user", "content": " "}]}, "messages[0].content' is empty", 422),
    ({"messages": [{"role": "user", "content": "a\x00"}]}, "control characters", 422),
    ({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]},
     "last of 'messages'", 422),
    ({"messages": [{"role": "system", "content": "x" * 600}, {"role": "user", "content": "y" * 600}]},
     "limit is 1000", 413),
    ({"messages": [{"role": "user", "content": "hi"}] * 300}, "limit is 256", 422),
    ({"prompt": "hi", "stop": 5}, "string or a list", 422),
    ({"prompt": "hi", "stop": ["a", 1]}, "string or a list", 422),
    ({"prompt": "hi", "stop": ["a", "b", "c", "d", "e"]}, "at most 4", 422),
    ({"prompt": "hi", "stop": [""]}, "1 to 200", 422),
    ({"prompt": "hi", "repetition_penalty": 0}, "must be in [0.5", 422),
    ({"prompt": "hi", "repetition_penalty": 1e-100}, "must be in [0.5", 422),  # overflowed the logits: a 500
    ({"prompt": "hi", "repetition_penalty": 3}, "must be in", 422),
    ({"prompt": "hi", "repetition_penalty": "1.1"}, "must be a number", 422),
])
def test_invalid_bodies(body, fragment, status):
    with pytest.raises(InvalidRequest) as caught:
        parse(body)
    assert fragment in str(caught.value)
    assert caught.value.status_code == status


def test_tab_newline_and_chinese_are_fine():
    assert parse({"prompt": "第一行\n\tsecond"}).prompt == "第一行\n\tsecond"


def test_max_length_is_total_length_like_the_seed():
    params = GenerationParams("hi", max_length=30)
    assert resolve_max_new_tokens(params, prompt_tokens=10, context_tokens=None, max_new_tokens_cap=100) == 20
    with pytest.raises(InvalidRequest, match="prompt alone is 40 tokens"):
        resolve_max_new_tokens(params, prompt_tokens=40, context_tokens=None, max_new_tokens_cap=100)


def test_context_window_is_enforced():
    params = GenerationParams("hi", max_new_tokens=100)
    assert resolve_max_new_tokens(params, 20, 120, 256) == 100
    with pytest.raises(InvalidRequest, match="exceeds the model's context of 119"):
        resolve_max_new_tokens(params, 20, 119, 256)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                           max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["prompt", "max_new_tokens", "max_length", "temperature", "top_p", "seed",
                                        "extra"]), json_values))
def test_any_body_parses_or_raises_invalid_request(body):
    try:
        params = parse(body)
    except InvalidRequest as exc:
        assert 400 <= exc.status_code < 500 and str(exc)
        return
    assert isinstance(params.prompt, str) and params.prompt.strip()
    assert 0 <= params.temperature <= 2 and 0 < params.top_p <= 1


def test_messages_stop_and_repetition_penalty():
    body = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                         {"role": "assistant", "content": "Hello!"},
                         {"role": "user", "content": [{"type": "text", "text": "What is "},
                                                      {"type": "text", "text": "RSS?"}]}],
            "stop": ["\n\n", "###"], "repetition_penalty": 1.2}
    params = parse(body)
    assert params.prompt == "What is RSS?"  # the turn being answered
    assert params.chat()[0] == {"role": "system", "content": "Be brief."} and len(params.chat()) == 4
    assert params.stop == ("\n\n", "###") and params.repetition_penalty == 1.2
    assert params.to_dict()["messages"] == params.chat()
    assert parse({"prompt": "hi", "stop": "END"}).stop == ("END",)
    assert parse({"prompt": "hi"}).chat() == [{"role": "user", "content": "hi"}]
