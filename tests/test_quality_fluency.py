"""Perplexity from the generation's own logits, on the real demo model: equal to one explicit forward pass."""

from __future__ import annotations

import math
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from healthmon.params import GenerationParams
from healthmon.quality.fluency import TokenLogprobRecorder
from healthmon.quality.uncertainty import uncertainty
from healthmon.runtime.engine import ModelRuntime
from healthmon.runtime.generate import TokenTimingStreamer, encode_prompt, run_generation
from healthmon.runtime.loader import load_checkpoint
from healthmon.runtime.sources import ModelSpec
from healthmon.tracing import Trace


@pytest.fixture(scope="module")
def loaded(demo_model_dir):
    return load_checkpoint(demo_model_dir, device="cpu")


def generate(loaded, params: GenerationParams, measure: bool) -> tuple[list[int], object]:
    token_ids: list[int] = []
    outcome = run_generation(loaded.model, loaded.tokenizer, params, Trace(), max_new_tokens_cap=64,
                             token_sink=token_ids.extend, measure_logprobs=measure)
    return token_ids, outcome


def reference_logprobs(loaded, prompt: str, token_ids: list[int]) -> list[float]:
    """Each output token's log-probability from one forward pass over prompt + output."""
    prompt_ids = encode_prompt(loaded.tokenizer, prompt)
    with torch.inference_mode():
        logits = loaded.model(torch.tensor([prompt_ids + token_ids])).logits[0].float()
    logprobs = torch.log_softmax(logits, dim=-1)
    return [logprobs[len(prompt_ids) - 1 + i, token].item() for i, token in enumerate(token_ids)]


@pytest.mark.parametrize("params", [
    GenerationParams("Why does memory matter?", max_new_tokens=40, temperature=0),
    GenerationParams("内存为什么重要？", max_new_tokens=40, temperature=1.3, top_p=0.8, seed=5),
], ids=["greedy", "sampled"])
def test_logprobs_from_generation_equal_one_forward_pass(loaded, params):
    """Sampled too: the recorder reads the raw distribution, before temperature and top-p."""
    token_ids, outcome = generate(loaded, params, measure=True)
    assert token_ids and len(outcome.token_logprobs) == len(token_ids)
    expected = reference_logprobs(loaded, params.prompt, token_ids)
    assert outcome.token_logprobs == pytest.approx(expected, abs=1e-4)
    perplexity = math.exp(-sum(expected) / len(expected))
    assert uncertainty(outcome.token_logprobs, None)["perplexity"] == pytest.approx(perplexity, rel=1e-4)


def test_only_one_float_per_token_is_kept(loaded):
    """No vocabulary-sized tensor survives a step: each kept log-probability owns a storage of one float."""
    recorder = TokenLogprobRecorder(loaded.model)
    ids = torch.tensor([encode_prompt(loaded.tokenizer, "Why does memory matter?")])
    with torch.inference_mode(), recorder:
        loaded.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, do_sample=False,
                              pad_token_id=loaded.tokenizer.pad_token_id,
                              streamer=TokenTimingStreamer(time.perf_counter, None, recorder))
    kept = recorder._logprobs
    assert kept and all(t.untyped_storage().nbytes() == 4 for t in kept)
    assert len(recorder.token_logprobs()) == len(kept)


def test_greedy_output_is_the_same_with_quality_on_and_off(loaded):
    params = GenerationParams("What is latency?", max_new_tokens=48, temperature=0)
    on_ids, on = generate(loaded, params, measure=True)
    off_ids, off = generate(loaded, params, measure=False)
    assert on_ids == off_ids and on.text == off.text
    assert off.token_logprobs is None


def test_output_embeddings_are_restored_after_generation_even_when_it_fails(loaded):
    head = loaded.model.get_output_embeddings()
    params = GenerationParams("CPU", max_new_tokens=4, temperature=0)
    generate(loaded, params, measure=True)
    assert "forward" not in head.__dict__
    original = loaded.model.generate
    loaded.model.generate = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom"))
    try:
        with pytest.raises(RuntimeError, match="boom"):
            generate(loaded, params, measure=True)
    finally:
        loaded.model.generate = original
    assert "forward" not in head.__dict__
    calls = []

    def wrapped_by_someone_else(*args, **kwargs):  # accelerate puts its own wrapper there
        calls.append(1)
        return type(head).forward(head, *args, **kwargs)

    head.forward = wrapped_by_someone_else
    try:
        token_ids, outcome = generate(loaded, params, measure=True)
        assert head.__dict__["forward"] is wrapped_by_someone_else and calls
        assert len(outcome.token_logprobs) == len(token_ids)
    finally:
        del head.forward


def test_runtime_records_carry_quality_only_when_measured(demo_model_dir: Path):
    def runtime(measure: bool) -> ModelRuntime:
        instance = ModelRuntime(ModelSpec("demo", ""), demo_dir=demo_model_dir, models_dir=demo_model_dir,
                                sink=SimpleNamespace(record=lambda record: None),
                                resolver=lambda spec, **_: demo_model_dir, measure_quality=measure)
        assert instance.load()
        return instance

    params = GenerationParams("Tell me about memory.", max_new_tokens=12, temperature=0)
    measured = runtime(True).generate(params)
    quality = measured.quality
    assert quality["perplexity"] >= 1.0 and quality["mean_logprob"] <= 0.0
    assert quality["language_match"] is True and quality["relevance_reason"] == "pending"
    assert {"relevance", "repetition_rate", "distinct_2", "quality_score"} <= quality.keys()
    unmeasured = runtime(False).generate(params)
    assert unmeasured.quality is None and unmeasured.response == measured.response
