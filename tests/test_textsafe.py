"""Client text in the log, URLs in the log and on the pages: healthmon.textsafe, and the places that use it for real.

The webhook, the fleet client, the OTLP exporter and the model runtime are exercised against real sockets, real
files and real log handlers; nothing is faked but the absent model directory.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from healthmon.textsafe import LOG_TEXT_LIMIT, log_text, one_line, redact_url
from tests.conftest import free_port

HIDDEN = [chr(code) for code in (*range(0x20), *range(0x7f, 0xa0), 0x2028, 0x2029, 0x202e, 0x2066)]


# ---- log_text / one_line --------------------------------------------------------------------------------
@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=st.one_of(st.sampled_from(HIDDEN + ["\\", "n", "x", " "]), st.characters())))
def test_log_text_is_always_one_line_without_hidden_characters(text):
    shown = log_text(text)
    assert shown.splitlines() == ([shown] if shown else [])  # str.splitlines knows every line break there is
    assert not any(char in shown for char in HIDDEN)
    assert len(shown) <= 4 * LOG_TEXT_LIMIT + 40  # at most "\\xNN" per character kept, then the count


def test_log_text_keeps_escapes_apart_from_what_they_escape():
    assert log_text("a\nb") == r"a\nb"
    assert log_text(r"a\nb") == r"a\\nb"  # a typed backslash-n is not a newline
    assert log_text("\x1b[31mred\u202e") == r"\x1b[31mred\u202e"
    assert log_text("日本語 ok") == "日本語 ok"
    assert log_text("x" * 600) == "x" * 500 + "…(+100 chars)"
    assert one_line("C:\\path\nnext") == "C:\\path\\nnext"  # backslashes as they are, for the pages


# ---- redact_url -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "shown"), [
    ("https://hooks.example/hook?secret=abc", "https://hooks.example/hook?…"),
    ("http://bob:hunter2@prom.example:9090/prefix/?token=t#frag", "http://prom.example:9090/prefix/?…#…"),
    ("http://[::1]:4318/v1/traces", "http://[::1]:4318/v1/traces"),
    ("http://localhost:9090", "http://localhost:9090"),
    ("prom:9090/x?token=t", "prom:9090/x?…"),  # no scheme: still no query
    ("user:pw@prom:9090/x", "prom:9090/x"),
    ("http://u:p@host:notaport/x?q=1", "http://host:notaport/x?…"),  # does not parse: the same cuts
    ("", ""),
])
def test_redact_url_keeps_where_it_goes_and_nothing_secret(url, shown):
    assert redact_url(url) == shown


def test_redact_url_can_drop_a_path_that_is_the_secret():
    assert redact_url("https://hooks.slack.com/services/T0/B0/XXXX?x=1", path=False) == "https://hooks.slack.com/…?…"
    assert redact_url("https://hooks.example", path=False) == "https://hooks.example"


SECRET = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~%", min_size=6, max_size=20)


@settings(max_examples=300, deadline=None)
@given(user=SECRET, password=SECRET, query=SECRET, fragment=SECRET,
       host=st.sampled_from(["example.com", "10.0.0.1", "[::1]", "h"]),
       port=st.one_of(st.none(), st.integers(1, 65535)),
       path=st.sampled_from(["", "/", "/hook", "/a/b/"]), scheme=st.sampled_from(["http", "https", ""]))
def test_no_credential_query_or_fragment_survives_redaction(user, password, query, fragment, host, port, path, scheme):
    netloc = f"{user}:{password}@{host}" + (f":{port}" if port else "")
    url = (f"{scheme}://" if scheme else "") + f"{netloc}{path}?s={query}#{fragment}"
    shown = redact_url(url)
    for secret in (password, f"{user}:", query, fragment):
        assert secret not in shown
    assert host.strip("[]") in shown and "?…" in shown


# ---- the webhook, for real ----------------------------------------------------------------------------------
class _Answer500(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args):  # keep the test's output quiet
        pass


@pytest.fixture
def answering_500():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer500)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _failed_delivery_log(url: str, caplog) -> tuple[str, dict]:
    """Deliver one alert to `url`, which fails; the notify logger's output and the notifier's health."""
    from healthmon.notify import WebhookNotifier

    notify_log = logging.getLogger("healthmon.notify")  # the real logger; "healthmon" may not propagate to root
    notify_log.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    notifier = WebhookNotifier(url, attempts=2, backoff_seconds=0.01, timeout_seconds=2)
    try:
        notifier.notify({"id": "alert-1", "state": "firing"})
        deadline = time.monotonic() + 15
        while notifier.failed_total == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert notifier.failed_total == 1
        return caplog.text, notifier.health()
    finally:
        notifier.close()
        notify_log.removeHandler(caplog.handler)


def test_a_webhook_answering_500_is_logged_without_its_secret(answering_500, caplog):
    text, health = _failed_delivery_log(f"http://127.0.0.1:{answering_500}/hook/T0K3N?secret=abc", caplog)
    assert f"webhook http://127.0.0.1:{answering_500}/…?…: could not deliver alert alert-1 (HTTP 500)" in text
    for secret in ("secret=abc", "abc", "T0K3N"):  # the query and the path: either can be the secret
        assert secret not in text and secret not in str(health)


def test_a_webhook_on_a_closed_port_is_logged_without_its_secret(caplog):
    text, health = _failed_delivery_log(f"http://127.0.0.1:{free_port()}/hook?secret=abc", caplog)
    assert "could not deliver alert alert-1" in text and "Connection refused" in text
    assert "secret=abc" not in text and "secret=abc" not in str(health)


def test_a_webhook_url_urllib_refuses_is_not_quoted_in_the_log(caplog):
    # urllib refuses a space in the request target and quotes the path and query in its error
    text, health = _failed_delivery_log(f"http://127.0.0.1:{free_port()}/hook?secret=abc def", caplog)
    assert "InvalidURL" in text
    assert "secret=abc" not in text and "secret=abc" not in str(health)


# ---- other URLs that are logged or shown ---------------------------------------------------------------------
def test_fleet_errors_and_public_settings_name_prometheus_without_credentials():
    from healthmon import fleet
    from healthmon.config import load_settings

    url = f"http://admin:s3cret@127.0.0.1:{free_port()}"
    with pytest.raises(fleet.PrometheusError) as raised:
        fleet.PrometheusClient(url + "/?token=t0k", fleet.urllib_get(timeout_seconds=2)).query("up")
    assert "s3cret" not in str(raised.value) and "t0k" not in str(raised.value)
    assert "cannot reach Prometheus at http://127.0.0.1:" in str(raised.value)
    public = load_settings(env={"HEALTHMON_PROMETHEUS_URL": url + "/prom?token=t0k"}).public_dict()
    assert public["prometheus_url"] == url.replace("admin:s3cret@", "") + "/prom?…"


def test_the_otlp_endpoint_is_logged_without_credentials(monkeypatch, caplog):
    from healthmon.export.otlp import trace_exporter_from_env

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                       f"http://otel:pw0rd@127.0.0.1:{free_port()}/v1/traces?api-key=k3y")
    export_log = logging.getLogger("healthmon.export")
    export_log.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    try:
        exporter = trace_exporter_from_env(lambda: {})
        assert exporter is not None
        exporter.shutdown()
    finally:
        export_log.removeHandler(caplog.handler)
    assert "exporting traces over OTLP to http://127.0.0.1:" in caplog.text and "/v1/traces?…" in caplog.text
    assert "pw0rd" not in caplog.text and "k3y" not in caplog.text


# ---- a model source in the log, for real ----------------------------------------------------------------------
def test_a_newline_in_a_model_source_does_not_forge_a_log_line(tmp_path):
    """The runtime's own log lines for a hostile source that fails to load (the directory does not exist):
    two lines, loading and failed, with the newline written as \\n."""
    from healthmon.runtime.engine import ModelRuntime
    from healthmon.runtime.sources import parse_model_spec

    source = "x/y](http://evil.example)\n2026-01-01 00:00:00 ERROR healthmon.api: FORGED token accepted\r\x1b[2K"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("tests.textsafe.runtime")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    runtime = ModelRuntime(parse_model_spec(str(tmp_path / source)), demo_dir=tmp_path / "demo",
                           models_dir=tmp_path / "models", sink=SimpleNamespace(record=lambda record: None),
                           logger=logger)
    try:
        assert runtime.load() is False and runtime.info().status == "error"
    finally:
        runtime.close()
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert "loading model local" in lines[0] and "failed to load" in lines[1]
    assert all("FORGED" in line and "\\n2026-01-01" in line and "\\x1b" in line for line in lines)
    assert not any(line.startswith("2026-01-01 00:00:00 ERROR") for line in lines)
