"""SystemCollector against a fake psutil and a fake clock, plus one smoke test on the real machine."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace
from typing import Any

import psutil
import pytest

from healthmon.collectors.base import Collector, safe_collect
from healthmon.collectors.system import SystemCollector

GB = 1024**3

EXPECTED_KEYS = {
    "cpu_usage", "cpu_per_core", "cpu_count", "load_avg_1m", "load_avg_5m", "load_avg_15m",
    "memory_usage", "memory_used_gb", "memory_total_gb", "memory_available_gb", "swap_usage",
    "swap_used_gb", "disk_usage", "disk_used_gb", "disk_total_gb", "disk_read_bytes_per_second",
    "disk_write_bytes_per_second", "network_sent_bytes_per_second", "network_recv_bytes_per_second",
    "system_uptime_hours",
}  # fmt: skip

RATE_KEYS = [key for key in EXPECTED_KEYS if key.endswith("_bytes_per_second")]


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now_seconds: float = 1000.0) -> None:
        self.now_seconds = now_seconds

    def __call__(self) -> float:
        return self.now_seconds


class FakePsutil:
    """Just the psutil calls SystemCollector makes, with counters the test sets."""

    def __init__(self, with_loadavg: bool = True) -> None:
        self.cpu_calls: list[dict[str, Any]] = []
        self.disk_io: SimpleNamespace | None = SimpleNamespace(read_bytes=1_000, write_bytes=2_000)
        self.net_io: SimpleNamespace | None = SimpleNamespace(bytes_sent=10_000, bytes_recv=20_000)
        self.disk_paths: list[str] = []
        if with_loadavg:
            self.getloadavg = lambda: (1.234, 0.5, 0.25)

    def cpu_percent(self, interval: float | None = None, percpu: bool = False) -> Any:
        self.cpu_calls.append({"interval": interval, "percpu": percpu})
        return [10.0, 30.0] if percpu else 20.0

    def cpu_count(self) -> int:
        return 2

    def virtual_memory(self) -> SimpleNamespace:
        return SimpleNamespace(percent=50.0, used=4 * GB, total=8 * GB, available=3.5 * GB)

    def swap_memory(self) -> SimpleNamespace:
        return SimpleNamespace(percent=25.0, used=GB // 2)

    def disk_usage(self, path: str) -> SimpleNamespace:
        self.disk_paths.append(path)
        return SimpleNamespace(percent=75.5, used=300 * GB, total=400 * GB)

    def disk_io_counters(self) -> SimpleNamespace | None:
        return self.disk_io

    def net_io_counters(self) -> SimpleNamespace | None:
        return self.net_io

    def boot_time(self) -> float:
        return 1_000_000.0


def make_collector(fake: FakePsutil, clock: FakeClock) -> SystemCollector:
    """A collector whose CPU measurement window has run for one second, as in the loop."""
    collector = SystemCollector(psutil_module=fake, clock=clock, disk_path="/data",
                                wall_clock=lambda: 1_000_000.0 + 7200)
    clock.now_seconds += 1.0
    return collector


def test_cpu_over_a_window_too_short_to_measure_is_no_data() -> None:
    clock = FakeClock()
    collector = SystemCollector(psutil_module=FakePsutil(), clock=clock, disk_path="/data")
    sample = collector.collect()  # at once: psutil would report 0.0, which is not an idle CPU
    assert sample["cpu_usage"] is None and sample["cpu_per_core"] is None
    clock.now_seconds += 1.0
    assert collector.collect()["cpu_usage"] == 20.0


def test_is_a_collector_with_the_system_layer() -> None:
    collector = make_collector(FakePsutil(), FakeClock())
    assert isinstance(collector, Collector)
    assert collector.layer == "system"


def test_every_key_and_value_with_units() -> None:
    fake = FakePsutil()
    sample = make_collector(fake, FakeClock()).collect()
    assert set(sample) == EXPECTED_KEYS
    assert sample["cpu_usage"] == 20.0
    assert sample["cpu_per_core"] == [10.0, 30.0]
    assert sample["cpu_count"] == 2
    assert (sample["load_avg_1m"], sample["load_avg_5m"], sample["load_avg_15m"]) == (1.23, 0.5, 0.25)
    assert sample["memory_usage"] == 50.0
    assert sample["memory_used_gb"] == 4.0
    assert sample["memory_total_gb"] == 8.0
    assert sample["memory_available_gb"] == 3.5
    assert sample["swap_usage"] == 25.0
    assert sample["swap_used_gb"] == 0.5
    assert sample["disk_usage"] == 75.5
    assert sample["disk_used_gb"] == 300.0
    assert sample["disk_total_gb"] == 400.0
    assert fake.disk_paths == ["/data"]
    assert sample["system_uptime_hours"] == 2.0


def test_cpu_is_primed_in_the_constructor_and_never_blocks() -> None:
    fake = FakePsutil()
    collector = make_collector(fake, FakeClock())
    assert fake.cpu_calls == [{"interval": None, "percpu": False}, {"interval": None, "percpu": True}]
    for _ in range(3):
        collector.collect()
    assert len(fake.cpu_calls) == 2 + 3 * 2
    assert all(call["interval"] is None for call in fake.cpu_calls)


def test_missing_getloadavg_gives_none() -> None:
    sample = make_collector(FakePsutil(with_loadavg=False), FakeClock()).collect()
    assert sample["load_avg_1m"] is None
    assert sample["load_avg_5m"] is None
    assert sample["load_avg_15m"] is None


def test_rates_are_none_on_the_first_call_then_deltas_over_the_clock() -> None:
    fake, clock = FakePsutil(), FakeClock()
    collector = make_collector(fake, clock)
    first = collector.collect()
    assert all(first[key] is None for key in RATE_KEYS)

    clock.now_seconds += 4.0
    fake.disk_io = SimpleNamespace(read_bytes=1_000 + 4_000, write_bytes=2_000 + 2)
    fake.net_io = SimpleNamespace(bytes_sent=10_000 + 800, bytes_recv=20_000 + 4_000_000)
    second = collector.collect()
    assert second["disk_read_bytes_per_second"] == 1_000.0
    assert second["disk_write_bytes_per_second"] == 0.5  # small rates are not rounded to 0
    assert second["network_sent_bytes_per_second"] == 200.0
    assert second["network_recv_bytes_per_second"] == 1_000_000.0

    clock.now_seconds += 2.0
    third = collector.collect()
    assert all(third[key] == 0.0 for key in RATE_KEYS)


def test_counter_reset_gives_none_then_recovers() -> None:
    fake, clock = FakePsutil(), FakeClock()
    collector = make_collector(fake, clock)
    collector.collect()
    clock.now_seconds += 1.0
    fake.net_io = SimpleNamespace(bytes_sent=5, bytes_recv=20_100)  # an interface went away
    sample = collector.collect()
    assert sample["network_sent_bytes_per_second"] is None
    assert sample["network_recv_bytes_per_second"] == 100.0
    clock.now_seconds += 1.0
    fake.net_io = SimpleNamespace(bytes_sent=15, bytes_recv=20_100)
    assert collector.collect()["network_sent_bytes_per_second"] == 10.0


def test_missing_counters_give_none_and_restart_the_history() -> None:
    fake, clock = FakePsutil(), FakeClock()
    fake.disk_io = None
    fake.net_io = None
    collector = make_collector(fake, clock)
    for _ in range(2):
        clock.now_seconds += 1.0
        sample = collector.collect()
        assert all(sample[key] is None for key in RATE_KEYS)
    fake.disk_io = SimpleNamespace(read_bytes=1, write_bytes=1)
    clock.now_seconds += 1.0
    assert collector.collect()["disk_read_bytes_per_second"] is None  # first sample after they appear
    clock.now_seconds += 1.0
    assert collector.collect()["disk_read_bytes_per_second"] == 0.0


def test_clock_that_did_not_advance_gives_none_not_division_by_zero() -> None:
    fake, clock = FakePsutil(), FakeClock()
    collector = make_collector(fake, clock)
    collector.collect()
    assert collector.collect()["disk_read_bytes_per_second"] is None


def test_real_psutil_smoke() -> None:
    collector = SystemCollector()
    time.sleep(0.1)
    sample = collector.collect()
    time.sleep(0.1)
    sample = collector.collect()  # second call has rates
    assert set(sample) == EXPECTED_KEYS
    assert 0 <= sample["cpu_usage"] <= 100
    assert sample["cpu_count"] >= 1
    assert len(sample["cpu_per_core"]) >= 1
    assert all(0 <= core <= 100 for core in sample["cpu_per_core"])
    for key in ("memory_usage", "swap_usage", "disk_usage"):
        assert 0 <= sample[key] <= 100
    assert 0 < sample["memory_used_gb"] <= sample["memory_total_gb"]
    assert 0 < sample["memory_available_gb"] <= sample["memory_total_gb"]
    assert 0 < sample["disk_used_gb"] <= sample["disk_total_gb"]
    assert sample["system_uptime_hours"] > 0
    for key in RATE_KEYS:
        assert sample[key] is None or (isinstance(sample[key], float) and sample[key] >= 0)
    if hasattr(psutil, "getloadavg"):
        assert sample["load_avg_1m"] >= 0


class RaisingCollector:
    """A collector that always fails the same way."""

    layer = "broken"

    def __init__(self, message: str) -> None:
        self.message = message

    def collect(self) -> dict[str, Any]:
        raise RuntimeError(self.message)


def test_safe_collect_returns_the_sample_and_no_error() -> None:
    sample, error = safe_collect(make_collector(FakePsutil(), FakeClock()), logging.getLogger("t"))
    assert error is None
    assert sample["cpu_usage"] == 20.0


def test_safe_collect_reports_and_logs_each_distinct_error_once(caplog: pytest.LogCaptureFixture) -> None:
    collector = RaisingCollector("disk vanished")
    logger = logging.getLogger("healthmon.test.safe_collect")
    with caplog.at_level(logging.DEBUG, logger="healthmon.test.safe_collect"):
        results = [safe_collect(collector, logger) for _ in range(5)]
        assert results == [({}, "RuntimeError: disk vanished")] * 5
        assert len(caplog.records) == 1
        assert "disk vanished" in caplog.records[0].getMessage()

        collector.message = "another fault"
        assert safe_collect(collector, logger) == ({}, "RuntimeError: another fault")
        safe_collect(collector, logger)
        assert len(caplog.records) == 2


def test_safe_collect_state_is_per_collector(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("healthmon.test.safe_collect_per_instance")
    with caplog.at_level(logging.DEBUG, logger=logger.name):
        safe_collect(RaisingCollector("same text"), logger)
        safe_collect(RaisingCollector("same text"), logger)
    assert len(caplog.records) == 2


def test_safe_collect_lets_keyboard_interrupt_through() -> None:
    class Interrupted:
        layer = "interrupted"

        def collect(self) -> dict[str, Any]:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        safe_collect(Interrupted(), logging.getLogger("t"))


def test_the_monitor_measures_the_disk_that_holds_its_data_dir(tmp_path, monkeypatch) -> None:
    """Disk usage is that of the filesystem where history and models are written, not of `/`."""
    from healthmon.config import load_settings
    from healthmon.monitor import Monitor

    fake = FakePsutil()
    monkeypatch.setattr("healthmon.monitor.SystemCollector", lambda **options: SystemCollector(fake, **options))
    data_dir = tmp_path / "new" / "data"
    monitor = Monitor(load_settings(env={}, model="demo", data_dir=data_dir, probe_interval=0.0))
    try:
        monitor.loop.collect_once()
    finally:
        monitor.close()
    assert fake.disk_paths == [str(data_dir)]
