"""What `Target.info()` returns: a target's state and facts as one typed record, and its JSON.

Both targets fill the common fields; the in-process runtime adds its scheduler's figures and, while a model is
loaded, the model's facts; a remote target adds its health check and the server's own figures. `to_json()` is
the one mapping to the names /api/model/info, /api/health/status and the catalog use.

A leaf module: the plain records the targets fill (model status, download progress, scheduler counters, server
figures) are declared here, not in runtime/ or remote/, so that target.py can name TargetInfo in its protocol
without an import cycle (tests/test_imports.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import Enum
from typing import Any


class ModelStatus(str, Enum):  # noqa: UP042 - a StrEnum would change what str() and format() print
    NOT_LOADED = "not_loaded"
    LOADING = "loading"
    LOADED = "loaded"
    ERROR = "error"


@dataclass(frozen=True)
class DownloadProgress:
    """One progress report while a checkpoint is fetched or built; fraction and bytes are None when unknown."""

    stage: str  # "build" (demo), "connect", "download", "hash", "convert" (GGUF), "ready"
    fraction: float | None
    bytes_done: int | None
    bytes_total: int | None
    message: str


@dataclass
class SchedulerCounters:
    """Totals since the runtime started (across reloads); a cycle's means are the differences of two readings."""

    decode_steps_total: int = 0
    decode_step_requests_total: int = 0  # requests carried, summed over decode steps: their mean batch size
    prefill_passes_total: int = 0
    step_tokens_total: int = 0  # tokens through the model (prompts and new tokens), over all passes
    kv_cache_deferred_total: int = 0  # requests that waited for KV cache room with a batch row free
    prefix_cache_queried_tokens_total: int = 0  # prompt tokens of joining requests (vLLM's prefix_cache_queries)
    prefix_cache_hit_tokens_total: int = 0  # of them, taken from the prefix cache (vLLM's prefix_cache_hits)


@dataclass(frozen=True)
class ServerFigures:
    """What a remote server's own figures add to the model layer, each field named as healthmon/catalog.py
    declares it (tests/test_catalog.py checks): the server's /metrics over the last poll interval and its /slots."""

    server_requests_running: int | None = None
    server_requests_waiting: int | None = None
    server_kv_cache_usage_ratio: float | None = None
    server_preemptions: int | None = None
    server_ttft_seconds: float | None = None
    server_request_seconds: float | None = None
    server_prompt_tokens_per_second: float | None = None
    server_generation_tokens_per_second: float | None = None
    server_slots_busy: int | None = None
    server_slots_total: int | None = None
    server_context_usage_ratio: float | None = None

    def as_dict(self) -> dict[str, int | float | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


REMOTE_SOURCE = "openai"  # the source a remote target reports


@dataclass(frozen=True, kw_only=True)
class ModelFacts:
    """Facts about loaded weights, computed once at load (runtime/loader.py)."""

    architecture: str
    model_type: str | None
    parameters: int
    parameters_billions: float
    memory_footprint_bytes: int
    memory_footprint_gb: float
    context_tokens: int | None
    vocab_size: int | None
    device: str
    dtype: str
    path: str
    has_chat_template: bool
    is_demo: bool
    batching_unsupported_reason: str | None


@dataclass(frozen=True, kw_only=True)
class SchedulerInfo:
    """The in-process scheduler's figures, named as vLLM names them where it has a name; `counters` are totals
    since the runtime started, so a cycle's means are differences of two readings."""

    max_batch: int
    batching: bool
    kv_cache_capacity_tokens: int | None
    kv_cache_used_tokens: int
    kv_cache_usage_ratio: float | None
    prefix_cache_capacity_tokens: int  # 0: no prefix cache
    counters: SchedulerCounters


@dataclass(frozen=True, kw_only=True)
class RemoteInfo:
    """What a remote target adds: the server's words while it loads, its health check, its own figures."""

    status_message: str | None
    target_health_latency_seconds: float | None
    architecture: str
    server: ServerFigures
    server_kind: str | None

    def figures(self) -> dict[str, float | int | None]:
        """What it adds to the model layer, by catalog key: the health check's latency, the server's figures."""
        return {"target_health_latency_seconds": self.target_health_latency_seconds, **asdict(self.server)}


@dataclass(frozen=True, kw_only=True)
class TargetInfo:
    """A target's state and facts at one moment. Exactly one of `scheduler` (in-process) and `remote` is set;
    `facts` only while an in-process model is loaded."""

    name: str
    source: str
    ref: str
    file: str | None
    chosen_because: str | None
    status: ModelStatus
    error: str | None
    progress: DownloadProgress | None
    is_demo: bool
    load_seconds: float | None
    loaded_at: str | None  # ISO 8601, UTC
    in_flight: int
    queued: int
    queue_max: int
    scheduler: SchedulerInfo | None = None
    facts: ModelFacts | None = None
    remote: RemoteInfo | None = None

    @property
    def is_remote(self) -> bool:
        return self.remote is not None

    @property
    def loaded(self) -> bool:
        return self.status is ModelStatus.LOADED

    @property
    def architecture(self) -> str | None:
        if self.remote is not None:
            return self.remote.architecture
        return self.facts.architecture if self.facts is not None else None

    @property
    def available(self) -> int | None:
        """1 loaded, 0 failed; None while loading or not loaded: no verdict yet, so no outage alert."""
        return {ModelStatus.LOADED: 1, ModelStatus.ERROR: 0}.get(self.status)

    def queue_usage(self) -> float | None:
        """Waiting requests as a percentage of the queue limit (a limit of 0 is full with one waiting)."""
        if self.queue_max:
            return round(100.0 * self.queued / self.queue_max, 1)
        return 100.0 if self.queued else 0.0

    def to_json(self) -> dict[str, Any]:
        """The flat mapping /api/model/info has always served: the common fields, then each part's own."""
        out: dict[str, Any] = {"name": self.name, "source": self.source, "ref": self.ref, "file": self.file,
                               "chosen_because": self.chosen_because, "status": self.status.value,
                               "error": self.error}
        if self.remote is not None:
            out["status_message"] = self.remote.status_message
        out |= {"progress": None if self.progress is None else asdict(self.progress), "is_demo": self.is_demo,
                "load_seconds": self.load_seconds, "loaded_at": self.loaded_at, "in_flight": self.in_flight,
                "queued": self.queued, "queue_max": self.queue_max}
        if self.scheduler is not None:
            scheduler = asdict(self.scheduler)
            counters = scheduler.pop("counters")
            out |= scheduler | counters
        if self.facts is not None:
            out |= asdict(self.facts)
        if self.remote is not None:
            out |= {"target_health_latency_seconds": self.remote.target_health_latency_seconds,
                    "architecture": self.remote.architecture, **asdict(self.remote.server),
                    "server_kind": self.remote.server_kind}
        return out
