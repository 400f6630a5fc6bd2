"""A real Prometheus (Debian's package) on loopback scrapes two running agents; the Fleet reads both back.

Prometheus scrapes every second with deploy/healthmon-rules.yml loaded; the test reads healthmon metrics
through its HTTP API, runs every dashboard and Fleet query through it (so they are valid PromQL that finds
data), checks that every rule evaluates cleanly, and renders the Fleet page against it.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml
from conftest import ROOT, free_port
from streamlit.testing.v1 import AppTest
from test_agent import AgentProcess

from healthmon import fleet

PROMETHEUS = shutil.which("prometheus")
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    PROMETHEUS is None, reason="prometheus not installed (Debian package 'prometheus'; .ci/run installs it)")]


def wait_for(condition, what: str, timeout_seconds: float, log=lambda: ""):
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            result = condition()
            if result:
                return result
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what} not within {timeout_seconds} s\n{log()}")


class PrometheusServer:
    """`prometheus` with a temporary config and TSDB, on a free loopback port."""

    def __init__(self, tmp_path: Path, targets: list[str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "prometheus.log"
        self.config = tmp_path / "prometheus.yml"
        self.config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(ROOT / "deploy" / "healthmon-rules.yml")],
            "scrape_configs": [{"job_name": "healthmon", "static_configs": [{"targets": targets}]}]}))
        self.tsdb = tmp_path / "tsdb"
        self.process: subprocess.Popen | None = None

    def start(self) -> PrometheusServer:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([PROMETHEUS, f"--config.file={self.config}",
                                             f"--storage.tsdb.path={self.tsdb}",
                                             f"--web.listen-address=127.0.0.1:{self.port}"],
                                            stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: requests.get(self.url + "/-/ready", timeout=2).ok, "Prometheus ready", 30, self.log)
        return self

    def query(self, promql: str) -> list[dict]:
        body = requests.get(self.url + "/api/v1/query", params={"query": promql}, timeout=10).json()
        assert body["status"] == "success", (promql, body)
        return body["data"]["result"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


@pytest.fixture(scope="module")
def fleet_of_two(tmp_path_factory, demo_model_dir):
    """Two agents with their own data dirs, and a Prometheus scraping both every second (shared by the tests)."""
    tmp_path = tmp_path_factory.mktemp("fleet")
    directories = [tmp_path / "data-a", tmp_path / "data-b"]
    for directory in directories:
        shutil.copytree(demo_model_dir, directory / "demo-model")
    agents = [AgentProcess(directory, tmp_path / f"agent-{i}.log").start()
              for i, directory in enumerate(directories)]
    prometheus = None
    try:
        for agent in agents:
            agent.wait_until_serving()
        prometheus = PrometheusServer(tmp_path, [f"127.0.0.1:{agent.port}" for agent in agents]).start()
        yield agents, prometheus
    finally:
        if prometheus is not None:
            prometheus.stop()
        codes = [agent.stop(signal.SIGTERM) for agent in agents]
    assert codes == [0, 0], [agent.log() for agent in agents]


def by_instance(result: list[dict]) -> dict[str, float]:
    return {series["metric"]["instance"]: float(series["value"][1]) for series in result}


def test_prometheus_scrapes_two_agents_and_the_fleet_sees_both(fleet_of_two, page_monitor):
    agents, prometheus = fleet_of_two
    instances = {f"127.0.0.1:{agent.port}" for agent in agents}
    busy = f"127.0.0.1:{agents[0].port}"
    wait_for(lambda: by_instance(prometheus.query('up{job="healthmon"}')) == dict.fromkeys(instances, 1.0),
             "both agents up", 30, prometheus.log)
    scores = wait_for(lambda: by_instance(prometheus.query("healthmon_health_score")), "a health score", 30)
    assert set(scores) == instances and all(0 <= score <= 100 for score in scores.values())

    # a request after the first scrape, so rate() and histogram_quantile() see it arrive
    answer = requests.post(agents[0].url + "/api/model/generate", json={"prompt": "Hello", "max_new_tokens": 8},
                           timeout=60)
    assert answer.status_code == 200, answer.text
    wait_for(lambda: by_instance(prometheus.query('increase(healthmon_requests_total{status="ok"}[1m]) > 0')),
             "the request in Prometheus", 30, prometheus.log)
    ok = by_instance(prometheus.query('healthmon_requests_total{status="ok"}'))
    assert ok == {busy: 1.0, f"127.0.0.1:{agents[1].port}": 0.0}

    client = fleet.PrometheusClient(prometheus.url, fleet.urllib_get())
    table = fleet.fleet_table(client).set_index("instance")
    assert set(table.index) == instances
    assert (table["up"] == 1).all() and table["health_score"].notna().all()
    assert set(table["status"]) <= {"healthy", "warning", "critical"} and (table["model"] != "").all()
    assert 0 <= table.loc[busy, "cpu_percent"] <= 100 * 2  # psutil's first reading of a young process may be odd
    assert table.loc[busy, "latency_p95_seconds"] > 0 and table.loc[busy, "tokens_per_second"] > 0
    now = time.time()
    for name in fleet.COMPARISONS:
        frame = fleet.compare(client, name, now - 120, now)
        assert set(frame.columns) >= ({"ts"} | instances if name in ("health_score", "cpu_percent") else {"ts"})

    page_monitor(prometheus.url)
    at = AppTest.from_file("../views/fleet.py", default_timeout=30).run()
    assert not at.exception and not at.error
    assert set(at.dataframe[0].value["Instance"]) == instances


def test_dashboard_queries_and_rules_run_in_a_real_prometheus(fleet_of_two):
    agents, prometheus = fleet_of_two
    wait_for(lambda: len(prometheus.query("healthmon_system_cpu_usage_ratio")) == 2, "both agents' CPU", 30)
    dashboard = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    for expr in exprs:  # Grafana's variables as Grafana would fill them; each must be PromQL Prometheus accepts
        prometheus.query(expr.replace("$__rate_interval", "1m").replace("$instance", ".*"))
    assert by_instance(prometheus.query('healthmon_model_loaded{instance=~".*"}')) == {
        f"127.0.0.1:{agent.port}": 1.0 for agent in agents}

    def evaluated_groups() -> list[dict] | None:
        groups = requests.get(prometheus.url + "/api/v1/rules", timeout=10).json()["data"]["groups"]
        done = groups and all(rule.get("lastEvaluation", "").startswith("2") and
                              not rule["lastEvaluation"].startswith("0001") for g in groups for rule in g["rules"])
        return groups if done else None

    groups = wait_for(evaluated_groups, "every rule evaluated", 30, prometheus.log)
    assert {group["name"] for group in groups} == {"healthmon-recording", "healthmon-thresholds",
                                                   "healthmon-forecasts", "healthmon-agents"}
    broken = {rule["name"]: rule.get("lastError") for g in groups for rule in g["rules"] if rule["health"] != "ok"}
    assert not broken
