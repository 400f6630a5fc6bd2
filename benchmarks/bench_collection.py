"""Collection cost: CPU seconds per collection cycle, and the whole app's idle CPU share at a 1 s interval.

    python benchmarks/bench_collection.py [--cycles 200] [--idle-seconds 60]

The idle figure starts the real app (`streamlit run`, demo model, probes off, nobody connected) and reads
its process CPU time over the window once the model has loaded: it includes Streamlit, the API server,
the collector loop and the store writer.
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

from tests.appserver import AppServer  # noqa: E402


def cycle_cost(cycles: int, data_dir: Path) -> dict:
    from healthmon.config import load_settings
    from healthmon.monitor import Monitor

    monitor = Monitor(load_settings(data_dir=data_dir, probe_interval=0.0))
    monitor.runtime.load()
    monitor.collect_once()  # warm-up: first psutil calls and imports
    process = psutil.Process()
    cpu_before, wall_before = process.cpu_times(), time.perf_counter()
    for _ in range(cycles):
        monitor.collect_once()
    cpu_after, wall_after = process.cpu_times(), time.perf_counter()
    monitor.close()
    cpu_seconds = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    return {"cycles": cycles, "cpu_ms_per_cycle": round(1000 * cpu_seconds / cycles, 3),
            "wall_ms_per_cycle": round(1000 * (wall_after - wall_before) / cycles, 3)}


def idle_share(seconds: float, data_dir: Path) -> dict:
    # Not the tests' defaults: the app runs as configured (embedding model included) but for the interval and probes.
    app = AppServer(data_dir, data_dir / "app.log", test_defaults=False, HEALTHMON_INTERVAL="1",
                    HEALTHMON_PROBE_INTERVAL="0")
    try:
        app.start(api_timeout_seconds=180, model_timeout_seconds=180)
        if (status := app.model_status()) != "loaded":  # an app without its model is not the idle cost we report
            raise RuntimeError(f"the app's model is {status!r}, not loaded; log:\n{app.log()}")
        time.sleep(5)  # let start-up work settle
        process = psutil.Process(app.process.pid)
        before = process.cpu_times()
        time.sleep(seconds)
        after = process.cpu_times()
        cpu_seconds = (after.user - before.user) + (after.system - before.system)
        return {"idle_window_seconds": seconds, "idle_cpu_seconds": round(cpu_seconds, 3),
                "idle_cpu_percent_of_one_core": round(100 * cpu_seconds / seconds, 3),
                "rss_mb": round(process.memory_info().rss / 2**20, 1)}
    finally:
        app.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = {"benchmark": "collection", "machine": f"{platform.processor() or platform.machine()}, "
                  f"{psutil.cpu_count()} cores, {round(psutil.virtual_memory().total / 2**30)} GiB",
                  **cycle_cost(args.cycles, Path(tmp))}
        result |= idle_share(args.idle_seconds, Path(tmp))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
