"""ModelRuntime: the in-process transformers target — the model's lifecycle, a bounded queue, one record each.

Every request the runtime admits ends in exactly one record handed to the request pipeline (status ok, error,
or rejected when the worker finds it invalid); requests it refuses at admission raise ModelNotReady or
RuntimeBusy, and the generate service records those.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from healthmon.params import GenerationParams, InvalidRequest
from healthmon.pipeline import RequestSink
from healthmon.quality.metrics import answer_quality
from healthmon.records import GenerationOutcome, RequestRecord, build_record
from healthmon.runtime.demo import is_demo_checkpoint
from healthmon.runtime.generate import cut_at_stop, run_generation
from healthmon.runtime.loader import LoadedModel, load_checkpoint
from healthmon.runtime.sources import DownloadProgress, ModelSpec, describe, resolve_model_path
from healthmon.target import END, ModelNotReady, ModelStatus, RuntimeBusy, StreamState
from healthmon.textsafe import log_text
from healthmon.tracing import Trace

__all__ = ["ModelNotReady", "ModelRuntime", "ModelStatus", "RuntimeBusy", "GenerationStream"]
_STOP_WORKER = object()


def _friendly_error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return f"out of memory: {text}"
    return text


class ModelRuntime:
    """Owns one model; serializes access to it; measures and records every request it admits."""

    def __init__(self, spec: ModelSpec, *, demo_dir: Path, models_dir: Path, sink: RequestSink,
                 device: str = "auto", dtype: str = "auto", queue_max: int = 8, max_new_tokens_cap: int = 1024,
                 resolver: Callable[..., Path] = resolve_model_path,
                 loader: Callable[..., LoadedModel] = load_checkpoint,
                 clock: Callable[[], float] = time.perf_counter, wall_clock: Callable[[], float] = time.time,
                 logger: logging.Logger | None = None, measure_quality: bool = True) -> None:
        self.spec = spec
        self.measure_quality = measure_quality  # per-request quality in the record (off only to measure its cost)
        self._demo_dir, self._models_dir = demo_dir, models_dir
        self._sink = sink
        self._device, self._dtype = device, dtype
        self.queue_max = queue_max
        self.max_new_tokens_cap = max_new_tokens_cap
        self._resolver, self._loader = resolver, loader
        self._clock, self._wall_clock = clock, wall_clock
        self._log = logger or logging.getLogger("healthmon.runtime")
        self._state_lock = threading.Lock()
        self._model_lock = threading.Lock()  # one generation at a time: the model is not re-entrant
        self._loaded: LoadedModel | None = None
        self._facts: dict[str, Any] = {}
        self.status = ModelStatus.NOT_LOADED
        self.error: str | None = None
        self.progress: dict[str, Any] | None = None
        self.load_seconds: float | None = None
        self.loaded_at: float | None = None
        self.in_flight = 0
        self.queued = 0
        self._jobs: queue.SimpleQueue[object] = queue.SimpleQueue()  # GenerationStreams, then _STOP_WORKER
        self._worker: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def load(self, spec: ModelSpec | None = None) -> bool:
        """Load (or reload) the model; any failure becomes status `error` with its reason. Never raises."""
        with self._state_lock:
            if self.status is ModelStatus.LOADING:
                return False
            self.spec = spec or self.spec
            self.status, self.error, self.progress = ModelStatus.LOADING, None, None
        started = self._clock()
        self._log.info("loading model %s%s", log_text(describe(self.spec)),  # a source is the client's text
                       f" ({self.spec.chosen_because})" if self.spec.chosen_because else "")
        try:
            path = self._resolver(self.spec, demo_dir=self._demo_dir, models_dir=self._models_dir,
                                  progress=self._on_progress)
            loaded = self._loader(path, device=self._device, dtype=self._dtype)
            facts = loaded.describe() | {"is_demo": is_demo_checkpoint(path)}
        except BaseException as exc:  # noqa: BLE001 - a failed load must leave the monitor running
            # The previous model goes too: status `error` serves nothing, and its facts (architecture, device)
            # beside the new name would describe a model that is not the one named.
            with self._model_lock, self._state_lock:
                self._loaded, self._facts = None, {}
                self.status, self.error = ModelStatus.ERROR, _friendly_error(exc)
            self._log.error("model %s failed to load: %s", log_text(describe(self.spec)), log_text(self.error))
            if not isinstance(exc, Exception):
                raise
            return False
        with self._model_lock, self._state_lock:  # never swap weights under a running generation
            self._loaded, self._facts = loaded, facts
            self.load_seconds = self._clock() - started
            self.loaded_at = self._wall_clock()
            self.status, self.progress = ModelStatus.LOADED, None
        self._log.info("model loaded in %.2f s: %s", self.load_seconds, log_text(facts["architecture"]))
        return True

    def load_async(self, spec: ModelSpec | None = None) -> threading.Thread:
        thread = threading.Thread(target=self.load, args=(spec,), name="healthmon-model-loader", daemon=True)
        thread.start()
        return thread

    def unload(self) -> None:
        with self._model_lock, self._state_lock:
            self._loaded, self._facts = None, {}
            self.status = ModelStatus.NOT_LOADED

    def _on_progress(self, progress: DownloadProgress) -> None:
        with self._state_lock:
            self.progress = {"stage": progress.stage, "fraction": progress.fraction,
                             "bytes_done": progress.bytes_done, "bytes_total": progress.bytes_total,
                             "message": progress.message}

    # ---- state ---------------------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return describe(self.spec)

    def info(self) -> dict[str, Any]:
        with self._state_lock:
            return {
                "name": self.model_name, "source": self.spec.kind, "ref": self.spec.ref, "file": self.spec.file,
                "chosen_because": self.spec.chosen_because or None, "status": self.status.value,
                "error": self.error, "progress": self.progress,
                "is_demo": self._facts.get("is_demo", self.spec.kind == "demo"),
                "load_seconds": None if self.load_seconds is None else round(self.load_seconds, 3),
                "loaded_at": None if self.loaded_at is None
                else datetime.fromtimestamp(self.loaded_at, UTC).isoformat(),
                "in_flight": self.in_flight, "queued": self.queued, "queue_max": self.queue_max,
                **self._facts,
            }

    def is_idle(self) -> bool:
        with self._state_lock:
            return self.in_flight == 0 and self.queued == 0

    # ---- generation ----------------------------------------------------------------------
    def stream(self, params: GenerationParams, *, trace: Trace | None = None, source: str = "api",
               synthetic: bool = False, only_if_idle: bool = False, want_text: bool = True,
               on_event_loop: bool = False) -> GenerationStream:
        """Admit a request and start it; raises ModelNotReady or RuntimeBusy (the caller records the refusal).
        The model runs on its worker thread whoever calls: `on_event_loop` changes nothing here."""
        trace = trace or Trace(clock=self._clock, wall_clock=self._wall_clock)
        with self._state_lock:
            rejection: ModelNotReady | RuntimeBusy | None = None
            if self.status is not ModelStatus.LOADED:
                state = self.status.value.replace("_", " ")
                rejection = ModelNotReady(f"model is {state}" + (f": {self.error}" if self.error else ""))
            elif only_if_idle and (self.in_flight or self.queued):
                rejection = RuntimeBusy("model is serving a request")
            elif self.in_flight + self.queued >= 1 + self.queue_max:
                rejection = RuntimeBusy(f"queue is full ({self.queue_max} waiting)")
            else:
                self.queued += 1
        if rejection is not None:
            raise rejection
        stream = GenerationStream(self, params, trace, source, synthetic, want_text)
        self._ensure_worker()
        self._jobs.put(stream)
        return stream

    def _ensure_worker(self) -> None:
        """One long-lived worker runs every generation: the model is serialized anyway, and torch's
        OpenMP pool belongs to the thread that calls it, so a fresh thread per request would pay for a
        cold pool each time (measured: about 20 % of tokens/s on two cores)."""
        with self._state_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="healthmon-model-worker", daemon=True)
                self._worker.start()

    def _work(self) -> None:
        while isinstance(job := self._jobs.get(), GenerationStream):  # until _STOP_WORKER
            self._run(job)

    def close(self, timeout_seconds: float = 30.0) -> None:
        """Let the worker finish what it was given, stop it, and drop the model so its memory is freed."""
        with self._state_lock:
            worker, self._worker = self._worker, None
        if worker is not None and worker.is_alive():
            self._jobs.put(_STOP_WORKER)
            worker.join(timeout_seconds)
        self.unload()

    def generate(self, params: GenerationParams, **kwargs: Any) -> RequestRecord:
        """Blocking generation: the record of the request, or the request's exception."""
        return self.stream(params, want_text=False, **kwargs).result()

    def _run(self, stream: GenerationStream) -> None:
        """Worker body: wait for the model, generate, record. Exactly one record per admitted request."""
        trace, queued_at = stream.trace, stream.queued_at_seconds
        outcome: GenerationOutcome | None = None
        try:
            with self._model_lock:
                with self._state_lock:
                    self.queued -= 1
                    self.in_flight += 1
                    loaded = self._loaded
                try:
                    trace.add("queue", queued_at, trace.now())
                    if loaded is None:
                        raise ModelNotReady("model was unloaded while the request waited")
                    outcome = run_generation(loaded.model, loaded.tokenizer, stream.params, trace,
                                             max_new_tokens_cap=self.max_new_tokens_cap,
                                             token_sink=stream.sink, cancel=stream.cancelled,
                                             measure_logprobs=self.measure_quality)
                finally:
                    with self._state_lock:
                        self.in_flight -= 1
            stream.record = self._emit(trace, stream.params, stream.source, stream.synthetic, "ok", outcome=outcome)
        except InvalidRequest as exc:
            stream.error = exc
            stream.record = self._emit(trace, stream.params, stream.source, stream.synthetic, "rejected",
                                       error=str(exc))
        except Exception as exc:  # noqa: BLE001 - a failed generation is a failed request, not a dead worker
            stream.error = exc
            message = _friendly_error(exc)
            self._log.warning("generation %s failed: %s", trace.trace_id, log_text(message))
            stream.record = self._emit(trace, stream.params, stream.source, stream.synthetic, "error", error=message)
            _release_cuda_cache()
        finally:
            stream.finish()

    def _emit(self, trace: Trace, params: GenerationParams, source: str, synthetic: bool, status: str, *,
              outcome: GenerationOutcome | None = None, error: str | None = None) -> RequestRecord:
        record = build_record(trace, params, source, synthetic, status, self.model_name, outcome, error,
                              quality=answer_quality if self.measure_quality else None)
        try:
            self._sink.record(record)
        except Exception:  # noqa: BLE001 - bookkeeping must never fail the request
            self._log.exception("recording request %s failed", trace.trace_id)
        return record


def _release_cuda_cache() -> None:
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # noqa: BLE001
        pass


def releasable_text(text: str, stops: tuple[str, ...]) -> str:
    """What of a growing answer can be shown: nothing from a stop string on, and not a tail that could still
    become one.

    >>> releasable_text("Hello wor", ("world",)), releasable_text("a END b", ("END",))
    ('Hello ', 'a ')
    """
    text = cut_at_stop(text, stops)[0]
    hold = max((n for stop in stops for n in range(1, len(stop)) if text.endswith(stop[:n])), default=0)
    return text[:len(text) - hold]


class GenerationStream(StreamState):
    """A running generation: iterate it for text as it is produced, or call result() for the record."""

    def __init__(self, runtime: ModelRuntime, params: GenerationParams, trace: Trace, source: str,
                 synthetic: bool, want_text: bool) -> None:
        super().__init__(params, trace, source, synthetic)
        self.sink = self.tokens.put if want_text else None
        self.queued_at_seconds = trace.now()  # made at admission: the wait starts here, not when the worker takes it
        self._tokenizer = runtime._loaded.tokenizer if runtime._loaded else None

    def __iter__(self) -> Generator[str, None, None]:
        """Yield text deltas; decoding the whole output each time keeps multi-byte characters intact, and text
        that may be the start of a stop string is held back until the next tokens say whether it is one."""
        ids: list[int] = []
        emitted = ""
        assert self._tokenizer is not None, "admitted only while a model is loaded"
        try:
            while (item := self.tokens.get()) is not END:
                ids.extend(item)
                text = self._tokenizer.decode(ids, skip_special_tokens=True)
                if text.endswith("\ufffd"):
                    continue  # an incomplete UTF-8 sequence: wait for the next token
                text = releasable_text(text, self.params.stop)
                if not text.startswith(emitted):
                    continue
                delta, emitted = text[len(emitted):], text
                if delta:
                    yield delta
        finally:
            if not self.done.is_set():
                self.cancelled.set()  # the consumer went away: stop spending the model on it
        self.result()
        final = (self.record.response if self.record else None) or ""
        if final.startswith(emitted) and final != emitted:
            yield final[len(emitted):]

