"""The monitored process itself (memory, CPU, threads, files), from a psutil-like module."""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

import psutil

BYTES_PER_MB = 1024**2


class ProcessCollector:
    """Samples one process (this one by default) so a leak or thread pile-up shows up next to the host."""

    layer = "process"

    def __init__(self, psutil_module: ModuleType | Any = psutil, pid: int | None = None) -> None:
        self._psutil = psutil_module
        self._process = psutil_module.Process(pid)  # pid None means the current process
        self._lock = threading.Lock()
        # The first non-blocking cpu_percent call only starts the measurement and returns 0.0.
        self._process.cpu_percent(interval=None)

    def collect(self) -> dict[str, Any]:
        """Return one flat sample; CPU percent is since the previous call and may exceed 100 on many cores."""
        with self._lock:
            return {
                "process_rss_mb": round(self._process.memory_info().rss / BYTES_PER_MB, 2),
                "process_cpu_percent": self._process.cpu_percent(interval=None),
                "process_threads": self._process.num_threads(),
                "process_open_files": self._open_files_count(),
            }

    def _open_files_count(self) -> int | None:
        """Count open files; where they are hidden from us, count all descriptors instead."""
        try:
            return len(self._process.open_files())
        except self._psutil.AccessDenied:
            pass
        try:
            return self._process.num_fds()
        except (self._psutil.AccessDenied, AttributeError):  # num_fds() exists on POSIX only
            return None
