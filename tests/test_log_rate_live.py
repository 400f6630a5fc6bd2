"""A failing upstream behind the real app: thirty proxied requests that each fail log a handful of warnings and a
count of the rest, not two or three lines apiece (issue 23 item 7)."""

from __future__ import annotations

import socket
import threading

import pytest
import requests

from healthmon import logutil
from tests.appserver import AppServer

pytestmark = pytest.mark.e2e


class ResettingServer:
    """Answers GET /health and /v1/models; every POST has its connection closed before any answer."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                head += chunk
            if head.startswith(b"POST"):
                return  # closed with no answer: the request fails upstream
            body = b'{"object": "list", "data": [{"id": "m", "object": "model"}]}' if b"/models" in head else b"{}"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    def close(self) -> None:
        self.sock.close()


def test_thirty_failing_proxied_requests_log_a_few_warnings_and_a_count(tmp_path):
    upstream = ResettingServer()
    data = tmp_path / "data"
    data.mkdir()
    app = AppServer(data, tmp_path / "app.log", HEALTHMON_MODEL=f"openai:{upstream.url}",
                    HEALTHMON_RATE_LIMIT_PER_MINUTE="0")
    try:
        app.start()
        codes = [requests.post(f"{app.url}/v1/chat/completions", timeout=60,
                               json={"model": "m", "messages": [{"role": "user", "content": f"hi {i}"}],
                                     "max_tokens": 4}).status_code for i in range(30)]
        assert all(code >= 500 for code in codes), codes
        stats = app.get("/api/health/status").json()["request_stats"]  # 502 upstream gone, 503 while it is down
        assert stats["failed_requests"] + stats["rejected_requests"] >= 30  # every failure still counted
    finally:
        app.stop()
        upstream.close()
    warnings = [line for line in app.log_path.read_text(errors="replace").splitlines() if "WARNING" in line]
    per_request = [line for line in warnings if "failed" in line]
    # 5 a minute per kind (unfiltered, each of the 21 failures logged its own line, and each 'is down' another)
    assert 0 < len(per_request) <= logutil.DEFAULT_BURST < stats["failed_requests"], "\n".join(warnings)
    assert len(warnings) <= 2 * logutil.DEFAULT_BURST, "\n".join(warnings)
