"""The generate use case, one for every caller: rate limit, validate, admit to the target, and record refusals.

The REST API, the OpenAI-compatible API, the Generate page and the canary probe all start generations here, so
each validates, measures and records the same way: every request ends in exactly one record — the target's for
one it admitted, this service's for one refused before (token, rate limit, invalid body, model not ready, queue
full).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from healthmon.params import GenerationParams, InvalidRequest, parse_generate_body
from healthmon.pipeline import RequestSink
from healthmon.ratelimit import RateLimiter, retry_after_header
from healthmon.records import BUSY_PREFIX, NOT_READY_PREFIX, RequestRecord, build_record
from healthmon.target import ModelNotReady, RuntimeBusy, Target, TokenStream
from healthmon.tracing import Trace

Launch = Callable[[GenerationParams, Trace], TokenStream]
NOT_READY_RETRY_SECONDS = 5.0
BUSY_RETRY_SECONDS = 2.0
Parser = Callable[[Any], GenerationParams]


class GenerateRefused(Exception):
    """A request the service did not start, already recorded; `reason` says which kind of refusal it is."""

    def __init__(self, status_code: int, message: str, reason: str, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.status_code, self.message, self.reason = status_code, message, reason
        self.retry_after_seconds = retry_after_seconds

    @property
    def headers(self) -> dict[str, str]:
        if self.retry_after_seconds is None:
            return {}
        return {"Retry-After": retry_after_header(self.retry_after_seconds)}


@dataclass(frozen=True)
class GenerateLimits:
    max_new_tokens_cap: int
    max_prompt_chars: int


class GenerateService:
    """Starts generations on the target; thread-safe (the limiter and the target are)."""

    def __init__(self, target: Target, sink: RequestSink, rate_limiter: RateLimiter, limits: GenerateLimits) -> None:
        self.target, self._sink, self.rate_limiter, self.limits = target, sink, rate_limiter, limits

    def parse(self, body: Any) -> GenerationParams:
        """healthmon's own request body (`/api/model/generate`, the Generate page)."""
        return parse_generate_body(body, max_new_tokens_cap=self.limits.max_new_tokens_cap,
                                   max_prompt_chars=self.limits.max_prompt_chars)

    def refuse(self, trace: Trace, source: str, message: str, params: GenerationParams | None = None) -> RequestRecord:
        """Record a request refused before it reached the model (one record per request, refused ones too)."""
        record = build_record(trace, params, source, False, "rejected", self.target.model_name, None, message,
                              quality=None)
        self._sink.record(record)
        return record

    def start(self, body: Any, *, client: str, source: str, trace: Trace | None = None,
              parse: Parser | None = None, want_text: bool = True, on_event_loop: bool = False,
              launch: Launch | None = None) -> TokenStream:
        """Rate limit, parse, admit: the running stream, or GenerateRefused (recorded) saying why not.
        `on_event_loop`: called from the running asyncio loop, whose caller reads `aiter()` or awaits `finished`.
        `launch` admits the parsed request in place of `target.stream` (the /v1 proxy's `RemoteTarget.relay`)."""
        trace = trace or Trace()
        wait_seconds = self.rate_limiter.acquire(client)
        if wait_seconds > 0:
            per_minute = self.rate_limiter.rate_per_second * 60.0
            raise self._refused(trace, source, None, GenerateRefused(
                429, f"rate limit: {per_minute:g} generate requests per minute per client; retry in "
                     f"{wait_seconds:.1f} s", "rate_limited", wait_seconds))
        try:
            params = (parse or self.parse)(body)
        except InvalidRequest as exc:
            raise self._refused(trace, source, None, GenerateRefused(exc.status_code, str(exc), "invalid")) from exc
        trace.add("validate", trace.start_seconds, trace.now())
        try:
            if launch is not None:
                return launch(params, trace)
            return self.target.stream(params, trace=trace, source=source, want_text=want_text,
                                      on_event_loop=on_event_loop)
        except ModelNotReady as exc:
            raise self._refused(trace, source, params, GenerateRefused(
                503, f"{NOT_READY_PREFIX}{exc}", "not_ready", NOT_READY_RETRY_SECONDS)) from exc
        except RuntimeBusy as exc:
            raise self._refused(trace, source, params, GenerateRefused(
                503, f"{BUSY_PREFIX}{exc}; retry later", "busy", BUSY_RETRY_SECONDS)) from exc

    def probe(self, params: GenerationParams) -> RequestRecord:
        """A canary generation, admitted only when the model is idle. A skipped probe raises RuntimeBusy or
        ModelNotReady and is not recorded: it is no request, and counting it would dilute the probes' figures."""
        return self.target.stream(params, source="probe", synthetic=True, only_if_idle=True, want_text=False).result()

    def _refused(self, trace: Trace, source: str, params: GenerationParams | None,
                 refusal: GenerateRefused) -> GenerateRefused:
        self.refuse(trace, source, refusal.message, params)
        return refusal
