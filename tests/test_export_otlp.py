"""OTLP traces: GenAI attributes, healthmon's trace id, real span times; in memory and over real OTLP/HTTP."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from healthmon.config import load_settings
from healthmon.export.otlp import TraceExporter, trace_exporter_from_env
from healthmon.monitor import Monitor
from healthmon.params import GenerationParams
from healthmon.records import RequestRecord
from healthmon.remote.server_metrics import ServerFigures
from healthmon.target import ModelStatus
from healthmon.target_info import ModelFacts, RemoteInfo, TargetInfo

IDLE = {"name": "m", "file": None, "chosen_because": None, "status": ModelStatus.LOADED, "error": None,
        "progress": None, "is_demo": False, "load_seconds": None, "loaded_at": None, "in_flight": 0, "queued": 0,
        "queue_max": 8}


def record(**overrides) -> RequestRecord:
    base = {"trace_id": "0af7651916cd43dd8448eb211c80319c", "ts": 1_800_000_000.25, "source": "api",
            "synthetic": False, "status": "ok", "error": None, "model": "demo (built-in, offline)",
            "latency_seconds": 0.5, "prompt_tokens": 9, "output_tokens": 16, "finish_reason": "length",
            "params": {"max_new_tokens": 16, "max_length": None, "temperature": 0.7, "top_p": 0.9, "seed": None},
            "spans": [{"name": "validate", "start_offset_seconds": 0.0, "duration_seconds": 0.001},
                      {"name": "queue", "start_offset_seconds": 0.001, "duration_seconds": 0.004},
                      {"name": "tokenize", "start_offset_seconds": 0.005, "duration_seconds": 0.002,
                       "attributes": {"prompt_tokens": 9}},
                      {"name": "prefill", "start_offset_seconds": 0.007, "duration_seconds": 0.093},
                      {"name": "decode", "start_offset_seconds": 0.1, "duration_seconds": 0.39,
                       "attributes": {"output_tokens": 16}},
                      {"name": "detokenize", "start_offset_seconds": 0.49, "duration_seconds": 0.01}]}
    return RequestRecord.from_row(base | overrides)


def in_process(chat_template: bool) -> TargetInfo:
    """An in-process target's info: its model's tokenizer has a chat template or not."""
    facts = ModelFacts(architecture="Qwen2ForCausalLM", model_type="qwen2", parameters=1, parameters_billions=0.0,
                       memory_footprint_bytes=4, memory_footprint_gb=0.0, context_tokens=1024, vocab_size=3000,
                       device="cpu", dtype="float32", path="/m", has_chat_template=chat_template, is_demo=False,
                       batching_unsupported_reason=None)
    return TargetInfo(source="demo", ref="", facts=facts, **IDLE)


def remote(server_kind: str | None, ref: str) -> TargetInfo:
    """A remote target's info: the kind of server its /metrics showed, and its base URL."""
    return TargetInfo(source="openai", ref=ref, **IDLE, remote=RemoteInfo(
        status_message=None, target_health_latency_seconds=0.01, architecture="remote (OpenAI-compatible)",
        server=ServerFigures(), server_kind=server_kind))


@pytest.fixture
def memory():
    exporter = InMemorySpanExporter()
    tracer = TraceExporter(BatchSpanProcessor(exporter), lambda: in_process(True))
    yield tracer, exporter
    tracer.shutdown()


def exported(tracer: TraceExporter, exporter: InMemorySpanExporter) -> tuple:
    assert tracer.force_flush()
    spans = exporter.get_finished_spans()
    roots = [s for s in spans if s.parent is None]
    assert len(roots) == 1
    return roots[0], [s for s in spans if s.parent is not None]


def test_a_generation_becomes_one_trace_with_genai_attributes(memory):
    tracer, exporter = memory
    tracer.record(record())
    root, children = exported(tracer, exporter)
    assert root.name == "chat demo (built-in, offline)" and root.kind is SpanKind.INTERNAL  # the model is in process
    assert root.context.trace_id == int("0af7651916cd43dd8448eb211c80319c", 16)
    attributes = dict(root.attributes)
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "transformers"
    assert attributes["gen_ai.response.id"] == "0af7651916cd43dd8448eb211c80319c"  # /api answers with the trace id
    assert "gen_ai.request.stream" not in attributes and "gen_ai.response.time_to_first_chunk" not in attributes
    assert not [key for key in attributes if "messages" in key]  # no content unless asked for
    assert attributes["gen_ai.request.model"] == "demo (built-in, offline)"
    assert attributes["gen_ai.usage.input_tokens"] == 9 and attributes["gen_ai.usage.output_tokens"] == 16
    assert tuple(attributes["gen_ai.response.finish_reasons"]) == ("length",)
    assert attributes["gen_ai.request.max_tokens"] == 16
    assert attributes["gen_ai.request.temperature"] == 0.7 and attributes["gen_ai.request.top_p"] == 0.9
    assert "gen_ai.request.seed" not in attributes and "error.type" not in attributes
    assert attributes["healthmon.synthetic"] is False
    assert root.start_time == 1_800_000_000_250_000_000 and root.end_time == 1_800_000_000_750_000_000
    assert root.status.status_code is StatusCode.UNSET


def test_stages_are_child_spans_at_their_measured_times(memory):
    tracer, exporter = memory
    tracer.record(record())
    root, children = exported(tracer, exporter)
    by_name = {span.name: span for span in children}
    assert list(by_name) == ["validate", "queue", "tokenize", "prefill", "decode", "detokenize"]
    for span in children:
        assert span.parent.span_id == root.context.span_id and span.context.trace_id == root.context.trace_id
    decode = by_name["decode"]
    assert abs(decode.start_time - 1_800_000_000_350_000_000) < 1000  # the offsets' float sums, to the microsecond
    assert abs(decode.end_time - 1_800_000_000_740_000_000) < 1000
    assert dict(decode.attributes) == {"healthmon.output_tokens": 16}


def test_failures_and_probes_are_marked(memory):
    tracer, exporter = memory
    tracer.record(record(status="error", error="RuntimeError: CUDA out of memory", output_tokens=None,
                         finish_reason="error", spans=[]))
    root, _ = exported(tracer, exporter)
    assert root.status.status_code is StatusCode.ERROR and "out of memory" in root.status.description
    assert root.attributes["error.type"] == "error" and "gen_ai.response.model" not in root.attributes
    exporter.clear()
    tracer.record(record(synthetic=True, source="probe", trace_id="ff" * 16))
    root, _ = exported(tracer, exporter)
    assert root.kind is SpanKind.INTERNAL and root.attributes["healthmon.synthetic"] is True


def test_text_completion_without_a_chat_template_and_a_bad_record_never_raises():
    exporter = InMemorySpanExporter()
    tracer = TraceExporter(BatchSpanProcessor(exporter), lambda: in_process(False))
    try:
        tracer.record(record(trace_id="not hex"))  # logged, not raised: tracing must never fail a request
        tracer.record(record())
        root, _ = exported(tracer, exporter)
        assert root.attributes["gen_ai.operation.name"] == "text_completion"
    finally:
        tracer.shutdown()


@pytest.mark.parametrize("raw_prompt, expected", [(False, "chatcmpl-"), (True, "cmpl-")])
def test_an_in_process_v1_answer_id_is_the_one_the_client_got(memory, raw_prompt, expected):
    tracer, exporter = memory
    tracer.record(record(source="openai", params={"raw_prompt": raw_prompt}))
    root, _ = exported(tracer, exporter)
    assert root.attributes["gen_ai.response.id"] == expected + "0af7651916cd43dd8448eb211c80319c"


def test_a_proxied_requests_record_says_whether_it_streamed():
    """The /v1 proxy records a forwarded body's settings (proxy_wire.record_params): `stream` among them, for
    gen_ai.request.stream on the remote span."""
    from healthmon.proxy_wire import record_params

    turns = [{"role": "user", "content": "Hi"}]
    assert record_params("chat", {"messages": turns, "stream": True}, 8).to_dict()["stream"] is True
    assert "stream" not in record_params("chat", {"messages": turns}, 8).to_dict()


@pytest.mark.parametrize("kind, provider", [("llamacpp", "llama.cpp"), ("vllm", "vllm"), (None, "openai")])
def test_a_remote_target_is_a_client_span_naming_its_provider_and_server(kind, provider):
    exporter = InMemorySpanExporter()
    info = remote(kind, "http://127.0.0.1:8080/v1")
    tracer = TraceExporter(BatchSpanProcessor(exporter), lambda: info)
    try:
        tracer.record(record(source="openai", ttft_seconds=0.12, model="SmolLM2",
                             params={"max_new_tokens": 16, "temperature": 0.7, "stream": True}))
        root, _ = exported(tracer, exporter)
    finally:
        tracer.shutdown()
    attributes = dict(root.attributes)
    assert root.kind is SpanKind.CLIENT and root.name == "chat SmolLM2"
    assert attributes["gen_ai.provider.name"] == provider
    assert attributes["gen_ai.request.stream"] is True and attributes["gen_ai.response.time_to_first_chunk"] == 0.12
    assert "gen_ai.response.id" not in attributes  # the client got the server's own id, which is not recorded
    assert attributes["server.address"] == "127.0.0.1" and attributes["server.port"] == 8080


@pytest.mark.parametrize("setting, captured", [(None, False), ("NO_CONTENT", False), ("EVENT_ONLY", False),
                                               ("nonsense", False), ("SPAN_ONLY", True), ("span_and_event", True)])
def test_prompts_and_answers_leave_only_when_asked_for(setting, captured):
    from healthmon.export.otlp import capture_mode

    exporter = InMemorySpanExporter()
    tracer = TraceExporter(BatchSpanProcessor(exporter), lambda: in_process(False), capture=capture_mode(setting))
    try:
        tracer.record(record(prompt="Wie geht's?", response="Gut, danke.",
                             params={"messages": [{"role": "system", "content": "Be brief."},
                                                  {"role": "user", "content": "Wie geht's?"}]}))
        root, _ = exported(tracer, exporter)
    finally:
        tracer.shutdown()
    attributes = dict(root.attributes)
    if not captured:
        assert "gen_ai.input.messages" not in attributes and "gen_ai.output.messages" not in attributes
        assert not any("Gut, danke" in str(value) for value in attributes.values())
        return
    assert json.loads(attributes["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Wie geht's?"}]}]
    assert json.loads(attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Gut, danke."}]}]


def test_no_exporter_without_an_endpoint(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert trace_exporter_from_env(lambda: in_process(False)) is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert trace_exporter_from_env(lambda: in_process(False)) is None


class Collector(BaseHTTPRequestHandler):
    """A stand-in OTLP/HTTP collector on loopback: keeps every protobuf export request it receives."""

    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Collector.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_a_monitor_exports_real_generations_over_otlp_http(data_dir, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Collector.received = []
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "gpu-node-7")
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    monitor = Monitor(load_settings(env={}, model="demo", data_dir=data_dir, probe_interval=0.0))
    try:
        assert monitor.trace_exporter is not None and monitor.target.load()
        result = monitor.target.generate(GenerationParams("Trace me", max_new_tokens=5, temperature=0.0))
    finally:
        monitor.close()  # flushes the batch processor
        server.shutdown()
    assert Collector.received, "nothing reached the OTLP endpoint"
    path, content_type, body = Collector.received[0]
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    request = ExportTraceServiceRequest.FromString(body)
    resource = request.resource_spans[0].resource
    assert {"key": "service.name", "value": "gpu-node-7"} in [
        {"key": a.key, "value": a.value.string_value} for a in resource.attributes]
    spans = [span for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]
    assert {span.trace_id.hex() for span in spans} == {result.trace_id}
    root = next(span for span in spans if not span.parent_span_id)
    attributes = {a.key: a.value for a in root.attributes}
    assert attributes["gen_ai.operation.name"].string_value == "chat"  # the demo tokenizer has a chat template
    assert attributes["gen_ai.usage.output_tokens"].int_value == result.output_tokens
    assert {span.name for span in spans} >= {"queue", "tokenize", "prefill", "decode", "detokenize"}
