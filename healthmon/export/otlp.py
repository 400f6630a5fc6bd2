"""Each generation's trace over OTLP, with the OpenTelemetry GenAI semantic conventions.

A request is traced by healthmon itself (healthmon.tracing) and stored as a record; exporting replays that
record as OpenTelemetry spans once the request is over: a root span `"{operation} {model}"` carrying the
gen_ai.* attributes, and one child span per stage (validate, queue, tokenize, prefill, decode, detokenize)
at its measured start and end. The trace id is healthmon's own, so an id seen on the Traces page or in the
API finds the same trace in Jaeger or Tempo. Spans go through a BatchSpanProcessor: the request path only
enqueues them, and a slow or absent collector never slows a generation.

The root span follows the conventions' inference span (open-telemetry/semantic-conventions-genai,
`gen_ai.client.inference`): `gen_ai.provider.name` always (the target's kind: `transformers` in process, the
server's kind for a remote one, `openai` for an OpenAI-compatible server of unknown kind); span kind CLIENT for
a remote target (a call to another process) and INTERNAL for the in-process model; `gen_ai.request.stream`,
and for a streamed request `gen_ai.response.time_to_first_chunk`; `gen_ai.response.id` as the client saw it
(in process; a remote server's own id is not recorded yet).
Prompts and answers leave only when asked for: OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY
(or SPAN_AND_EVENT) puts `gen_ai.input.messages` and `gen_ai.output.messages` on the span as JSON in the
conventions' message schema; NO_CONTENT, the default, sends no text at all.

Canary probes are exported too, marked `healthmon.synthetic=true`, so a trace back end can filter them.
Configuration is OpenTelemetry's own: OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT), ..._HEADERS,
OTEL_SERVICE_NAME (default "healthmon") and OTEL_RESOURCE_ATTRIBUTES, read by the SDK.
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
import os
import urllib.parse
from collections.abc import Callable
from typing import Any, Literal

from opentelemetry import trace as trace_api
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import SpanKind, Status, StatusCode

from healthmon.records import RequestRecord
from healthmon.target_info import TargetInfo
from healthmon.textsafe import log_text, redact_url

log = logging.getLogger("healthmon.export")
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
DEFAULT_SERVICE_NAME = "healthmon"
NANOSECONDS = 1_000_000_000
CAPTURE_VARIABLE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
Capture = Literal["NO_CONTENT", "SPAN_ONLY"]
# A remote server's kind as server_metrics names it -> the provider name the conventions' spans carry.
_REMOTE_PROVIDERS = {"llamacpp": "llama.cpp", "vllm": "vllm", "tgi": "tgi"}
IN_PROCESS_PROVIDER = "transformers"
OPENAI_COMPATIBLE_PROVIDER = "openai"  # a remote server of unknown kind speaks OpenAI's API: its flavour


class _RecordTraceIds(IdGenerator):
    """Root spans take the trace id of the record being exported; everything else is random."""

    def __init__(self) -> None:
        self._random = RandomIdGenerator()
        self.wanted: contextvars.ContextVar[int | None] = contextvars.ContextVar("healthmon_trace_id", default=None)

    def generate_span_id(self) -> int:
        return self._random.generate_span_id()

    def generate_trace_id(self) -> int:
        wanted = self.wanted.get()
        return wanted if wanted is not None else self._random.generate_trace_id()


def _nanoseconds(unix_seconds: float) -> int:
    """Whole and fractional seconds apart: 1.8e18 ns is past a float's 53 bits, so a product would lose them."""
    whole = math.floor(unix_seconds)
    return whole * NANOSECONDS + round((unix_seconds - whole) * NANOSECONDS)


def capture_mode(value: str | None) -> Capture:
    """OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT as the GenAI instrumentations read it: SPAN_ONLY and
    SPAN_AND_EVENT put the messages on the span (healthmon sends no events); anything else sends no content.
    An unknown value is logged and means NO_CONTENT: content leaves only when asked for plainly."""
    text = (value or "").strip().upper()
    if text in ("SPAN_ONLY", "SPAN_AND_EVENT"):
        return "SPAN_ONLY"
    if text not in ("", "NO_CONTENT", "EVENT_ONLY", "FALSE"):
        log.warning("%s=%s is not one of NO_CONTENT, SPAN_ONLY, SPAN_AND_EVENT, EVENT_ONLY: no content is exported",
                    CAPTURE_VARIABLE, log_text(value, 40))
    return "NO_CONTENT"


def provider_name(info: TargetInfo | None) -> str:
    """`gen_ai.provider.name` for the target `info` describes."""
    if info is None or info.remote is None:
        return IN_PROCESS_PROVIDER
    return _REMOTE_PROVIDERS.get(info.remote.server_kind or "", OPENAI_COMPATIBLE_PROVIDER)


def response_id(record: RequestRecord, info: TargetInfo | None) -> str | None:
    """The id the client got: in process, OpenAI's `chatcmpl-`/`cmpl-` plus the trace id on /v1 and the trace id
    elsewhere. In front of a remote server the client gets the server's own id, which the record does not keep
    (yet): then none, rather than an id no one saw."""
    if info is not None and info.is_remote:
        return None
    if record.source == "openai":
        return ("cmpl-" if (record.params or {}).get("raw_prompt") else "chatcmpl-") + record.trace_id
    return record.trace_id


def _text_message(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


def content_attributes(record: RequestRecord) -> dict[str, str]:
    """gen_ai.input.messages and gen_ai.output.messages as JSON strings (the conventions' schema: role and parts;
    finish reasons stay in gen_ai.response.finish_reasons). The input is the conversation as sent (or the prompt
    as one user turn); the output is the answer, absent for a request that produced none."""
    params = record.params or {}
    turns = params.get("messages") or ([{"role": "user", "content": record.prompt}] if record.prompt is not None
                                       else [])
    out = {}
    if turns:
        out["gen_ai.input.messages"] = json.dumps([_text_message(str(t["role"]), str(t["content"])) for t in turns],
                                                  ensure_ascii=False)
    if record.response is not None and record.completed:
        out["gen_ai.output.messages"] = json.dumps([_text_message("assistant", record.response)], ensure_ascii=False)
    return out


def _server_address(info: TargetInfo) -> dict[str, Any]:
    """server.address and server.port of a remote target, from its (redacted) base URL."""
    try:
        parts = urllib.parse.urlsplit(info.ref)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return {}
    return {"server.address": parts.hostname, "server.port": port} if parts.hostname else {}


def genai_attributes(record: RequestRecord, operation: str, info: TargetInfo | None = None) -> dict[str, Any]:
    """The GenAI semantic-convention attributes of one request record (absent values are left out); `info` is the
    target's, for the provider and server."""
    params = record.params or {}
    stream = bool(params.get("stream"))
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": provider_name(info),
        "gen_ai.request.stream": True if stream else None,  # the conventions: set if and only if streaming
        "gen_ai.response.id": response_id(record, info) if record.completed else None,
        "gen_ai.response.time_to_first_chunk": record.ttft_seconds if stream else None,
        "gen_ai.request.model": record.model,
        "gen_ai.response.model": record.model if record.completed else None,
        "gen_ai.request.max_tokens": params.get("max_new_tokens"),
        "gen_ai.request.temperature": params.get("temperature"),
        "gen_ai.request.top_p": params.get("top_p"),
        "gen_ai.request.seed": params.get("seed"),
        "gen_ai.usage.input_tokens": record.prompt_tokens,
        "gen_ai.usage.output_tokens": record.output_tokens,
        "gen_ai.response.finish_reasons": [record.finish_reason] if record.finish_reason else None,
        "healthmon.source": record.source,
        "healthmon.synthetic": record.synthetic,
        "healthmon.status": record.status,
        "error.type": record.status if not record.completed else None,
    }
    if info is not None and info.is_remote:
        attributes |= _server_address(info)
    return {key: value for key, value in attributes.items() if value is not None}


class TraceExporter:
    """Replays request records as OpenTelemetry traces; `export` is cheap and never raises."""

    def __init__(self, span_processor: SpanProcessor, model_info: Callable[[], TargetInfo],
                 resource: Resource | None = None, capture: Capture = "NO_CONTENT") -> None:
        self._ids = _RecordTraceIds()
        self._provider = TracerProvider(resource=resource or Resource.create({"service.name": DEFAULT_SERVICE_NAME}),
                                        id_generator=self._ids)
        self._provider.add_span_processor(span_processor)
        self._tracer = self._provider.get_tracer("healthmon")
        self._model_info = model_info
        self.capture = capture

    @staticmethod
    def _operation(record: RequestRecord, info: TargetInfo) -> str:
        """"chat" when the conversation went through a chat template (a remote server's chat endpoint, or a model
        whose tokenizer has one); "text_completion" for /v1/completions and models without a template."""
        if (record.params or {}).get("raw_prompt"):
            return "text_completion"
        chat_template = info.facts is not None and info.facts.has_chat_template
        return "chat" if info.is_remote or chat_template else "text_completion"

    def record(self, record: RequestRecord) -> None:
        """Queue one finished request's spans for export (on the producer's thread); the scored pass adds none."""
        if record.stage != "finished":
            return
        try:
            self._export(record)
        except Exception:  # noqa: BLE001 - tracing is an add-on: it must never fail the request
            log.exception("could not export trace %s", record.trace_id)

    def _export(self, record: RequestRecord) -> None:
        info = self._model_info()
        operation = self._operation(record, info)
        start_seconds = float(record.ts)
        attributes = genai_attributes(record, operation, info)
        if self.capture == "SPAN_ONLY":
            attributes |= content_attributes(record)
        token = self._ids.wanted.set(int(record.trace_id, 16))
        try:
            root = self._tracer.start_span(
                f"{operation} {record.model}", context=trace_api.set_span_in_context(trace_api.INVALID_SPAN),
                kind=SpanKind.CLIENT if info.is_remote else SpanKind.INTERNAL,  # another process, or this one
                attributes=attributes, start_time=_nanoseconds(start_seconds))
        finally:
            self._ids.wanted.reset(token)
        parent = trace_api.set_span_in_context(root)
        for stage in record.spans:
            stage_start = start_seconds + float(stage["start_offset_seconds"])
            attributes = {f"healthmon.{key}": value for key, value in (stage.get("attributes") or {}).items()}
            child = self._tracer.start_span(str(stage["name"]), context=parent, attributes=attributes,
                                            start_time=_nanoseconds(stage_start))
            child.end(end_time=_nanoseconds(stage_start + float(stage["duration_seconds"])))
        if not record.completed:
            root.set_status(Status(StatusCode.ERROR, str(record.error or record.status)))
        root.end(end_time=_nanoseconds(start_seconds + float(record.latency_seconds)))

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._provider.force_flush(timeout_millis)

    def shutdown(self) -> None:
        """Send what is queued and stop the export thread; the Monitor calls it when it closes."""
        self._provider.shutdown()


def service_resource() -> Resource:
    """OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES as the SDK reads them, with "healthmon" as the default name."""
    resource = Resource.create()
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": DEFAULT_SERVICE_NAME}))
    return resource


def trace_exporter_from_env(model_info: Callable[[], TargetInfo]) -> TraceExporter | None:
    """An OTLP/HTTP exporter when an OTLP endpoint is configured, else None (tracing stays local).

    The SDK reads the endpoint, headers and timeout from the same environment itself.
    """
    environ = os.environ
    if not any(environ.get(name, "").strip() for name in ENDPOINT_VARIABLES):
        return None
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    endpoint = environ.get(ENDPOINT_VARIABLES[1]) or environ.get(ENDPOINT_VARIABLES[0])
    capture = capture_mode(environ.get(CAPTURE_VARIABLE))
    log.info("exporting traces over OTLP to %s (%s)", redact_url(endpoint),  # an endpoint may carry credentials
             f"prompts and answers included ({CAPTURE_VARIABLE})" if capture == "SPAN_ONLY"
             else "no prompt or answer text")
    return TraceExporter(BatchSpanProcessor(OTLPSpanExporter()), model_info, service_resource(), capture)
