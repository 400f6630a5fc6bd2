"""Cross-site requests, DNS rebinding, spoofed X-Forwarded-For, hang-ups and hostile query values, against the
real app (and, for the cross-site page, a real browser on another origin)."""

from __future__ import annotations

import http.server
import shutil
import socket
import threading
from pathlib import Path

import pytest
import requests

from healthmon.api.guard import Refusal, check, host_name, refusal_body, served_names
from tests.conftest import AppServer, free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NAMES = served_names("127.0.0.1")


def test_host_names_are_read_without_port_and_brackets():
    assert host_name("Example.org:8501") == "example.org"
    assert host_name("[::1]:8501") == "::1" and host_name("::1") == "::1" and host_name("localhost") == "localhost"


def test_the_guard_refuses_foreign_hosts_cross_site_posts_and_non_json_bodies():
    local = {"host": "127.0.0.1:8501"}
    assert check("GET", "/api/traces", local, NAMES, ()) is None
    assert check("GET", "/api/traces", {"host": "attacker.example:8501"}, NAMES, ()).status_code == 403
    assert check("GET", "/", {"host": "attacker.example"}, NAMES, ()).status_code == 403  # the pages too
    assert check("GET", "/api/traces", {"host": "attacker.example"}, served_names("127.0.0.1", ("*",)), ()) is None
    cross = local | {"origin": "http://evil.example"}
    assert check("POST", "/api/health/stop", cross, NAMES, ()).status_code == 403
    assert check("POST", "/api/health/stop", cross, NAMES, ("http://evil.example",)) is None
    assert check("POST", "/api/health/stop", local | {"origin": "null"}, NAMES, ()).status_code == 403
    assert check("POST", "/api/health/stop", local | {"origin": "http://127.0.0.1:8501"}, NAMES, ()) is None
    assert check("POST", "/api/health/stop", local | {"origin": "http://127.0.0.1:9999"}, NAMES, ()).status_code == 403
    text = local | {"content-type": "text/plain", "content-length": "20"}
    assert check("POST", "/api/model/generate", text, NAMES, ()).status_code == 415
    as_json = local | {"content-type": "application/json; charset=utf-8", "content-length": "20"}
    assert check("POST", "/api/model/generate", as_json, NAMES, ()) is None
    assert check("POST", "/api/health/stop", local, NAMES, ()) is None  # curl -X POST: no body, no Origin


@pytest.fixture(scope="module")
def app(tmp_path_factory, demo_model_dir):
    data = tmp_path_factory.mktemp("cross-site") / "data"
    data.mkdir()
    shutil.copytree(demo_model_dir, data / "demo-model")
    server = AppServer(data, data.parent / "app.log", HEALTHMON_RATE_LIMIT_PER_MINUTE="0").start()
    yield server
    server.stop()


def totals(app) -> dict:
    return app.get("/api/analysis/generation?window=15m&max_requests=1").json()["statistics"]


def test_a_refusal_under_v1_has_openais_error_shape_and_elsewhere_healthmons():
    refusal = Refusal(415, "send the body as JSON")
    assert refusal_body("/v1/chat/completions", refusal) == {"error": {
        "message": "send the body as JSON", "type": "invalid_request_error", "param": None,
        "code": "unsupported_media_type"}}
    assert refusal_body("/V1", Refusal(404, "no API endpoint"))["error"]["type"] == "not_found_error"
    assert refusal_body("/api/model/generate", refusal) == {"error": "send the body as JSON"}


def test_an_openai_client_hears_a_cross_site_refusal_as_its_typed_error(app):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=f"{app.url}/v1", api_key="unused", max_retries=0,
                           default_headers={"Origin": "http://evil.example"})
    with pytest.raises(openai.PermissionDeniedError, match="cross-site request refused"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}], max_tokens=2)


def test_a_rebinding_host_reads_nothing(app):
    for path in ("/api/traces", "/api/health/status", "/metrics", "/"):
        response = requests.get(app.url + path, headers={"Host": f"attacker.example:{app.port}"}, timeout=30)
        assert response.status_code == 403 and "host name" in response.json()["error"], path
    assert requests.get(app.url + "/api/traces", headers={"Host": f"localhost:{app.port}"}, timeout=30).ok


def test_state_changes_are_post_only_and_json_only(app):
    assert app.get("/api/health/stop").status_code == 405
    assert app.get("/api/health/status").json()["monitoring"] is True
    plain = app.post("/api/model/generate", data='{"prompt": "hi"}', headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415 and "application/json" in plain.json()["error"]
    cross = app.post("/api/health/stop", headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403 and app.get("/api/health/status").json()["monitoring"] is True


@pytest.mark.parametrize("query", ["/api/traces?limit=²", "/api/traces?limit=①", "/api/traces?limit=٣",
                                   "/api/health/metrics?max_points=²", "/api/health/metrics?max_requests=²",
                                   "/api/health/metrics?window=²", "/api/traces?limit=" + "9" * 5000])
def test_non_ascii_digits_are_a_400_not_a_500_nor_a_number(app, query):
    response = app.get(query)
    assert response.status_code == 400, response.text
    assert len(response.text) < 400  # the value is quoted short, not echoed whole


def test_until_zero_is_a_time_and_api_paths_never_get_the_html_page(app):
    assert app.get("/api/health/metrics?since=-60&until=0").json()["system_metrics"] == []
    for path in ("/api", "/API/health/status", "/Api/traces"):
        response = app.get(path)
        assert response.status_code == 404 and response.headers["content-type"].startswith("application/json"), path


def test_a_page_on_another_origin_can_neither_stop_monitoring_nor_generate(app, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    before = totals(app)["total_requests"]
    target = app.url
    (tmp_path / "attack.html").write_text(f"""<!doctype html><body>
<img src="{target}/api/health/stop"><img src="{target}/api/system/restart">
<script>
const post = (path, options) => fetch("{target}" + path, Object.assign({{method: "POST", mode: "no-cors"}}, options));
window.done = Promise.allSettled([
  post("/api/health/stop", {{}}),
  post("/api/model/generate", {{headers: {{"Content-Type": "text/plain"}}, body: '{{"prompt": "pwned"}}'}}),
  post("/api/model/load", {{headers: {{"Content-Type": "text/plain"}}, body: '{{"model": "demo"}}'}}),
]).then(() => "sent");
</script></body>""", encoding="utf-8")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    other_origin = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=other_origin.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{other_origin.server_port}/attack.html")
            assert page.evaluate("() => window.done") == "sent"
            page.wait_for_load_state("networkidle")
            browser.close()
    finally:
        other_origin.shutdown()
    status = app.get("/api/health/status").json()
    assert status["monitoring"] is True and status["model_info"]["status"] == "loaded"
    assert totals(app)["total_requests"] == before
    assert "pwned" not in app.get("/api/traces?limit=1000").text


def test_clients_that_hang_up_are_counted_and_leave_no_traceback(app):
    before = totals(app)
    for _ in range(40):
        with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
            sock.sendall(f"POST /api/model/generate HTTP/1.1\r\nHost: 127.0.0.1:{app.port}\r\n"
                         "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"pro".encode())
    app.wait_until(lambda: totals(app)["rejected_requests"] == before["rejected_requests"] + 40,
                   "40 hang-ups counted as rejected", 30)
    assert "Traceback" not in app.log() and "ClientDisconnect" not in app.log()


def test_a_spoofed_forwarded_for_from_loopback_shares_one_bucket(tmp_path, demo_model_dir):
    shutil.copytree(demo_model_dir, tmp_path / "demo-model")
    with AppServer(tmp_path, tmp_path / "app.log", HEALTHMON_RATE_LIMIT_PER_MINUTE="0.01",
                   HEALTHMON_RATE_LIMIT_BURST="3") as server:
        codes = [server.post("/api/model/generate", json={"prompt": "hi", "max_new_tokens": 1},
                             headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code for n in range(6)]
    assert codes == [200, 200, 200, 429, 429, 429]
