"""Write 24 h of 1 s samples (20 metrics) through HistoryStore, then time the reads pages make; prints JSON.

Targets: >= 50,000 rows/s written (append_sample + flush), <= 150 ms to read 24 h downsampled to 2,000 points.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from healthmon.store.sqlite import HistoryStore  # noqa: E402

ROWS = 86_400
METRICS = 20
READ_RUNS = 5
START_TS = 1_700_000_000.0


def median_ms(action, runs: int = READ_RUNS) -> tuple[float, object]:
    """Median wall time of `runs` calls in milliseconds, and the last result."""
    timings_ms, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        timings_ms.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings_ms), result


def main() -> None:
    names = [f"metric_{i:02d}" for i in range(METRICS)]
    samples = [
        (START_TS + second, {name: math.sin(second / 600 + i) * 50 + 50 for i, name in enumerate(names)})
        for second in range(ROWS)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        store = HistoryStore(Path(tmp) / "bench.sqlite3", clock=lambda: START_TS + ROWS,
                             flush_interval_seconds=3600, retention_seconds=30 * 86_400, max_pending=ROWS)
        store.open()
        started = time.perf_counter()
        for ts, values in samples:
            store.append_sample("system", ts, values)
        enqueue_seconds = time.perf_counter() - started
        store.flush()
        write_seconds = time.perf_counter() - started
        until = START_TS + ROWS
        downsampled_ms, downsampled = median_ms(lambda: store.frame("system", START_TS, until, max_points=2000))
        raw_ms, raw = median_ms(lambda: store.frame("system", START_TS, until, max_points=ROWS))
        health = store.health()
        store.close()
    print(json.dumps({
        "rows": ROWS,
        "metrics_per_row": METRICS,
        "write_rows_per_second": round(ROWS / write_seconds),
        "write_metric_values_per_second": round(ROWS * METRICS / write_seconds),
        "write_seconds": round(write_seconds, 3),
        "enqueue_seconds": round(enqueue_seconds, 3),
        "read_24h_downsampled_2000_ms_median": round(downsampled_ms, 1),
        "downsampled_rows": len(downsampled),
        "read_24h_raw_ms_median": round(raw_ms, 1),
        "raw_rows": len(raw),
        "db_size_bytes": health["db_size_bytes"],
        "write_errors_total": health["write_errors_total"],
        "targets_met": ROWS / write_seconds >= 50_000 and downsampled_ms <= 150,
    }, indent=2))


if __name__ == "__main__":
    main()
