"""The Generate page's conversation logic: what the model is sent, turn by turn."""

from healthmon.quality.metrics import RELEVANCE_PENDING
from healthmon.ui.chat import Turn, context, parse_stop_field, relevance_pending, request_body


def test_only_answered_exchanges_reach_the_model():
    turns = [Turn("user", "a"), Turn("assistant", "A", "t1"),
             Turn("user", "refused", error="Invalid request"),  # refused: no answer
             Turn("user", "b"), Turn("assistant", "partial", "t2", error="Generation failed"),
             Turn("user", "left mid-stream"),  # the viewer left: no answer ever came
             Turn("user", "c")]
    assert context(turns) == [{"role": "user", "content": "a"}, {"role": "assistant", "content": "A"},
                              {"role": "user", "content": "c"}]


def test_the_body_is_the_apis_own_fields():
    body = request_body([Turn("user", "hi")], "Be brief.", {"max_new_tokens": 8, "temperature": 0.0, "stop": ""})
    assert body == {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
                    "max_new_tokens": 8, "temperature": 0.0}
    assert "stop" not in body and request_body([Turn("user", "hi")], "  ", {})["messages"][0]["role"] == "user"
    assert request_body([Turn("user", "hi")], "", {"stop": "END\n\\n\\n"})["stop"] == ["END", "\n\n"]


def test_stop_field_escapes():
    assert parse_stop_field("a\\tb\n\n\\\\n\nx") == ["a\tb", "\\n", "x"]


def test_relevance_pending():
    assert relevance_pending({"status": "ok", "quality": {"relevance": None, "relevance_reason": RELEVANCE_PENDING}})
    assert not relevance_pending({"status": "ok", "quality": {"relevance": 0.5, "relevance_reason": None}})
    assert not relevance_pending({"status": "ok", "quality": {"relevance": None, "relevance_reason": "off"}})
    assert not relevance_pending(None) and not relevance_pending({"status": "error"})
