"""Continuous batching on the real demo model: requests that join and leave a running batch get the answer each
would get alone, with their own parameters, stop strings, token budgets, timings and log-probabilities."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from healthmon.params import GenerationParams
from healthmon.quality.metrics import answer_quality
from healthmon.runtime.engine import ModelRuntime
from healthmon.runtime.generate import run_generation
from healthmon.runtime.sources import ModelSpec
from healthmon.tracing import Trace

REQUESTS = [  # different prompts, lengths, sampling and penalties: each must not change the others
    GenerationParams("Tell me about memory.", max_new_tokens=40, temperature=0),
    GenerationParams("写一句关于天气的话。", max_new_tokens=25, temperature=0),
    GenerationParams("Latency is", max_new_tokens=30, temperature=0.9, top_p=0.95, seed=7),
    GenerationParams("A long list of numbers: one two three", max_new_tokens=12, temperature=0,
                     repetition_penalty=1.3),
    GenerationParams("GPU", max_new_tokens=35, temperature=0.7, top_p=0.8, seed=11, repetition_penalty=1.1),
]


def make_runtime(model_dir, records, **kwargs) -> ModelRuntime:
    runtime = ModelRuntime(ModelSpec("demo", ""), demo_dir=model_dir, models_dir=model_dir,
                           sink=SimpleNamespace(record=records.append), resolver=lambda spec, **_: model_dir,
                           **kwargs)
    assert runtime.load()
    return runtime


@pytest.fixture(scope="module")
def runtime_and_records(demo_model_dir):
    records: list = []
    runtime = make_runtime(demo_model_dir, records, max_batch=8)
    yield runtime, records
    runtime.close()


@pytest.fixture(scope="module")
def alone(runtime_and_records):
    """Each request's answer when it runs by itself."""
    runtime, _ = runtime_and_records
    return [runtime.generate(params) for params in REQUESTS]


def _run_together(runtime, requests, *, hold_first: bool = True):
    """Start the first request, let it produce a token, then start the rest while it decodes."""
    first = runtime.stream(requests[0])
    pieces = iter(first)
    started = [next(pieces)] if hold_first else []
    others = [runtime.stream(params, want_text=False) for params in requests[1:]]
    text = "".join(started) + "".join(pieces)
    return [first.result(30), *[stream.result(60) for stream in others]], text


def test_requests_that_join_mid_decode_get_the_answer_they_get_alone(runtime_and_records, alone):
    runtime, _ = runtime_and_records
    together, streamed = _run_together(runtime, REQUESTS)
    assert [r.response for r in together] == [r.response for r in alone]
    assert [r.output_tokens for r in together] == [r.output_tokens for r in alone]
    assert [r.finish_reason for r in together] == [r.finish_reason for r in alone]
    assert streamed == together[0].response  # the first one streamed token by token meanwhile
    joined = [next(s for s in r.spans if s["name"] == "prefill")["attributes"]["batch_size"] for r in together[1:]]
    assert max(joined) > 1  # they did run in one batch


def test_greedy_answers_equal_transformers_generate(runtime_and_records, alone):
    """The batch's decode loop against transformers' own generate() on the same model."""
    runtime, _ = runtime_and_records
    loaded = runtime._loaded
    for params, record in zip(REQUESTS, alone, strict=True):
        if params.greedy:
            outcome = run_generation(loaded.model, loaded.tokenizer, params, Trace(), max_new_tokens_cap=1024,
                                     measure_logprobs=True)
            assert outcome.text == record.response
            # the one-request path finds the same first sentence, and reads the same claim
            claim = answer_quality(params.prompt, outcome)["first_sentence_nll"]
            assert claim == pytest.approx(record.quality["first_sentence_nll"], rel=1e-3)


def test_log_probabilities_are_each_requests_own(runtime_and_records, alone):
    runtime, _ = runtime_and_records
    together, _ = _run_together(runtime, REQUESTS)
    for batched, single in zip(together, alone, strict=True):
        assert batched.quality["perplexity"] == pytest.approx(single.quality["perplexity"], rel=1e-3)
        assert batched.quality["mean_token_entropy"] == pytest.approx(single.quality["mean_token_entropy"], rel=1e-3)
        # the low_confidence signal: the same first sentence found in the same tokens, on both paths
        claim = batched.quality["first_sentence_nll"]
        assert claim == pytest.approx(single.quality["first_sentence_nll"], rel=1e-3)
        assert 0 < claim <= -batched.quality["sequence_logprob"] + 1e-3


def test_a_stop_string_ends_one_request_and_not_its_batch_mates(runtime_and_records, alone):
    runtime, _ = runtime_and_records
    words = alone[0].response.split()
    assert len(words) > 4, alone[0].response
    stop = words[3]
    stopped = GenerationParams(REQUESTS[0].prompt, max_new_tokens=40, temperature=0, stop=(stop,))
    together, _ = _run_together(runtime, [REQUESTS[1], stopped, *REQUESTS[2:]])
    assert together[1].response == alone[0].response[:alone[0].response.index(stop)]
    assert together[1].finish_reason == "stop" and stop not in together[1].response
    assert [r.response for r in together[2:]] == [r.response for r in alone[2:]]
    assert together[0].response == alone[1].response


def test_a_client_that_leaves_mid_batch_frees_its_row_and_changes_no_one_else(runtime_and_records, alone):
    runtime, _ = runtime_and_records
    leaving = runtime.stream(GenerationParams("Monitoring", max_new_tokens=200, temperature=0.8, seed=1))
    pieces = iter(leaving)
    next(pieces)
    others = [runtime.stream(params, want_text=False) for params in REQUESTS]
    pieces.close()  # the client went away
    assert leaving.result(30).finish_reason == "cancelled" and leaving.result().output_tokens < 200
    assert [s.result(60).response for s in others] == [r.response for r in alone]
    assert runtime.info().in_flight == 0 and runtime.info().queued == 0


def test_timings_are_each_requests_own(runtime_and_records):
    """A request's queue time runs to the step that first carries it, TTFT from its own arrival, and its tokens
    per second over its own time, whatever its batch-mates do."""
    runtime, _ = runtime_and_records
    together, _ = _run_together(runtime, REQUESTS)
    for record in together:
        spans = {s["name"]: s for s in record.spans}
        assert record.queue_seconds == pytest.approx(spans["queue"]["duration_seconds"], abs=1e-6)
        prefill_start = spans["prefill"]["start_offset_seconds"]
        assert spans["queue"]["start_offset_seconds"] == pytest.approx(0.0, abs=1e-3)  # admission
        assert record.ttft_seconds == pytest.approx(prefill_start + spans["prefill"]["duration_seconds"], abs=1e-5)
        decode = spans["decode"]["duration_seconds"]
        if record.output_tokens > 1:
            assert record.inter_token_latency_seconds == pytest.approx(decode / (record.output_tokens - 1), rel=1e-3)


def test_more_requests_than_rows_wait_their_turn_and_all_finish(demo_model_dir):
    records: list = []
    runtime = make_runtime(demo_model_dir, records, max_batch=2, queue_max=8)
    release = threading.Event()
    original = runtime._loaded.model.forward
    seen_rows: list[int] = []

    def counted(*args, **kwargs):
        release.wait(30)
        seen_rows.append(kwargs["input_ids"].shape[0])
        return original(*args, **kwargs)

    runtime._loaded.model.forward = counted
    streams = [runtime.stream(GenerationParams(f"Request {i}", max_new_tokens=6, temperature=0), want_text=False)
               for i in range(5)]
    info = runtime.info()
    assert info.in_flight + info.queued == 5
    release.set()
    assert [s.result(60).status for s in streams] == ["ok"] * 5
    assert max(seen_rows) <= 2
    info = runtime.info()
    counters = info.scheduler.counters
    assert counters.decode_steps_total > 0 and counters.decode_step_requests_total >= counters.decode_steps_total
    assert info.in_flight == info.queued == 0 and info.scheduler.max_batch == 2 and info.scheduler.batching is True
    runtime.close()


def test_a_small_kv_cache_makes_requests_wait_for_room(demo_model_dir):
    records: list = []
    runtime = make_runtime(demo_model_dir, records, max_batch=4, kv_cache_tokens=80)
    params = [GenerationParams(f"Cache {i}", max_new_tokens=30, temperature=0) for i in range(3)]
    results = [s.result(60) for s in [runtime.stream(p, want_text=False) for p in params]]
    assert all(r.status == "ok" for r in results)
    info = runtime.info()
    assert info.scheduler.counters.kv_cache_deferred_total >= 1 and info.scheduler.kv_cache_capacity_tokens == 80
    too_big = runtime.stream(GenerationParams("x", max_new_tokens=100), want_text=False)
    assert too_big.done.wait(30) and "KV cache" in str(too_big.error)
    assert records[-1].status == "rejected"
    runtime.close()


def test_many_streams_read_on_the_event_loop_hold_no_executor_thread(runtime_and_records, alone):
    """Twelve local streams read on one event loop (as /v1 reads them): each is woken by the worker, none waits on
    a thread of the loop's executor (6 of them on 2 cores: with a thread each, the seventh stream starved)."""
    import asyncio

    runtime, _ = runtime_and_records
    requests_ = [REQUESTS[i % len(REQUESTS)] for i in range(12)]

    async def read_all() -> list[str]:
        loop = asyncio.get_running_loop()

        def no_executor(*args, **kwargs):
            raise AssertionError("a stream waited on an executor thread")

        loop.run_in_executor = no_executor  # type: ignore[method-assign]
        streams = [runtime.stream(params, on_event_loop=True) for params in requests_]

        async def read(stream) -> str:
            return "".join([delta async for delta in stream.aiter()])

        return await asyncio.gather(*(read(stream) for stream in streams))

    texts = asyncio.run(read_all())
    assert texts == [alone[i % len(REQUESTS)].response for i in range(12)]


def test_a_newcomer_whose_prefill_fails_ends_alone_and_the_batch_goes_on(demo_model_dir):
    """Out of memory in a joining request's prefill: it ends as an error, the running request is not touched."""
    records: list = []
    runtime = make_runtime(demo_model_dir, records, max_batch=4)
    running = runtime.stream(REQUESTS[0])
    pieces = iter(running)
    next(pieces)  # it decodes now
    model = runtime._loaded.model
    original = model.forward

    def no_room_for_prefills(*args, **kwargs):
        if kwargs["input_ids"].shape[1] > 1:  # a prefill, not a decode step
            raise RuntimeError("CUDA out of memory. Tried to allocate")
        return original(*args, **kwargs)

    model.forward = no_room_for_prefills
    joining = runtime.stream(GenerationParams("a newcomer", max_new_tokens=8), want_text=False)
    assert joining.done.wait(60) and "out of memory" in joining.record.error
    del model.forward
    "".join(pieces)
    assert running.result(60).status == "ok" and running.result().finish_reason in ("stop", "length")
    assert [r.status for r in records] == ["error", "ok"]
    assert runtime.info().in_flight == runtime.info().queued == 0
    runtime.close()


def test_a_request_whose_client_left_while_it_waited_never_runs(demo_model_dir):
    records: list = []
    runtime = make_runtime(demo_model_dir, records, max_batch=1)
    release = threading.Event()
    original = runtime._loaded.model.forward
    runtime._loaded.model.forward = lambda *a, **k: (release.wait(30), original(*a, **k))[1]
    first = runtime.stream(GenerationParams("first", max_new_tokens=4), want_text=False)
    left = runtime.stream(GenerationParams("second", max_new_tokens=4), want_text=False)
    left.cancel()
    release.set()
    assert first.result(60).status == "ok"
    record = left.result(60)
    assert record.status == "ok" and record.finish_reason == "cancelled" and record.output_tokens == 0
    assert runtime.info().queued == 0
    runtime.close()


def test_a_sampled_request_keeps_to_the_top_k_generate_would_use():
    """generate() samples from the model's top_k (transformers' default 50 when its config sets none): so does the
    batch, or a sampled answer's tokens would come from a wider set than on the one-at-a-time path."""
    import torch

    from healthmon.runtime.batching import Sampler, sampling_top_k

    assert sampling_top_k(SimpleNamespace(generation_config=SimpleNamespace(top_k=None))) == 50
    assert sampling_top_k(SimpleNamespace(generation_config=SimpleNamespace(top_k=0))) == 0
    logits = torch.tensor([5.0, 4.9, 4.8, 4.7, -1.0])
    params = GenerationParams("x", temperature=5.0, top_p=1.0, seed=1)
    top_two, every = Sampler(params, torch.device("cpu"), top_k=2), Sampler(params, torch.device("cpu"), top_k=0)
    assert {top_two.choose(logits) for _ in range(200)} == {0, 1}
    assert {0, 1, 2, 3} <= {every.choose(logits) for _ in range(200)}


def test_newcomers_that_arrive_during_a_prefill_join_before_the_next_step_but_never_hold_two(runtime_and_records):
    """A prefill that saw more requests arrive leaves its decode step for the next turn, so they join first (one
    prefill to their first token, not a prefill and a step); the turn after always steps."""
    import threading as _threading

    from healthmon.runtime.scheduler import BatchScheduler, SchedulerCounters
    from healthmon.runtime.stream import GenerationStream

    runtime, _ = runtime_and_records
    loaded = runtime._loaded
    finished = []
    scheduler = BatchScheduler(loaded.model, loaded.tokenizer, max_batch=4, kv_cache_tokens=1 << 20,
                               max_new_tokens_cap=64, clock=runtime._clock, counters=SchedulerCounters(),
                               figures=_threading.Lock(), finish=lambda stream, outcome, error, **_: finished.append(
                                   (stream, outcome, error)), on_admitted=lambda n: None, on_left=lambda n: None)

    def arrive(prompt):
        stream = GenerationStream(loaded.tokenizer, GenerationParams(prompt, max_new_tokens=20, temperature=0),
                                  Trace(), "api", False, False)
        scheduler.waiting.append(stream)
        return stream

    arrive("Tell me about memory.")
    scheduler.run_once(arrived_meanwhile=lambda: True)  # joined, and someone came: no step yet
    assert [len(row.token_ids) for row in scheduler.batch.rows] == [1]
    arrive("GPU")
    scheduler.run_once(arrived_meanwhile=lambda: True)  # joins, then steps: never two turns without a step
    assert sorted(len(row.token_ids) for row in scheduler.batch.rows) == [2, 2]
    scheduler.run_once(arrived_meanwhile=lambda: True)  # nobody joined: a plain step
    assert sorted(len(row.token_ids) for row in scheduler.batch.rows) == [3, 3]
    arrive("Latency is")
    scheduler.run_once(arrived_meanwhile=lambda: False)  # nobody came during the prefill: it steps at once
    assert sorted(len(row.token_ids) for row in scheduler.batch.rows) == [2, 4, 4]
