"""HistoryStore: wide sample tables, requests, alerts, retention, corruption and write failures."""

from __future__ import annotations

import ctypes
import logging
import math
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from healthmon.store.frames import downsample_frame
from healthmon.store.schema import REQUEST_TEXT_COLUMNS
from healthmon.store.sqlite import DROP_LOG_EVERY_SECONDS, WRITER_THREAD_NAME, HistoryStore, StoreError

START = 1_700_000_000.0


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def store(db_path: Path, clock: FakeClock) -> Iterator[HistoryStore]:
    # a long flush interval: the tests flush by hand, so nothing depends on timing
    history = HistoryStore(db_path, clock=clock, flush_interval_seconds=3600).open()
    yield history
    history.close()


def count_rows(path: Path, table: str) -> int:
    # closing(): `with sqlite3.connect()` only commits, and the connection lives on until the cycle collector runs
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]


def test_open_creates_wal_database_and_named_writer_thread(store: HistoryStore, db_path: Path) -> None:
    assert db_path.exists()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert WRITER_THREAD_NAME in {thread.name for thread in threading.enumerate()}
    health = store.health()
    assert health["ok"] is True and health["path"] == str(db_path)
    assert set(health) >= {"ok", "path", "pending", "written_rows_total", "write_errors_total", "dropped_total",
                           "last_error", "last_flush_at", "db_size_bytes"}


def test_samples_round_trip_with_columns_appearing_over_time(store: HistoryStore) -> None:
    store.append_sample("gpu", START, {"gpu0_utilization": 10})
    store.append_sample("gpu", START + 1, {"gpu0_utilization": 20, "gpu0_memory_used_bytes": 1e9})
    assert store.flush()
    store.append_sample("gpu", START + 2, {"gpu1_utilization": 5})
    store.flush()
    assert store.layers() == ["gpu"]
    assert store.columns("gpu") == ["gpu0_utilization", "gpu0_memory_used_bytes", "gpu1_utilization"]
    frame = store.frame("gpu", START)
    assert frame["ts"].tolist() == [START, START + 1, START + 2]
    assert frame["gpu0_utilization"].tolist()[:2] == [10.0, 20.0]
    assert frame["gpu0_memory_used_bytes"].isna().tolist() == [True, False, True]
    assert frame["gpu1_utilization"].isna().tolist() == [True, True, False]  # old rows are NULL for a new column
    assert store.health()["written_rows_total"] == 3


def test_non_numeric_values_are_skipped(store: HistoryStore) -> None:
    values = {"cpu": 1.5, "ok": True, "none": None, "name": "host", "list": [1, 2], "nan": math.nan, "inf": math.inf}
    store.append_sample("system", START, values)
    store.flush()
    assert store.columns("system") == ["cpu", "ok"]
    frame = store.frame("system", START)
    assert frame[["cpu", "ok"]].iloc[0].tolist() == [1.5, 1.0]


@pytest.mark.parametrize(("layer", "values"), [
    ("System", {"cpu": 1}), ("1system", {"cpu": 1}), ("sys-tem", {"cpu": 1}), ("a" * 64, {"cpu": 1}),
    ("system", {"CPU": 1}), ("system", {"cpu util": 1}), ("system", {"ts": 1}), ("system", {'x"; DROP': 1}),
])
def test_bad_names_are_rejected_on_the_callers_thread(store: HistoryStore, layer: str, values: dict) -> None:
    with pytest.raises(ValueError):
        store.append_sample(layer, START, values)
    assert store.health()["pending"] == 0


def test_bad_ts_is_rejected(store: HistoryStore) -> None:
    with pytest.raises(ValueError):
        store.append_sample("system", math.nan, {"cpu": 1})


def test_downsampling_in_sql_matches_known_bucket_means(store: HistoryStore) -> None:
    for second in range(10):
        store.append_sample("system", START + second, {"value": second})
    store.flush()
    frame = store.frame("system", START, max_points=5)
    assert frame["value"].tolist() == [0.5, 2.5, 4.5, 6.5, 8.5]
    assert frame["ts"].tolist() == [START + 0.5, START + 2.5, START + 4.5, START + 6.5, START + 8.5]


def test_downsampling_agrees_with_the_in_memory_helper(store: HistoryStore) -> None:
    rng = np.random.default_rng(7)
    for i, ts in enumerate(np.cumsum(rng.uniform(0.5, 1.5, 5000)) + START):
        store.append_sample("model", float(ts), {"a": float(rng.normal()), **({"b": float(i)} if i % 3 else {})})
    store.flush()
    raw = store.frame("model", START, max_points=10_000)
    assert len(raw) == 5000
    sql = store.frame("model", START, max_points=300)
    assert len(sql) <= 300
    expected = downsample_frame(raw, max_points=300)
    assert len(sql) == len(expected)
    for column in ["ts", "a", "b"]:
        assert np.allclose(sql[column], expected[column], equal_nan=True)


def test_raw_rows_below_max_points_with_window_and_columns(store: HistoryStore) -> None:
    for second in range(20):
        store.append_sample("system", START + second, {"cpu": second, "mem": -second})
    store.flush()
    frame = store.frame("system", START + 5, until=START + 9, max_points=100, columns=["mem", "missing"])
    assert list(frame.columns) == ["ts", "mem", "missing"]
    assert frame["ts"].tolist() == [START + s for s in range(5, 10)]  # since and until are inclusive
    assert frame["mem"].tolist() == [-5.0, -6.0, -7.0, -8.0, -9.0]
    assert frame["missing"].isna().all()


def test_unknown_layer_gives_an_empty_frame(store: HistoryStore) -> None:
    frame = store.frame("nothing_here", START)
    assert list(frame.columns) == ["ts"] and frame.empty
    assert store.columns("nothing_here") == []


def request(trace_id: str, ts: float, **fields: object) -> dict:
    return {"trace_id": trace_id, "ts": ts, "source": "api", "status": "ok", "prompt_tokens": 12,
            "output_tokens": 30, "ttft_seconds": 0.05, "latency_seconds": 1.2, "prompt": "hi", "response": "hello",
            "params": {"temperature": 0.7, "max_new_tokens": 64}, "spans": [{"name": "decode", "seconds": 1.1}],
            **fields}


def test_requests_round_trip_with_json_and_replace(store: HistoryStore) -> None:
    store.append_request(request("t1", START))
    store.flush()
    stored = store.get_request("t1")
    assert stored["params"] == {"temperature": 0.7, "max_new_tokens": 64}
    assert stored["spans"] == [{"name": "decode", "seconds": 1.1}]
    assert stored["quality"] is None and stored["finish_reason"] is None
    assert stored["prompt_tokens"] == 12 and stored["latency_seconds"] == 1.2
    store.append_request(request("t1", START, quality={"repetition": 0.1}))  # quality arrives later
    store.flush()
    assert store.get_request("t1")["quality"] == {"repetition": 0.1}
    assert len(store.recent_requests()) == 1
    assert store.get_request("nope") is None


def test_reads_see_accepted_writes_without_waiting_for_a_flush(store: HistoryStore) -> None:
    """Read your own writes: the fixture's writer flushes once an hour, yet every read sees what was queued."""
    store.append_sample("system", START, {"cpu": 1})
    assert store.layers() == ["system"] and store.columns("system") == ["cpu"]
    store.append_sample("system", START + 1, {"cpu": 2})
    assert store.frame("system", START)["cpu"].tolist() == [1.0, 2.0]
    store.append_request(request("t1", START))
    assert store.get_request("t1")["response"] == "hello"
    store.append_request(request("t2", START + 1))
    assert [r["trace_id"] for r in store.recent_requests()] == ["t2", "t1"]
    store.append_request(request("t3", START + 2, status="error"))
    assert store.request_totals(START)["requests"] == 3
    store.append_request(request("t4", START + 3))
    assert store.requests_frame(START)["trace_id"].tolist() == ["t1", "t2", "t3", "t4"]
    store.upsert_alert({"id": "a1", "state": "firing", "started_at": START, "transition": "firing"})
    assert [a["id"] for a in store.load_alerts()] == ["a1"]
    store.upsert_alert({"id": "a1", "state": "resolved", "started_at": START, "transition": "resolved"})
    assert [t["state"] for t in store.alert_transitions("a1")] == ["firing", "resolved"]
    assert store.health()["pending"] == 0


def test_reads_flush_only_for_the_tables_they_read(store: HistoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page reads every second: a read with nothing queued for its table must not write (nor wait for) anything."""
    flushes: list[int] = []
    real_flush = store.flush
    monkeypatch.setattr(store, "flush", lambda: flushes.append(store.health()["pending"]) or real_flush())
    store.frame("system", START)
    store.get_request("t1")
    assert flushes == []
    store.append_sample("system", START, {"cpu": 1})
    assert store.get_request("t1") is None and store.load_alerts() == []  # no request or alert is queued
    assert flushes == []
    assert store.frame("system", START)["cpu"].tolist() == [1.0]
    assert flushes == [1]
    store.frame("system", START)
    assert flushes == [1]


def test_request_needs_a_trace_id(store: HistoryStore) -> None:
    with pytest.raises(ValueError):
        store.append_request({"ts": START})


def test_recent_requests_order_and_synthetic_filter(store: HistoryStore) -> None:
    store.append_request(request("old", START))
    store.append_request(request("probe", START + 1, source="probe", synthetic=1))
    store.append_request(request("new", START + 2))
    store.flush()
    assert [r["trace_id"] for r in store.recent_requests()] == ["new", "probe", "old"]
    assert [r["trace_id"] for r in store.recent_requests(include_synthetic=False)] == ["new", "old"]
    assert [r["trace_id"] for r in store.recent_requests(limit=1)] == ["new"]


def test_requests_frame(store: HistoryStore) -> None:
    store.append_request(request("a", START))
    store.append_request(request("b", START + 1, synthetic=True))
    store.append_request(request("c", START + 2, status="error", error="boom", latency_seconds=None))
    store.flush()
    frame = store.requests_frame(START)
    assert frame["trace_id"].tolist() == ["a", "c"]
    assert not {"params", "spans", "quality"} & set(frame.columns)
    assert frame["latency_seconds"].isna().tolist() == [False, True]
    assert frame["prompt_tokens"].dtype == "float64"
    with_probes = store.requests_frame(START, until=START + 1, include_synthetic=True, columns=["trace_id", "params"])
    assert list(with_probes.columns) == ["trace_id", "params"]
    assert with_probes["trace_id"].tolist() == ["a", "b"]
    assert isinstance(with_probes["params"].iloc[0], str)  # JSON stays text in frames
    with pytest.raises(ValueError):
        store.requests_frame(START, columns=["nope"])


def test_requests_frame_newest_keeps_the_latest_in_time_order(store: HistoryStore) -> None:
    for index in range(5):
        store.append_request(request(f"r{index}", START + index))
    store.append_request(request("probe", START + 5, synthetic=True))
    store.flush()
    assert store.requests_frame(START, newest=2)["trace_id"].tolist() == ["r3", "r4"]
    assert store.requests_frame(START, until=START + 2, newest=10)["trace_id"].tolist() == ["r0", "r1", "r2"]
    with pytest.raises(ValueError):
        store.requests_frame(START, newest=0)


def test_request_totals_count_the_whole_window_in_sql(store: HistoryStore) -> None:
    store.append_request(request("a", START, latency_seconds=1.0, tokens_per_second=10.0, finish_reason="stop"))
    store.append_request(request("b", START + 1, latency_seconds=3.0, tokens_per_second=30.0, finish_reason="length"))
    store.append_request(request("c", START + 2, status="error", latency_seconds=9.0, finish_reason="error"))
    store.append_request(request("d", START + 3, status="rejected", finish_reason=None))
    store.append_request(request("probe", START + 4, synthetic=True, finish_reason="stop"))
    store.flush()
    totals = store.request_totals(START)
    assert totals == {"requests": 4, "succeeded": 2, "failed": 1, "rejected": 1, "mean_latency_seconds": 2.0,
                      "mean_tokens_per_second": 20.0,
                      "finish_reasons": {"error": 1, "length": 1, "none": 1, "stop": 1}}
    assert store.request_totals(START, include_synthetic=True)["finish_reasons"]["stop"] == 2
    empty = store.request_totals(START + 100)
    assert empty["requests"] == 0 and empty["succeeded"] == 0 and empty["mean_latency_seconds"] is None


def test_alerts_and_transitions_round_trip(store: HistoryStore, clock: FakeClock) -> None:
    alert = {"id": "gpu_temp:gpu0", "rule": "gpu_temp", "metric": "gpu0_temperature_celsius", "level": "critical",
             "kind": "threshold", "state": "pending", "message": "GPU 0 at 91 °C", "value": 91.0,
             "started_at": START, "resolved_at": None, "acknowledged": False, "labels": {"gpu": "0"}}
    store.upsert_alert({**alert, "transition": "pending"})
    clock.now = START + 30
    store.upsert_alert({**alert, "state": "firing", "transition": "firing"})
    store.upsert_alert({**alert, "state": "firing", "acknowledged": True})  # no transition row
    clock.now = START + 90
    store.upsert_alert({**alert, "state": "resolved", "resolved_at": START + 90, "value": 70.0,
                        "transition": "resolved"})
    store.upsert_alert({"id": "other", "state": "firing", "started_at": START + 60, "transition": "firing"})
    store.flush()
    alerts = store.load_alerts()
    assert [a["id"] for a in alerts] == ["other", "gpu_temp:gpu0"]  # newest first
    resolved = alerts[1]
    assert resolved["labels"] == {"gpu": "0"} and resolved["state"] == "resolved" and resolved["value"] == 70.0
    assert [a["id"] for a in store.load_alerts(states=["firing"])] == ["other"]
    assert [a["id"] for a in store.load_alerts(since=START + 100)] == ["other"]  # still open
    transitions = store.alert_transitions("gpu_temp:gpu0")
    assert [(t["state"], t["ts"]) for t in transitions] == [("pending", START), ("firing", START + 30),
                                                             ("resolved", START + 90)]
    assert transitions[-1]["value"] == 70.0


# The tables as an older version created them: alerts without fired_at and silenced_until, requests without quality.
OLD_SCHEMA = """
CREATE TABLE requests (trace_id TEXT PRIMARY KEY, ts REAL, source TEXT, synthetic INTEGER, status TEXT,
    finish_reason TEXT, error TEXT, model TEXT, prompt_tokens INTEGER, output_tokens INTEGER, queue_seconds REAL,
    tokenize_seconds REAL, ttft_seconds REAL, decode_seconds REAL, latency_seconds REAL,
    inter_token_latency_seconds REAL, tokens_per_second REAL, prompt_chars INTEGER, response_chars INTEGER,
    prompt TEXT, response TEXT, params TEXT, spans TEXT);
CREATE TABLE alerts (id TEXT PRIMARY KEY, rule TEXT, metric TEXT, level TEXT, kind TEXT, state TEXT, message TEXT,
    value REAL, started_at REAL, resolved_at REAL, acknowledged INTEGER, labels TEXT);
INSERT INTO alerts (id, rule, state, started_at) VALUES ('old-1', 'cpu_warning', 'firing', 1700000000.0);
INSERT INTO requests (trace_id, ts, status) VALUES ('old', 1700000000.0, 'ok');
"""


def test_a_database_of_the_old_schema_gains_the_new_columns(db_path: Path, clock: FakeClock) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        conn.executescript(OLD_SCHEMA)
    with HistoryStore(db_path, clock=clock, flush_interval_seconds=3600) as store:
        store.upsert_alert({"id": "new-1", "rule": "cpu_warning", "state": "firing", "started_at": START + 1,
                            "fired_at": START + 6, "silenced_until": START + 600})
        store.append_request(request("new", START + 1, quality={"relevance": 0.5}))
        assert store.flush() and store.health()["write_errors_total"] == 0
        alerts = {alert["id"]: alert for alert in store.load_alerts()}
        assert (alerts["new-1"]["fired_at"], alerts["new-1"]["silenced_until"]) == (START + 6, START + 600)
        assert alerts["old-1"]["state"] == "firing" and alerts["old-1"]["fired_at"] is None  # old rows are kept
        assert store.get_request("new")["quality"] == {"relevance": 0.5}
        assert store.get_request("old")["status"] == "ok"


# Sample tables as the version before issue 22 wrote them: the model layer's mean whole-request time under
# `inference_time`, the service's mean latency under `avg_response_time` and its failure percent under
# `failure_rate`, the learned band under the old name.
FORMER_NAMES_SCHEMA = """
CREATE TABLE samples_model (ts REAL NOT NULL, inference_time REAL, ttft_seconds REAL);
CREATE TABLE samples_service (ts REAL NOT NULL, avg_response_time REAL, failure_rate REAL, total_requests REAL);
CREATE TABLE samples_baseline (ts REAL NOT NULL, inference_time_baseline_low REAL, inference_time_baseline_high REAL);
INSERT INTO samples_model VALUES (1700000000.0, 1.25, 0.2), (1700000010.0, 1.5, 0.25);
INSERT INTO samples_service VALUES (1700000000.0, 1.375, 50.0, 2);
INSERT INTO samples_baseline VALUES (1700000000.0, 0.5, 2.0);
CREATE TABLE alerts (id TEXT PRIMARY KEY, rule TEXT, metric TEXT, level TEXT, kind TEXT, state TEXT, message TEXT,
    value REAL, started_at REAL, resolved_at REAL, acknowledged INTEGER, labels TEXT);
INSERT INTO alerts (id, rule, metric, state, started_at) VALUES
    ('lat-1', 'latency_learned', 'inference_time', 'resolved', 1700000000.0);
"""


def test_samples_stored_under_a_former_name_read_back_under_the_new_one(db_path: Path, clock: FakeClock) -> None:
    """An upgrade renames the columns once at open (catalog.FORMER_KEYS): the old rows show under the new name, and
    new rows go to the same column."""
    db_path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.executescript(FORMER_NAMES_SCHEMA)
    with HistoryStore(db_path, clock=clock, flush_interval_seconds=3600) as store:
        model = store.frame("model", 0)
        assert "inference_time" not in model
        assert model["latency_seconds"].tolist() == [1.25, 1.5] and model["ttft_seconds"].tolist() == [0.2, 0.25]
        service = store.frame("service", 0)
        assert (service["mean_latency_seconds"].tolist(), service["failure_percent"].tolist()) == ([1.375], [50.0])
        baseline = store.frame("baseline", 0)
        assert (baseline["latency_seconds_baseline_low"].tolist(), baseline["latency_seconds_baseline_high"].tolist()) \
            == ([0.5], [2.0])
        assert [a["metric"] for a in store.load_alerts()] == ["latency_seconds"]
        store.append_sample("model", START + 20, {"latency_seconds": 1.75})
        store.flush()
        assert store.frame("model", 0)["latency_seconds"].tolist() == [1.25, 1.5, 1.75]
    with HistoryStore(db_path, clock=clock, flush_interval_seconds=3600) as store:  # the next open changes nothing
        assert store.frame("model", 0)["latency_seconds"].tolist() == [1.25, 1.5, 1.75]


def test_a_former_name_written_again_by_an_older_version_fills_the_new_columns_gaps(
        db_path: Path, clock: FakeClock) -> None:
    """Both columns present (an older version ran on the upgraded file): the former one's values move over."""
    with HistoryStore(db_path, clock=clock, flush_interval_seconds=3600) as store:
        store.append_sample("model", START, {"latency_seconds": 1.0})
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute('ALTER TABLE samples_model ADD COLUMN "inference_time" REAL')
        conn.execute("INSERT INTO samples_model (ts, inference_time) VALUES (?, 2.0)", (START + 10,))
    with HistoryStore(db_path, clock=clock, flush_interval_seconds=3600) as store:
        model = store.frame("model", 0)
        assert "inference_time" not in model and model["latency_seconds"].tolist() == [1.0, 2.0]


def test_silences_round_trip_and_a_later_one_replaces_its_matcher(store: HistoryStore, clock: FakeClock) -> None:
    store.upsert_silence({"matcher": "cpu_usage", "starts_at": START, "ends_at": START + 600, "created_at": START})
    store.upsert_silence({"matcher": "disk_critical", "starts_at": START, "ends_at": START + 60, "created_at": START})
    store.upsert_silence({"matcher": "cpu_usage", "starts_at": START + 10, "ends_at": START + 900,
                          "created_at": START + 10})  # extended: one silence per matcher, as the engine keeps them
    assert [(s["matcher"], s["ends_at"]) for s in store.load_silences(active_at=START + 30)] == [
        ("cpu_usage", START + 900), ("disk_critical", START + 60)]
    assert [s["matcher"] for s in store.load_silences(active_at=START + 60)] == ["cpu_usage"]  # ended ones are not
    with pytest.raises(ValueError):
        store.upsert_silence({"ends_at": START})


def test_retention_prunes_old_rows_from_every_table(store: HistoryStore, db_path: Path, clock: FakeClock) -> None:
    day = 86_400
    store.append_sample("system", START, {"cpu": 1})
    store.append_sample("system", START + 8 * day, {"cpu": 2})
    store.append_sample("gpu", START, {"util": 1})
    store.append_request(request("old", START))
    store.append_request(request("new", START + 8 * day))
    store.upsert_alert({"id": "old", "state": "resolved", "started_at": START, "resolved_at": START + 60,
                        "transition": "resolved", "transition_at": START + 60})
    store.upsert_alert({"id": "open", "state": "firing", "started_at": START, "transition": "firing",
                        "transition_at": START})
    store.upsert_silence({"matcher": "cpu_usage", "starts_at": START, "ends_at": START + 600, "created_at": START})
    store.upsert_silence({"matcher": "disk_usage", "starts_at": START, "ends_at": START + 9 * day,
                          "created_at": START})
    store.flush()
    clock.now = START + 8 * day
    deleted = store.prune(clock.now)  # the writer calls this once a minute with clock()
    assert deleted == 7
    assert count_rows(db_path, "silences") == 1  # the one still in force
    assert store.frame("system", 0)["cpu"].tolist() == [2.0]
    assert store.frame("gpu", 0).empty
    assert [r["trace_id"] for r in store.recent_requests()] == ["new"]
    assert [a["id"] for a in store.load_alerts()] == ["open"]  # an alert still firing is kept
    assert count_rows(db_path, "alert_transitions") == 0


def test_history_survives_close_and_reopen(db_path: Path, clock: FakeClock) -> None:
    first = HistoryStore(db_path, clock=clock, flush_interval_seconds=3600).open()
    first.append_sample("system", START, {"cpu": 1})
    first.append_request(request("t", START))
    first.close()  # close flushes what is pending
    first.close()
    assert first.health()["ok"] is False
    with HistoryStore(db_path, clock=clock, flush_interval_seconds=3600) as second:
        assert second.frame("system", 0)["cpu"].tolist() == [1.0]
        assert second.get_request("t")["response"] == "hello"
        second.append_sample("system", START + 1, {"cpu": 2, "mem": 3})
        second.flush()
        assert second.frame("system", 0)["mem"].isna().tolist() == [True, False]


def test_closed_store_drops_appends_and_refuses_reads(db_path: Path, clock: FakeClock) -> None:
    store = HistoryStore(db_path, clock=clock).open()
    store.close()
    store.append_sample("system", START, {"cpu": 1})
    assert store.health()["dropped_total"] == 1
    with pytest.raises(StoreError, match="closed"):
        store.frame("system", 0)


def test_read_of_a_missing_database_raises_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="missing.sqlite3"):
        HistoryStore(tmp_path / "missing.sqlite3").layers()


def test_corrupt_file_is_moved_aside(db_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    db_path.parent.mkdir(parents=True)
    garbage = os.urandom(8192)
    db_path.write_bytes(garbage)
    with caplog.at_level(logging.WARNING):
        store = HistoryStore(db_path, clock=clock, flush_interval_seconds=3600).open()
    aside = db_path.with_name(f"{db_path.name}.corrupt-{int(START)}")
    assert aside.read_bytes() == garbage
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(db_path) in warnings[0].getMessage() and str(aside) in warnings[0].getMessage()
    store.append_sample("system", START, {"cpu": 1})
    assert store.flush()
    assert store.frame("system", 0)["cpu"].tolist() == [1.0]
    store.close()


class FailingConnection:
    """Stands in for the writer's connection on a disk that fails every write."""

    def execute(self, *args: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    executemany = execute

    def close(self) -> None:
        pass


def fail_every_connection(store: HistoryStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the store's writer connection, and every one it reopens, fail each statement: a disk that stays
    broken, whatever the writer does about it. The list counts the (re)connects."""
    connects: list[int] = []

    def failing() -> FailingConnection:
        connects.append(1)
        return FailingConnection()

    monkeypatch.setattr(store, "_connect", failing)
    store._writer = FailingConnection()  # type: ignore[assignment]
    return connects


def test_write_failure_is_counted_logged_once_and_retried(
    store: HistoryStore, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    connects = fail_every_connection(store, monkeypatch)
    store.append_sample("system", START, {"cpu": 1})
    with caplog.at_level(logging.ERROR):
        assert store.flush() is False
        store.append_sample("system", START + 1, {"cpu": 2})
        assert store.flush() is False
    health = store.health()
    assert health["ok"] is False
    assert health["write_errors_total"] == 2
    assert "disk I/O error" in health["last_error"]
    assert health["pending"] == 2  # the failed batch is kept for retry
    assert len([r for r in caplog.records if "disk I/O error" in r.getMessage()]) == 1
    assert connects == [1]  # the first failure closed the connection: the retry opened a fresh one
    monkeypatch.undo()  # the disk works again: the next retry reconnects for real
    assert store.flush() is True
    assert store.frame("system", 0)["cpu"].tolist() == [1.0, 2.0]
    assert store.health()["ok"] is True and store.health()["pending"] == 0


def test_retry_queue_is_bounded(db_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    store = HistoryStore(db_path, clock=clock, flush_interval_seconds=3600, max_pending=3).open()
    fail_every_connection(store, monkeypatch)
    for second in range(5):
        store.append_sample("system", START + second, {"cpu": second})
    store.flush()
    store.append_sample("system", START + 5, {"cpu": 5})
    store.flush()
    health = store.health()
    assert health["pending"] == 3 and health["dropped_total"] == 3
    monkeypatch.undo()  # reconnects on the next flush
    store.close()
    assert store.frame is not None and count_rows(db_path, "samples_system") == 3


def drop_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "dropped" in r.getMessage()]


def test_dropped_rows_are_said_with_their_count_at_most_once_a_minute(
    db_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = HistoryStore(db_path, clock=clock, flush_interval_seconds=3600, max_pending=3).open()
    fail_every_connection(store, monkeypatch)
    with caplog.at_level(logging.WARNING):
        for second in range(5):
            store.append_sample("system", START + second, {"cpu": second})
        assert drop_warnings(caplog) == []  # an append never logs: the writer side says it
        store.flush()
        assert len(drop_warnings(caplog)) == 1 and "dropped 2 rows" in drop_warnings(caplog)[0]
        for second in range(5, 105):  # a full queue drops a row per append: still one line a minute, not 100
            store.append_sample("system", START + second, {"cpu": second})
            store.flush()
        assert len(drop_warnings(caplog)) == 1
        clock.now += DROP_LOG_EVERY_SECONDS
        store.flush()
        assert len(drop_warnings(caplog)) == 2 and "dropped 100 rows" in drop_warnings(caplog)[1]
        assert "(102 since start" in drop_warnings(caplog)[1]
        store.close()  # the disk is still broken: the 3 rows left are dropped, counted and said at once
    assert store.health()["dropped_total"] == 105 and store.health()["pending"] == 0
    assert len(drop_warnings(caplog)) == 3 and "dropped 3 rows" in drop_warnings(caplog)[2]


class CheckpointFails(sqlite3.Connection):
    """A real writer connection whose WAL checkpoints fail, as on an I/O error; everything else works."""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        if "wal_checkpoint" in sql:
            raise sqlite3.OperationalError("disk I/O error")
        return super().execute(sql, *args)


def test_failed_wal_checkpoints_are_counted_and_logged_once_per_streak(
    db_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = HistoryStore(db_path, clock=clock, flush_interval_seconds=3600)
    real_connect = store._connect
    monkeypatch.setattr(store, "_connect", lambda: sqlite3.connect(
        db_path, isolation_level=None, check_same_thread=False, factory=CheckpointFails))
    with store, caplog.at_level(logging.INFO):
        store.append_sample("system", START, {"cpu": 1})
        assert store.flush() is True  # writes are fine
        assert store.checkpoint() is False and store.checkpoint() is False
        health = store.health()
        assert health["checkpoint_failures_total"] == 2 and "disk I/O error" in health["last_checkpoint_error"]
        assert health["ok"] is True  # the rows are written; the WAL just is not folded back yet
        failures = [r for r in caplog.records if "checkpoint failed" in r.getMessage()]
        assert len(failures) == 1 and failures[0].levelno == logging.WARNING
        monkeypatch.setattr(store, "_connect", real_connect)
        assert store.checkpoint() is True
        assert store.health()["last_checkpoint_error"] is None and store.health()["checkpoint_failures_total"] == 2
        assert any("checkpoints recovered" in r.getMessage() for r in caplog.records)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory_does_not_raise(tmp_path: Path, clock: FakeClock) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    directory.chmod(0o555)
    try:
        store = HistoryStore(directory / "history.sqlite3", clock=clock, flush_interval_seconds=3600).open()
        store.append_sample("system", START, {"cpu": 1})
        assert store.flush() is False
        health = store.health()
        assert health["ok"] is False and health["write_errors_total"] >= 1 and health["last_error"]
        store.close()
    finally:
        directory.chmod(0o755)


def test_unusable_location_does_not_raise(tmp_path: Path, clock: FakeClock) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    store = HistoryStore(blocker / "history.sqlite3", clock=clock, flush_interval_seconds=3600).open()
    store.append_sample("system", START, {"cpu": 1})
    assert store.flush() is False
    health = store.health()
    assert health["ok"] is False and health["pending"] == 1 and health["db_size_bytes"] == 0
    assert health["write_errors_total"] == 2 and "Error" in health["last_error"]  # open, then the flush
    with pytest.raises(StoreError):
        store.frame("system", 0)
    store.close()


def test_deleted_database_is_recreated(store: HistoryStore, db_path: Path) -> None:
    store.append_sample("system", START, {"cpu": 1})
    store.flush()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    store.append_sample("system", START + 1, {"cpu": 2})
    assert store.flush()
    assert store.frame("system", 0)["cpu"].tolist() == [2.0]


def test_pending_queue_drops_oldest_beyond_max_pending(db_path: Path, clock: FakeClock) -> None:
    store = HistoryStore(db_path, clock=clock, flush_interval_seconds=3600, max_pending=3).open()
    for second in range(5):
        store.append_sample("system", START + second, {"cpu": second})
    assert store.health()["dropped_total"] == 2
    store.flush()
    assert store.frame("system", 0)["cpu"].tolist() == [2.0, 3.0, 4.0]
    store.close()


def test_concurrent_appends_lose_nothing(db_path: Path, clock: FakeClock) -> None:
    store = HistoryStore(db_path, clock=clock, flush_interval_seconds=0.01).open()  # flushes while threads append
    per_thread = 1500

    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            append_all(n)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    def append_all(n: int) -> None:
        for i in range(per_thread):
            store.append_sample("system", START + n * per_thread + i, {"cpu": i, f"worker{n}": 1})
            if i % 100 == 0:
                store.append_request(request(f"{n}-{i}", START + i))
                store.upsert_alert({"id": f"{n}-{i}", "state": "firing", "transition": "firing"})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    assert errors == []
    assert count_rows(db_path, "samples_system") == 8 * per_thread
    assert count_rows(db_path, "requests") == 8 * 15
    assert count_rows(db_path, "alert_transitions") == 8 * 15
    health = store.health()
    assert health["dropped_total"] == 0 and health["write_errors_total"] == 0
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not store._thread.is_alive()


# ---- a database that is really read-only when the store opens it ----------------------------------------------

def in_thread_as_nobody(fn: Callable[[], Any]) -> Any:
    """fn() in a new thread whose filesystem uid and gid are nobody's; threads it starts (the store's writer)
    inherit them. Root passes every permission check, so a read-only file needs a writer that is not root:
    setfsuid(2) is per thread on Linux and drops root's file capabilities with it, so the file is read-only to
    that thread alone and the rest of the test (pytest, the model, the fixtures) runs as before. Not root: the
    permissions already apply, fn runs as it is. Skips when the kernel or the container refuses (no CAP_SETUID)."""
    if os.geteuid() != 0:
        return fn()
    if not sys.platform.startswith("linux"):
        pytest.skip("a read-only file for root needs setfsuid(2), which is Linux only")
    import pwd

    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no 'nobody' user to drop the writer's file privileges to")
    libc = ctypes.CDLL(None, use_errno=True)
    box: dict[str, Any] = {}

    def body() -> None:
        libc.setfsgid(nobody.pw_gid)
        libc.setfsuid(nobody.pw_uid)
        if libc.setfsuid(-1) != nobody.pw_uid:  # an invalid id changes nothing and answers the current one
            box["skip"] = "setfsuid(nobody) did not take here (no CAP_SETUID?)"
            return
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised on the test's thread
            box["error"] = exc

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    if "skip" in box:
        pytest.skip(box["skip"])
    if "error" in box:
        raise box["error"]
    return box["value"]


def assert_read_only_here(path: Path) -> None:
    """The mechanism's own check: this thread really cannot open the file for writing."""
    with pytest.raises(PermissionError):
        open(path, "r+b").close()


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A data directory that nobody can reach and write (pytest's tmp_path is root's, mode 0700), as the app's
    own user owns its data directory; the database file inside it is what the tests make read-only."""
    top = Path(tempfile.mkdtemp(prefix="healthmon-ro-"))
    top.chmod(0o755)
    data = top / "data"
    data.mkdir()
    if os.geteuid() == 0:
        import pwd

        with_nobody = pwd.getpwnam("nobody") if "nobody" in {p.pw_name for p in pwd.getpwall()} else None
        if with_nobody is not None:
            os.chown(data, with_nobody.pw_uid, with_nobody.pw_gid)
    yield data
    shutil.rmtree(top, ignore_errors=True)


def test_a_database_read_only_at_open_is_written_once_it_is_writable(
    shared_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 15: the writer kept the read-only connection it opened, so it failed forever and the queued rows
    were lost. A real read-only file (mode 0444, a non-root writer), then made writable: the rows arrive."""
    path = shared_dir / "history.sqlite3"
    with HistoryStore(path, flush_interval_seconds=3600) as earlier_run:  # the database a previous run left
        earlier_run.append_request(request("before", START))
    path.chmod(0o444)

    def open_store() -> HistoryStore:
        assert_read_only_here(path)
        return HistoryStore(path, flush_interval_seconds=0.05).open()

    caplog.set_level(logging.INFO)
    store = in_thread_as_nobody(open_store)
    try:
        health = store.health()
        assert health["ok"] is False and "readonly" in health["last_error"]  # said at open, before any write
        for index in range(3):
            store.append_request(request(f"queued{index}", START + 1 + index))
            store.append_sample("system", START + index, {"cpu": index})
        errors = store.health()["write_errors_total"]
        wait_until(lambda: store.health()["write_errors_total"] >= errors + 2, "the writer to retry twice")
        assert store.health()["pending"] == 6 and store.health()["ok"] is False
        # nothing reached the file meanwhile; read as the writer's user: a root reader would leave root-owned -wal
        # and -shm behind, which no app running as its own user could fix (RELIABILITY.md: not promised)
        assert in_thread_as_nobody(lambda: count_rows(path, "requests")) == 1

        path.chmod(0o666)  # the operator fixes the file (its owner stays root); the writer must notice on its own
        wait_until(lambda: store.health()["ok"], "writes to recover")
        health = store.health()
        assert health["pending"] == 0 and health["dropped_total"] == 0
        with closing(sqlite3.connect(path)) as fresh:  # what is on disk, not what the store believes
            trace_ids = {row[0] for row in fresh.execute("SELECT trace_id FROM requests")}
            assert trace_ids == {"before", "queued0", "queued1", "queued2"}
            assert fresh.execute("SELECT COUNT(*) FROM samples_system").fetchone()[0] == 3
        assert any("writes recovered" in r.getMessage() for r in caplog.records)
    finally:
        store.close()
    with HistoryStore(path, flush_interval_seconds=3600) as restarted:  # a restart serves them
        assert [r["trace_id"] for r in restarted.recent_requests()] == ["queued2", "queued1", "queued0", "before"]
        assert restarted.get_request("queued1")["response"] == "hello"


def wait_until(condition: Callable[[], bool], what: str, timeout_seconds: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout_seconds} s"
        time.sleep(0.02)


# ---- per-request lists read only the columns they return ------------------------------------------------------

def columns_read(store: HistoryStore, read: Callable[[], Any]) -> set[tuple[str, str]]:
    """(table, column) of every column SQLite reads to run `read`, from its authorizer: exact, not a guess at
    the SQL text. Setting an authorizer expires the cached statements, so each is prepared (and seen) again."""
    store.layers()  # opens the reader connection
    seen: set[tuple[str, str]] = set()

    def authorize(action: int, table: str | None, column: str | None, *_: object) -> int:
        if action == sqlite3.SQLITE_READ and table is not None and column is not None:
            seen.add((table, column))
        return sqlite3.SQLITE_OK

    store._reader.set_authorizer(authorize)
    try:
        read()
    finally:
        store._reader.set_authorizer(None)
    return seen


def test_per_request_lists_never_read_prompt_or_response(store: HistoryStore) -> None:
    """Issue 15 finding 7: the lists read whole prompts and responses they did not return (RSS 626 -> 970 MiB)."""
    long_text = "x" * 4096
    for index in range(3):
        store.append_request(request(f"r{index}", START + index, prompt=long_text, response=long_text,
                                     prompt_text=long_text))
    store.flush()
    texts = {("requests", name) for name in REQUEST_TEXT_COLUMNS}
    frame: list[pd.DataFrame] = []
    read = columns_read(store, lambda: frame.append(store.requests_frame(START, newest=10)))
    assert ("requests", "latency_seconds") in read and not read & texts
    assert not REQUEST_TEXT_COLUMNS & set(frame[0].columns) and frame[0]["trace_id"].tolist() == ["r0", "r1", "r2"]
    recent: list[list[dict]] = []
    read = columns_read(store, lambda: recent.append(store.recent_requests(10)))
    assert ("requests", "trace_id") in read and not read & texts
    assert not REQUEST_TEXT_COLUMNS & recent[0][0].keys() and recent[0][0]["latency_seconds"] == 1.2
    read = columns_read(store, lambda: store.request_totals(START))
    assert not read & texts
    # asked for by name they still come, and a single record still has everything
    assert store.requests_frame(START, columns=["trace_id", "prompt"])["prompt"].tolist() == [long_text] * 3
    assert store.recent_requests(1, columns=["trace_id", "params"])[0]["params"]["temperature"] == 0.7
    assert store.get_request("r0")["prompt"] == long_text
    with pytest.raises(ValueError):
        store.recent_requests(columns=["*"])


def test_frame_dtypes_are_float(store: HistoryStore) -> None:
    store.append_sample("system", START, {"cpu": 1})
    store.flush()
    frame = store.frame("system", START)
    assert isinstance(frame, pd.DataFrame)
    assert all(dtype == "float64" for dtype in frame.dtypes)
