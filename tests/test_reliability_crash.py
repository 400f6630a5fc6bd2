"""Crash safety of the real app: `kill -9` under load loses nothing older than the flush interval, and a
corrupt database at start is moved aside, never a crash.

What the API acknowledged before the kill is recorded with the client's wall-clock time: samples (the
status answer's latest timestamps), requests (a 200 from generate), alert states and acknowledgements
(from /api/alerts). Everything acknowledged more than MAX_LOSS_SECONDS before the kill must be in the
database the killed process left behind (checked on a copy, so the restart sees the crash state
untouched), and in the API's history after a restart on the same data directory.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Self

import pytest
import requests

pytestmark = pytest.mark.e2e

MAX_LOSS_SECONDS = 2.0  # the documented bound: HEALTHMON_FLUSH_INTERVAL is at most 2 s (default 1)
LOAD_SECONDS = 7.0
RULES = """
[[threshold]]
name = "crash_memory_always"
metric = "memory_usage"
op = ">"
fire = -1
resolve = -2
for_samples = 1
for_seconds = 0

[[threshold]]
name = "crash_cpu_flapping"
metric = "cpu_usage"
op = ">"
fire = 30
resolve = 30
for_samples = 1
for_seconds = 0

[[threshold]]
name = "crash_throughput_seen"
metric = "tokens_per_second"
op = ">"
fire = 0
resolve = -1
for_samples = 1
for_seconds = 0
"""


def unix(iso_time: str) -> float:
    return datetime.fromisoformat(iso_time).timestamp()


class Acknowledged:
    """What the API said, and when (client wall clock), from a few threads until `stop` is set."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stop = threading.Event()
        self.requests: list[tuple[float, str]] = []  # (answered at, trace id)
        self.samples: dict[str, list[tuple[float, float]]] = {"system": [], "model": []}  # (seen at, sample ts)
        self.alerts: dict[tuple[str, str], float] = {}  # (alert id, state) -> when first seen in that state
        self.acknowledged: dict[str, float] = {}  # alert id -> when POST acknowledge answered 200
        self.threads = [threading.Thread(target=self._generate, args=(i,), daemon=True) for i in range(2)]
        self.threads.append(threading.Thread(target=self._observe, daemon=True))

    def __enter__(self) -> Self:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def _generate(self, worker: int) -> None:
        count = 0
        while not self.stop.is_set():
            count += 1
            try:
                response = requests.post(self.url + "/api/model/generate", timeout=30, json={
                    "prompt": f"worker {worker} request {count}: is the disk full?", "max_new_tokens": 16})
            except requests.RequestException:
                continue  # the app was killed mid-request
            if response.status_code == 200:
                self.requests.append((time.time(), response.json()["trace_id"]))

    def _observe(self) -> None:
        while not self.stop.is_set():
            try:
                status = requests.get(self.url + "/api/health/status", timeout=10).json()
                seen = time.time()
                for layer, key in (("system", "latest_system"), ("model", "latest_model")):
                    if status[key]:
                        self.samples[layer].append((seen, unix(status[key]["timestamp"])))
                alerts = requests.get(self.url + "/api/alerts", timeout=10).json()["alerts"]
                seen = time.time()
                for alert in alerts:
                    if alert["state"] in ("firing", "resolved"):  # pending is live state only, never stored
                        self.alerts.setdefault((alert["id"], alert["state"]), seen)
                    if alert["state"] == "firing" and alert["id"] not in self.acknowledged:
                        answer = requests.post(f"{self.url}/api/alerts/{alert['id']}/acknowledge", timeout=10)
                        if answer.status_code == 200:
                            self.acknowledged[alert["id"]] = time.time()
            except (requests.RequestException, ValueError):
                pass
            self.stop.wait(0.2)


def copy_database(data_dir: Path, target: Path) -> Path:
    """The database file and its WAL as the killed process left them."""
    target.mkdir()
    for suffix in ("", "-wal"):
        source = data_dir / f"history.sqlite3{suffix}"
        if source.exists():
            shutil.copy2(source, target / source.name)
    return target / "history.sqlite3"


def integrity(db_path: Path) -> str:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def test_kill_9_under_load_loses_nothing_older_than_the_flush_interval(app_factory, data_dir, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    env = {"HEALTHMON_INTERVAL": "0.5", "HEALTHMON_RULES_FILE": str(rules), "HEALTHMON_RATE_LIMIT_PER_MINUTE": "0"}
    first = app_factory(data_dir, **env)
    with Acknowledged(first.url) as acked:
        time.sleep(LOAD_SECONDS)
        killed_at = time.time()
        first.stop(kill=True)
    assert first.process.returncode == -9

    old_enough = killed_at - MAX_LOSS_SECONDS
    want_requests = [trace for at, trace in acked.requests if at < old_enough]
    want_samples = {layer: sorted({ts for _, ts in seen if ts < old_enough}) for layer, seen in acked.samples.items()}
    want_alerts = {alert_id: state for (alert_id, state), at in sorted(acked.alerts.items(), key=lambda item: item[1])
                   if at < old_enough}  # the latest state seen in time
    want_acks = [alert_id for alert_id, at in acked.acknowledged.items() if at < old_enough]
    assert len(want_requests) >= 3 and len(want_samples["system"]) >= 3 and len(want_samples["model"]) >= 3
    assert want_alerts and want_acks, (acked.alerts, acked.acknowledged)

    crash_state = copy_database(data_dir, tmp_path / "crash-state")
    assert integrity(crash_state) == "ok"
    with sqlite3.connect(crash_state) as conn:
        stored_traces = {row[0] for row in conn.execute("SELECT trace_id FROM requests")}
        stored_ts = {layer: [row[0] for row in conn.execute(f"SELECT ts FROM samples_{layer}")]
                     for layer in want_samples}
        stored_alerts = {row[0]: row[1:] for row in conn.execute("SELECT id, state, acknowledged FROM alerts")}
    assert set(want_requests) <= stored_traces, sorted(set(want_requests) - stored_traces)
    for layer, wanted in want_samples.items():
        missing = [ts for ts in wanted if not any(abs(ts - stored) < 1e-5 for stored in stored_ts[layer])]
        assert not missing, (layer, missing, killed_at)
    assert set(want_alerts) <= set(stored_alerts), sorted(set(want_alerts) - set(stored_alerts))
    for alert_id, state in want_alerts.items():
        if state == "resolved":
            assert stored_alerts[alert_id][0] == "resolved", alert_id
    assert all(stored_alerts[alert_id][1] == 1 for alert_id in want_acks), (want_acks, stored_alerts)
    lost_ages = [killed_at - at for at, trace in acked.requests if trace not in stored_traces] + [
        killed_at - ts for layer, seen in acked.samples.items() for _, ts in seen
        if not any(abs(ts - stored) < 1e-5 for stored in stored_ts[layer])]
    print(f"\nkill -9: checked {len(want_requests)} requests, {sum(map(len, want_samples.values()))} samples, "
          f"{len(want_alerts)} alerts, {len(want_acks)} acknowledgements; lost {len(lost_ages)} acknowledged items, "
          f"the oldest {max(lost_ages, default=0.0):.2f} s before the kill")

    second = app_factory(data_dir, **env)  # the same data directory, as the killed process left it
    assert not list(data_dir.glob("history.sqlite3.corrupt-*")), second.log()
    for trace_id in want_requests:
        assert second.get(f"/api/traces/{trace_id}").status_code == 200, trace_id
    since = min(ts for wanted in want_samples.values() for ts in wanted) - 1
    history = second.get(f"/api/health/metrics?since={since}&until={killed_at}&max_points=5000").json()
    for layer, key in (("system", "system_metrics"), ("model", "model_metrics")):
        shown = {row["timestamp"] for row in history[key]}
        assert all(any(abs(unix(stamp) - ts) < 1e-5 for stamp in shown) for ts in want_samples[layer]), layer
    listed = {alert["id"]: alert for alert in second.get("/api/alerts?window=1h").json()["alerts"]}
    assert set(want_alerts) <= set(listed)
    assert all(listed[alert_id]["acknowledged"] for alert_id in want_acks)
    after = second.post("/api/model/generate", json={"prompt": "after the crash", "max_new_tokens": 2})
    assert after.status_code == 200
    second.stop()
    assert integrity(data_dir / "history.sqlite3") == "ok"


def test_a_corrupt_database_is_moved_aside_and_a_fresh_one_works(app_factory, data_dir):
    db_path = data_dir / "history.sqlite3"
    garbage = os.urandom(256 * 1024)
    db_path.write_bytes(garbage)
    server = app_factory(data_dir)

    aside = list(data_dir.glob("history.sqlite3.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == garbage  # kept for a post-mortem, byte for byte
    log = server.log()
    assert "is corrupt" in log and str(aside[0]) in log and "started a fresh one" in log, log
    status = server.get("/api/health/status").json()
    assert status["store"]["write_errors_total"] == 0
    answer = server.post("/api/model/generate", json={"prompt": "fresh start", "max_new_tokens": 4})
    assert answer.status_code == 200, answer.text
    trace_id = answer.json()["trace_id"]
    server.wait_until(lambda: server.get(f"/api/traces/{trace_id}").status_code == 200, "the request in history", 15)
    server.wait_until(lambda: server.get("/api/health/metrics?window=15m").json()["system_metrics"],
                      "samples in the fresh history", 15)
    assert server.get("/api/health/status").json()["store"]["ok"] is True
    server.stop()
    assert integrity(db_path) == "ok"
