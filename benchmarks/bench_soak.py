"""Soak: the real app collecting every 0.2 s under a steady request load; RSS, threads and open files over time.

    python benchmarks/bench_soak.py [--minutes 30] [--interval 0.2] [--rps 2] [--ring-size 3600]
                                    [--warm-up-seconds 60] [--report-every 30]

Starts `streamlit run streamlit_app.py` (demo model, canary probe every 10 s, no rate limit), sends
`--rps` generate requests per second plus as many status reads and, every tenth, a history read, and
samples the app process every 5 s. A line of JSON goes to stderr every `--report-every` seconds; the
summary (one JSON object on stdout) compares the readings after the warm-up: RSS slope by least squares,
threads and open files as min/max. The live ring holds `--ring-size` samples per layer and fills in
ring-size x interval seconds (12 min at the defaults); until then RSS grows by design, so either soak
past that or pass a smaller ring. `ring_mb_when_full` estimates what the full ring costs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_load import demo_app, machine  # noqa: E402
from healthmon.analysis.forecast import predict_linear  # noqa: E402

SAMPLE_EVERY_SECONDS = 5.0


def ring_bytes_per_cycle(data_dir: Path) -> float:
    """Python heap bytes one collection cycle adds to the rings (every layer), measured with tracemalloc."""
    from healthmon.config import load_settings
    from healthmon.monitor import Monitor

    monitor = Monitor(load_settings(env={}, data_dir=data_dir, probe_interval=0.0, ring_size=1000))
    try:
        monitor.loop.collect_once()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(200):
            monitor.loop.collect_once()
        monitor.store.flush()  # what the store queues is written, so only what the rings keep remains
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        return grown / 200
    finally:
        monitor.close()


class Load:
    """`rps` generate requests per second with a status read each, and a history read every tenth."""

    def __init__(self, url: str, rps: float) -> None:
        self.url, self.period_seconds = url, 1.0 / rps
        self.stop = threading.Event()
        self.answers: Counter = Counter()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        count = 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            count += 1
            calls = [("POST", "/api/model/generate", {"prompt": f"soak {count}: all well?", "max_new_tokens": 16}),
                     ("GET", "/api/health/status", None)]
            if count % 10 == 0:
                calls.append(("GET", "/api/health/metrics?window=15m", None))
            for method, path, body in calls:
                try:
                    code = requests.request(method, self.url + path, json=body, timeout=60).status_code
                except requests.RequestException:
                    code = "connection error"
                self.answers[f"{path.split('?')[0]} {code}"] += 1
            next_at += self.period_seconds
            self.stop.wait(max(0.0, next_at - time.monotonic()))


def slope_per_hour(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, value), scaled to one hour (the alert forecasts' own fit)."""
    if len(points) < 3:
        return None
    fit = predict_linear([p[0] for p in points], [p[1] for p in points], horizon_seconds=0.0)
    return None if fit is None else 3600 * fit.slope_per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=0.2, help="HEALTHMON_INTERVAL")
    parser.add_argument("--rps", type=float, default=2.0, help="generate requests per second")
    parser.add_argument("--ring-size", type=int, default=3600, help="HEALTHMON_RING_SIZE")
    parser.add_argument("--warm-up-seconds", type=float, default=60.0)
    parser.add_argument("--report-every", type=float, default=30.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        ring_bytes = ring_bytes_per_cycle(Path(tmp) / "ring-estimate")
        with demo_app(Path(tmp) / "soak", HEALTHMON_INTERVAL=str(args.interval), HEALTHMON_PROBE_INTERVAL="10",
                      HEALTHMON_RING_SIZE=str(args.ring_size)) as app:
            process = psutil.Process(app.process.pid)
            load = Load(app.url, args.rps)
            load.thread.start()
            started = time.monotonic()
            readings: list[dict] = []
            next_report = args.report_every
            while (elapsed := time.monotonic() - started) < args.minutes * 60:
                status = requests.get(app.url + "/api/health/status", timeout=60).json()
                reading = {"t_s": round(elapsed, 1), "rss_mb": round(process.memory_info().rss / 2**20, 1),
                           "threads": process.num_threads(), "fds": process.num_fds(),
                           "db_mb": round(status["store"]["db_size_bytes"] / 2**20, 2),
                           "store_pending": status["store"]["pending"],
                           "store_write_errors": status["store"]["write_errors_total"],
                           "requests": status["request_stats"]["total_requests"]}
                readings.append(reading)
                if elapsed >= next_report:
                    print(json.dumps(reading), file=sys.stderr, flush=True)
                    next_report += args.report_every
                time.sleep(SAMPLE_EVERY_SECONDS)
            load.stop.set()
            load.thread.join(120)
            final = requests.get(app.url + "/api/health/status", timeout=60).json()

    steady = [r for r in readings if r["t_s"] >= args.warm_up_seconds] or readings
    result = {
        "benchmark": "soak", "machine": machine(), "minutes": args.minutes, "interval_seconds": args.interval,
        "generate_rps_target": args.rps, "ring_size": args.ring_size,
        "ring_fills_after_seconds": round(args.ring_size * args.interval),
        "ring_mb_when_full": round(ring_bytes * args.ring_size / 2**20, 1),
        "warm_up_seconds": args.warm_up_seconds, "readings": len(readings),
        "rss_mb_start": readings[0]["rss_mb"], "rss_mb_after_warm_up": steady[0]["rss_mb"],
        "rss_mb_end": readings[-1]["rss_mb"], "rss_mb_max": max(r["rss_mb"] for r in readings),
        "rss_mb_per_hour_after_warm_up":
            None if (s := slope_per_hour([(r["t_s"], r["rss_mb"]) for r in steady])) is None else round(s, 1),
        "threads_min_max_after_warm_up": [min(r["threads"] for r in steady), max(r["threads"] for r in steady)],
        "fds_min_max_after_warm_up": [min(r["fds"] for r in steady), max(r["fds"] for r in steady)],
        "db_mb_end": readings[-1]["db_mb"],
        "db_mb_per_hour": None if (d := slope_per_hour([(r["t_s"], r["db_mb"]) for r in steady])) is None
        else round(d, 1),
        "store_pending_max": max(r["store_pending"] for r in readings),
        "store_write_errors": final["store"]["write_errors_total"],
        "collector_threads": final["collector_threads"],
        "answers": dict(sorted(load.answers.items())),
        "request_stats_accounted": final["request_stats"]["total_requests"] == sum(
            final["request_stats"][key] for key in ("succeeded_requests", "failed_requests", "rejected_requests")),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
