"""`python -m healthmon agent` over real HTTP: the API, /metrics, the token, loopback by default, clean exits."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from conftest import ROOT, free_port
from prometheus_client.parser import text_string_to_metric_families

from healthmon.__main__ import build_parser


class AgentProcess:
    """One agent subprocess on its own port and data dir; its log is kept for failure messages."""

    def __init__(self, data_dir: Path, log_path: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir, self.log_path = data_dir, log_path
        self.env = os.environ | {"HEALTHMON_DATA_DIR": str(data_dir), "HEALTHMON_INTERVAL": "1",
                                 "HEALTHMON_PROBE_INTERVAL": "0", "PYTHONUNBUFFERED": "1"} | env
        self.process: subprocess.Popen | None = None

    def start(self) -> AgentProcess:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "healthmon", "agent", "--port", str(self.port)],
                                            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_until_serving(self, timeout_seconds: float = 120) -> AgentProcess:
        """Until /metrics answers and the model is loaded (or failed), so tests see a settled agent."""
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"agent exited with {self.process.returncode}; log:\n{self.log()}")
            try:
                info = requests.get(self.url + "/api/model/info", timeout=5).json()["model_info"]
                if info["status"] in ("loaded", "error") and requests.get(self.url + "/metrics", timeout=5).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"agent not serving within {timeout_seconds} s; log:\n{self.log()}")

    def metrics(self) -> dict[tuple[str, tuple], float]:
        text = requests.get(self.url + "/metrics", timeout=10).text
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout_seconds: float = 30) -> int:
        """Send `sig` and wait: the exit code (killed, and a failure, if it does not stop in time)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout_seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                raise AssertionError(f"agent ignored signal {sig}; log:\n{self.log()}") from None
        return self.process.returncode


@pytest.fixture
def agent_factory(tmp_path):
    """Start agents; any still running at the end are killed."""
    agents: list[AgentProcess] = []

    def start(data_dir: Path, **env: str) -> AgentProcess:
        agent = AgentProcess(data_dir, tmp_path / f"agent-{len(agents)}.log", **env)
        agents.append(agent)
        return agent.start()

    yield start
    for agent in agents:
        if agent.process is not None and agent.process.poll() is None:
            agent.process.kill()
            agent.process.wait(10)


def test_the_agent_serves_api_and_metrics_and_stops_cleanly_on_sigterm(agent_factory, data_dir):
    agent = agent_factory(data_dir, HEALTHMON_API_TOKEN="s3cret").wait_until_serving()
    assert requests.get(agent.url + "/api/health/status", timeout=10).json()["model_loaded"] is True
    refused = requests.post(agent.url + "/api/model/generate", json={"prompt": "hi"}, timeout=10)
    assert refused.status_code == 401
    answer = requests.post(agent.url + "/api/model/generate", json={"prompt": "Hello", "max_new_tokens": 6},
                           headers={"Authorization": "Bearer s3cret"}, timeout=60)
    assert answer.status_code == 200, answer.text
    time.sleep(2.5)  # two collection cycles at HEALTHMON_INTERVAL=1
    metrics = agent.metrics()
    stats = requests.get(agent.url + "/api/health/status", timeout=10).json()["request_stats"]
    assert metrics[("healthmon_requests_total", (("status", "ok"),))] == stats["succeeded_requests"] == 1
    assert metrics[("healthmon_requests_total", (("status", "rejected"),))] == stats["rejected_requests"]
    assert metrics[("healthmon_e2e_request_latency_seconds_count", ())] == 1
    assert metrics[("healthmon_model_loaded", ())] == 1
    assert metrics[("healthmon_monitoring", ())] == 1
    assert 0 <= metrics[("healthmon_system_cpu_usage_ratio", ())] <= 1
    assert requests.post(agent.url + "/metrics", timeout=10).status_code == 405
    assert requests.get(agent.url + "/api/nothing", timeout=10).status_code == 404
    assert agent.stop(signal.SIGTERM) == 0
    assert "monitor released" in agent.log()
    with sqlite3.connect(data_dir / "history.sqlite3") as db:  # flushed at shutdown: nothing lost in the batch
        assert db.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == stats["total_requests"]


def test_the_agent_stops_cleanly_on_sigint(agent_factory, data_dir):
    agent = agent_factory(data_dir)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(agent.url + "/metrics", timeout=5).ok:
                break
        except requests.RequestException:
            time.sleep(0.2)
    assert agent.stop(signal.SIGINT) == 0, agent.log()
    assert "monitor released" in agent.log()


def test_the_agent_binds_to_loopback_unless_told_otherwise():
    args = build_parser().parse_args(["agent"])
    assert (args.host, args.port) == ("127.0.0.1", 8502)
    assert build_parser().parse_args(["agent", "--host", "0.0.0.0", "--port", "9000"]).port == 9000
