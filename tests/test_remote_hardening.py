"""A hostile or broken model server never makes the monitor hang or grow without bound (issue 23), and the /v1
proxy relays what a server says as it said it (issue 25): each test runs a real loopback server that misbehaves
in one way — pings instead of tokens, bytes dripped one at a time, an endless stream, a huge body, a /health that
never answers, a 5 MB model name, a server still loading — against the real client, target and proxy.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from healthmon import openai_stream
from healthmon.loop import model_sample
from healthmon.params import GenerationParams
from healthmon.remote.client import (
    MAX_NAME_CHARS,
    RemoteAnswerTooLarge,
    RemoteClient,
    RemoteStreamBroken,
    RemoteTimeout,
)
from healthmon.remote.target import RemoteTarget
from healthmon.target import ModelNotReady, ModelStatus
from tests.proxy_app import ProxyApp

LOADING_BODY = b'{"error":{"message":"Loading model","type":"unavailable_error","code":503}}'  # llama.cpp's, verbatim
CHUNK = {"id": "c1", "object": "chat.completion.chunk", "model": "m",
         "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}]}


def sse(payload: dict | str) -> bytes:
    return b"data: " + (payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()) + b"\n\n"


class Conn:
    """One accepted connection, with the request it carried."""

    def __init__(self, sock: socket.socket, closed: threading.Event) -> None:
        self.sock, self.closed = sock, closed
        head = b""
        while b"\r\n\r\n" not in head:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("closed before a request")
            head += data
        head, _, body = head.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.method, self.path, _ = lines[0].split(" ", 2)
        self.headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        while len(body) < int(self.headers.get("content-length", "0")):
            body += sock.recv(65536)
        self.body = body

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self, status: str, body: bytes, kind: str = "application/json") -> None:
        self.send(f"HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {len(body)}\r\n\r\n".encode() + body)

    def start_stream(self) -> None:
        self.send(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")

    def wait_closed(self) -> None:
        """Return once the peer closes the connection (a server generating slowly notices a client gone)."""
        self.sock.settimeout(120)
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass
        self.closed.set()


class RawServer:
    """A loopback HTTP/1.1 server whose `handle(conn)` plays one kind of server; /health answers 200 by default."""

    def __init__(self, handle: Callable[[Conn], None], health: Callable[[Conn], None] | None = None,
                 pages: dict[str, bytes] | None = None) -> None:
        self.handle, self.health, self.pages = handle, health, pages or {}
        self.requests: list[Conn] = []
        self.received = threading.Event()  # a POST arrived
        self.closed = threading.Event()  # the client closed a connection the handler held
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                sock, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(sock,), daemon=True).start()

    def _one(self, sock: socket.socket) -> None:
        with sock:
            try:
                conn = Conn(sock, self.closed)
                if conn.path == "/health":
                    (self.health or (lambda c: c.answer("200 OK", b'{"status":"ok"}')))(conn)
                elif conn.method == "GET":
                    page = self.pages.get(conn.path)
                    conn.answer("200 OK", page) if page is not None else conn.answer("404 Not Found", b'{"e":1}')
                else:
                    self.requests.append(conn)
                    self.received.set()
                    self.handle(conn)
            except OSError:  # the client went away: what several of these servers wait for
                self.closed.set()

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def serve():
    servers: list[RawServer] = []

    def start(handle: Callable[[Conn], None], health: Callable[[Conn], None] | None = None,
              pages: dict[str, bytes] | None = None) -> RawServer:
        servers.append(RawServer(handle, health, pages))
        return servers[-1]
    yield start
    for server in servers:
        server.close()


def target_for(server: RawServer, **client: float) -> tuple[RemoteTarget, list]:
    records: list = []
    target = RemoteTarget(server.base_url, sink=SimpleNamespace(record=records.append), poll_interval_seconds=3600,
                          client=RemoteClient(server.base_url, model="m", **client))
    target.poll_once()
    return target, records


@pytest.mark.parametrize("what, drip", [
    ("pings", b": ping\n\n"),
    ("dripped bytes", b"d"),  # a line that never ends
])
def test_a_stream_of_pings_or_dripped_bytes_breaks_after_the_read_timeout_without_an_event(serve, what, drip):
    def handle(conn: Conn) -> None:
        conn.start_stream()
        conn.send(sse(CHUNK))
        while True:
            conn.send(drip)
            threading.Event().wait(0.02)

    target, records = target_for(serve(handle), read_timeout_seconds=0.5)
    stream = target.stream(GenerationParams("Hi", max_new_tokens=8))
    with pytest.raises(RemoteStreamBroken, match="no event for 0.5 s"):
        list(stream)  # the one delta, then the break
    assert records[0].status == "error" and target.is_idle() and target.status is ModelStatus.LOADED
    target.close()


def test_a_request_past_its_deadline_is_ended_even_while_tokens_keep_coming(serve):
    def handle(conn: Conn) -> None:
        conn.start_stream()
        while True:
            conn.send(sse(CHUNK))
            threading.Event().wait(0.02)

    server = serve(handle)
    records: list = []
    target = RemoteTarget(server.base_url, sink=SimpleNamespace(record=records.append), poll_interval_seconds=3600,
                          client=RemoteClient(server.base_url, read_timeout_seconds=30), request_timeout_seconds=1.0)
    target.poll_once()
    stream = target.stream(GenerationParams("Hi", max_new_tokens=8))
    with pytest.raises(RemoteTimeout, match="HEALTHMON_TARGET_REQUEST_TIMEOUT_SECONDS"):
        stream.result(60)
    assert records[0].status == "error" and target.is_idle()
    assert server.closed.wait(60)  # the connection closed: the server stops generating
    target.close()


def test_an_endless_stream_is_ended_at_the_answer_cap_and_the_client_is_told(serve, tmp_path):
    event = sse(CHUNK | {"choices": [{"index": 0, "delta": {"content": "x" * 1000}, "finish_reason": None}]})

    def handle(conn: Conn) -> None:
        conn.start_stream()
        while True:
            conn.send(event)

    server = serve(handle)
    with ProxyApp(server.base_url, tmp_path, target_max_answer_bytes=65536) as app:
        body = {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "stream": True}
        with httpx.stream("POST", f"{app.url}/v1/chat/completions", json=body, timeout=60) as response:
            received = response.read()
        assert response.status_code == 200
        relayed, _, told = received.rpartition(b"\n\ndata: ")  # healthmon's own last event, after the server's
        # The server's bytes as they came, a prefix of its stream: how much came before the cap depends on how the
        # socket reads fell (one read may bring 64 KiB, and end inside an event), never more than the cap.
        assert 0 < len(relayed) <= 65536 and (event * (65536 // len(event) + 1)).startswith(relayed)
        assert "HEALTHMON_TARGET_MAX_ANSWER_BYTES" in json.loads(told)["error"]["message"]
        record = app.records[-1]
        assert record.status == "error" and "RemoteAnswerTooLarge" in record.error
        assert len(record.response or "") <= 65536
    assert server.closed.wait(60)


def test_a_whole_answer_over_the_cap_is_a_502_not_a_held_megabyte(serve, tmp_path):
    huge = json.dumps({"choices": [{"index": 0, "message": {"content": "x" * 200_000}}]}).encode()
    server = serve(lambda conn: conn.answer("200 OK", huge))
    with ProxyApp(server.base_url, tmp_path, target_max_answer_bytes=65536) as app:
        answer = httpx.post(f"{app.url}/v1/chat/completions", timeout=60,
                            json={"model": "m", "messages": [{"role": "user", "content": "Hi"}]})
        assert answer.status_code == 502 and "more than 65536 bytes" in answer.json()["error"]["message"]
        assert app.records[-1].status == "error"


def test_a_server_that_is_gone_is_a_502_for_a_non_streamed_request(serve, tmp_path):
    server = serve(lambda conn: None)
    with ProxyApp(server.base_url, tmp_path) as app:
        server.close()  # loaded at the last poll; nobody listens any more
        answer = httpx.post(f"{app.url}/v1/chat/completions", timeout=60,
                            json={"model": "m", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2})
        assert answer.status_code == 502 and answer.json()["error"]["code"] == "upstream_error"
        assert app.monitor.target.status is ModelStatus.ERROR
        app.monitor.target.status = ModelStatus.LOADED  # as if the last poll still said so: healthmon's own API
        native = httpx.post(f"{app.url}/api/model/generate", json={"prompt": "Hi"}, timeout=60)
        assert native.status_code == 502 and "cannot reach" in native.json()["error"]


TOO_SLOW = "took longer than 0.5 s|no answer within"


@pytest.mark.parametrize("health, expected", [
    (lambda conn: conn.wait_closed(), TOO_SLOW),  # never answers
    (lambda conn: [conn.send(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n")]
     + [conn.send(b"x") or threading.Event().wait(0.05) for _ in range(200)], TOO_SLOW),
    (lambda conn: conn.answer("500 Internal Server Error", b"e" * 3_000_000), "more than 65536 bytes"),
], ids=["silent", "dripping", "200 MB-style error body"])
def test_a_health_poll_has_a_deadline_and_a_size_cap(serve, health, expected):
    server = serve(lambda conn: None, health=health)
    client = RemoteClient(server.base_url, poll_timeout_seconds=0.5)
    target = RemoteTarget(server.base_url, sink=SimpleNamespace(record=lambda r: None), client=client,
                          poll_interval_seconds=3600)
    target.poll_once()
    assert target.status is ModelStatus.ERROR and target.error is not None
    assert any(part in target.error for part in expected.split("|")), target.error
    target.close()


def test_a_long_model_name_is_cut_and_huge_metrics_refused_not_held(serve):
    server = serve(lambda conn: None, pages={
        "/v1/models": json.dumps({"data": [{"id": "m" * 5_000_00}]}).encode(),
        "/metrics": b"# TYPE llamacpp:requests_processing gauge\n" + b"llamacpp:requests_processing 1\n" * 200_000,
        "/slots": json.dumps([{"id": 0, "n_ctx": 512, "is_processing": True}] * 3).encode()})
    target = RemoteTarget(server.base_url, sink=SimpleNamespace(record=lambda r: None), poll_interval_seconds=3600)
    target.poll_once()
    info = target.info()
    assert info.status == "loaded" and len(info.name) == MAX_NAME_CHARS
    assert info.remote.server_kind is None  # 6 MB of /metrics refused unread, not parsed
    assert info.remote.server.server_slots_busy == info.remote.server.server_slots_total == 3
    target.close()


def test_a_server_loading_its_model_is_loading_with_its_words_and_no_outage(serve):
    ready = threading.Event()

    def health(conn: Conn) -> None:
        if ready.is_set():
            conn.answer("200 OK", b'{"status":"ok"}')
        else:
            conn.answer("503 Service Unavailable", LOADING_BODY)

    server = serve(lambda conn: None, health=health)
    target = RemoteTarget(server.base_url, sink=SimpleNamespace(record=lambda r: None), poll_interval_seconds=3600)
    target.poll_once()
    info = target.info()
    assert info.status == "loading" and info.remote.status_message == "Loading model" and info.error is None
    assert model_sample(info, [])["model_available"] is None  # no verdict: model_unavailable cannot fire
    with pytest.raises(ModelNotReady, match="remote target is loading: Loading model"):
        target.stream(GenerationParams("Hi"))
    ready.set()
    target.poll_once()
    assert target.info().status == "loaded" and target.info().remote.status_message is None
    target.close()


def test_the_body_goes_upstream_as_sent_and_only_a_missing_max_tokens_is_added(serve, tmp_path):
    def handle(conn: Conn) -> None:
        conn.answer("200 OK", json.dumps({"choices": [{"index": 0, "message": {"content": "ok"},
                                                       "finish_reason": "stop"}]}).encode())

    server = serve(handle)
    sent = b'{ "model" : "m",\n "messages": [{"role": "user", "content": "Hi"}], "top_k": 1,\n "max_tokens": 5 }'
    with ProxyApp(server.base_url, tmp_path) as app:
        answered = httpx.post(f"{app.url}/v1/chat/completions", content=sent,
                              headers={"content-type": "application/json"}, timeout=60)
        assert answered.status_code == 200 and server.requests[-1].body == sent  # byte for byte
        without = {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "min_p": 0.1, "x": [1, {"y": None}]}
        httpx.post(f"{app.url}/v1/chat/completions", json=without, timeout=60)
        assert json.loads(server.requests[-1].body) == without | {"max_tokens": 128}
        refused = httpx.post(f"{app.url}/v1/chat/completions", timeout=60,
                             json=without | {"max_tokens": 10**6})
        assert refused.status_code == 400 and refused.json()["error"]["param"] == "max_tokens"
        assert len(server.requests) == 2  # healthmon's cap: never sent


def test_a_non_streamed_request_whose_client_hangs_up_is_cancelled_upstream(serve, tmp_path):
    server = serve(lambda conn: conn.wait_closed())  # a slow generation: answers nothing until the client goes
    with ProxyApp(server.base_url, tmp_path) as app:
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "Hi"}]}).encode()
        with socket.create_connection(("127.0.0.1", app.port)) as client:
            client.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json"
                           b"\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            assert server.received.wait(60)  # the request reached the server
        assert server.closed.wait(60)  # the client hung up: healthmon closed its connection to the server
        record = app.wait_for_records(1)[-1]
        assert record.finish_reason == "cancelled" and app.monitor.target.is_idle()


def test_a_tool_call_stream_is_relayed_as_sent_and_recorded_without_text(serve, tmp_path):
    calls = [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]
    wire = b"".join([
        sse(CHUNK | {"choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": calls}}]}),
        b": keep-alive\n\n",
        sse(CHUNK | {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": "{\"city\": \"Paris\"}"}}]}}]}),
        sse(CHUNK | {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
                     "usage": {"prompt_tokens": 9, "completion_tokens": 7}, "vendor": {"x": 1}}),
        sse("[DONE]")])

    def handle(conn: Conn) -> None:
        conn.send(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: "
                  + str(len(wire)).encode() + b"\r\n\r\n" + wire)

    server = serve(handle)
    with ProxyApp(server.base_url, tmp_path) as app:
        body = {"model": "m", "messages": [{"role": "user", "content": "Weather?"}], "stream": True,
                "tools": [{"type": "function", "function": {"name": "get_weather"}}]}
        relayed = httpx.post(f"{app.url}/v1/chat/completions", json=body, timeout=60)
        assert relayed.content == wire and relayed.headers["content-type"] == "text/event-stream"
        record = app.records[-1]
        assert record.status == "ok" and record.finish_reason == "tool_calls" and record.response == ""
        assert record.output_tokens == 7 and record.quality["answer_kind"] == "tool_calls"
        assert record.quality["quality_score"] is None and "tools" in record.quality["unscored_reason"]


def test_a_client_that_has_read_its_streams_end_finds_its_record(serve, tmp_path):
    """The relay holds the server's `[DONE]` until the request is recorded, as the in-process model holds its
    last chunk: the official client stops reading at `[DONE]`, and a client reading /api/requests right after its
    answer must find it. A store taking 0.2 s to write makes the order certain; `[DONE]` and the usage chunk come
    in one piece, as llama-server sends them."""
    wire = b"".join([sse(CHUNK), sse(CHUNK | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                                              "usage": {"prompt_tokens": 3, "completion_tokens": 1}})])

    def handle(conn: Conn) -> None:
        conn.start_stream()
        conn.send(wire[:len(wire) // 2])
        conn.send(wire[len(wire) // 2:] + sse("[DONE]"))
        conn.wait_closed()  # a server keeping its connection open after [DONE]

    class SlowStore:
        def record(self, record: object) -> None:
            time.sleep(0.2)

    openai = pytest.importorskip("openai")
    server = serve(handle)
    with ProxyApp(server.base_url, tmp_path) as app:
        app.monitor.pipeline.sinks.insert(0, SlowStore())
        client = openai.OpenAI(base_url=f"{app.url}/v1", api_key="none", max_retries=0, timeout=60)
        chunks = list(client.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}],
                                                     stream=True, stream_options={"include_usage": True}))
        assert [c.choices[0].delta.content for c in chunks] == ["hi", None] and chunks[-1].usage.completion_tokens == 1
        assert len(app.records) == 1 and app.records[0].status == "ok" and app.records[0].output_tokens == 1


def test_the_sse_reader_scans_each_byte_once_however_an_event_is_cut(monkeypatch):
    """4 MiB in 1 KiB pieces took 59 s when every piece rescanned the unfinished line: count what is scanned."""
    scanned = [0]
    real = openai_stream._LINE_END

    class Counting:
        def search(self, buffer: bytearray, start: int):  # noqa: ANN202 - re.Match | None
            found = real.search(buffer, start)
            scanned[0] += (found.end() if found else len(buffer)) - start
            return found

    monkeypatch.setattr(openai_stream, "_LINE_END", Counting())
    wire = sse(CHUNK | {"choices": [{"index": 0, "delta": {"content": "x" * 1_000_000}}]}) * 2
    reader = openai_stream.SSEReader()
    events = [event for i in range(0, len(wire), 1024) for event in reader.feed(wire[i:i + 1024])]
    assert len(events) == 2 and scanned[0] <= len(wire)


def test_an_answer_over_the_cap_from_the_client_itself_is_too_large(serve):
    """The client alone (healthmon's own requests): the cap holds there too."""
    def handle(conn: Conn) -> None:
        conn.start_stream()
        while True:
            conn.send(sse(CHUNK))

    server = serve(handle)
    client = RemoteClient(server.base_url, max_answer_bytes=4096)
    with pytest.raises(RemoteAnswerTooLarge):
        list(client.stream_chat([{"role": "user", "content": "Hi"}]))
    client.close()


@pytest.mark.filterwarnings("ignore")
def test_the_model_page_shows_llama_cpp_slots_and_a_server_loading_its_model(serve, data_dir, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from healthmon.registry import get_monitor, release_monitor

    ready = threading.Event()
    slots = json.loads((Path(__file__).parent / "fixtures" / "server_metrics" / "llamacpp_slots.json").read_text())

    def health(conn: Conn) -> None:
        if ready.is_set():
            conn.answer("200 OK", b'{"status":"ok"}')
        else:
            conn.answer("503 Service Unavailable", LOADING_BODY)

    server = serve(lambda conn: None, health=health, pages={"/slots": json.dumps(slots).encode()})
    monkeypatch.setenv("HEALTHMON_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HEALTHMON_PROBE_INTERVAL", "0")
    monkeypatch.setenv("HEALTHMON_MODEL", f"openai:{server.base_url}")
    release_monitor()
    st.cache_resource.clear()
    monitor = get_monitor(start=False)
    try:
        for state in ("loading", "loaded"):
            monitor.target.poll_once()
            at = AppTest.from_file("../streamlit_app.py", default_timeout=60)
            at.switch_page("views/model.py")
            at.run()
            assert not at.exception, [e.message for e in at.exception]
            shown = {m.label: m.value for m in at.metric}
            assert shown["State"] == state
            if state == "loading":
                assert any("Loading model" in info.value for info in at.info)
                assert not at.error  # no outage shown
                ready.set()
            else:
                assert shown["Busy slots"] == "4 / 4" and shown["Context used"] == "7%"
                assert shown["Server latency"] == shown["Preemptions"] == "—"  # every server figure has a tile
                at = AppTest.from_file("../streamlit_app.py", default_timeout=60)
                at.session_state["lang"] = "zh"
                at.switch_page("views/model.py")
                at.run()
                assert not at.exception, [e.message for e in at.exception]
                shown = {m.label: m.value for m in at.metric}
                assert shown["忙碌槽位"] == "4 / 4" and shown["服务器请求延迟"] == shown["抢占次数"] == "—"
    finally:
        release_monitor()
        st.cache_resource.clear()


def test_a_whole_json_answer_to_a_stream_request_is_relayed_as_it_came(serve, tmp_path):
    answer = json.dumps({"model": "m", "choices": [{"index": 0, "message": {"content": "Hello"},
                                                    "finish_reason": "stop"}]}).encode()
    server = serve(lambda conn: conn.answer("200 OK", answer))  # a server that ignores `stream`
    with ProxyApp(server.base_url, tmp_path) as app:
        relayed = httpx.post(f"{app.url}/v1/chat/completions", timeout=60,
                             json={"model": "m", "messages": [{"role": "user", "content": "Hi"}], "stream": True})
        assert relayed.status_code == 200 and relayed.content == answer
        assert relayed.headers["content-type"] == "application/json"
        assert app.records[-1].status == "ok" and app.records[-1].response == "Hello"
