"""/api/load-test: the token, the allowed targets (never a foreign URL), one run at a time, stop, the report."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from healthmon.api import build_routes
from healthmon.config import load_settings
from healthmon.loadtest.targets import allowed_targets, own_v1_url, resolve
from healthmon.monitor import Monitor
from tests.paced_openai import PacedServer

TOKEN = "load-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def stub():
    with PacedServer(slots=2, first_token_seconds=0.0, token_interval_seconds=0.002, tokens=4) as server:
        yield server


@pytest.fixture
def api(tmp_path, stub):
    monitor = Monitor(load_settings(env={}, model="demo", data_dir=tmp_path, probe_interval=0.0, api_token=TOKEN,
                                    load_test_urls=(stub.url,)), collectors=[])
    client = TestClient(Starlette(routes=build_routes(lambda: monitor)), raise_server_exceptions=False)
    yield client, monitor
    monitor.close()


def test_starting_and_stopping_need_the_token(api, stub):
    client, _ = api
    body = {"target": stub.url, "concurrency": [1], "requests": 2, "max_tokens": 4}
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        assert client.post("/api/load-test", json=body, headers=headers).status_code == 401
        assert client.post("/api/load-test/stop", headers=headers).status_code == 401
    assert stub.requests == 0


def test_a_foreign_url_is_refused_and_never_contacted(api, stub):
    client, _ = api
    with PacedServer() as foreign:
        for target in (foreign.url, foreign.url.replace("127.0.0.1", "localhost"), stub.url + "/", "remote"):
            answer = client.post("/api/load-test", json={"target": target, "concurrency": [1], "requests": 1},
                                 headers=AUTH)
            assert answer.status_code == 403, (target, answer.text)
            assert "not an allowed load-test target" in answer.json()["error"]
        assert foreign.requests == 0


@pytest.mark.parametrize(("change", "says"), [
    ({"concurrency": [0]}, "1 to 256"), ({"concurrency": "1,2"}, "list of integers"), ({"requests": 0}, "1 to"),
    ({"max_tokens": 1.5}, "integer"), ({"slo_objective": 2}, "share"), ({"concurrency": list(range(1, 20))}, "1 to"),
])
def test_bad_plans_are_refused_with_a_reason(api, stub, change, says):
    client, _ = api
    body = {"target": stub.url, "concurrency": [1], "requests": 2, "max_tokens": 4} | change
    answer = client.post("/api/load-test", json=body, headers=AUTH)
    assert answer.status_code == 400 and says in answer.json()["error"], answer.text


def test_a_run_in_the_background_one_at_a_time_with_its_report(api, stub):
    client, monitor = api
    body = {"target": stub.url, "concurrency": [1, 2], "requests": 6, "max_tokens": 4, "slo_ttft_seconds": 5}
    started = client.post("/api/load-test", json=body, headers=AUTH)
    assert started.status_code == 202 and started.json()["state"] == "running"
    again = client.post("/api/load-test", json=body, headers=AUTH)
    assert again.status_code in (409, 202)  # 202 only if the first had already finished: tiny runs are fast
    if again.status_code == 409:
        assert "already running" in again.json()["error"]
    monitor.load_test.wait(60)
    status = client.get("/api/load-test").json()
    assert status["state"] == "finished" and status["progress"]["done"] == 12
    report = status["report"]
    assert [level["concurrency"] for level in report["levels"]] == [1, 2]
    assert all(level["errors"] == 0 for level in report["levels"])
    assert report["capacity"]["concurrency"] == 2 and report["objectives"]["ttft_seconds"] == 5
    assert report["objectives"]["time_per_output_token_seconds"] == monitor.slo.objectives.time_per_output_token_seconds
    keys = [target["key"] for target in status["targets"]]
    assert keys == ["self", stub.url]
    assert TOKEN not in str(status)


def test_stop_ends_a_run_early_and_leaves_no_run_behind(tmp_path):
    with PacedServer(slots=1, first_token_seconds=0.05, token_interval_seconds=0.05, tokens=20) as slow:
        monitor = Monitor(load_settings(env={}, model="demo", data_dir=tmp_path, probe_interval=0.0,
                                        load_test_urls=(slow.url,)), collectors=[])
        client = TestClient(Starlette(routes=build_routes(lambda: monitor)), raise_server_exceptions=False)
        try:
            assert client.post("/api/load-test/stop").json()["stopped"] is False  # nothing runs yet
            body = {"target": slow.url, "concurrency": [1, 2], "requests": 50, "max_tokens": 20}
            assert client.post("/api/load-test", json=body).status_code == 202  # no token set: none needed
            assert client.post("/api/load-test/stop").json()["stopped"] is True
            status = monitor.load_test.wait(30)
            assert status.state == "stopped" and status.report is not None and status.report.stopped
            assert sum(level.requests for level in status.report.levels) < 100
            assert client.post("/api/load-test", json=body).status_code == 202  # a new run may start now
        finally:
            monitor.close()  # stops the second run too
        assert monitor.load_test.status().state == "stopped"


def test_the_own_v1_carries_the_api_token_and_a_wildcard_bind_becomes_loopback():
    targets = allowed_targets(own_url=own_v1_url("http", "0.0.0.0", 8501), api_token=TOKEN, remote_url=None,
                              remote_api_key="", remote_model="", listed=("http://gpu-1:8000/v1",))
    own = resolve(targets, "self")
    assert own.url == "http://127.0.0.1:8501/v1" and own.api_key == TOKEN
    assert TOKEN not in repr(own) and TOKEN not in own.label
    assert own_v1_url("https", "::1", 8443) == "https://[::1]:8443/v1"
    assert resolve(targets, "http://gpu-1:8000/v1").api_key is None
