"""Each generation's trace over OTLP, with the OpenTelemetry GenAI semantic conventions.

A request is traced by healthmon itself (healthmon.tracing) and stored as a record; exporting replays that
record as OpenTelemetry spans once the request is over: a root span `"{operation} {model}"` carrying the
gen_ai.* attributes, and one child span per stage (validate, queue, tokenize, prefill, decode, detokenize)
at its measured start and end. The trace id is healthmon's own, so an id seen on the Traces page or in the
API finds the same trace in Jaeger or Tempo. Spans go through a BatchSpanProcessor: the request path only
enqueues them, and a slow or absent collector never slows a generation.

Canary probes are exported too, marked `healthmon.synthetic=true`, so a trace back end can filter them.
Configuration is OpenTelemetry's own: OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT), ..._HEADERS,
OTEL_SERVICE_NAME (default "healthmon") and OTEL_RESOURCE_ATTRIBUTES, read by the SDK.
"""

from __future__ import annotations

import contextvars
import logging
import math
import os
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import SpanKind, Status, StatusCode

from healthmon.records import RequestRecord
from healthmon.textsafe import redact_url

log = logging.getLogger("healthmon.export")
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
DEFAULT_SERVICE_NAME = "healthmon"
NANOSECONDS = 1_000_000_000


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


def genai_attributes(record: RequestRecord, operation: str) -> dict[str, Any]:
    """The GenAI semantic-convention attributes of one request record (absent values are left out)."""
    params = record.params or {}
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": operation,
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
    return {key: value for key, value in attributes.items() if value is not None}


class TraceExporter:
    """Replays request records as OpenTelemetry traces; `export` is cheap and never raises."""

    def __init__(self, span_processor: SpanProcessor, model_info: Callable[[], Mapping[str, Any]],
                 resource: Resource | None = None) -> None:
        self._ids = _RecordTraceIds()
        self._provider = TracerProvider(resource=resource or Resource.create({"service.name": DEFAULT_SERVICE_NAME}),
                                        id_generator=self._ids)
        self._provider.add_span_processor(span_processor)
        self._tracer = self._provider.get_tracer("healthmon")
        self._model_info = model_info

    def _operation(self) -> str:
        """"chat" when the model's tokenizer has a chat template (generate.encode_prompt then applies it)."""
        return "chat" if self._model_info().get("has_chat_template") else "text_completion"

    def record(self, record: RequestRecord) -> None:
        """Queue one finished request's spans for export (on the producer's thread); the scored pass adds none."""
        if record.stage != "finished":
            return
        try:
            self._export(record)
        except Exception:  # noqa: BLE001 - tracing is an add-on: it must never fail the request
            log.exception("could not export trace %s", record.trace_id)

    def _export(self, record: RequestRecord) -> None:
        operation = self._operation()
        start_seconds = float(record.ts)
        token = self._ids.wanted.set(int(record.trace_id, 16))
        try:
            root = self._tracer.start_span(
                f"{operation} {record.model}", context=trace_api.set_span_in_context(trace_api.INVALID_SPAN),
                kind=SpanKind.INTERNAL if record.synthetic else SpanKind.SERVER,
                attributes=genai_attributes(record, operation), start_time=_nanoseconds(start_seconds))
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


def trace_exporter_from_env(model_info: Callable[[], Mapping[str, Any]]) -> TraceExporter | None:
    """An OTLP/HTTP exporter when an OTLP endpoint is configured, else None (tracing stays local).

    The SDK reads the endpoint, headers and timeout from the same environment itself.
    """
    environ = os.environ
    if not any(environ.get(name, "").strip() for name in ENDPOINT_VARIABLES):
        return None
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    endpoint = environ.get(ENDPOINT_VARIABLES[1]) or environ.get(ENDPOINT_VARIABLES[0])
    log.info("exporting traces over OTLP to %s", redact_url(endpoint))  # an endpoint may carry credentials
    return TraceExporter(BatchSpanProcessor(OTLPSpanExporter()), model_info, service_resource())
