"""An accelerated soak, in-process: collection every 0.2 s under a steady request load, with bounded
resources; and lifecycle cycles that leave no threads behind.

Bounds are on counts and bytes, never on times (2 shared cores). The ring is small, the history reads
cover the last 10 s, and the warm-up waits for the quality scorer's embedding model: everything bounded or
loaded lazily is in place before measuring, so what still grows is a leak. Over 30 s RSS still grows a few
MB in native memory (torch, the allocator) while the Python heap stays flat; benchmarks/bench_soak.py shows
it levelling off in the real app over half an hour (`--minutes 30`).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter

import psutil
from starlette.applications import Starlette
from starlette.testclient import TestClient

from healthmon.api import build_routes
from healthmon.config import load_settings
from healthmon.loop import COLLECTOR_THREAD_NAME
from healthmon.monitor import Monitor
from healthmon.params import GenerationParams

WARM_UP_SECONDS = 10.0
MEASURE_SECONDS = 30.0
RING_SIZE = 25  # 5 s of samples at 0.2 s: full before the warm-up ends
HISTORY_WINDOW = "10"  # seconds: the history reads, like the ring, reach their full size during the warm-up
REQUESTS_PER_SECOND = 5.0
MAX_RSS_GROWTH_MB = 30.0
GENERATED = ("/api/model/generate", 200)
PROCESS_SINGLETONS = {"tqdm_monitor"}  # tqdm's one monitor thread, started by the first model load's progress bar


def thread_names() -> Counter:
    return Counter(thread.name for thread in threading.enumerate() if thread.name not in PROCESS_SINGLETONS)


def collector_threads() -> int:
    return thread_names()[COLLECTOR_THREAD_NAME]


class SteadyLoad:
    """A generate request and a status read REQUESTS_PER_SECOND times a second, a history read every fifth."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.stop = threading.Event()
        self.answers: Counter = Counter()
        self.thread = threading.Thread(target=self._run, name="soak-load", daemon=True)

    def _run(self) -> None:
        count, next_at = 0, time.monotonic()
        while not self.stop.is_set():
            count += 1
            calls = [("POST", "/api/model/generate", {"prompt": f"soak {count}", "max_new_tokens": 8}),
                     ("GET", "/api/health/status", None)]
            if count % 5 == 0:
                calls += [("GET", f"/api/health/metrics?window={HISTORY_WINDOW}", None),
                          ("GET", "/api/traces?limit=20", None)]
            for method, path, body in calls:
                self.answers[(path.split("?")[0], self.client.request(method, path, json=body).status_code)] += 1
            next_at = max(next_at + 1.0 / REQUESTS_PER_SECOND, time.monotonic())  # behind: no catch-up burst
            self.stop.wait(max(0.0, next_at - time.monotonic()))


def test_resources_stay_flat_under_collection_and_load(data_dir):
    monitor = Monitor(load_settings(env={}, model="demo", data_dir=data_dir, interval=0.2, probe_interval=1.0,
                                    ring_size=RING_SIZE, rate_limit_per_minute=0.0))
    assert monitor.target.load(), monitor.target.error
    process = psutil.Process()
    readings: list[tuple[float, float, int, int, Counter]] = []  # (elapsed s, RSS MB, OS threads, fds, names)
    with TestClient(Starlette(routes=build_routes(lambda: monitor))) as client:
        load = SteadyLoad(client)
        try:
            monitor.start()
            load.thread.start()
            scorer = monitor.quality_scorer  # loads its embedding model with the first finished request
            deadline = time.monotonic() + 180
            while not (scorer.stats()["embedding_model_ready"] or scorer.embedder_error):
                assert time.monotonic() < deadline, "the quality scorer never got ready"
                time.sleep(0.2)
            time.sleep(WARM_UP_SECONDS)
            cycles_at_start, started = monitor.loop.cycles_total, time.monotonic()
            generated_at_start = load.answers[GENERATED]
            while (elapsed := time.monotonic() - started) < MEASURE_SECONDS:
                readings.append((elapsed, process.memory_info().rss / 2**20, process.num_threads(),
                                 process.num_fds(), thread_names()))
                time.sleep(1.0)
            cycles = monitor.loop.cycles_total - cycles_at_start
            generated = load.answers[GENERATED] - generated_at_start
            store = monitor.store.health()
        finally:
            load.stop.set()
            load.thread.join(30)
            monitor.close()

    assert {status for (_, status) in load.answers} == {200}, load.answers
    assert generated >= 10 and cycles >= 10  # the load and the loop both ran while measured
    assert store["ok"] and store["write_errors_total"] == 0 and store["dropped_total"] == 0
    first, second = readings[: len(readings) // 2], readings[len(readings) // 2:]
    rss_first, rss_second = [r[1] for r in first], [r[1] for r in second]
    threads_first, threads_second = {r[2] for r in first}, {r[2] for r in second}
    fds_first, fds_second = {r[3] for r in first}, {r[3] for r in second}
    print(f"\nsoak: {cycles} cycles, {generated} generations in "
          f"{MEASURE_SECONDS:.0f} s; RSS {rss_first[0]:.1f} -> {rss_second[-1]:.1f} MB (halves' means "
          f"{statistics.mean(rss_first):.1f} / {statistics.mean(rss_second):.1f}); "
          f"OS threads {sorted(threads_first)} / {sorted(threads_second)}; "
          f"fds {sorted(fds_first)} / {sorted(fds_second)}")
    # Minimums: the collector loop opens /proc files for a moment every cycle, so a reading may catch one
    # more fd; a leak raises the floor, which is what these compare.
    assert min(threads_second) <= min(threads_first), (threads_first, threads_second)
    assert first[-1][4] == second[-1][4], (first[-1][4], second[-1][4])  # the same Python threads, by name
    assert min(fds_second) <= min(fds_first), (fds_first, fds_second)
    assert statistics.mean(rss_second) - statistics.mean(rss_first) < MAX_RSS_GROWTH_MB
    assert rss_second[-1] - rss_first[0] < MAX_RSS_GROWTH_MB


def test_100_start_stop_restart_cycles_leave_no_threads(data_dir):
    monitor = Monitor(load_settings(env={}, model="demo", data_dir=data_dir, interval=0.1, probe_interval=60.0))
    try:
        before = thread_names()
        for _ in range(100):
            assert monitor.start() is True and collector_threads() == 1
            monitor.restart()
            assert monitor.running and collector_threads() == 1
            assert monitor.stop() is True and collector_threads() == 0
        assert thread_names() == before, (before, thread_names())
        assert monitor.loop.collect_once()["system"]  # still usable after all that
    finally:
        monitor.close()


def test_concurrent_start_stop_restart_never_runs_two_loops(data_dir):
    monitor = Monitor(load_settings(env={}, model="demo", data_dir=data_dir, interval=0.1, probe_interval=60.0))
    seen_loops: list[int] = []
    stop_watching = threading.Event()

    def watch() -> None:
        while not stop_watching.is_set():
            seen_loops.append(collector_threads())
            time.sleep(0.001)

    def hammer(offset: int) -> None:
        for step in range(25):
            (monitor.start, monitor.stop, monitor.restart)[(step + offset) % 3]()

    try:
        before = thread_names()
        watcher = threading.Thread(target=watch, daemon=True)
        workers = [threading.Thread(target=hammer, args=(offset,), daemon=True) for offset in range(4)]
        watcher.start()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
        assert not any(worker.is_alive() for worker in workers), "start/stop/restart deadlocked"
        stop_watching.set()
        watcher.join(10)
        assert max(seen_loops) <= 1, "two collector loops ran at once"
        monitor.stop()
        assert thread_names() == before
    finally:
        monitor.close()


def test_closing_a_monitor_leaves_no_threads(data_dir):
    """What release_monitor() and a new get_monitor() do. The model worker used to outlive its monitor,
    holding the model (found by this test, fixed in 2ea2ab8)."""
    settings = load_settings(env={}, model="demo", data_dir=data_dir, interval=0.2, probe_interval=0.0)
    before = thread_names()
    for _ in range(3):
        monitor = Monitor(settings)
        try:
            monitor.start()
            assert monitor.target.load(), monitor.target.error
            monitor.target.generate(GenerationParams("one request", max_new_tokens=2))
        finally:
            monitor.close()
    assert thread_names() == before, (before, thread_names())
