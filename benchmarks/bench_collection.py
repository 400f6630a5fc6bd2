"""Collection cost: CPU seconds per collection cycle, and the whole app's idle CPU share at a 1 s interval.

    python benchmarks/bench_collection.py [--cycles 200] [--idle-seconds 60] [--model demo|packaged|...]
                                          [--gguf-cache DIR] [--warm-up-request]

The idle figure starts the real app (`streamlit run`, probes off, nobody connected) and reads its process
CPU time over the window once the model has loaded: it includes Streamlit, the API server, the collector
loop and the store writer. The model is the demo one unless `--model` says otherwise (`--model packaged
--gguf-cache DIR` for SmolLM2 from an existing conversion; see benchmarks/models.py). RSS is read once the
model has loaded and at the end of the window; `--warm-up-request` answers one generate request first (a
checkpoint's weights are memory-mapped, so RSS right after loading leaves out pages not read yet).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.models import add_model_options, load_average, prepare_model  # noqa: E402
from tests.appserver import AppServer  # noqa: E402


def cycle_cost(cycles: int, data_dir: Path, model: str) -> dict:
    from healthmon.config import load_settings
    from healthmon.monitor import Monitor

    monitor = Monitor(load_settings(data_dir=data_dir, probe_interval=0.0, model=model))
    monitor.target.load()
    monitor.loop.collect_once()  # warm-up: first psutil calls and imports
    process = psutil.Process()
    cpu_before, wall_before = process.cpu_times(), time.perf_counter()
    for _ in range(cycles):
        monitor.loop.collect_once()
    cpu_after, wall_after = process.cpu_times(), time.perf_counter()
    monitor.close()
    cpu_seconds = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    return {"cycles": cycles, "cpu_ms_per_cycle": round(1000 * cpu_seconds / cycles, 3),
            "wall_ms_per_cycle": round(1000 * (wall_after - wall_before) / cycles, 3)}


def idle_share(seconds: float, data_dir: Path, env: dict[str, str], warm_up_request: bool = False) -> dict:
    # Not the tests' defaults: the app runs as configured (embedding model included) but for the model, the
    # interval and probes.
    app = AppServer(data_dir, data_dir / "app.log", test_defaults=False, HEALTHMON_INTERVAL="1",
                    HEALTHMON_PROBE_INTERVAL="0", **env)
    try:
        app.start(api_timeout_seconds=180, model_timeout_seconds=180)
        if (status := app.model_status()) != "loaded":  # an app without its model is not the idle cost we report
            raise RuntimeError(f"the app's model is {status!r}, not loaded; log:\n{app.log()}")
        info = app.get("/api/model/info").json()["model_info"]
        process = psutil.Process(app.process.pid)
        rss_loaded = process.memory_info().rss
        if warm_up_request:  # weights loaded from safetensors are memory-mapped: a generation pages them in
            app.post("/api/model/generate", json={"prompt": "Say hello.", "max_new_tokens": 16, "temperature": 0},
                     timeout=300).raise_for_status()
        time.sleep(5)  # let start-up work settle (and the answer's relevance scoring, after a warm-up request)
        load_before = load_average()
        before = process.cpu_times()
        time.sleep(seconds)
        after = process.cpu_times()
        cpu_seconds = (after.user - before.user) + (after.system - before.system)
        return {"app_model": info["name"], "app_model_parameters": info.get("parameters"),
                "app_model_load_seconds": info.get("load_seconds"),
                "idle_window_seconds": seconds, "idle_cpu_seconds": round(cpu_seconds, 3),
                "idle_cpu_percent_of_one_core": round(100 * cpu_seconds / seconds, 3),
                "warm_up_request": warm_up_request, "rss_mib_after_load": round(rss_loaded / 2**20, 1),
                "rss_mib": round(process.memory_info().rss / 2**20, 1),
                "load_average_before_idle_window": load_before, "load_average_after_idle_window": load_average()}
    finally:
        app.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--warm-up-request", action="store_true",
                        help="one generate request before the idle window (an app that has served, weights paged in)")
    add_model_options(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = prepare_model(Path(tmp), args.model, args.gguf_cache)
        result = {"benchmark": "collection", "machine": f"{platform.processor() or platform.machine()}, "
                  f"{psutil.cpu_count()} cores, {round(psutil.virtual_memory().total / 2**30)} GiB",
                  "model": args.model, "load_average_at_start": load_average(),
                  **cycle_cost(args.cycles, Path(tmp), args.model)}
        result |= idle_share(args.idle_seconds, Path(tmp), env, args.warm_up_request)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
