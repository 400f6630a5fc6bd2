"""The live path: a monitor fed by a fake collector fires and resolves alerts seen by the API, and they persist."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from healthmon.api import build_routes
from healthmon.config import load_settings
from healthmon.monitor import Monitor
from healthmon.notify import WebhookNotifier
from healthmon.records import RequestRecord


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class FakeSystem:
    layer = "system"

    def __init__(self) -> None:
        self.values = {"cpu_usage": 20.0, "memory_usage": 50.0, "disk_usage": 40.0}

    def collect(self) -> dict:
        return dict(self.values)


def make_monitor(tmp_path, clock, system, **settings) -> Monitor:
    return Monitor(load_settings(env={}, data_dir=tmp_path, probe_interval=0.0, **({"model": "demo"} | settings)),
                   collectors=[system], clock=clock)


def run_cycles(monitor: Monitor, clock: FakeClock, cycles: int, step_seconds: float = 10.0) -> None:
    for _ in range(cycles):
        monitor.loop.collect_once()
        clock.now += step_seconds


def test_memory_alert_fires_resolves_and_shows_in_the_api(tmp_path):
    clock, system = FakeClock(), FakeSystem()
    monitor = make_monitor(tmp_path, clock, system)
    client = TestClient(Starlette(routes=build_routes(lambda: monitor)))
    try:
        run_cycles(monitor, clock, 3)
        assert client.get("/api/health/status").json()["active_alerts"] == 0
        system.values["memory_usage"] = 95.0
        run_cycles(monitor, clock, 1)
        assert client.get("/api/health/status").json()["active_alerts"] == 0  # pending, not firing yet
        run_cycles(monitor, clock, 4)
        status = client.get("/api/health/status").json()
        assert status["active_alerts"] == 1  # memory_warning is inhibited by memory_critical
        assert status["status"] == "critical"
        alerts = client.get("/api/alerts").json()["alerts"]
        firing = [a for a in alerts if a["rule"] == "memory_critical"]
        assert firing and firing[0]["state"] == "firing" and firing[0]["level"] == "critical"
        assert {"id", "rule", "metric", "level", "kind", "state", "message", "started_at", "resolved_at",
                "acknowledged"} <= set(firing[0])
        alert_id = firing[0]["id"]
        assert client.post(f"/api/alerts/{alert_id}/acknowledge").status_code == 200

        system.values["memory_usage"] = 50.0
        run_cycles(monitor, clock, 3)
        monitor.store.flush()
        assert client.get("/api/health/status").json()["active_alerts"] == 0
        resolved = [a for a in client.get("/api/alerts").json()["alerts"] if a["id"] == alert_id]
        assert resolved[0]["state"] == "resolved" and resolved[0]["resolved_at"] and resolved[0]["acknowledged"]
        states = [row["state"] for row in monitor.store.alert_transitions(alert_id)]
        assert states == ["firing", "acknowledged", "resolved"]
    finally:
        monitor.close()


def test_a_firing_alert_survives_a_restart(tmp_path):
    clock, system = FakeClock(), FakeSystem()
    monitor = make_monitor(tmp_path, clock, system)
    system.values["disk_usage"] = 99.0
    run_cycles(monitor, clock, 6)
    assert [a.rule for a in monitor.alerts.active()] == ["disk_critical"]
    monitor.close()

    restarted = make_monitor(tmp_path, clock, system)
    try:
        assert [a.rule for a in restarted.alerts.active()] == ["disk_critical"]
        run_cycles(restarted, clock, 2)
        assert len([a for a in restarted.alerts.active() if a.rule == "disk_critical"]) == 1  # no duplicate
    finally:
        restarted.close()


def test_silence_through_the_api_hides_an_alert(tmp_path):
    clock, system = FakeClock(), FakeSystem()
    monitor = make_monitor(tmp_path, clock, system, api_token="tok")
    client = TestClient(Starlette(routes=build_routes(lambda: monitor)))
    try:
        system.values["disk_usage"] = 99.0
        run_cycles(monitor, clock, 6)
        body = {"matcher": "disk_usage", "duration_seconds": 600}
        assert client.post("/api/alerts/silences", json=body).status_code == 401
        answer = client.post("/api/alerts/silences", json=body, headers={"Authorization": "Bearer tok"})
        assert answer.status_code == 200, answer.text
        assert client.get("/api/health/status").json()["active_alerts"] == 0
        for odd in ({"matcher": "", "duration_seconds": -1}, {"matcher": "cpu_usage", "duration_seconds": 1e-300},
                    body | {"comment": "unknown fields are refused, not dropped"},
                    {"matcher": "x" * 1_000_000, "duration_seconds": 60}):
            bad = client.post("/api/alerts/silences", json=odd, headers={"Authorization": "Bearer tok"})
            assert bad.status_code == 422 and len(bad.content) < 500, (str(odd)[:80], bad.text[:200])
    finally:
        monitor.close()


def test_silences_survive_a_restart_until_they_end(tmp_path):
    """Like Alertmanager's: a silence outlives the process that made it; one that has ended does not come back."""
    clock, system = FakeClock(), FakeSystem()
    first = make_monitor(tmp_path, clock, system)
    try:
        first.alerts.silence("memory_usage", 3600)  # a metric: both memory rules
        first.alerts.silence("disk_critical", 60)  # a rule name, ending before the restart
    finally:
        first.close()
    clock.now += 120
    restarted = make_monitor(tmp_path, clock, system)
    try:
        system.values.update(memory_usage=95.0, disk_usage=99.0)
        run_cycles(restarted, clock, 6)
        firing = {a.rule for a in restarted.alerts.engine.all_alerts() if a.state == "firing"}
        assert {"memory_critical", "disk_critical"} <= firing
        assert [a.rule for a in restarted.alerts.active()] == ["disk_critical"]  # memory is still silenced
        assert [s["matcher"] for s in restarted.store.load_silences(active_at=clock())] == ["memory_usage"]
    finally:
        restarted.close()


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_webhook_receives_firing_and_resolved(tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    clock, system = FakeClock(), FakeSystem()
    monitor = make_monitor(tmp_path, clock, system, webhook_url=f"http://127.0.0.1:{server.server_port}/hook")
    try:
        system.values["disk_usage"] = 99.0
        run_cycles(monitor, clock, 6)
        system.values["disk_usage"] = 50.0
        run_cycles(monitor, clock, 2)
        import time

        deadline = time.monotonic() + 10
        while len(_Receiver.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [(p["metric"], p["state"]) for p in _Receiver.received] == [("disk_usage", "firing"),
                                                                          ("disk_usage", "resolved")]
    finally:
        monitor.close()
        server.shutdown()


def test_webhook_retries_with_backoff_and_gives_up():
    calls, sleeps = [], []

    def poster(url, body, timeout):
        calls.append(json.loads(body))
        if len(calls) < 3:
            raise ConnectionRefusedError("down")
        return 200

    notifier = WebhookNotifier("http://x/hook", poster=poster, attempts=5, backoff_seconds=0.5,
                               sleep=lambda seconds: sleeps.append(seconds) or False)
    notifier.notify({"id": "a"})
    import time

    deadline = time.monotonic() + 5
    while notifier.sent_total == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    notifier.close()
    assert notifier.sent_total == 1 and len(calls) == 3 and sleeps == [0.5, 1.0]


def test_bad_webhook_url_is_a_clear_config_error(tmp_path):
    from healthmon.config import ConfigError

    with pytest.raises(ConfigError, match="http"):
        load_settings(env={"HEALTHMON_WEBHOOK_URL": "ftp://nope"})


def test_a_streak_of_degenerate_answers_fires_naming_its_traces_and_resolves(tmp_path):
    """Through the live path: answers scored by the real text metrics reach the quality window through the pipeline."""
    from healthmon.quality.metrics import text_quality

    clock, system = FakeClock(), FakeSystem()
    monitor = make_monitor(tmp_path, clock, system)

    def answer(trace_id: str, response: str, finish_reason: str = "stop") -> None:
        quality = text_quality("What is the capital of France?", response, finish_reason)
        row = {"trace_id": trace_id, "ts": clock.now, "synthetic": False, "status": "ok",
               "prompt": "What is the capital of France?", "response": response, "quality": quality}
        monitor.pipeline.record(RequestRecord.from_row(row | {"stage": "scored"}))

    loop = "The capital is Paris, la Francine, la Francine, la Francine, la Francine, la Francine, la Fran"
    good = "The capital of France is Paris, a city on the Seine known for its museums and its history."
    try:
        for trace_id, response in (("t1", good), ("t2", loop), ("t3", loop), ("t4", good)):
            answer(trace_id, response, "length" if response == loop else "stop")
        run_cycles(monitor, clock, 1)
        assert not [a for a in monitor.alerts.active() if a.rule == "degeneration_streak"]  # 2 of 4
        answer("t5", loop, "length")
        run_cycles(monitor, clock, 1)
        firing = [a for a in monitor.alerts.active() if a.rule == "degeneration_streak"]
        assert firing and "traces t2, t3, t5" in firing[0].message
        assert monitor.loop.latest("quality")["degenerate_recent"] == 3
        for trace_id in ("t6", "t7", "t8", "t9"):
            answer(trace_id, good)
        run_cycles(monitor, clock, 1)
        assert not [a for a in monitor.alerts.active() if a.rule == "degeneration_streak"]  # 1 of the last 5
    finally:
        monitor.close()
