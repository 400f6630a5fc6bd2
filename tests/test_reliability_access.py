"""Access: loopback by default, a constant-time token check on every guarded endpoint, no secret in answers or logs.

The 401s of the real app and the token staying out of its log are in test_app_http.py; the exposure
warning is in test_gate.py. This covers every guarded route in-process, and how the comparison is made.
"""

from __future__ import annotations

import hmac
import logging
import tomllib
from pathlib import Path

from starlette.applications import Starlette
from starlette.testclient import TestClient

from healthmon.api import build_routes
from healthmon.config import load_settings
from healthmon.monitor import Monitor

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "s3cret-token-for-tests"
WEBHOOK = "https://hooks.example.com/services/T000/B000/WEBHOOK-SECRET"
GUARDED = [("POST", "/api/model/generate", {"prompt": "hi"}),
           ("POST", "/api/health/start", None), ("POST", "/api/health/stop", None),
           ("POST", "/api/system/restart", None), ("POST", "/api/model/load", None),
           ("POST", "/api/alerts/silences", {"matcher": "cpu_usage", "duration_seconds": 60}),
           ("POST", "/api/alerts/some-alert/acknowledge", None)]


def test_the_app_binds_to_loopback_by_default():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"


def test_every_guarded_endpoint_checks_the_token_in_constant_time(tmp_path, monkeypatch, caplog):
    compared: list[tuple[bytes, bytes]] = []
    real_compare = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda given, expected: compared.append((given, expected))
                        or real_compare(given, expected))
    caplog.set_level(logging.DEBUG)
    monitor = Monitor(load_settings(env={}, model="demo", data_dir=tmp_path, probe_interval=0.0, api_token=TOKEN,
                                    webhook_url=WEBHOOK), collectors=[])
    client = TestClient(Starlette(routes=build_routes(lambda: monitor)), raise_server_exceptions=False)
    try:
        for method, path, body in GUARDED:
            for headers in ({}, {"Authorization": f"Bearer {TOKEN[:-1]}x"}, {"Authorization": f"Basic {TOKEN}"}):
                response = client.request(method, path, json=body, headers=headers)
                assert response.status_code == 401, (method, path, headers, response.text)
                assert response.headers["www-authenticate"] == "Bearer" and response.json()["error"]
        assert len(compared) == len(GUARDED)  # every Bearer guess went through hmac.compare_digest
        assert monitor.request_stats.snapshot(monitor.clock())["rejected_requests"] == 3  # refused generates count

        monitor.loop.collect_once()
        answers = [client.get(path).text for path in ("/api/health/status", "/api/model/info", "/api/alerts",
                                                      "/api/health/metrics?window=15m", "/api/traces")]
        for secret in (TOKEN, WEBHOOK, "WEBHOOK-SECRET"):
            assert not any(secret in text for text in answers), secret
            assert secret not in caplog.text and secret not in repr(monitor.settings)
            assert secret not in str(monitor.settings.public_dict())
    finally:
        monitor.close()
