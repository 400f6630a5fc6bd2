"""Fleet: PromQL results to frames, every Prometheus failure as a clear message, and the page headless."""

from __future__ import annotations

import json
import math
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import pandas as pd
import pytest
from conftest import free_port, plotly_spec
from streamlit.testing.v1 import AppTest

from healthmon import fleet

NOW = 1_800_000_000.0


def vector(*series: tuple[dict, str]) -> dict:
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": labels, "value": [NOW, value]} for labels, value in series]}}


def canned(url: str, params: dict) -> dict:
    """A Prometheus with agents a:8502 (healthy, busy) and b:8502 (down: only `up` knows it)."""
    query = params["query"]
    a, b = {"instance": "a:8502", "job": "healthmon"}, {"instance": "b:8502", "job": "healthmon"}
    if url.endswith("/query_range"):
        values = [[NOW - 30, "10"], [NOW - 15, "NaN"], [NOW, "30"]]
        return {"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": a, "values": values}, {"metric": b, "values": values[:1]}]}}
    if query.startswith("up"):
        return vector((a, "1"), (b, "0"))
    if query.startswith("healthmon_health_status"):
        return vector((a | {"status": "warning"}, "1"))
    if query.startswith("healthmon_model_info"):
        return vector((a | {"model_name": "demo"}, "1"))
    if query.startswith("histogram_quantile"):
        return vector(({"instance": "a:8502"}, "NaN"))  # no traffic in the window
    return vector((a, "42.5"))


def test_the_table_has_one_row_per_instance_including_down_agents():
    table = fleet.fleet_table(fleet.PrometheusClient("http://prom:9090/", canned), at_seconds=NOW)
    assert list(table.columns) == list(fleet.TABLE_COLUMNS)
    rows = table.set_index("instance")
    assert list(rows.index) == ["a:8502", "b:8502"]
    assert rows.loc["a:8502", "up"] == 1 and rows.loc["b:8502", "up"] == 0
    assert rows.loc["a:8502", "status"] == "warning" and rows.loc["a:8502", "model"] == "demo"
    assert rows.loc["a:8502", "health_score"] == 42.5
    assert pd.isna(rows.loc["a:8502", "latency_p95_seconds"])  # NaN from Prometheus is "no value", not a number
    assert pd.isna(rows.loc["b:8502", "health_score"]) and pd.isna(rows.loc["b:8502", "status"])


def test_a_comparison_is_a_wide_frame_for_the_charts():
    calls = []

    def get(url, params):
        calls.append((url, dict(params)))
        return canned(url, params)

    frame = fleet.compare(fleet.PrometheusClient("http://prom:9090", get), "cpu_percent", NOW - 3600, NOW)
    assert list(frame.columns) == ["ts", "a:8502", "b:8502"]
    assert frame["ts"].tolist() == [NOW - 30, NOW - 15, NOW]
    assert frame["a:8502"].iloc[0] == 10 and math.isnan(frame["a:8502"].iloc[1])
    assert math.isnan(frame["b:8502"].iloc[2])
    url, params = calls[0]
    assert url == "http://prom:9090/api/v1/query_range" and params["step"] == "12"  # an hour in 300 points
    assert params["query"] == '100 * healthmon_system_cpu_usage_ratio{job="healthmon"}'


def test_rate_windows_grow_with_the_step_and_jobs_are_escaped():
    queries = fleet.fleet_queries('my"job', 240)
    assert '{job="my\\"job"}' in queries["up"]
    assert "[240s]" in queries["latency_p95_seconds"] and "[240s]" in queries["tokens_per_second"]
    empty = fleet.matrix_frame([])
    assert list(empty.columns) == ["ts"] and empty.empty


def test_prometheus_refusals_become_prometheus_errors():
    refusing = fleet.PrometheusClient("http://prom:9090", lambda url, params: {
        "status": "error", "errorType": "bad_data", "error": "parse error at char 5"})
    with pytest.raises(fleet.PrometheusError, match="refused the query.*bad_data: parse error"):
        refusing.query("up{")
    wrong_shape = fleet.PrometheusClient("http://prom:9090", lambda url, params: vector())
    with pytest.raises(fleet.PrometheusError, match="expected a matrix"):
        wrong_shape.query_range("up", NOW - 60, NOW, 15)
    not_prometheus = fleet.PrometheusClient("http://prom:9090", lambda url, params: ["a", "list"])
    with pytest.raises(fleet.PrometheusError, match="refused"):
        not_prometheus.query("up")


class Fake(BaseHTTPRequestHandler):
    """Answers like a Prometheus (canned JSON), a bad query (400 + JSON) or a web page that is not one."""

    mode = "prometheus"

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        path, _, query = self.path.partition("?")
        params = {key: values[0] for key, values in urllib.parse.parse_qs(query).items()}
        if Fake.mode == "html":
            body, status, kind = b"<html>grafana</html>", 200, "text/html"
        elif Fake.mode == "bad_query":
            body, status, kind = json.dumps({"status": "error", "errorType": "bad_data",
                                             "error": "invalid parameter"}).encode(), 400, "application/json"
        else:
            body, status, kind = json.dumps(canned(path, params)).encode(), 200, "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake_prometheus():
    server = HTTPServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Fake.mode = "prometheus"
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_the_stdlib_getter_talks_http_and_explains_failures(fake_prometheus):
    client = fleet.PrometheusClient(fake_prometheus, fleet.urllib_get(timeout_seconds=5))
    assert {s["metric"]["instance"] for s in client.query("up")} == {"a:8502", "b:8502"}
    Fake.mode = "bad_query"
    with pytest.raises(fleet.PrometheusError, match="bad_data: invalid parameter"):
        client.query("up")
    Fake.mode = "html"
    with pytest.raises(fleet.PrometheusError, match="did not answer JSON"):
        client.query("up")
    closed = fleet.PrometheusClient(f"http://127.0.0.1:{free_port()}", fleet.urllib_get(timeout_seconds=2))
    with pytest.raises(fleet.PrometheusError, match="cannot reach Prometheus"):
        closed.query("up")


def run_fleet_page(lang: str = "en") -> AppTest:
    at = AppTest.from_file("../views/fleet.py", default_timeout=30)
    at.session_state["lang"] = lang
    return at.run()


def test_without_prometheus_the_page_explains_the_setup(page_monitor):
    page_monitor(None)
    at = run_fleet_page()
    assert not at.exception
    assert at.title[0].value == "Fleet"
    code = " ".join(block.value for block in at.code)
    assert "python -m healthmon agent" in code and "HEALTHMON_PROMETHEUS_URL=" in code and "job_name: healthmon" in code
    zh = run_fleet_page("zh")
    assert zh.title[0].value == "集群" and any("设置步骤" in m.value for m in zh.markdown)


def test_an_unreachable_prometheus_is_a_message_not_a_traceback(page_monitor):
    page_monitor(f"http://127.0.0.1:{free_port()}")
    at = run_fleet_page()
    assert not at.exception
    assert any("cannot reach Prometheus" in error.value for error in at.error)


def test_the_page_shows_agents_side_by_side(page_monitor, fake_prometheus):
    page_monitor(fake_prometheus)
    at = run_fleet_page()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Instance"]) == ["a:8502", "b:8502"]
    assert list(table["Status"]) == ["warning", "down"]
    specs = [plotly_spec(chart.proto.spec) for chart in at.get("plotly_chart")]
    assert len(specs) == len(fleet.COMPARISONS)
    assert {trace["name"] for trace in specs[0]["data"]} == {"a:8502", "b:8502"}
    zh = run_fleet_page("zh")
    assert "实例" in zh.dataframe[0].value.columns and list(zh.dataframe[0].value["状态"]) == ["警告", "离线"]
