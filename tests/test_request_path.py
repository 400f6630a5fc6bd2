"""The request path's numbers: queue wait, token counts without the end-of-turn token, whole characters at a
cut, stop strings, chat messages and the templated prompt, on the demo model's real tokenizer."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from healthmon.params import GenerationParams, InvalidRequest, parse_generate_body
from healthmon.records import RequestRecord, build_record
from healthmon.runtime.engine import ModelRuntime, releasable_text
from healthmon.runtime.generate import cut_at_stop, decode_whole_characters, render_prompt, run_generation
from healthmon.runtime.loader import LoadedModel, load_checkpoint
from healthmon.runtime.sources import ModelSpec
from healthmon.tracing import Trace


class ManualClock:
    """A clock that moves only when told, so a wait is an exact number in the record."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class ScriptedModel(torch.nn.Module):
    """Emits a fixed list of token ids through the streamer, as model.generate does, one clock tick each."""

    def __init__(self, script: list[int], eos_id: int, clock: ManualClock, seconds_per_token: float = 0.5) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.script, self.clock, self.seconds_per_token = script, clock, seconds_per_token
        self.config = type("Config", (), {"max_position_embeddings": 4096})()
        self.generation_config = type("GenerationConfig", (), {"eos_token_id": eos_id})()
        self.calls: list[dict[str, Any]] = []

    def generate(self, inputs: torch.Tensor, *, streamer: Any, max_new_tokens: int, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        streamer.put(inputs)
        for token in self.script[:max_new_tokens]:
            self.clock.now += self.seconds_per_token
            streamer.put(torch.tensor([token]))


@pytest.fixture(scope="module")
def tokenizer(demo_model_dir):
    return load_checkpoint(demo_model_dir).tokenizer


def generate_scripted(tokenizer, script: list[int], params: GenerationParams) -> tuple[RequestRecord, Any]:
    clock = ManualClock()
    model = ScriptedModel(script, tokenizer.eos_token_id, clock)
    trace = Trace(clock=clock)
    outcome = run_generation(model, tokenizer, params, trace, max_new_tokens_cap=1024)
    return build_record(trace, params, "api", False, "ok", "demo", outcome, None, quality=None), model


def test_the_end_of_turn_token_is_neither_counted_nor_timed(tokenizer):
    answer = tokenizer("Paris is the capital.", add_special_tokens=False)["input_ids"]
    record, model = generate_scripted(tokenizer, answer + [tokenizer.eos_token_id],
                                      GenerationParams("Capital of France?"))
    assert record.response == "Paris is the capital."
    assert record.output_tokens == len(answer)  # not len(answer) + 1
    assert record.finish_reason == "stop"
    # Each token takes 0.5 s on the scripted clock: tokens/s is the answer's tokens over the time they took.
    assert record.tokens_per_second == pytest.approx(2.0)
    assert record.inter_token_latency_seconds == pytest.approx(0.5)


def test_an_answer_cut_at_max_new_tokens_ends_in_whole_characters(tokenizer):
    ids = tokenizer("北京是中国的首都，长城很长。", add_special_tokens=False)["input_ids"]
    cut = max(n for n in range(1, len(ids)) if tokenizer.decode(ids[:n]).endswith("\ufffd"))
    record, model = generate_scripted(tokenizer, ids, GenerationParams("介绍北京", max_new_tokens=cut))
    assert record.finish_reason == "length" and record.output_tokens == cut
    assert record.response and "\ufffd" not in record.response
    assert "北京是中国的首都，长城很长。".startswith(record.response)
    assert decode_whole_characters(tokenizer, ids) == "北京是中国的首都，长城很长。"


def test_a_stop_string_ends_the_answer_before_it(tokenizer):
    ids = tokenizer("one two three END four", add_special_tokens=False)["input_ids"]
    params = parse_generate_body({"prompt": "count", "stop": ["END"]}, max_new_tokens_cap=64, max_prompt_chars=100)
    record, model = generate_scripted(tokenizer, ids, params)
    assert record.response == "one two three " and record.finish_reason == "stop"
    assert model.calls[0]["stop_strings"] == ["END"]  # and transformers stops generating there
    assert cut_at_stop("a b", ("x",)) == ("a b", False)


def test_streamed_text_never_shows_a_stop_string():
    assert releasable_text("Hello wor", ("world",)) == "Hello "
    assert releasable_text("Hello world!", ("world",)) == "Hello "
    assert releasable_text("no stops", ()) == "no stops"
    assert releasable_text("ab\n", ("\n\n",)) == "ab"


def test_messages_reach_the_model_through_its_chat_template(tokenizer):
    params = parse_generate_body({"messages": [{"role": "system", "content": "You are terse."},
                                               {"role": "user", "content": "Hi"},
                                               {"role": "assistant", "content": "Hello."},
                                               {"role": "user", "content": "What is RSS?"}],
                                  "repetition_penalty": 1.3}, max_new_tokens_cap=64, max_prompt_chars=1000)
    text, templated = render_prompt(tokenizer, params)
    assert templated and text.index("You are terse.") < text.index("Hi") < text.index("Hello.") < text.index("RSS?")
    record, model = generate_scripted(tokenizer, [tokenizer.eos_token_id], params)
    assert record.prompt_text == text and record.prompt == "What is RSS?"
    assert record.prompt_tokens == len(tokenizer(text, add_special_tokens=False)["input_ids"])
    assert model.calls[0]["repetition_penalty"] == 1.3
    assert record.params["messages"][0] == {"role": "system", "content": "You are terse."}


def test_a_template_that_refuses_the_messages_is_a_client_error(tokenizer):
    class Strict:
        chat_template = "strict"

        def apply_chat_template(self, *args, **kwargs):
            raise ValueError("Conversation roles must alternate user/assistant/user/assistant")

    params = GenerationParams("b", messages=())
    with pytest.raises(InvalidRequest, match="chat template refused"):
        render_prompt(Strict(), params)


def test_queue_seconds_is_the_wait_behind_a_running_request(demo_model_dir):
    """Of two requests, the second waits for the step that runs the first (here a canary probe's prefill): its queue
    time is that wait, up to the step that first carries it."""
    clock = ManualClock()
    entered, release = threading.Event(), threading.Event()
    real = load_checkpoint(demo_model_dir)

    class HeldModel(torch.nn.Module):  # the demo model, held inside its forward pass until the test lets it go
        def __init__(self) -> None:
            super().__init__()
            self.inner = real.model
            self.config, self.generation_config = real.model.config, real.model.generation_config

        holding = False  # from after the load (whose check of the batch's forward arguments runs it once)

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            if self.holding:
                entered.set()
                assert release.wait(30)
            return self.inner(*args, **kwargs)

    records: list[dict] = []
    runtime = ModelRuntime(ModelSpec("demo", ""), demo_dir=demo_model_dir, models_dir=demo_model_dir,
                           sink=SimpleNamespace(record=records.append), resolver=lambda spec, **_: demo_model_dir,
                           loader=lambda path, **_: LoadedModel(HeldModel(), real.tokenizer, path, "cpu", "float32"),
                           clock=clock, measure_quality=False)
    try:
        assert runtime.load()
        runtime._loaded.model.holding = True
        probe = runtime.stream(GenerationParams("canary", max_new_tokens=2, temperature=0), source="probe",
                               synthetic=True, only_if_idle=True, want_text=False)
        assert entered.wait(30)
        waiting = runtime.stream(GenerationParams("user", max_new_tokens=2, temperature=0), want_text=False)
        clock.now += 2.5  # the probe runs for 2.5 s while the user request waits
        release.set()
        assert probe.result(30).queue_seconds == 0
        assert waiting.result(30).queue_seconds == pytest.approx(2.5)
    finally:
        release.set()
        runtime.close()
