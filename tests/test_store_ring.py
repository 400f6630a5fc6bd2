"""The live ring: bounded, read-only samples, safe across threads."""

from __future__ import annotations

import threading

import pytest

from healthmon.samples import Sample
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
        ring.append(Sample("system", ts, {"v": ts}))
    assert len(ring) == 3
    assert [s.timestamp_s for s in ring.items()] == [2.0, 3.0, 4.0]
    latest = ring.latest()
    assert latest is not None and (latest.layer, latest.timestamp_s, dict(latest)) == ("system", 4.0, {"v": 4})
    assert [s.timestamp_s for s in ring.items(since=3)] == [3.0, 4.0]


def test_what_a_ring_hands_out_cannot_be_changed() -> None:
    ring = Ring(2)
    values = {"v": 1}
    ring.append(Sample("system", 1, values))
    values["v"] = 99  # the caller's dict is the caller's: the sample took a copy
    latest = ring.latest()
    assert latest is not None and latest["v"] == 1
    with pytest.raises(TypeError):
        latest.metrics["v"] = 42  # type: ignore[index]
    with pytest.raises(AttributeError):
        latest.timestamp_s = 5.0  # type: ignore[misc]
    assert ring.latest() == {"v": 1}


def test_a_ring_takes_samples_only() -> None:
    with pytest.raises(TypeError, match="Sample"):
        Ring(2).append({"v": 1})  # type: ignore[arg-type]


def test_frame_has_ts_and_numeric_columns_only() -> None:
    ring = Ring(10)
    ring.append(Sample("system", 1.0, {"cpu": 10, "name": "host", "ok": True, "gone": None}))
    ring.append(Sample("system", 2.0, {"cpu": 20, "gpu0_util": 50.0, "bad": float("nan"), "ts": 999}))
    frame = ring.frame()
    assert list(frame.columns) == ["ts", "cpu", "ok", "gpu0_util"]
    assert frame["ts"].tolist() == [1.0, 2.0]
    assert frame["cpu"].tolist() == [10.0, 20.0]
    assert frame["gpu0_util"].isna().tolist() == [True, False]
    assert all(dtype == "float64" for dtype in frame.dtypes)
    assert ring.frame(since=2)["ts"].tolist() == [2.0]


def test_clear() -> None:
    ring = Ring(4)
    ring.append(Sample("system", 1, {"a": 1}))
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
            ring.append(Sample("system", worker * 10_000 + i, {"v": i}))

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
