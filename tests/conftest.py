"""Shared fixtures: one demo checkpoint per test session, fresh data directories, and a real app server."""

from __future__ import annotations

import base64
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests
import streamlit as st

from healthmon.monitor import get_monitor, release_monitor

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


def plotly_spec(spec_json: str) -> dict:
    """A st.plotly_chart spec as plain JSON: numpy arrays travel as {"dtype", "bdata"} (base64), decoded here to
    lists with None for NaN, as plotly.js decodes them into arrays with gaps."""
    def decode(node):
        if isinstance(node, dict):
            if "bdata" in node and "dtype" in node:
                array = np.frombuffer(base64.b64decode(node["bdata"]), dtype=np.dtype(node["dtype"]))
                if "shape" in node:
                    array = array.reshape([int(n) for n in str(node["shape"]).split(",")])
                return [None if isinstance(v, float) and math.isnan(v) else v for v in array.tolist()]
            return {key: decode(value) for key, value in node.items()}
        if isinstance(node, list):
            return [decode(value) for value in node]
        return node
    return decode(json.loads(spec_json))


@pytest.fixture(scope="session")
def demo_model_dir() -> Path:
    """Built once (the builder's fast path reuses an identical build), then copied where a test needs its own."""
    from healthmon.runtime.demo import build_demo_model

    return build_demo_model(ROOT / ".pytest_cache" / "healthmon-demo-model")


@pytest.fixture
def data_dir(tmp_path, demo_model_dir) -> Path:
    """A fresh HEALTHMON_DATA_DIR that already holds the session's demo model (the fast path loads it)."""
    target = tmp_path / "data"
    target.mkdir()
    shutil.copytree(demo_model_dir, target / "demo-model")
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """A real `streamlit run streamlit_app.py` in a subprocess, on its own port and data dir."""

    def __init__(self, data_dir: Path, log_path: Path, **env: str) -> None:
        self.data_dir, self.log_path = data_dir, log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {"HEALTHMON_DATA_DIR": str(data_dir), "HEALTHMON_INTERVAL": "1",
                                 "HEALTHMON_PROBE_INTERVAL": "0", "PYTHONUNBUFFERED": "1",
                                 "HEALTHMON_EMBEDDING_MODEL": "off"} | env
        self.process: subprocess.Popen | None = None

    def start(self, wait_for_model: bool = True) -> "AppServer":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.wait_until(lambda: self.get("/api/health/status").status_code == 200, "the API", 90)
        if wait_for_model:
            self.wait_until(lambda: self.get("/api/model/info").json()["model_info"]["status"] in ("loaded", "error"),
                            "the model", 120)
        return self

    def wait_until(self, condition, what: str, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"app exited with {self.process.returncode}; log:\n{self.log()}")
            try:
                if condition():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"{what} not ready within {timeout_seconds} s; log:\n{self.log()}")

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=kwargs.pop("timeout", 30), **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(self.url + path, timeout=kwargs.pop("timeout", 60), **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

    def stop(self, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def app_factory(tmp_path):
    """Start app servers; all are stopped at the end of the test."""
    servers: list[AppServer] = []

    def start(data_dir: Path, wait_for_model: bool = True, **env: str) -> AppServer:
        server = AppServer(data_dir, tmp_path / f"app-{len(servers)}.log", **env)
        servers.append(server)
        return server.start(wait_for_model)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def page_monitor(data_dir, monkeypatch):
    """Makes the page's Monitor once a test has set HEALTHMON_PROMETHEUS_URL (Settings are read at creation)."""
    monkeypatch.setenv("HEALTHMON_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HEALTHMON_PROBE_INTERVAL", "0")

    def make(prometheus_url: str | None):
        if prometheus_url is None:
            monkeypatch.delenv("HEALTHMON_PROMETHEUS_URL", raising=False)
        else:
            monkeypatch.setenv("HEALTHMON_PROMETHEUS_URL", prometheus_url)
        release_monitor()
        st.cache_resource.clear()
        return get_monitor(start=False)

    yield make
    release_monitor()
    st.cache_resource.clear()
