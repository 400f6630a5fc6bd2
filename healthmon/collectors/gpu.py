"""NVIDIA GPUs through NVML (pynvml), plus this process's torch CUDA allocator; quiet where there is no GPU."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

logger = logging.getLogger(__name__)

BYTES_PER_MB = 1024**2
MILLIWATTS_PER_WATT = 1000
INIT_RETRY_SECONDS = 60.0


def _unavailable(reason: str) -> dict[str, Any]:
    """The sample for a machine or cycle without usable GPUs."""
    return {"gpu_available": False, "gpu_count": 0, "reason": reason}


def _mb(value_bytes: float) -> float:
    """Bytes to MiB (1024**2; the key names say mb)."""
    return round(value_bytes / BYTES_PER_MB, 2)


def _total(values: list[float | None]) -> float | None:
    """Sum of the devices that reported, None when none did."""
    present = [value for value in values if value is not None]
    return round(sum(present), 2) if present else None


def _fleet_metrics(devices: list[dict[str, Any]]) -> dict[str, Any]:
    """Flat all-GPU and per-GPU keys, so history and rules need not walk the device list."""
    utilizations = [d["utilization_percent"] for d in devices if d["utilization_percent"] is not None]
    temperatures = [d["temperature_c"] for d in devices if d["temperature_c"] is not None]
    used_mb = _total([d["memory_used_mb"] for d in devices])
    total_mb = _total([d["memory_total_mb"] for d in devices])
    metrics: dict[str, Any] = {
        "gpu_utilization": round(sum(utilizations) / len(utilizations), 2) if utilizations else None,
        "gpu_memory_used_mb": used_mb,
        "gpu_memory_total_mb": total_mb,
        "gpu_memory_usage": round(100 * used_mb / total_mb, 2) if used_mb is not None and total_mb else None,
        "gpu_temperature_c": max(temperatures) if temperatures else None,
        "gpu_power_w": _total([d["power_w"] for d in devices]),
        "process_gpu_memory_mb": _total([d["process_memory_mb"] for d in devices]),
    }
    for device in devices:
        prefix = f"gpu{device['index']}_"
        metrics[prefix + "utilization"] = device["utilization_percent"]
        metrics[prefix + "memory_usage"] = device["memory_percent"]
        metrics[prefix + "temperature_c"] = device["temperature_c"]
        metrics[prefix + "power_w"] = device["power_w"]
    return metrics


class GpuCollector:
    """Samples every GPU each cycle; on a GPU-less machine it says so once and stays cheap."""

    layer = "gpu"

    def __init__(
        self,
        nvml: ModuleType | Any = None,
        torch_module: ModuleType | Any = None,
        pid: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._nvml = nvml  # None: import pynvml on first use, so importing healthmon stays light
        self._torch = torch_module
        self._pid = os.getpid() if pid is None else pid
        self._clock = clock
        self._lock = threading.Lock()
        self._initialised = False
        self._init_failure: str | None = None
        self._last_init_attempt_seconds: float | None = None
        self._init_failure_logged = False
        self._logged_reasons: set[str] = set()
        self._unsupported_errors: tuple[type[BaseException], ...] = ()

    def collect(self) -> dict[str, Any]:
        """Return one sample; NVML failures become gpu_available False with a reason, never an exception."""
        with self._lock:
            failure = self._ensure_initialised()
            if failure is not None:
                sample = _unavailable(failure)
            else:
                try:
                    sample = self._sample_devices()
                except self._nvml.NVMLError as exc:
                    reason = f"NVML call failed: {exc}"
                    self._warn_once(reason)
                    sample = _unavailable(reason)
            return sample | self._torch_memory()

    def shutdown(self) -> None:
        """Release NVML when the monitor stops."""
        with self._lock:
            if not self._initialised:
                return
            self._initialised = False
            try:
                self._nvml.nvmlShutdown()
            except self._nvml.NVMLError as exc:
                logger.debug("nvmlShutdown failed: %s", exc)

    def _ensure_initialised(self) -> str | None:
        """Initialise NVML once; after a failure retry at most every INIT_RETRY_SECONDS, return why not."""
        if self._initialised:
            return None
        now_seconds = self._clock()
        if self._last_init_attempt_seconds is not None and (
            self._nvml is None or now_seconds - self._last_init_attempt_seconds < INIT_RETRY_SECONDS
        ):
            return self._init_failure
        self._last_init_attempt_seconds = now_seconds
        if self._nvml is None:
            try:
                self._nvml = importlib.import_module("pynvml")
            except ImportError:
                return self._init_failed("pynvml not installed")
        try:
            self._nvml.nvmlInit()
        except self._nvml.NVMLError as exc:
            return self._init_failed(f"NVML unavailable: {exc}")
        self._unsupported_errors = tuple(
            error
            for error in (
                getattr(self._nvml, "NVMLError_NotSupported", None),
                getattr(self._nvml, "NVMLError_FunctionNotFound", None),
                getattr(self._nvml, "NVMLLibraryMismatchError", None),
            )
            if error is not None
        )
        self._initialised = True
        self._init_failure = None
        self._last_init_attempt_seconds = None
        return None

    def _init_failed(self, reason: str) -> str:
        """Remember why there are no GPU metrics and say so at most once, at info level."""
        self._init_failure = reason
        if not self._init_failure_logged:
            self._init_failure_logged = True
            logger.info("GPU metrics off: %s", reason)
        return reason

    def _warn_once(self, reason: str) -> None:
        """Log each distinct mid-run failure once, so a persistent fault does not flood the log every cycle."""
        if reason not in self._logged_reasons:
            self._logged_reasons.add(reason)
            logger.warning("GPU sample failed: %s", reason)

    def _optional(self, call: Callable[..., Any], *args: Any) -> Any:
        """One NVML call whose absence on this GPU or driver means None, not a failed sample."""
        try:
            return call(*args)
        except self._unsupported_errors:
            return None

    def _sample_devices(self) -> dict[str, Any]:
        """Per-device readings and their aggregates."""
        device_count = self._nvml.nvmlDeviceGetCount()
        if device_count == 0:
            return _unavailable("no NVIDIA GPU found")
        devices = [self._sample_device(index) for index in range(device_count)]
        return {"gpu_available": True, "gpu_count": device_count, "devices": devices} | _fleet_metrics(devices)

    def _sample_device(self, index: int) -> dict[str, Any]:
        """One device; each reading the GPU does not support is None."""
        nvml = self._nvml
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        utilization = self._optional(nvml.nvmlDeviceGetUtilizationRates, handle)
        memory = self._optional(nvml.nvmlDeviceGetMemoryInfo, handle)
        power_mw = self._optional(nvml.nvmlDeviceGetPowerUsage, handle)
        return {
            "index": index,
            "name": self._optional(nvml.nvmlDeviceGetName, handle),
            "utilization_percent": None if utilization is None else utilization.gpu,
            "memory_used_mb": None if memory is None else _mb(memory.used),
            "memory_total_mb": None if memory is None else _mb(memory.total),
            "memory_percent": round(100 * memory.used / memory.total, 2) if memory and memory.total else None,
            "temperature_c": self._optional(nvml.nvmlDeviceGetTemperature, handle, nvml.NVML_TEMPERATURE_GPU),
            "power_w": None if power_mw is None else round(power_mw / MILLIWATTS_PER_WATT, 2),
            "process_memory_mb": self._process_memory_mb(handle),
        }

    def _process_memory_mb(self, handle: Any) -> float | None:
        """GPU memory this pid holds on one device; NVML reports host pids, so in a container expect 0."""
        processes = self._optional(self._nvml.nvmlDeviceGetComputeRunningProcesses, handle)
        if processes is None:
            return None
        used_bytes = [process.usedGpuMemory for process in processes if process.pid == self._pid]
        if any(value is None for value in used_bytes):  # Windows WDDM does not report it
            return None
        return _mb(sum(used_bytes))

    def _torch_memory(self) -> dict[str, float]:
        """This process's torch CUDA allocator, if torch is loaded; importing it here would only cost seconds."""
        torch = self._torch if self._torch is not None else sys.modules.get("torch")
        if torch is None or not torch.cuda.is_available():
            return {}
        device_indices = range(torch.cuda.device_count())
        return {
            "torch_cuda_allocated_mb": _mb(sum(torch.cuda.memory_allocated(i) for i in device_indices)),
            "torch_cuda_reserved_mb": _mb(sum(torch.cuda.memory_reserved(i) for i in device_indices)),
        }
