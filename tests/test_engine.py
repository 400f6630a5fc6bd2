"""The instrumented runtime on the real demo model: timings, token counts, finish reasons, queueing, faults."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from healthmon.generate_service import GenerateLimits, GenerateService
from healthmon.params import GenerationParams, InvalidRequest
from healthmon.probe import CanaryProbe
from healthmon.ratelimit import RateLimiter
from healthmon.runtime.engine import ModelNotReady, ModelRuntime, RuntimeBusy
from healthmon.runtime.generate import encode_prompt
from healthmon.runtime.sources import ModelSourceError, ModelSpec


def make_runtime(model_dir: Path, records: list, **kwargs) -> ModelRuntime:
    resolver = kwargs.pop("resolver", lambda spec, **_: model_dir)
    return ModelRuntime(ModelSpec("demo", ""), demo_dir=model_dir, models_dir=model_dir,
                        sink=SimpleNamespace(record=records.append), resolver=resolver, **kwargs)


@pytest.fixture(scope="module")
def loaded(demo_model_dir):
    records: list = []
    runtime = make_runtime(demo_model_dir, records)
    assert runtime.load()
    return runtime, records


def test_load_reports_model_facts(loaded):
    runtime, _ = loaded
    info = runtime.info()
    facts = info.facts
    assert info.status == "loaded" and info.is_demo is True and facts.is_demo is True
    assert facts.parameters > 100_000 and facts.memory_footprint_bytes > 0
    assert facts.device == "cpu" and facts.dtype == "float32"
    assert info.load_seconds > 0 and facts.architecture


def test_greedy_generation_is_measured_in_tokens(loaded):
    runtime, records = loaded
    record = runtime.generate(GenerationParams("Tell me about memory.", max_new_tokens=12, temperature=0))
    assert records[-1] is record
    tokenizer = runtime._loaded.tokenizer
    assert record.status == "ok"
    assert record.prompt_tokens == len(encode_prompt(tokenizer, "Tell me about memory."))
    assert 1 <= record.output_tokens <= 12
    assert record.finish_reason in ("stop", "length")
    assert "Tell me about memory." not in record.response
    assert 0 < record.ttft_seconds <= record.latency_seconds
    assert record.tokens_per_second > 0
    assert [s["name"] for s in record.spans] == ["queue", "tokenize", "prefill", "decode", "detokenize"]
    offsets = [s["start_offset_seconds"] for s in record.spans]
    assert offsets == sorted(offsets)


def test_length_finish_reason_when_the_cap_is_hit(loaded):
    runtime, _ = loaded
    record = runtime.generate(GenerationParams("The CPU", max_new_tokens=3, temperature=0))
    eos = runtime._loaded.tokenizer.eos_token
    assert record.output_tokens <= 3
    if record.output_tokens == 3:
        assert record.finish_reason in ("length", "stop")
    assert eos not in record.response


def test_streamed_text_equals_blocking_text_for_greedy(loaded):
    runtime, _ = loaded
    params = GenerationParams("写一句关于天气的话。", max_new_tokens=20, temperature=0)
    blocking = runtime.generate(params).response
    stream = runtime.stream(params, source="ui")
    streamed = "".join(stream)
    assert streamed == blocking == stream.result().response


def test_sampling_with_a_seed_is_reproducible(loaded):
    runtime, _ = loaded
    params = GenerationParams("Latency is", max_new_tokens=10, temperature=0.9, top_p=0.95, seed=7)
    assert runtime.generate(params).response == runtime.generate(params).response


def test_prompt_beyond_the_context_is_a_client_error(loaded):
    runtime, records = loaded
    context = runtime.info().facts.context_tokens
    with pytest.raises(InvalidRequest, match="context"):
        runtime.generate(GenerationParams("word " * context, max_new_tokens=10))
    assert records[-1].status == "rejected"


def _hold_forward(model, release: threading.Event) -> None:
    """Every forward pass of the model waits for `release`: requests stay where they are meanwhile."""
    original = model.forward

    def held(*args, **kwargs):
        release.wait(30)
        return original(*args, **kwargs)

    model.forward = held


@pytest.mark.parametrize("max_batch", [1, 2])
def test_bounded_queue_rejects_with_busy(demo_model_dir, max_batch):
    """max_batch requests run, queue_max wait; the next is refused as busy."""
    records: list = []
    runtime = make_runtime(demo_model_dir, records, queue_max=1, max_batch=max_batch)
    runtime.load()
    release = threading.Event()
    _hold_forward(runtime._loaded.model, release)
    admitted = [runtime.stream(GenerationParams(f"request {i}", max_new_tokens=2), want_text=False)
                for i in range(max_batch + 1)]
    with pytest.raises(RuntimeBusy, match="queue is full"):
        runtime.generate(GenerationParams("one too many", max_new_tokens=2))
    release.set()
    assert [stream.result(30).status for stream in admitted] == ["ok"] * (max_batch + 1)
    assert [r.status for r in records] == ["ok"] * (max_batch + 1)  # a refusal at admission is the service's


def test_not_loaded_is_refused_at_admission(demo_model_dir):
    records: list = []
    runtime = make_runtime(demo_model_dir, records)
    with pytest.raises(ModelNotReady, match="not loaded"):
        runtime.generate(GenerationParams("hi"))
    assert records == []  # refused before admission: the generate service records it


def test_failed_load_is_an_error_state_that_can_be_retried(demo_model_dir):
    records: list = []
    calls = []

    def resolver(spec, **_):
        calls.append(spec)
        if len(calls) == 1:
            raise ModelSourceError("could not download X: offline")
        return demo_model_dir

    runtime = make_runtime(demo_model_dir, records, resolver=resolver)
    assert runtime.load() is False
    assert runtime.info().status == "error" and "offline" in runtime.info().error
    assert runtime.load() is True and runtime.info().status == "loaded"


def test_out_of_memory_during_generation_fails_one_request_only(demo_model_dir):
    records: list = []
    runtime = make_runtime(demo_model_dir, records)
    runtime.load()
    model = runtime._loaded.model
    model.forward = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("CUDA out of memory. Tried"))
    with pytest.raises(RuntimeError):
        runtime.generate(GenerationParams("hi", max_new_tokens=2))
    assert records[-1].status == "error" and records[-1].error.startswith("out of memory")
    del model.forward  # the class's own forward again
    assert runtime.generate(GenerationParams("hi", max_new_tokens=2)).status == "ok"


def test_abandoned_stream_cancels_generation(loaded):
    runtime, _ = loaded
    stream = runtime.stream(GenerationParams("Monitoring", max_new_tokens=200, temperature=0.8, seed=1))
    iterator = iter(stream)
    next(iterator, None)
    iterator.close()
    record = stream.result(30)
    assert record.output_tokens < 200 or record.finish_reason in ("stop", "length")


def test_canary_probe_is_synthetic_and_yields_to_users(loaded):
    runtime, records = loaded
    service = GenerateService(runtime, SimpleNamespace(record=records.append), RateLimiter(0, 1),
                              GenerateLimits(64, 1000))
    probe = CanaryProbe(service, interval_seconds=60)
    record = probe.probe_once()
    assert record.synthetic is True and record.source == "probe"
    assert record.params["temperature"] == 0.0
    runtime.queued += 1  # pretend a user request is waiting
    try:
        before = len(records)
        assert probe.probe_once() is None and probe.skipped_busy == 1
        assert len(records) == before  # a skipped probe is no request: nothing recorded
    finally:
        runtime.queued -= 1
