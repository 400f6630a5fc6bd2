"""The live ring: bounded, copies out, safe across threads."""

from __future__ import annotations

import threading

import pytest

from healthmon.store.ring import Ring


def test_empty_ring() -> None:
    ring = Ring(3)
    assert len(ring) == 0
    assert ring.latest() is None
    assert ring.items() == []
    frame = ring.frame()
    assert list(frame.columns) == ["ts"] and frame.empty


def test_ring_keeps_the_newest_maxlen_samples() -> None:
    ring = Ring(3)
    for ts in range(5):
        ring.append(ts, {"v": ts})
    assert len(ring) == 3
    assert [ts for ts, _ in ring.items()] == [2.0, 3.0, 4.0]
    assert ring.latest() == (4.0, {"v": 4})
    assert [ts for ts, _ in ring.items(since=3)] == [3.0, 4.0]


def test_ring_copies_in_and_out() -> None:
    ring = Ring(2)
    values = {"v": 1}
    ring.append(1, values)
    values["v"] = 99
    latest = ring.latest()
    assert latest == (1.0, {"v": 1})
    latest[1]["v"] = 42
    ring.items()[0][1]["v"] = 43
    assert ring.latest() == (1.0, {"v": 1})


def test_frame_has_ts_and_numeric_columns_only() -> None:
    ring = Ring(10)
    ring.append(1.0, {"cpu": 10, "name": "host", "ok": True, "gone": None})
    ring.append(2.0, {"cpu": 20, "gpu0_util": 50.0, "bad": float("nan"), "ts": 999})
    frame = ring.frame()
    assert list(frame.columns) == ["ts", "cpu", "ok", "gpu0_util"]
    assert frame["ts"].tolist() == [1.0, 2.0]
    assert frame["cpu"].tolist() == [10.0, 20.0]
    assert frame["gpu0_util"].isna().tolist() == [True, False]
    assert all(dtype == "float64" for dtype in frame.dtypes)
    assert ring.frame(since=2)["ts"].tolist() == [2.0]


def test_clear() -> None:
    ring = Ring(4)
    ring.append(1, {"a": 1})
    ring.clear()
    assert len(ring) == 0 and ring.latest() is None


def test_maxlen_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Ring(0)


def test_concurrent_appends_and_reads() -> None:
    ring = Ring(100_000)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        for i in range(2000):
            ring.append(worker * 10_000 + i, {"v": i})

    def reader() -> None:
        try:
            for _ in range(50):
                ring.frame()
                ring.items(since=5)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)] + [threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(ring) == 16_000
