"""Instrumentation overhead: tokens/s through the instrumented generate path vs a bare model.generate.

    python benchmarks/bench_overhead.py [--model-dir DIR] [--rounds 10] [--new-tokens 128]

Same model, prompt, length and greedy decoding; the two paths alternate round by round so drift in the
machine's load hits both alike. The bare path is what the seed did: tokenize, generate, decode. It runs
on a long-lived thread of its own, as the runtime's worker does: torch's OpenMP pool belongs to the
calling thread, and a pool left spinning by the other path would otherwise tilt the comparison.
Reports the median tokens/s of each and their ratio (target >= 0.97).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from healthmon.runtime.demo import build_demo_model  # noqa: E402
from healthmon.runtime.engine import ModelRuntime  # noqa: E402
from healthmon.runtime.generate import encode_prompt  # noqa: E402
from healthmon.runtime.params import GenerationParams  # noqa: E402
from healthmon.runtime.sources import ModelSpec  # noqa: E402

PROMPT = "Explain how a language model service is monitored."


def bare_tokens_per_second(model, tokenizer, new_tokens: int) -> float:
    started = time.perf_counter()
    ids = torch.tensor([encode_prompt(tokenizer, PROMPT)])
    with torch.inference_mode():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens,
                             min_new_tokens=new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    generated = out.shape[1] - ids.shape[1]
    tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
    return generated / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=None, help="a checkpoint; default: the demo model")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--new-tokens", type=int, default=128)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = args.model_dir or build_demo_model(Path(tmp) / "demo-model")
        runtime = ModelRuntime(ModelSpec("local", str(model_dir)), demo_dir=model_dir, models_dir=model_dir,
                               on_record=lambda record: None, resolver=lambda spec, **_: model_dir)
        runtime.load()
        model, tokenizer = runtime._loaded.model, runtime._loaded.tokenizer
        # Force exactly new_tokens on both paths, so neither stops early at an end-of-text token.
        model.generation_config.min_new_tokens = args.new_tokens
        params = GenerationParams(PROMPT, max_new_tokens=args.new_tokens, temperature=0.0)
        bare_tokens_per_second(model, tokenizer, args.new_tokens)  # warm-up
        runtime.generate(params)
        bare_worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="bare")
        bare, instrumented, instrumented_e2e = [], [], []
        for _ in range(args.rounds):
            bare.append(bare_worker.submit(bare_tokens_per_second, model, tokenizer, args.new_tokens).result())
            record = runtime.generate(params)
            instrumented.append(record["output_tokens"] / (record["latency_seconds"]))
            instrumented_e2e.append(record["tokens_per_second"])
        result = {
            "benchmark": "instrumentation_overhead", "model": str(model_dir), "device": runtime.info()["device"],
            "parameters": runtime.info()["parameters"], "new_tokens": args.new_tokens, "rounds": args.rounds,
            "torch_threads": torch.get_num_threads(),
            "bare_tokens_per_second_median": round(statistics.median(bare), 2),
            "instrumented_tokens_per_second_median": round(statistics.median(instrumented), 2),
            "ratio_instrumented_over_bare": round(statistics.median(instrumented) / statistics.median(bare), 4),
            "reported_tokens_per_second_median": round(statistics.median(instrumented_e2e), 2),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
