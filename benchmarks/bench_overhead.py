"""Instrumentation overhead: tokens/s through the instrumented generate path vs a bare model.generate.

    python benchmarks/bench_overhead.py [--model-dir DIR] [--rounds 10] [--new-tokens 128] [--prompt en|zh|TEXT ...]

Same model, prompt, length and greedy decoding, for each prompt in turn (default: the built-in English and
Chinese prompts; `--prompt` may be repeated, "en" and "zh" name the built-in ones). The two paths alternate round
by round so drift in the machine's load hits both alike. The bare path is what the seed did: tokenize, generate,
decode. It runs on a long-lived thread of its own, as the runtime's worker does: torch's OpenMP pool belongs to
the calling thread, and a pool left spinning by the other path would otherwise tilt the comparison.

Both paths are forced to the same length (min_new_tokens = max_new_tokens), so neither stops at an end-of-turn
token: the instrumented record leaves that token out of `output_tokens`, a bare count would include it. Every
round checks that the two paths generated the same number of tokens (`equal_token_counts`); each path's tokens/s
is its own count over its own wall time. Reports the median tokens/s of each and their ratio (target >= 0.97).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from healthmon.params import GenerationParams  # noqa: E402
from healthmon.runtime.demo import build_demo_model  # noqa: E402
from healthmon.runtime.engine import ModelRuntime  # noqa: E402
from healthmon.runtime.generate import encode_prompt  # noqa: E402
from healthmon.runtime.sources import ModelSpec  # noqa: E402

PROMPTS = {"en": "Explain how a language model service is monitored.", "zh": "请解释如何监控一个大语言模型服务。"}


def bare_generation(model, tokenizer, prompt: str, new_tokens: int) -> tuple[int, float]:
    """The seed's path (tokenize, generate, decode): (tokens generated, tokens/s)."""
    started = time.perf_counter()
    ids = torch.tensor([encode_prompt(tokenizer, prompt)])
    with torch.inference_mode():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens,
                             min_new_tokens=new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    generated = out.shape[1] - ids.shape[1]
    tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
    return generated, generated / (time.perf_counter() - started)


def compare(runtime: ModelRuntime, bare_worker: concurrent.futures.Executor, prompt: str, new_tokens: int,
            rounds: int) -> dict:
    model, tokenizer = runtime._loaded.model, runtime._loaded.tokenizer
    params = GenerationParams(prompt, max_new_tokens=new_tokens, temperature=0.0)
    load_before = os.getloadavg()[0]
    bare_worker.submit(bare_generation, model, tokenizer, prompt, new_tokens).result()  # warm-up
    runtime.generate(params)
    bare, instrumented, reported, counts = [], [], [], []
    for _ in range(rounds):
        bare_count, bare_rate = bare_worker.submit(bare_generation, model, tokenizer, prompt, new_tokens).result()
        record = runtime.generate(params)
        bare.append(bare_rate)
        instrumented.append(record.output_tokens / record.latency_seconds)  # end to end, admission to record
        reported.append(record.tokens_per_second)
        counts.append((bare_count, record.output_tokens))
    ratios = [i / b for i, b in zip(instrumented, bare, strict=True)]
    return {
        "prompt": prompt, "prompt_tokens": record.prompt_tokens,
        "tokens_bare_instrumented": sorted(set(counts)), "equal_token_counts": all(b == i for b, i in counts),
        "bare_tokens_per_second_median": round(statistics.median(bare), 2),
        "instrumented_tokens_per_second_median": round(statistics.median(instrumented), 2),
        "ratio_instrumented_over_bare": round(statistics.median(instrumented) / statistics.median(bare), 4),
        "ratio_per_round_min_median_max": [round(x, 3) for x in (min(ratios), statistics.median(ratios), max(ratios))],
        "reported_tokens_per_second_median": round(statistics.median(reported), 2),
        "load_average_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=None, help="a checkpoint; default: the demo model")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--prompt", action="append", default=None,
                        help='"en", "zh" (the built-in prompts) or any text; repeatable; default: en and zh')
    args = parser.parse_args()
    prompts = [PROMPTS.get(text, text) for text in (args.prompt or list(PROMPTS))]
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = args.model_dir or build_demo_model(Path(tmp) / "demo-model")
        runtime = ModelRuntime(ModelSpec("local", str(model_dir)), demo_dir=model_dir, models_dir=model_dir,
                               sink=SimpleNamespace(record=lambda record: None), resolver=lambda spec, **_: model_dir)
        runtime.load()
        # Force exactly new_tokens on both paths, so neither stops early at an end-of-text token.
        runtime._loaded.model.generation_config.min_new_tokens = args.new_tokens
        bare_worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="bare")
        info = runtime.info()
        result = {
            "benchmark": "instrumentation_overhead", "model": str(model_dir), "device": info["device"],
            "parameters": info["parameters"], "new_tokens": args.new_tokens, "rounds": args.rounds,
            "torch_threads": torch.get_num_threads(),
            "prompts": [compare(runtime, bare_worker, prompt, args.new_tokens, args.rounds) for prompt in prompts],
        }
        bare_worker.shutdown()
        runtime.close()
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
