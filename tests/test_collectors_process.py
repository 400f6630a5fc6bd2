"""ProcessCollector against a fake psutil, plus one smoke test on this process."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

from healthmon.collectors.base import Collector
from healthmon.collectors.process import ProcessCollector

MB = 1024**2


class AccessDenied(Exception):
    """Stands in for psutil.AccessDenied."""


class FakeProcess:
    """The psutil.Process calls ProcessCollector makes."""

    def __init__(self, pid: int | None, open_files_denied: bool = False, fds: str = "ok") -> None:
        self.pid = pid
        self.open_files_denied = open_files_denied
        self.fds = fds
        self.cpu_intervals: list[float | None] = []

    def memory_info(self) -> SimpleNamespace:
        return SimpleNamespace(rss=256 * MB + MB // 2)

    def cpu_percent(self, interval: float | None = None) -> float:
        self.cpu_intervals.append(interval)
        return 0.0 if len(self.cpu_intervals) == 1 else 150.0

    def num_threads(self) -> int:
        return 12

    def open_files(self) -> list[Any]:
        if self.open_files_denied:
            raise AccessDenied()
        return [object(), object(), object()]

    def num_fds(self) -> int:
        if self.fds == "denied":
            raise AccessDenied()
        if self.fds == "missing":  # Windows has no num_fds
            raise AttributeError("num_fds")
        return 40


def fake_psutil(process: FakeProcess) -> SimpleNamespace:
    def make_process(pid: int | None) -> FakeProcess:
        process.pid = pid
        return process

    return SimpleNamespace(Process=make_process, AccessDenied=AccessDenied)


def test_every_key_and_value() -> None:
    process = FakeProcess(None)
    collector = ProcessCollector(psutil_module=fake_psutil(process), pid=4242)
    assert isinstance(collector, Collector)
    assert collector.layer == "process"
    assert process.pid == 4242
    assert collector.collect() == {
        "process_rss_mb": 256.5,
        "process_cpu_percent": 150.0,
        "process_threads": 12,
        "process_open_files": 3,
    }


def test_cpu_is_primed_and_never_blocks() -> None:
    process = FakeProcess(None)
    collector = ProcessCollector(psutil_module=fake_psutil(process))
    assert process.cpu_intervals == [None]
    collector.collect()
    collector.collect()
    assert process.cpu_intervals == [None, None, None]


def test_open_files_denied_falls_back_to_descriptor_count() -> None:
    process = FakeProcess(None, open_files_denied=True)
    assert ProcessCollector(psutil_module=fake_psutil(process)).collect()["process_open_files"] == 40


def test_open_files_none_when_neither_count_works() -> None:
    for fds in ("denied", "missing"):
        process = FakeProcess(None, open_files_denied=True, fds=fds)
        assert ProcessCollector(psutil_module=fake_psutil(process)).collect()["process_open_files"] is None


def test_real_process_smoke() -> None:
    collector = ProcessCollector(pid=os.getpid())
    sample = collector.collect()
    assert sample["process_rss_mb"] > 1
    assert isinstance(sample["process_cpu_percent"], float) and sample["process_cpu_percent"] >= 0
    assert sample["process_threads"] >= 1
    assert isinstance(sample["process_open_files"], int) and sample["process_open_files"] >= 0
