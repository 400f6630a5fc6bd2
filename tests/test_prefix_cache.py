"""The prefix cache: which prompt beginnings it keeps and hands out (pure), and on the real demo model, that a
request built on a cached prefix gets the answer it gets without one, and that the scheduler counts the reuse."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
import torch

from healthmon.params import GenerationParams
from healthmon.runtime.batching import PaddedBatch, Row, Sampler
from healthmon.runtime.engine import ModelRuntime
from healthmon.runtime.generate import _encode
from healthmon.runtime.prefix_cache import MIN_REUSE_TOKENS, PrefixCache
from healthmon.runtime.sources import ModelSpec


def kv(ids):
    """Two layers of keys and values whose every position holds its token id: what was copied is visible."""
    values = torch.tensor(ids, dtype=torch.float32).view(1, 1, len(ids), 1)
    return [(values.clone(), -values.clone()) for _ in range(2)]


SYSTEM = list(range(100, 120))  # a 20-token shared beginning, as a chat template's system turn


def test_a_prompt_reuses_the_longest_prefix_it_shares_and_always_runs_its_last_token():
    cache = PrefixCache(1000)
    cache.offer(SYSTEM + [1, 2, 3], kv(SYSTEM + [1, 2, 3]))
    cache.offer(SYSTEM + [1, 2, 9, 9], kv(SYSTEM + [1, 2, 9, 9]))
    hit = cache.lookup(SYSTEM + [1, 2, 9, 5])
    assert hit is not None and hit.length == len(SYSTEM) + 3
    keys, values = hit.prefix.head(hit.length)[1]
    assert keys.flatten().tolist() == SYSTEM + [1, 2, 9]
    assert values.flatten().tolist() == [-x for x in SYSTEM + [1, 2, 9]]
    same = cache.lookup(SYSTEM + [1, 2, 3])  # a prompt met before: all but its last token
    assert same is not None and same.length == len(SYSTEM) + 2


def test_too_short_a_shared_beginning_is_no_hit():
    cache = PrefixCache(1000)
    cache.offer(SYSTEM, kv(SYSTEM))
    assert cache.lookup(SYSTEM[:MIN_REUSE_TOKENS - 1] + [7, 7]) is None
    assert cache.lookup([5] + SYSTEM) is None
    assert cache.lookup(SYSTEM[:MIN_REUSE_TOKENS] + [7]) is not None


def test_offers_keep_one_copy_and_the_budget_pushes_out_the_least_recently_used():
    cache = PrefixCache(2 * len(SYSTEM) + 10)
    cache.offer(SYSTEM + [1], kv(SYSTEM + [1]))
    assert cache.holds(SYSTEM) and not cache.holds(SYSTEM + [2])
    cache.offer(SYSTEM + [1, 4], kv(SYSTEM + [1, 4]))  # extends the first: only the longer one stays
    assert len(cache) == 1 and cache.tokens == len(SYSTEM) + 2
    other = list(range(300, 320))
    cache.offer(other, kv(other))
    assert cache.lookup(SYSTEM + [1, 4, 5]) is not None  # used: now the most recent
    third = list(range(500, 520))
    cache.offer(third, kv(third))  # over budget: the least recently used (other) goes
    assert cache.tokens <= cache.max_tokens
    assert cache.lookup(other + [1]) is None and cache.lookup(SYSTEM + [1, 4, 5]) is not None


def test_a_prompt_longer_than_the_budget_keeps_its_beginning():
    cache = PrefixCache(len(SYSTEM))
    long = SYSTEM + list(range(10))
    cache.offer(long, kv(long))
    assert cache.tokens == len(SYSTEM)
    hit = cache.lookup(long + [1])
    assert hit is not None and hit.length == len(SYSTEM)


# ---- on the real demo model -------------------------------------------------------------------------------------
PREAMBLE = "You are a careful assistant who answers every question briefly and plainly. "
PROMPTS = [GenerationParams(PREAMBLE + "What is memory?", max_new_tokens=20, temperature=0),
           GenerationParams(PREAMBLE + "请介绍一下延迟。", max_new_tokens=16, temperature=0),
           GenerationParams(PREAMBLE + "Latency is", max_new_tokens=18, temperature=0.8, top_p=0.9, seed=3)]


def runtime_with(model_dir, prefix_cache_tokens):
    runtime = ModelRuntime(ModelSpec("demo", ""), demo_dir=model_dir, models_dir=model_dir,
                           sink=SimpleNamespace(record=lambda record: None), resolver=lambda spec, **_: model_dir,
                           prefix_cache_tokens=prefix_cache_tokens)
    assert runtime.load()
    return runtime


@pytest.fixture(scope="module")
def without_cache(demo_model_dir):
    runtime = runtime_with(demo_model_dir, 0)
    yield [runtime.generate(params) for params in PROMPTS], runtime.info()
    runtime.close()


def test_answers_built_on_cached_prefixes_equal_those_without(demo_model_dir, without_cache):
    expected, info_without = without_cache
    runtime = runtime_with(demo_model_dir, 1024)
    try:
        first = runtime.generate(PROMPTS[0])  # cold: prefilled whole, then kept
        streams = [runtime.stream(params, want_text=False) for params in PROMPTS]  # all three share the preamble
        together = [stream.result(60) for stream in streams]
        counters = runtime.info().scheduler.counters
    finally:
        runtime.close()
    assert first.response == expected[0].response
    assert [r.response for r in together] == [r.response for r in expected]
    cached = [next(s for s in r.spans if s["name"] == "prefill")["attributes"]["cached_prompt_tokens"]
              for r in together]
    assert min(cached) >= MIN_REUSE_TOKENS  # the preamble came from the cache
    assert counters.prefix_cache_hit_tokens_total == sum(cached)
    assert counters.prefix_cache_queried_tokens_total == first.prompt_tokens + sum(r.prompt_tokens for r in together)
    # what ran through the model is what was not reused
    assert counters.step_tokens_total < info_without.scheduler.counters.step_tokens_total + sum(
        r.output_tokens for r in together)
    assert info_without.scheduler.counters.prefix_cache_hit_tokens_total == 0


def test_a_newcomer_without_a_cached_prefix_takes_its_group_off_the_cache(demo_model_dir):
    """Joins driven by hand, so which requests share a prefill pass is certain: a group with one cold prompt reuses
    nothing; a later group on the cached preamble does; every row's tokens equal those of a batch with no cache."""
    runtime = runtime_with(demo_model_dir, 0)
    try:
        model, tokenizer = runtime._loaded.model, runtime._loaded.tokenizer
        fresh = GenerationParams("Tell me about GPUs.", max_new_tokens=12, temperature=0)
        greedy = GenerationParams(PREAMBLE + "Latency is", max_new_tokens=12, temperature=0)
        groups = [[PROMPTS[0]], [PROMPTS[1], fresh], [greedy]]
        runs = {}
        for name, prefix_cache in (("cached", PrefixCache(1024)), ("plain", None)):
            batch = PaddedBatch(model, time.perf_counter, prefix_cache)
            rows = []
            for group in groups:
                joining = [Row(params, _encode(tokenizer, params)[0], 12, Sampler(params, batch.device))
                           for params in group]
                batch.join(joining)
                rows += joining
                batch.step()
            while len(batch):
                batch.step()
                batch.leave([row for row in batch.rows if len(row.token_ids) >= row.max_new_tokens])
            runs[name] = rows
    finally:
        runtime.close()
    assert [row.reused_prompt_tokens for row in runs["cached"]] == [0, 0, 0, runs["cached"][3].reused_prompt_tokens]
    assert runs["cached"][3].reused_prompt_tokens >= MIN_REUSE_TOKENS
    assert [row.token_ids[:12] for row in runs["cached"]] == [row.token_ids[:12] for row in runs["plain"]]
