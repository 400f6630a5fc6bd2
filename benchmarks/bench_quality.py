"""Quality-scoring cost: generate tokens/s with per-request quality on vs off, side by side; scorer capacity.

    python benchmarks/bench_quality.py [--model-dir DIR] [--rounds 40] [--new-tokens 128]
                                       [--embedding-model all-MiniLM-L6-v2]

One ModelRuntime, its long-lived worker and a QualityScorer wired as the monitor wires them (records to
`scorer.submit`, `can_run=runtime.is_idle`), except that the scorer also waits for the benchmark's gaps, so
it never slips in between two timed requests; `runtime.measure_quality` is switched between rounds, so both
sides run on the same thread and OpenMP pool. "On" reads fluency through the wrapped output embeddings, computes
the text metrics into the record and queues it for relevance; "off" does none of it. 128 new tokens are
forced (generation_config.min_new_tokens), greedy. Tokens/s is as the client sees it: output tokens over the
wall time of `generate()`. Pairs alternate their order and ratios are taken pair by pair (`pair_ratio`), so
load from other processes on a shared machine hits both sides alike.

0. request-path work: what "on" adds, timed alone (best of 7): the wrapped output embeddings and the per-token
   log-probability against the bare head, and the text metrics of one response; as a share of a request.
1. side by side: on/off pairs, each followed by an untimed gap in which the scorer catches up, as it does
   between requests in use. Target: ratio on/off >= 0.97.
2. back to back: on/off pairs with no gap, as under sustained load: the scorer waits and scores nothing;
   the backlog it is left with and the seconds it takes to clear afterwards are reported.
3. why it waits: off requests alternately alone and with a scorer that does not wait embedding beside them.
4. capacity: pairs per second the scorer embeds against requests per second the model serves back to back.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import sys
import tempfile
import threading
import time
import timeit
from pathlib import Path
from types import SimpleNamespace

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from healthmon.params import GenerationParams  # noqa: E402
from healthmon.quality.embedder import DEFAULT_EMBEDDING_MODEL, load_embedder  # noqa: E402
from healthmon.quality.fluency import TokenLogprobRecorder  # noqa: E402
from healthmon.quality.metrics import text_quality  # noqa: E402
from healthmon.quality.relevance import relevance  # noqa: E402
from healthmon.quality.scorer import QualityScorer  # noqa: E402
from healthmon.records import RequestRecord  # noqa: E402
from healthmon.runtime.demo import build_demo_model  # noqa: E402
from healthmon.runtime.engine import ModelRuntime  # noqa: E402
from healthmon.runtime.sources import ModelSpec  # noqa: E402

PROMPT = "Explain how a language model service is monitored."
DRAIN_TIMEOUT_SECONDS = 300.0


def client_tokens_per_second(runtime: ModelRuntime, params: GenerationParams, quality: bool) -> float:
    runtime.measure_quality = quality  # only switched between requests, while the worker waits
    started = time.perf_counter()
    record = runtime.generate(params)
    return record.output_tokens / (time.perf_counter() - started)


def drain(scorer: QualityScorer, gap: threading.Event | None = None) -> float:
    """Seconds until the scorer has nothing queued or in progress, with the gap open meanwhile."""
    started = time.perf_counter()
    if gap is not None:
        gap.set()
    while scorer.stats()["relevance_queue_depth"] and time.perf_counter() - started < DRAIN_TIMEOUT_SECONDS:
        time.sleep(0.005)
    if gap is not None:
        gap.clear()
    return time.perf_counter() - started


def alternate(rounds: int, first, second, between=lambda: None) -> tuple[list[float], list[float]]:
    """Run `first` and `second` `rounds` times each, swapping their order every round."""
    firsts, seconds = [], []
    for index in range(rounds):
        if index % 2:
            seconds.append(second())
            firsts.append(first())
        else:
            firsts.append(first())
            seconds.append(second())
        between()
    return firsts, seconds


def pair_ratio(numerators: list[float], denominators: list[float]) -> float:
    """Geometric mean of the median ratio of pairs run in each order: whichever request follows a pause or
    the other kind pays for it, and a plain median lands anywhere between the two orders' ratios."""
    ratios = [n / d for n, d in zip(numerators, denominators, strict=True)]
    return round(math.sqrt(statistics.median(ratios[0::2]) * statistics.median(ratios[1::2])), 4)


def best_seconds(action, number: int) -> float:
    """Best of 7 repeats, per call: the figure least disturbed by other processes."""
    return min(timeit.repeat(action, number=number, repeat=7)) / number


def request_path_seconds(model: object, record: RequestRecord, new_tokens: int) -> dict[str, float]:
    """What quality adds to one request on the model's thread, timed alone."""
    head = model.get_output_embeddings()
    hidden = torch.zeros(1, 1, head.weight.shape[1], dtype=head.weight.dtype)
    with torch.inference_mode():
        bare = best_seconds(lambda: head(hidden), 2000)
        with TokenLogprobRecorder(model) as recorder:
            measured = best_seconds(lambda: (head(hidden), recorder.observe([0])), 2000)
    per_token = max(0.0, measured - bare)
    logprobs = [-0.5] * new_tokens
    text = best_seconds(lambda: text_quality(record.prompt, record.response, "length", logprobs), 200)
    return {"per_token_seconds": per_token, "text_metrics_seconds": text,
            "total_seconds": per_token * new_tokens + text}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=None, help="a checkpoint; default: the demo model")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--embedding-model", default=DEFAULT_EMBEDDING_MODEL)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = args.model_dir or build_demo_model(Path(tmp) / "demo-model")
        embedder = load_embedder(args.embedding_model)
        scored: list[dict] = []
        gap = threading.Event()
        scorer = QualityScorer(scored.append, embedding_model=args.embedding_model, load=lambda name: embedder,
                               can_run=lambda: gap.is_set() and runtime.is_idle())  # runtime: created just below
        runtime = ModelRuntime(ModelSpec("local", str(model_dir)), demo_dir=model_dir, models_dir=model_dir,
                               sink=SimpleNamespace(record=scorer.submit), resolver=lambda spec, **_: model_dir)
        runtime.load()
        model = runtime._loaded.model
        model.generation_config.min_new_tokens = args.new_tokens  # neither side stops early
        params = GenerationParams(PROMPT, max_new_tokens=args.new_tokens, temperature=0.0)

        def on() -> float:
            return client_tokens_per_second(runtime, params, True)

        def off() -> float:
            return client_tokens_per_second(runtime, params, False)

        on()  # warm-up: the worker's pool, the wrapped head, the embedder's first call
        off()
        drain(scorer, gap)

        side_on, side_off = alternate(args.rounds, on, off, between=lambda: drain(scorer, gap))
        sample = scored[-1]
        request_path = request_path_seconds(model, sample, args.new_tokens)

        burst_on, burst_off = alternate(args.rounds, on, off)
        backlog = scorer.stats()["relevance_queue_depth"]
        backlog_seconds = drain(scorer, gap)

        eager = QualityScorer(lambda record: None, load=lambda name: embedder)

        def off_beside_eager_scorer() -> float:
            for index in range(3):  # about three pairs to embed: busy for the whole request
                eager.submit(dataclasses.replace(sample, trace_id=f"eager{index}", stage="finished"))
            tokens_per_second = off()
            drain(eager)
            return tokens_per_second

        contended, quiet = alternate(args.rounds, off_beside_eager_scorer, off)

        started = time.perf_counter()
        for record in scored[: args.rounds]:
            relevance(embedder, record.prompt, record.response)
        pairs_per_second = min(len(scored), args.rounds) / (time.perf_counter() - started)
        request_seconds = args.new_tokens / statistics.median(side_off)
        scorer.close()
        eager.close()
        result = {
            "benchmark": "quality_overhead", "model": str(model_dir), "device": runtime.info()["device"],
            "parameters": runtime.info()["parameters"], "embedding_model": args.embedding_model,
            "new_tokens": args.new_tokens, "rounds": args.rounds, "torch_threads": torch.get_num_threads(),
            "request_path_per_token_microseconds": round(request_path["per_token_seconds"] * 1e6, 2),
            "request_path_text_metrics_milliseconds": round(request_path["text_metrics_seconds"] * 1e3, 3),
            "request_path_share_of_a_request_percent": round(100 * request_path["total_seconds"] / request_seconds, 2),
            "off_tokens_per_second_median": round(statistics.median(side_off), 2),
            "on_tokens_per_second_median": round(statistics.median(side_on), 2),
            "ratio_on_over_off": pair_ratio(side_on, side_off),
            "back_to_back_ratio_on_over_off": pair_ratio(burst_on, burst_off),
            "back_to_back_backlog_records": backlog, "backlog_cleared_seconds": round(backlog_seconds, 3),
            "ratio_beside_a_scorer_that_does_not_wait": pair_ratio(contended, quiet),
            "scorer_pairs_per_second": round(pairs_per_second, 2),
            "model_requests_per_second_back_to_back": round(1 / request_seconds, 2),
            "scored_total": scorer.stats()["relevance_scored_total"],
            "dropped_total": scorer.stats()["relevance_dropped_total"],
            "sample_quality": sample.quality,
        }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
