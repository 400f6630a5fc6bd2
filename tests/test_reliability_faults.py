"""Faults inside the monitor: a raising collector, NVML failing mid-run, a model that will not load, an
out-of-memory during generation, a full or read-only disk under the history store.

Each runs a real Monitor behind the real routes (TestClient on `build_routes`) and checks the same three
things: the API keeps serving, the fault shows as a state in /api/health/status, and the live view goes on
(samples keep arriving in the ring).
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from types import SimpleNamespace

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from healthmon.api import build_routes
from healthmon.collectors.gpu import GpuCollector
from healthmon.collectors.system import SystemCollector
from healthmon.config import load_settings
from healthmon.monitor import Monitor

GENERATE = "/api/model/generate"


def make_monitor(data_dir, collectors=None, load_model: bool = True, **settings) -> Monitor:
    monitor = Monitor(load_settings(env={}, data_dir=data_dir, probe_interval=0.0, rate_limit_per_minute=0.0,
                                    **({"model": "demo"} | settings)),
                      collectors=collectors if collectors is not None else [SystemCollector()])
    if load_model:
        assert monitor.target.load(), monitor.target.error
    return monitor


def client_for(monitor: Monitor) -> TestClient:
    return TestClient(Starlette(routes=build_routes(lambda: monitor)), raise_server_exceptions=False)


def wait_for(condition, what: str, timeout_seconds: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout_seconds} s"
        time.sleep(0.05)


def status(client: TestClient) -> dict:
    response = client.get("/api/health/status")
    assert response.status_code == 200, response.text
    return response.json()


def generate(client: TestClient, prompt: str = "still alive?"):
    return client.post(GENERATE, json={"prompt": prompt, "max_new_tokens": 4, "temperature": 0})


# ---- a collector that raises ------------------------------------------------------------------------------

class FlakyCollector:
    """A process collector that raises until told otherwise, as a broken sensor or a bad driver would."""

    layer = "process"

    def __init__(self) -> None:
        self.broken = True

    def collect(self) -> dict:
        if self.broken:
            raise RuntimeError("sensor unplugged")
        return {"process_rss_mb": 1.0}


def test_a_raising_collector_never_stops_the_others(data_dir):
    flaky = FlakyCollector()
    monitor = make_monitor(data_dir, [flaky, SystemCollector()], load_model=False, interval=0.1)
    client = client_for(monitor)
    try:
        monitor.start()  # the real loop thread, so a raise would show as a dead loop
        wait_for(lambda: monitor.loop.cycles_total >= 5, "five collection cycles")
        answer = status(client)
        errors = answer["collector_errors"]["process"]
        assert errors["count"] >= 5 and "sensor unplugged" in errors["last_error"]
        assert answer["monitoring"] is True and answer["latest_system"]["memory_usage"] is not None
        assert len(monitor.loop.rings["system"]) >= 5 and len(monitor.loop.rings["process"]) == 0
        assert answer["performance_score"] is not None  # scored from the layers that did report

        flaky.broken = False
        wait_for(lambda: len(monitor.loop.rings["process"]) >= 2, "the collector back after it recovers")
        assert monitor.running and status(client)["collector_threads"] == 1
    finally:
        monitor.close()


def test_a_failing_model_sample_is_counted_like_a_collector(data_dir, monkeypatch):
    """It was recorded with count 0 and no time (found by this test, fixed in 2ea2ab8)."""
    monitor = make_monitor(data_dir, load_model=False)
    try:
        monkeypatch.setattr(monitor.target, "info", lambda: 1 / 0)
        monitor.loop.collect_once()
        monitor.loop.collect_once()
        assert len(monitor.loop.rings["system"]) == 2  # the live view goes on either way
        errors = monitor.loop.collector_errors["model"]
        assert errors["count"] == 2 and "ZeroDivisionError" in errors["last_error"] and errors["last_error_at"]
    finally:
        monitor.close()


# ---- NVML failing mid-run ---------------------------------------------------------------------------------

class NVMLError(Exception):
    """Stands in for pynvml.NVMLError."""


class FakeNvml:
    """A pynvml-like module with one GPU whose calls start failing (and stop) when the test says so."""

    NVMLError = NVMLError
    NVML_TEMPERATURE_GPU = 0

    def __init__(self) -> None:
        self.lost = False

    def nvmlInit(self) -> None:
        pass

    def nvmlShutdown(self) -> None:
        pass

    def nvmlDeviceGetCount(self) -> int:
        if self.lost:
            raise NVMLError("GPU is lost")
        return 1

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetName(self, handle: int) -> str:
        return "Fake GPU"

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> SimpleNamespace:
        return SimpleNamespace(gpu=40, memory=10)

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> SimpleNamespace:
        return SimpleNamespace(used=2 * 1024**3, total=16 * 1024**3, free=14 * 1024**3)

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:
        return 55

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        return 70_000

    def nvmlDeviceGetComputeRunningProcesses(self, handle: int) -> list:
        return []


def test_nvml_failing_mid_run_keeps_the_live_view_going(data_dir):
    nvml = FakeNvml()
    no_cuda = SimpleNamespace(cuda=SimpleNamespace(is_available=lambda: False))
    monitor = make_monitor(data_dir, [SystemCollector(), GpuCollector(nvml=nvml, torch_module=no_cuda)],
                           load_model=False)
    client = client_for(monitor)
    try:
        monitor.loop.collect_once()
        gpu = status(client)["latest_system"]["gpu_info"]
        assert gpu["gpu_available"] is True and gpu["gpu_utilization"] == 40

        nvml.lost = True
        for _ in range(3):
            monitor.loop.collect_once()
        answer = status(client)
        gpu = answer["latest_system"]["gpu_info"]
        assert gpu["gpu_available"] is False and "GPU is lost" in gpu["reason"]  # a state, said in words
        assert "gpu" not in answer["collector_errors"]  # handled inside the collector, as designed
        # one sample a cycle, every layer
        assert len(monitor.loop.rings["system"]) == len(monitor.loop.rings["gpu"]) == 4
        assert answer["performance_score"] is not None

        nvml.lost = False
        monitor.loop.collect_once()
        assert status(client)["latest_system"]["gpu_info"]["gpu_available"] is True
    finally:
        monitor.close()


# ---- the model failing to load, then the retry ------------------------------------------------------------

def test_a_failed_model_load_can_be_retried_through_the_api(data_dir, tmp_path):
    checkpoint = tmp_path / "checkpoint"  # does not exist yet: the load fails
    monitor = make_monitor(data_dir, load_model=False, model=str(checkpoint))
    client = client_for(monitor)
    try:
        assert monitor.target.load() is False
        monitor.loop.collect_once()
        answer = status(client)
        assert answer["model_info"]["status"] == "error" and "checkpoint" in answer["model_info"]["error"]
        assert answer["latest_model"]["model_status"] == "error" and answer["latest_system"]
        refused = generate(client)
        assert refused.status_code == 503 and int(refused.headers["Retry-After"]) >= 1
        assert "not ready" in refused.json()["error"]

        shutil.copytree(data_dir / "demo-model", checkpoint)  # the cause is fixed; retry the same source
        accepted = client.post("/api/model/load")
        assert accepted.status_code == 202, accepted.text
        wait_for(lambda: monitor.target.info().status in ("loaded", "error"), "the reload")
        assert status(client)["model_info"]["status"] == "loaded"
        assert generate(client).status_code == 200

        elsewhere = client.post("/api/model/load", json={"model": str(tmp_path / "nowhere")})
        assert elsewhere.status_code == 403  # outside the folders the API loads from: refused unseen
        not_a_model = monitor.settings.models_dir / "not-a-model"
        not_a_model.mkdir(parents=True)
        broken = client.post("/api/model/load", json={"model": str(not_a_model)})
        assert broken.status_code == 202
        wait_for(lambda: monitor.target.info().status in ("loaded", "error"), "the failed reload")
        assert status(client)["model_info"]["status"] == "error"  # a bad reload is a state, not a crash
        monitor.loop.collect_once()
        assert len(monitor.loop.rings["system"]) == 2
    finally:
        monitor.close()


# ---- out of memory during generation ----------------------------------------------------------------------

def test_out_of_memory_fails_one_request_clearly_and_the_next_succeeds(data_dir, monkeypatch):
    monitor = make_monitor(data_dir)
    client = client_for(monitor)
    model = monitor.target._loaded.model
    real_forward = model.forward
    calls = {"count": 0}

    def out_of_memory_once(*args, **kwargs):  # the first forward pass (the request's prefill) meets a full GPU
        calls["count"] += 1
        if calls["count"] == 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.77 GiB total capacity)")
        return real_forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", out_of_memory_once)
    try:
        failed = generate(client, "a prompt that meets a full GPU")
        assert failed.status_code in (500, 503), failed.text
        body = failed.json()
        assert "out of memory" in body["error"] and body["trace_id"]
        assert generate(client).status_code == 200  # the worker survived and the model is still loaded

        monitor.loop.collect_once()
        answer = status(client)
        stats = answer["request_stats"]
        assert stats["failed_requests"] == 1 and stats["succeeded_requests"] == 1 and stats["total_requests"] == 2
        assert answer["model_info"]["status"] == "loaded" and answer["latest_model"]["model_status"] == "loaded"
        monitor.store.flush()
        trace = client.get(f"/api/traces/{body['trace_id']}").json()
        assert trace["status"] == "error" and trace["error"].startswith("out of memory")
    finally:
        monitor.close()


# ---- a full or read-only disk under the history store -----------------------------------------------------

@pytest.mark.parametrize("disk_error", ["database or disk is full", "attempt to write a readonly database"])
def test_a_failing_disk_keeps_serving_and_monitoring_then_catches_up(data_dir, monkeypatch, disk_error):
    monitor = make_monitor(data_dir)
    client = client_for(monitor)
    store = monitor.store

    def failing_write(conn, batch):
        raise sqlite3.OperationalError(disk_error)

    try:
        monitor.loop.collect_once()
        assert store.flush() is True
        monkeypatch.setattr(store, "_write_batch", failing_write)
        for _ in range(3):
            monitor.loop.collect_once()
        during = generate(client, "written while the disk is full")
        assert during.status_code == 200, during.text  # the request path never waits on the disk
        assert store.flush() is False

        answer = status(client)
        assert answer["store"]["ok"] is False and disk_error in answer["store"]["last_error"]
        assert answer["store"]["write_errors_total"] >= 1 and answer["store"]["pending"] > 0
        assert len(monitor.loop.rings["system"]) == 4 and answer["latest_system"]["memory_usage"] is not None
        assert answer["request_stats"]["succeeded_requests"] == 1
        assert client.get("/api/health/metrics?window=15m").status_code == 200  # history reads still answer

        monkeypatch.undo()  # the disk has room again: the queued rows are written, nothing was lost
        assert store.flush() is True
        health = status(client)["store"]
        assert health["ok"] is True and health["pending"] == 0 and health["dropped_total"] == 0
        assert store.get_request(during.json()["trace_id"]) is not None
        assert len(store.frame("system", 0)) == 4
    finally:
        monitor.close()


def test_a_failing_disk_under_the_running_loop_keeps_the_live_view(data_dir, monkeypatch):
    monitor = make_monitor(data_dir, load_model=False, interval=0.1, flush_interval=0.2)
    client = client_for(monitor)
    monkeypatch.setattr(monitor.store, "_write_batch", lambda conn, batch: (_ for _ in ()).throw(
        sqlite3.OperationalError("database or disk is full")))
    try:
        monitor.start()
        wait_for(lambda: monitor.store.health()["write_errors_total"] >= 2, "the writer thread to fail twice")
        seen = len(monitor.loop.rings["system"])
        wait_for(lambda: len(monitor.loop.rings["system"]) >= seen + 3, "more live samples while the disk is full")
        answer = status(client)
        assert answer["monitoring"] is True and answer["collector_threads"] == 1
        assert answer["store"]["ok"] is False and "disk is full" in answer["store"]["last_error"]
        assert monitor.store._thread.is_alive()  # the writer keeps retrying, it does not die
    finally:
        monkeypatch.undo()
        monitor.close()
