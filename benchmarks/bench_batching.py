"""Continuous batching on the real app: 1, 2, 4, 8 and 16 streaming /v1 clients side by side in one run.

    python benchmarks/bench_batching.py [--model packaged] [--gguf-cache DIR] [--levels 1,2,4,8,16]
                                        [--rounds 2] [--max-tokens 48] [--unbatched-level 8]
                                        [--no-prefix-cache-levels 1,8]

Starts `streamlit run` with the model (the packaged SmolLM2 by default; HEALTHMON_MAX_BATCH = the highest level,
probes and rate limit off), then for each level runs that many clients in a closed loop, each sending `--rounds`
greedy streaming chat requests of `--max-tokens` tokens (English and Chinese prompts, each answer allowed to run
to its budget: `ignore_eos` is not needed, the prompts ask for long answers, and the report counts what came).
Per level: aggregate output tokens/s over the level's wall time, each request's own decode rate, TTFT p50/p95 as
the client saw it (to the first content delta) and the queue time the monitor recorded (arrival to the step that
first carried the request). `--unbatched-level N` repeats level N on a second app with HEALTHMON_MAX_BATCH=1 (the
one-at-a-time runtime of before) for the same figures side by side; `--no-prefix-cache-levels` repeats levels with
the prefix cache off (HEALTHMON_PREFIX_CACHE_TOKENS=0), to see what it brings. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_load import demo_app, machine  # noqa: E402
from benchmarks.models import add_model_options  # noqa: E402

PROMPTS = ["Write a detailed story about a lighthouse keeper.", "用中文详细介绍长城的历史。",
           "Explain in detail how a steam engine works.", "请详细描述一下四季的变化。"]


def one_request(url: str, prompt: str, max_tokens: int) -> dict:
    """One streaming chat request; times on this process's monotonic clock."""
    started = time.perf_counter()
    first = None
    usage = None
    with requests.post(url + "/v1/chat/completions", stream=True, timeout=600, json={
            "model": "any", "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
            "temperature": 0, "stream": True, "stream_options": {"include_usage": True}}) as response:
        response.raise_for_status()
        trace_id = response.headers.get("X-Trace-Id")
        for line in response.iter_lines():
            if not line.startswith(b"data: ") or line == b"data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                usage = chunk["usage"]
            for choice in chunk.get("choices", []):
                if first is None and choice.get("delta", {}).get("content"):
                    first = time.perf_counter()
    ended = time.perf_counter()
    tokens = (usage or {}).get("completion_tokens") or 0
    return {"trace_id": trace_id, "e2e_seconds": ended - started, "ttft_seconds": (first or ended) - started,
            "output_tokens": tokens,
            "decode_tokens_per_second": (tokens - 1) / (ended - first) if first and tokens > 1 and ended > first
            else None}


def run_level(url: str, clients: int, rounds: int, max_tokens: int) -> dict:
    results: list[dict] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        for round_ in range(rounds):
            result = one_request(url, PROMPTS[(index + round_) % len(PROMPTS)], max_tokens)
            with lock:
                results.append(result)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    queue = []
    for result in results:
        record = requests.get(f"{url}/api/traces/{result['trace_id']}", timeout=30).json()
        queue.append(record.get("queue_seconds") or 0.0)
    ttft = sorted(r["ttft_seconds"] for r in results)
    rates = [r["decode_tokens_per_second"] for r in results if r["decode_tokens_per_second"]]
    tokens = sum(r["output_tokens"] for r in results)
    return {"clients": clients, "requests": len(results), "output_tokens": tokens, "wall_seconds": round(wall, 2),
            "aggregate_tokens_per_second": round(tokens / wall, 2),
            "per_request_tokens_per_second_p50": round(statistics.median(rates), 2) if rates else None,
            "ttft_p50_seconds": round(statistics.median(ttft), 3),
            "ttft_p95_seconds": round(ttft[min(len(ttft) - 1, int(0.95 * len(ttft)))], 3),
            "queue_p50_seconds": round(statistics.median(queue), 3), "queue_max_seconds": round(max(queue), 3)}


def bench(model: str, gguf_cache: Path | None, levels: list[int], rounds: int, max_tokens: int,
          max_batch: int, **env: str) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp, demo_app(
            Path(tmp), model, gguf_cache, HEALTHMON_MAX_BATCH=str(max_batch),
            HEALTHMON_QUEUE_MAX=str(max(levels)), HEALTHMON_EMBEDDING_MODEL="off", **env) as app:
        one_request(app.url, PROMPTS[0], 8)  # warm the model's first pass
        results = []
        for clients in levels:
            results.append(run_level(app.url, clients, rounds, max_tokens))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)  # progress: a level takes minutes
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_options(parser)
    parser.set_defaults(model="packaged")
    parser.add_argument("--levels", default="1,2,4,8,16")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--unbatched-level", type=int, default=8, help="0 skips the one-at-a-time comparison")
    parser.add_argument("--no-prefix-cache-levels", default="1,8",
                        help="levels repeated with HEALTHMON_PREFIX_CACHE_TOKENS=0; empty skips them")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    batched = bench(args.model, args.gguf_cache, levels, args.rounds, args.max_tokens, max(levels))
    one = batched[0]
    for level in batched:
        level["aggregate_vs_one_client"] = round(level["aggregate_tokens_per_second"]
                                                 / one["aggregate_tokens_per_second"], 2)
        level["ttft_p50_vs_one_client"] = round(level["ttft_p50_seconds"] / one["ttft_p50_seconds"], 2)
    report = {"machine": machine(), "model": args.model, "max_tokens": args.max_tokens, "rounds": args.rounds,
              "batched": batched}
    if args.no_prefix_cache_levels:
        plain = bench(args.model, args.gguf_cache, [int(x) for x in args.no_prefix_cache_levels.split(",")],
                      args.rounds, args.max_tokens, max(levels), HEALTHMON_PREFIX_CACHE_TOKENS="0")
        for level in plain:
            level["ttft_p50_vs_one_client"] = round(level["ttft_p50_seconds"] / plain[0]["ttft_p50_seconds"], 2)
        report["batched_without_prefix_cache"] = plain
    if args.unbatched_level:
        report["unbatched"] = bench(args.model, args.gguf_cache, [1, args.unbatched_level], args.rounds,
                                    args.max_tokens, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
