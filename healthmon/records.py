"""RequestRecord: one request as every sink sees it, built in one place from its trace and outcome.

Timings are seconds measured on the trace's monotonic clock from the request's arrival; `ts` is the arrival on
the wall clock (unix seconds). A record passes the pipeline twice when it is a finished generation: once as
`finished` (the answer-time figures) and once as `scored` (the same request with relevance, and a canary's drift,
added by the background scorer). Sinks that count requests take only the first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from healthmon.tracing import Trace

if TYPE_CHECKING:  # types only: the records module sits below the runtime, which imports it
    from healthmon.params import GenerationParams

Stage = Literal["finished", "scored"]
STATUSES = ("ok", "error", "rejected")
# How GenerateService begins the error of a refusal for the service's own state (HTTP 503: the model is not
# ready, the queue is full). Unlike a client's own fault (an invalid body, the rate limit), these count against the
# service-level objective (analysis/slo.py, and the same test in SQL in store/queries.py).
NOT_READY_PREFIX = "model not ready: "
BUSY_PREFIX = "busy: "
SERVICE_REFUSAL_PREFIXES = (NOT_READY_PREFIX, BUSY_PREFIX)


@dataclass
class GenerationOutcome:
    """What the model produced and when; `build_record` turns it into a request record.

    `output_tokens` and `token_times_seconds` cover the answer's tokens: the end-of-turn token that stopped the
    generation is not part of the answer, so it is neither counted nor timed."""

    text: str
    prompt_tokens: int | None  # None: a remote server that did not say (no `usage`)
    output_tokens: int | None
    max_new_tokens: int | None
    finish_reason: str  # stop | length | cancelled
    generate_start_seconds: float
    token_times_seconds: list[float] = field(default_factory=list)
    token_logprobs: list[float] | None = None  # under the model's raw distribution; None when not measured
    prompt_text: str = ""  # exactly what the model was given, chat template and its default system prompt included
    token_entropies: list[float] | None = None  # entropy (nats) of each step's raw distribution
    # how many of the answer's first tokens make its first sentence (quality.uncertainty.first_sentence_tokens);
    # None where token figures were not measured
    first_sentence_tokens: int | None = None

    @property
    def first_token_seconds(self) -> float | None:
        return self.token_times_seconds[0] if self.token_times_seconds else None

    @property
    def last_token_seconds(self) -> float | None:
        return self.token_times_seconds[-1] if self.token_times_seconds else None


# An answer's quality at answer time, from its prompt and outcome: passed in by the targets rather than imported,
# so the quality package's sinks may depend on this module without this module depending on them.
AnswerQuality = Callable[[str, GenerationOutcome], dict[str, Any]]


@dataclass(frozen=True)
class RequestRecord:
    """One generate request, refused ones included (status `rejected`, no prompt when refused before its body)."""

    trace_id: str
    ts: float  # arrival, unix seconds
    source: str  # api | ui | openai | probe | …
    status: str  # ok | error | rejected
    model: str
    latency_seconds: float  # arrival to the last token (or to the refusal)
    synthetic: bool = False  # a canary probe: kept out of every user-request figure
    error: str | None = None
    finish_reason: str | None = None  # stop | length | cancelled, or error when not ok
    prompt: str | None = None
    prompt_chars: int | None = None
    params: dict[str, Any] | None = None
    queue_seconds: float | None = None
    tokenize_seconds: float | None = None
    response: str | None = None
    response_chars: int | None = None
    prompt_text: str | None = None  # exactly what the model received, chat template included
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    ttft_seconds: float | None = None
    decode_seconds: float | None = None
    inter_token_latency_seconds: float | None = None
    tokens_per_second: float | None = None  # output tokens over the model's own time (prefill + decode)
    quality: dict[str, Any] | None = None
    spans: list[dict[str, Any]] = field(default_factory=list)
    stage: Stage = "finished"

    @property
    def completed(self) -> bool:
        return self.status == "ok"

    def scored(self, quality: dict[str, Any]) -> RequestRecord:
        """The same request with the background scorer's quality: the second pass through the pipeline."""
        return dataclasses.replace(self, quality=quality, stage="scored")

    def to_row(self) -> dict[str, Any]:
        """The stored and API form: the fields that have a value, and always the identifying ones."""
        row = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "stage"}
        return {key: value for key, value in row.items() if value is not None or key in _ALWAYS}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RequestRecord:
        """A record read back from the store (or written by hand in a test); unknown keys are ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {"trace_id": "", "ts": 0.0, "source": "api", "model": "",  # a test's row
                                  "latency_seconds": 0.0}
        values |= {key: value for key, value in row.items() if key in known and value is not None}
        values["synthetic"] = bool(values.get("synthetic"))
        return cls(**values)


_ALWAYS = frozenset({"trace_id", "ts", "source", "synthetic", "status", "error", "model", "latency_seconds",
                     "finish_reason", "spans"})


def build_record(trace: Trace, params: GenerationParams | None, source: str, synthetic: bool, status: str,
                 model_name: str, outcome: GenerationOutcome | None, error: str | None, *,
                 quality: AnswerQuality | None) -> RequestRecord:
    """The record of one request: timings from the trace's start, token counts from the tokenizer (or the server's
    usage), and for a generation the answer-time quality `quality` measures (a target passes
    `quality.metrics.answer_quality`; None leaves it out); relevance follows from the scorer.
    `params` is None for a request refused before its body was accepted: such a record keeps no prompt."""
    end = trace.now()
    values: dict[str, Any] = {}
    if params is not None:
        values |= {"prompt": params.prompt, "prompt_chars": len(params.prompt), "params": params.to_dict()}
    spans = {span.name: span for span in trace.spans}
    if "queue" in spans:
        values["queue_seconds"] = spans["queue"].duration_seconds
    if "tokenize" in spans:
        values["tokenize_seconds"] = spans["tokenize"].duration_seconds
    finish_reason = "error" if status != "ok" else None
    if outcome is not None:
        n = outcome.output_tokens
        first, last = outcome.first_token_seconds, outcome.last_token_seconds
        model_seconds = (last - outcome.generate_start_seconds) if last is not None else None
        finish_reason = outcome.finish_reason
        values |= {
            "response": outcome.text, "response_chars": len(outcome.text), "prompt_text": outcome.prompt_text,
            "prompt_tokens": outcome.prompt_tokens, "output_tokens": n,
            "ttft_seconds": None if first is None else first - trace.start_seconds,
            "decode_seconds": None if first is None or last is None else last - first,
            # A remote server that sends no usage leaves the token counts unknown: None, never a guess.
            "inter_token_latency_seconds": (last - first) / (n - 1)
            if first is not None and last is not None and n is not None and n > 1 else None,
            "tokens_per_second": n / model_seconds if n is not None and model_seconds else None,
        }
        values["params"] = (values.get("params") or {}) | {"max_new_tokens": outcome.max_new_tokens}
        if quality is not None and params is not None:
            values["quality"] = quality(params.prompt, outcome)
    return RequestRecord(trace_id=trace.trace_id, ts=trace.start_unix_seconds, source=source, synthetic=synthetic,
                         status=status, error=error, model=model_name, latency_seconds=end - trace.start_seconds,
                         finish_reason=finish_reason, spans=trace.to_list(), **values)
