"""OTLP into a real Arize Phoenix: healthmon's spans, read back through Phoenix's REST API, carry the GenAI
semantic conventions' attributes, and prompts and answers only when content capture is asked for.

Phoenix lives in a venv of its own (`.ci/install-phoenix`, which `.ci/run` calls; its dependencies would fight
the app's). The test starts `phoenix serve` on free loopback ports with a temporary working directory. Without
the venv it fails in CI (CI=true) and is skipped elsewhere, saying how to install it.

Phoenix keeps no OTLP span kind (it reads every span back as INTERNAL: OpenInference has kinds of its own), so the
kind, CLIENT for a remote target and INTERNAL in process, is checked on the wire in test_export_otlp.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import requests
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from healthmon.config import load_settings
from healthmon.export.otlp import TraceExporter
from healthmon.monitor import Monitor
from healthmon.params import ChatMessage, GenerationParams
from tests.appserver import free_port

VENV = Path(os.environ.get("HEALTHMON_PHOENIX_VENV")
            or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "healthmon-ci" / "phoenix-venv")
PHOENIX = VENV / "bin" / "phoenix"
START_TIMEOUT_SECONDS = 90  # a cold start migrates its SQLite database first
INGEST_TIMEOUT_SECONDS = 20  # Phoenix answers the export at once and writes the spans from a queue


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory):
    if not PHOENIX.exists():
        reason = f"Arize Phoenix is not installed at {VENV}: run .ci/install-phoenix"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI must: .ci/run calls it)")
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("phoenix")
    port = free_port()
    env = os.environ | {"PHOENIX_HOST": "127.0.0.1", "PHOENIX_PORT": str(port), "PHOENIX_GRPC_PORT": str(free_port()),
                        "PHOENIX_WORKING_DIR": str(work), "PHOENIX_TELEMETRY_ENABLED": "false"}
    log_path = work / "phoenix.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(PHOENIX), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _healthy(url):  # waiting for a server to start, not for a result to settle
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"phoenix serve did not start; log:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def read_spans(url: str, trace_id: str) -> list[dict]:
    """The trace's spans as Phoenix stored them (its REST API, OTLP-shaped), attributes as a plain dict. Phoenix
    writes spans from an ingestion queue after answering the export, so a trace may take a moment to appear."""
    deadline = time.monotonic() + INGEST_TIMEOUT_SECONDS
    while True:
        answer = requests.get(f"{url}/v1/projects/default/spans/otlpv1", params={"trace_id": trace_id}, timeout=10)
        if answer.status_code == 200 and answer.json()["data"]:
            spans = answer.json()["data"]
            for span in spans:
                span["attributes"] = {a["key"]: next((v for v in a["value"].values() if v is not None), None)
                                      for a in span["attributes"] or []}
            return spans
        assert time.monotonic() < deadline, f"trace {trace_id} never reached Phoenix ({answer.status_code})"
        time.sleep(0.2)


def root_of(spans: list[dict]) -> dict:
    roots = [span for span in spans if not span["parent_span_id"]]
    assert len(roots) == 1
    return roots[0]


def test_a_real_generation_reaches_phoenix_with_the_genai_attributes_and_its_messages(phoenix, data_dir, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", phoenix)
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    monitor = Monitor(load_settings(env={}, model="demo", data_dir=data_dir, probe_interval=0.0))
    conversation = (ChatMessage("system", "Answer briefly."), ChatMessage("user", "What does a disk do? 中文也行"))
    try:
        assert monitor.trace_exporter is not None and monitor.target.load()
        result = monitor.target.generate(GenerationParams(conversation[-1].content, max_new_tokens=6,
                                                          temperature=0.0, messages=conversation, stream=True))
    finally:
        monitor.close()  # flushes the batch processor
    spans = read_spans(phoenix, result.trace_id)
    root = root_of(spans)
    attributes = root["attributes"]
    assert root["name"] == f"chat {result.model}"
    assert attributes["gen_ai.provider.name"] == "transformers"
    assert attributes["gen_ai.operation.name"] == "chat" and attributes["gen_ai.request.model"] == result.model
    assert attributes["gen_ai.request.stream"] is True
    assert attributes["gen_ai.response.time_to_first_chunk"] == pytest.approx(result.ttft_seconds)
    assert attributes["gen_ai.response.id"] == result.trace_id
    assert attributes["gen_ai.usage.output_tokens"] == result.output_tokens
    assert json.loads(attributes["gen_ai.input.messages"]) == [
        {"role": turn.role, "parts": [{"type": "text", "content": turn.content}]} for turn in conversation]
    assert json.loads(attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": result.response}]}]
    assert {span["name"] for span in spans} >= {"queue", "tokenize", "prefill", "decode", "detokenize"}


def test_a_remote_targets_span_names_the_server_and_sends_no_text_by_default(phoenix):
    from tests.test_export_otlp import record, remote

    info = remote("llamacpp", "http://127.0.0.1:8080/v1")
    exporter = TraceExporter(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{phoenix}/v1/traces")), lambda: info)
    trace_id = "5e" * 16
    try:
        exporter.record(record(trace_id=trace_id, source="openai", model="SmolLM2", prompt="a secret prompt",
                               response="a secret answer", ttft_seconds=0.25,
                               params={"max_new_tokens": 16, "temperature": 0.7, "stream": True}))
        assert exporter.force_flush()
    finally:
        exporter.shutdown()
    attributes = root_of(read_spans(phoenix, trace_id))["attributes"]
    assert attributes["gen_ai.provider.name"] == "llama.cpp"
    assert attributes["gen_ai.request.stream"] is True and attributes["gen_ai.response.time_to_first_chunk"] == 0.25
    assert attributes["server.address"] == "127.0.0.1" and attributes["server.port"] == 8080
    assert not any("secret" in str(value) for value in attributes.values())
