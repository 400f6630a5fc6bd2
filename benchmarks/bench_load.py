"""Load figures for the real app: generate and status-read latency while 32 clients generate at once.

    python benchmarks/bench_load.py [--concurrency 32] [--seconds 30] [--max-new-tokens 32]
                                    [--status-readers 4] [--queue-max 31] [--model demo|packaged|...]
                                    [--gguf-cache DIR]

Starts `streamlit run streamlit_app.py` (the demo model unless `--model` says otherwise, see
benchmarks/models.py; probes off, no rate limit) and runs a closed loop:
`--concurrency` clients each send a generate request as soon as their last one is answered, while
`--status-readers` clients read /api/health/status every 50 ms. With the default queue of 31 every
generate request is admitted (1 running + 31 waiting), so generate latency is mostly queueing: the model
serves one request at a time. The status figures show whether generation blocks the server's event loop.
With a real model one request takes seconds: e.g. `--model packaged --gguf-cache DIR --concurrency 8
--queue-max 7 --seconds 60 --baseline-seconds 30`. A request still running when the window closes is
waited for and counted. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.models import add_model_options, prepare_model  # noqa: E402
from tests.appserver import AppServer  # noqa: E402


@contextlib.contextmanager
def demo_app(data_dir: Path, model: str = "demo", gguf_cache: Path | None = None, **env: str) -> Iterator[AppServer]:
    """The real app on a free port with its own data directory and `model` (the demo one by default); probes off,
    no rate limit.

    Without the tests' defaults: what `env` does not set (interval, embedding model) is as the app is configured.
    """
    model_env = prepare_model(data_dir, model, gguf_cache)
    app = AppServer(data_dir, data_dir / "app.log", test_defaults=False,
                    **({"HEALTHMON_PROBE_INTERVAL": "0", "HEALTHMON_RATE_LIMIT_PER_MINUTE": "0"} | model_env | env))
    try:
        app.start(api_timeout_seconds=180, model_timeout_seconds=180)
        if (status := app.model_status()) != "loaded":  # figures from a model that failed to load mean nothing
            raise RuntimeError(f"the app's model is {status!r}, not loaded; log:\n{app.log()}")
        yield app
    finally:
        app.stop()


def machine() -> str:
    return (f"{platform.machine()}, {psutil.cpu_count()} cores, {round(psutil.virtual_memory().total / 2**30)} GiB, "
            f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start")


def quantiles_ms(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50_ms": pick(0.50), "p95_ms": pick(0.95), "max_ms": round(1000 * ordered[-1], 1)}


def idle_status_latency(url: str, reads: int = 50) -> list[float]:
    seconds = []
    for _ in range(reads):
        started = time.perf_counter()
        requests.get(url + "/api/health/status", timeout=30).raise_for_status()
        seconds.append(time.perf_counter() - started)
    return seconds


def run_load(url: str, concurrency: int, duration_seconds: float, max_new_tokens: int, status_readers: int) -> dict:
    stop = threading.Event()
    lock = threading.Lock()
    generate_seconds: list[float] = []
    status_seconds: list[float] = []
    codes: Counter = Counter()
    output_tokens = [0]

    def generator(worker: int) -> None:
        count = 0
        while not stop.is_set():
            count += 1
            started = time.perf_counter()
            try:
                response = requests.post(url + "/api/model/generate", timeout=300, json={
                    "prompt": f"client {worker} request {count}: how is the service doing?",
                    "max_new_tokens": max_new_tokens, "temperature": 0})
                code = response.status_code
            except requests.RequestException:
                code = "connection error"
            elapsed = time.perf_counter() - started
            with lock:
                codes[f"generate {code}"] += 1
                if code == 200:
                    generate_seconds.append(elapsed)
                    output_tokens[0] += response.json()["output_tokens"] or 0
            if code != 200:
                stop.wait(1.0)  # a refused client backs off, as Retry-After asks

    def reader() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                code = requests.get(url + "/api/health/status", timeout=60).status_code
            except requests.RequestException:
                code = "connection error"
            with lock:
                codes[f"status {code}"] += 1
                status_seconds.append(time.perf_counter() - started)
            stop.wait(0.05)

    threads = [threading.Thread(target=generator, args=(i,), daemon=True) for i in range(concurrency)]
    threads += [threading.Thread(target=reader, daemon=True) for _ in range(status_readers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(duration_seconds)
    stop.set()
    for thread in threads:
        thread.join(330)
    elapsed = time.perf_counter() - started
    return {
        "window_seconds": round(elapsed, 1),
        "generate_latency": quantiles_ms(generate_seconds),
        "generate_requests_per_second": round(len(generate_seconds) / elapsed, 2),
        "generated_tokens_per_second": round(output_tokens[0] / elapsed, 1),
        "output_tokens": output_tokens[0],
        "status_latency_under_load": quantiles_ms(status_seconds),
        "status_reads_per_second": round(len(status_seconds) / elapsed, 1),
        "answers": dict(sorted(codes.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--status-readers", type=int, default=4)
    parser.add_argument("--queue-max", type=int, default=31, help="HEALTHMON_QUEUE_MAX; 31 admits 32 clients")
    parser.add_argument("--baseline-seconds", type=float, default=10.0, help="one client alone first, for comparison")
    parser.add_argument("--settle-seconds", type=float, default=10.0,
                        help="wait after the model loads: the embedding model loads in the background meanwhile")
    add_model_options(parser)
    args = parser.parse_args()
    started_on = machine()  # the load average before the app starts
    with tempfile.TemporaryDirectory() as tmp, demo_app(Path(tmp), args.model, args.gguf_cache,
                                                        HEALTHMON_QUEUE_MAX=str(args.queue_max),
                                                        HEALTHMON_INTERVAL="1") as app:
        model_name = app.get("/api/model/info").json()["model_info"]["name"]
        time.sleep(args.settle_seconds)
        idle = quantiles_ms(idle_status_latency(app.url))
        alone = run_load(app.url, 1, args.baseline_seconds, args.max_new_tokens, 0)
        load = run_load(app.url, args.concurrency, args.seconds, args.max_new_tokens, args.status_readers)
        stats = requests.get(app.url + "/api/health/status", timeout=30).json()["request_stats"]
        process = psutil.Process(app.process.pid)
        # Every generate request the clients sent (one client alone, then the load) against what the app counted.
        sent = sum(count for run in (alone, load) for answer, count in run["answers"].items()
                   if answer.startswith("generate"))
        answered_ok = sum(run["answers"].get("generate 200", 0) for run in (alone, load))
        client_tokens = alone["output_tokens"] + load["output_tokens"]
        result = {
            "benchmark": "load", "machine": started_on, "model": model_name, "concurrency": args.concurrency,
            "queue_max": args.queue_max, "max_new_tokens": args.max_new_tokens,
            "status_latency_idle": idle,
            "one_client": {key: alone[key] for key in ("generate_latency", "generate_requests_per_second",
                                                       "generated_tokens_per_second")},
            **{key: value for key, value in load.items() if key != "output_tokens"},
            "load_average_at_the_end": round(os.getloadavg()[0], 1),
            "request_stats_accounted": stats["total_requests"] == (stats["succeeded_requests"]
                                                                   + stats["failed_requests"]
                                                                   + stats["rejected_requests"]),
            "generate_requests_sent_vs_app_total": [sent, stats["total_requests"]],
            "answered_200_vs_app_succeeded": [answered_ok, stats["succeeded_requests"]],
            "output_tokens_clients_vs_app": [client_tokens, stats["output_tokens_total"]],
            "every_request_accounted": (sent, answered_ok, client_tokens) == (
                stats["total_requests"], stats["succeeded_requests"], stats["output_tokens_total"]),
            "app_rss_mb_after": round(process.memory_info().rss / 2**20, 1), "app_threads_after": process.num_threads(),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
