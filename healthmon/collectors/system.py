"""Host resources (CPU, memory, swap, disk, network) from a psutil-like module, without blocking."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import psutil

BYTES_PER_GB = 1024**3
SECONDS_PER_HOUR = 3600


def _gb(value_bytes: float) -> float:
    """Bytes to GiB (1024**3; the key names say gb), to about a MiB."""
    return round(value_bytes / BYTES_PER_GB, 3)


def _rate_per_second(current: int, previous: int | None, elapsed_seconds: float) -> float | None:
    """Counter delta per second; None with no history or after a counter reset."""
    if previous is None or elapsed_seconds <= 0 or current < previous:
        return None
    return round((current - previous) / elapsed_seconds, 2)


MIN_CPU_WINDOW_SECONDS = 0.05  # psutil reports 0.0 over a shorter window: no data, not an idle CPU


class SystemCollector:
    """Samples the host each cycle; I/O figures are rates between calls, not totals since boot."""

    layer = "system"

    def __init__(
        self,
        psutil_module: ModuleType | Any = psutil,
        clock: Callable[[], float] = time.monotonic,
        disk_path: str = "/",
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._psutil = psutil_module
        self._clock = clock
        self._disk_path = disk_path
        self._wall_clock = wall_clock  # uptime needs epoch seconds to compare with boot_time()
        self._lock = threading.Lock()
        self._previous_time_seconds: float | None = None
        self._previous_counters: dict[str, int | None] = {}
        # The first non-blocking cpu_percent call only starts the measurement and returns 0.0.
        self._psutil.cpu_percent(interval=None)
        self._psutil.cpu_percent(percpu=True, interval=None)
        self._cpu_window_start = clock()

    def collect(self) -> dict[str, Any]:
        """Return one flat sample; never blocks, so the loop keeps its interval."""
        with self._lock:
            sample = self._cpu() | self._memory() | self._disk_usage()
            sample |= self._io_rates()
            uptime_seconds = self._wall_clock() - self._psutil.boot_time()
            sample["system_uptime_hours"] = round(uptime_seconds / SECONDS_PER_HOUR, 3)
            return sample

    def _cpu(self) -> dict[str, Any]:
        """CPU use since the previous call, plus load averages where the OS has them."""
        getloadavg = getattr(self._psutil, "getloadavg", None)
        load_1m, load_5m, load_15m = getloadavg() if getloadavg is not None else (None, None, None)
        usage = self._psutil.cpu_percent(interval=None)
        per_core: list[float] | None = list(self._psutil.cpu_percent(percpu=True, interval=None))
        now = self._clock()
        if now - self._cpu_window_start < MIN_CPU_WINDOW_SECONDS:  # e.g. the first sample, right after priming
            usage, per_core = None, None
        self._cpu_window_start = now
        return {
            "cpu_usage": usage,
            "cpu_per_core": per_core,
            "cpu_count": self._psutil.cpu_count(),
            "load_avg_1m": None if load_1m is None else round(load_1m, 2),
            "load_avg_5m": None if load_5m is None else round(load_5m, 2),
            "load_avg_15m": None if load_15m is None else round(load_15m, 2),
        }

    def _memory(self) -> dict[str, Any]:
        """RAM and swap, percentages as psutil reports them."""
        memory = self._psutil.virtual_memory()
        swap = self._psutil.swap_memory()
        return {
            "memory_usage": round(memory.percent, 2),
            "memory_used_gb": _gb(memory.used),
            "memory_total_gb": _gb(memory.total),
            "memory_available_gb": _gb(memory.available),
            "swap_usage": round(swap.percent, 2),
            "swap_used_gb": _gb(swap.used),
        }

    def _disk_usage(self) -> dict[str, Any]:
        """Space on the filesystem holding disk_path (where models and the store live)."""
        disk = self._psutil.disk_usage(self._disk_path)
        return {
            "disk_usage": round(disk.percent, 2),
            "disk_used_gb": _gb(disk.used),
            "disk_total_gb": _gb(disk.total),
        }

    def _io_rates(self) -> dict[str, float | None]:
        """Disk and network bytes per second since the previous call, over the injected clock."""
        disk_io = self._psutil.disk_io_counters()
        net_io = self._psutil.net_io_counters()
        counters: dict[str, int | None] = {
            "disk_read_bytes_per_second": None if disk_io is None else disk_io.read_bytes,
            "disk_write_bytes_per_second": None if disk_io is None else disk_io.write_bytes,
            "network_sent_bytes_per_second": None if net_io is None else net_io.bytes_sent,
            "network_recv_bytes_per_second": None if net_io is None else net_io.bytes_recv,
        }
        now_seconds = self._clock()
        elapsed_seconds = (
            0.0 if self._previous_time_seconds is None else now_seconds - self._previous_time_seconds
        )
        rates = {
            name: None
            if current is None
            else _rate_per_second(current, self._previous_counters.get(name), elapsed_seconds)
            for name, current in counters.items()
        }
        self._previous_time_seconds = now_seconds
        self._previous_counters = counters
        return rates
