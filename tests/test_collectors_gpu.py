"""GpuCollector against a fake NVML with two GPUs, failing NVMLs, fake torch, and the real GPU-less pynvml."""

from __future__ import annotations

import logging
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from healthmon.collectors.base import Collector
from healthmon.collectors.gpu import GpuCollector

MB = 1024**2
GB = 1024**3
OUR_PID = 4242
GPU_LOGGER = "healthmon.collectors.gpu"
UNAVAILABLE_KEYS = {"gpu_available", "gpu_count", "reason"}


class NVMLError(Exception):
    """Stands in for pynvml.NVMLError."""


class NVMLError_NotSupported(NVMLError):  # noqa: N801 - pynvml's name
    """Stands in for pynvml.NVMLError_NotSupported."""


class NVMLError_LibraryNotFound(NVMLError):  # noqa: N801 - pynvml's name
    """Stands in for pynvml.NVMLError_LibraryNotFound."""


class NVMLError_GpuIsLost(NVMLError):  # noqa: N801 - pynvml's name
    """Stands in for pynvml.NVMLError_GpuIsLost."""


class FakeNvml:
    """A pynvml-like module with an H100 and a T4 that cannot report power."""

    NVMLError = NVMLError
    NVMLError_NotSupported = NVMLError_NotSupported
    NVML_TEMPERATURE_GPU = 0

    def __init__(self) -> None:
        self.init_calls = 0
        self.shutdown_calls = 0
        self.init_error: Exception | None = None
        self.failures: dict[str, Exception] = {}  # call name -> error raised by that call
        self.temperature_sensors: list[int] = []
        self.devices = [
            {
                "name": "NVIDIA H100 80GB HBM3",
                "util": 50,
                "used": 40 * GB,
                "total": 80 * GB,
                "temp": 60,
                "power_mw": 250_500,
                "procs": [SimpleNamespace(pid=OUR_PID, usedGpuMemory=GB), SimpleNamespace(pid=1, usedGpuMemory=2 * GB)],
            },
            {
                "name": "Tesla T4",
                "util": 30,
                "used": GB,
                "total": 16 * GB,
                "temp": 70,
                "power_mw": NVMLError_NotSupported("Not Supported"),
                "procs": [SimpleNamespace(pid=7, usedGpuMemory=GB)],
            },
        ]

    def _check(self, call_name: str) -> None:
        if call_name in self.failures:
            raise self.failures[call_name]

    def _value(self, handle: int, field: str) -> Any:
        value = self.devices[handle][field]
        if isinstance(value, Exception):
            raise value
        return value

    def nvmlInit(self) -> None:  # noqa: N802 - pynvml's name
        self.init_calls += 1
        if self.init_error is not None:
            raise self.init_error

    def nvmlShutdown(self) -> None:  # noqa: N802
        self.shutdown_calls += 1

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        self._check("count")
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:  # noqa: N802
        return index

    def nvmlDeviceGetName(self, handle: int) -> str:  # noqa: N802
        return self._value(handle, "name")

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> SimpleNamespace:  # noqa: N802
        return SimpleNamespace(gpu=self._value(handle, "util"), memory=0)

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> SimpleNamespace:  # noqa: N802
        used, total = self._value(handle, "used"), self._value(handle, "total")
        return SimpleNamespace(used=used, total=total, free=total - used)

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:  # noqa: N802
        self._check("temperature")
        self.temperature_sensors.append(sensor)
        return self._value(handle, "temp")

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:  # noqa: N802
        return self._value(handle, "power_mw")

    def nvmlDeviceGetComputeRunningProcesses(self, handle: int) -> list[SimpleNamespace]:  # noqa: N802
        return self._value(handle, "procs")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now_seconds = 0.0

    def __call__(self) -> float:
        return self.now_seconds


def fake_torch(cuda_available: bool = True) -> SimpleNamespace:
    cuda = SimpleNamespace(
        is_available=lambda: cuda_available,
        device_count=lambda: 2,
        memory_allocated=lambda index: (index + 1) * 100 * MB,
        memory_reserved=lambda index: (index + 1) * 200 * MB,
    )
    return SimpleNamespace(cuda=cuda)


def make_collector(nvml: FakeNvml, clock: FakeClock | None = None, **kwargs: Any) -> GpuCollector:
    no_torch = fake_torch(cuda_available=False)
    return GpuCollector(nvml=nvml, torch_module=kwargs.pop("torch_module", no_torch), pid=OUR_PID,
                        clock=clock or FakeClock(), **kwargs)  # fmt: skip


def test_two_devices_every_value_and_unit() -> None:
    nvml = FakeNvml()
    collector = make_collector(nvml)
    assert isinstance(collector, Collector)
    assert collector.layer == "gpu"
    sample = collector.collect()
    assert sample["gpu_available"] is True
    assert sample["gpu_count"] == 2
    assert sample["devices"] == [
        {
            "index": 0,
            "name": "NVIDIA H100 80GB HBM3",
            "utilization_percent": 50,
            "memory_used_mb": 40960.0,
            "memory_total_mb": 81920.0,
            "memory_percent": 50.0,
            "temperature_c": 60,
            "power_w": 250.5,
            "process_memory_mb": 1024.0,
        },
        {
            "index": 1,
            "name": "Tesla T4",
            "utilization_percent": 30,
            "memory_used_mb": 1024.0,
            "memory_total_mb": 16384.0,
            "memory_percent": 6.25,
            "temperature_c": 70,
            "power_w": None,
            "process_memory_mb": 0.0,
        },
    ]
    assert {key: value for key, value in sample.items() if key not in {"gpu_available", "gpu_count", "devices"}} == {
        "gpu_utilization": 40.0,
        "gpu_memory_used_mb": 41984.0,
        "gpu_memory_total_mb": 98304.0,
        "gpu_memory_usage": 42.71,
        "gpu_temperature_c": 70,
        "gpu_power_w": 250.5,
        "process_gpu_memory_mb": 1024.0,
        "gpu0_utilization": 50,
        "gpu0_memory_usage": 50.0,
        "gpu0_temperature_c": 60,
        "gpu0_power_w": 250.5,
        "gpu1_utilization": 30,
        "gpu1_memory_usage": 6.25,
        "gpu1_temperature_c": 70,
        "gpu1_power_w": None,
    }
    assert nvml.temperature_sensors == [FakeNvml.NVML_TEMPERATURE_GPU] * 2
    collector.collect()
    assert nvml.init_calls == 1


def test_process_memory_none_when_unsupported_or_unreported() -> None:
    nvml = FakeNvml()
    nvml.devices[0]["procs"] = NVMLError_NotSupported("Not Supported")
    nvml.devices[1]["procs"] = [SimpleNamespace(pid=OUR_PID, usedGpuMemory=None)]  # Windows WDDM
    sample = make_collector(nvml).collect()
    assert [device["process_memory_mb"] for device in sample["devices"]] == [None, None]
    assert sample["process_gpu_memory_mb"] is None


def test_power_unsupported_everywhere_gives_none_total() -> None:
    nvml = FakeNvml()
    nvml.devices[0]["power_mw"] = NVMLError_NotSupported("Not Supported")
    assert make_collector(nvml).collect()["gpu_power_w"] is None


def test_init_failure_is_quiet_and_retried_at_most_every_minute(caplog: pytest.LogCaptureFixture) -> None:
    nvml, clock = FakeNvml(), FakeClock()
    nvml.init_error = NVMLError_LibraryNotFound("NVML Shared Library Not Found")
    collector = make_collector(nvml, clock)
    with caplog.at_level(logging.DEBUG, logger=GPU_LOGGER):
        for _ in range(200):
            sample = collector.collect()
            assert sample == {"gpu_available": False, "gpu_count": 0, "reason": sample["reason"]}
            assert "NVML Shared Library Not Found" in sample["reason"]
            clock.now_seconds += 5.0
    assert nvml.init_calls <= 1 + 200 * 5 // 60
    assert len(caplog.records) == 1
    assert caplog.records[0].levelno == logging.INFO


def test_init_retry_succeeds_once_the_driver_appears() -> None:
    nvml, clock = FakeNvml(), FakeClock()
    nvml.init_error = NVMLError_LibraryNotFound("NVML Shared Library Not Found")
    collector = make_collector(nvml, clock)
    assert collector.collect()["gpu_available"] is False
    nvml.init_error = None
    clock.now_seconds += 10.0
    assert collector.collect()["gpu_available"] is False  # too soon to retry
    clock.now_seconds += 60.0
    assert collector.collect()["gpu_available"] is True


def test_failure_mid_run_recovers_on_the_next_call(caplog: pytest.LogCaptureFixture) -> None:
    nvml = FakeNvml()
    collector = make_collector(nvml)
    assert collector.collect()["gpu_available"] is True
    with caplog.at_level(logging.DEBUG, logger=GPU_LOGGER):
        for call_name in ("count", "temperature"):  # a whole-GPU call and a single-field call
            nvml.failures = {call_name: NVMLError_GpuIsLost("GPU is lost")}
            for _ in range(3):
                sample = collector.collect()
                assert set(sample) == UNAVAILABLE_KEYS
                assert sample["gpu_available"] is False
                assert "GPU is lost" in sample["reason"]
            nvml.failures = {}
            assert collector.collect()["gpu_available"] is True
    assert len(caplog.records) == 1  # the same reason is logged once
    assert nvml.init_calls == 1


def test_no_devices_is_unavailable() -> None:
    nvml = FakeNvml()
    nvml.devices = []
    assert make_collector(nvml).collect() == {"gpu_available": False, "gpu_count": 0, "reason": "no NVIDIA GPU found"}


def test_torch_cuda_memory_is_summed_over_devices() -> None:
    sample = make_collector(FakeNvml(), torch_module=fake_torch()).collect()
    assert sample["torch_cuda_allocated_mb"] == 300.0
    assert sample["torch_cuda_reserved_mb"] == 600.0


def test_torch_is_found_once_the_process_has_imported_it(monkeypatch: pytest.MonkeyPatch) -> None:
    collector = GpuCollector(nvml=FakeNvml(), pid=OUR_PID)
    monkeypatch.setitem(sys.modules, "torch", fake_torch())
    assert collector.collect()["torch_cuda_allocated_mb"] == 300.0


def test_shutdown_only_after_a_successful_init() -> None:
    nvml = FakeNvml()
    collector = make_collector(nvml)
    collector.shutdown()
    assert nvml.shutdown_calls == 0
    collector.collect()
    collector.shutdown()
    collector.shutdown()
    assert nvml.shutdown_calls == 1


def test_missing_pynvml_is_reported_and_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` raise ImportError
    clock = FakeClock()
    collector = GpuCollector(torch_module=fake_torch(cuda_available=False), clock=clock)
    assert collector.collect() == {"gpu_available": False, "gpu_count": 0, "reason": "pynvml not installed"}
    clock.now_seconds += 3600.0
    monkeypatch.delitem(sys.modules, "pynvml")
    assert collector.collect()["reason"] == "pynvml not installed"


def test_real_pynvml_without_a_gpu_does_not_raise(caplog: pytest.LogCaptureFixture) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this test is for machines without a GPU")
    collector = GpuCollector(torch_module=torch)
    with caplog.at_level(logging.DEBUG, logger=GPU_LOGGER):
        samples = [collector.collect() for _ in range(3)]
    collector.shutdown()
    for sample in samples:
        assert set(sample) == UNAVAILABLE_KEYS
        assert sample["gpu_available"] is False
        assert sample["gpu_count"] == 0
        assert isinstance(sample["reason"], str) and sample["reason"]
    assert len(caplog.records) <= 1
