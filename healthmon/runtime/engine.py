"""ModelRuntime: the in-process transformers target — the model's lifecycle, a bounded queue, continuous batching,
one record each.

Every request the runtime admits ends in exactly one record handed to the request pipeline (status ok, error,
or rejected when the worker finds it invalid); requests it refuses at admission raise ModelNotReady or
RuntimeBusy, and the generate service records those. Admitted requests run on one worker thread: up to `max_batch`
at once in one batch (scheduler.py) that they join and leave between decode steps, or one at a time through
transformers' generate() for a model whose cache cannot be batched (batching.batching_unsupported says why).
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from healthmon.params import GenerationParams, InvalidRequest
from healthmon.pipeline import RequestSink
from healthmon.quality.metrics import answer_quality
from healthmon.records import GenerationOutcome, RequestRecord, build_record
from healthmon.runtime.batching import batching_unsupported
from healthmon.runtime.demo import is_demo_checkpoint
from healthmon.runtime.generate import context_window_tokens, run_generation
from healthmon.runtime.loader import LoadedModel, load_checkpoint
from healthmon.runtime.prefix_cache import DEFAULT_PREFIX_CACHE_TOKENS
from healthmon.runtime.scheduler import BatchScheduler, SchedulerCounters
from healthmon.runtime.sources import (
    DownloadProgress,
    ModelSpec,
    describe,
    download_fallback,
    resolve_model_path,
)
from healthmon.runtime.stream import GenerationStream, releasable_text
from healthmon.target import ModelNotReady, ModelStatus, RuntimeBusy
from healthmon.target_info import ModelFacts, SchedulerInfo, TargetInfo
from healthmon.textsafe import log_text
from healthmon.tracing import Trace

__all__ = ["ModelNotReady", "ModelRuntime", "ModelStatus", "RuntimeBusy", "GenerationStream", "releasable_text"]
_STOP_WORKER = object()


def _friendly_error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return f"out of memory: {text}"
    return text


class ModelRuntime:
    """Owns one model; batches the requests it admits on one worker; measures and records each of them."""

    def __init__(self, spec: ModelSpec, *, demo_dir: Path, models_dir: Path, sink: RequestSink,
                 device: str = "auto", dtype: str = "auto", queue_max: int = 8, max_new_tokens_cap: int = 1024,
                 max_batch: int = 8, kv_cache_tokens: int | None = None,
                 prefix_cache_tokens: int = DEFAULT_PREFIX_CACHE_TOKENS,
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
        self.max_batch = max_batch
        self._kv_cache_tokens = kv_cache_tokens  # None: room for max_batch requests of a whole context each
        self.prefix_cache_tokens = prefix_cache_tokens  # prompt tokens whose KV is kept for reuse; 0: none
        self._scheduler: BatchScheduler | None = None  # the worker's; its figures are read under _state_lock
        self._counters = SchedulerCounters()
        self._resolver, self._loader = resolver, loader
        self._clock, self._wall_clock = clock, wall_clock
        self._log = logger or logging.getLogger("healthmon.runtime")
        self._state_lock = threading.Lock()
        self._model_lock = threading.Lock()  # one forward pass at a time, and no weights swapped under one
        self._loaded: LoadedModel | None = None
        self._facts: ModelFacts | None = None  # while a model is loaded
        self.status = ModelStatus.NOT_LOADED
        self.error: str | None = None
        self.progress: DownloadProgress | None = None
        self.load_seconds: float | None = None
        self.loaded_at: float | None = None
        self.in_flight = 0
        self.queued = 0
        self._jobs: queue.SimpleQueue[object] = queue.SimpleQueue()  # GenerationStreams, then _STOP_WORKER
        self._worker: threading.Thread | None = None
        self._closing = False  # close() under way: no new request, no new worker

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
            path = self._resolve()
            loaded = self._loader(path, device=self._device, dtype=self._dtype)
            facts = loaded.describe(is_demo=is_demo_checkpoint(path),
                                    batching_unsupported_reason=batching_unsupported(loaded.model))
        except BaseException as exc:  # noqa: BLE001 - a failed load must leave the monitor running
            # The previous model goes too: status `error` serves nothing, and its facts (architecture, device)
            # beside the new name would describe a model that is not the one named.
            with self._model_lock, self._state_lock:
                self._loaded, self._facts = None, None
                self.status, self.error = ModelStatus.ERROR, _friendly_error(exc)
                self._drop_idle_scheduler()
            self._log.error("model %s failed to load: %s", log_text(describe(self.spec)), log_text(self.error))
            if not isinstance(exc, Exception):
                raise
            return False
        with self._model_lock, self._state_lock:  # never swap weights under a running step
            self._loaded, self._facts = loaded, facts
            self._drop_idle_scheduler()
            self.load_seconds = self._clock() - started
            self.loaded_at = self._wall_clock()
            self.status, self.progress = ModelStatus.LOADED, None
        self._log.info("model loaded in %.2f s: %s", self.load_seconds, log_text(facts.architecture))
        return True

    def _resolve(self) -> Path:
        """The checkpoint of self.spec; when it cannot be fetched and sources.download_fallback names another
        source (auto's hub download failed: the demo model), that one's, and self.spec becomes it."""
        try:
            return self._resolver(self.spec, demo_dir=self._demo_dir, models_dir=self._models_dir,
                                  progress=self._on_progress)
        except Exception as exc:
            fallback = download_fallback(self.spec, exc)
            if fallback is None:
                raise
        self._log.warning("loading %s instead: %s", describe(fallback), log_text(fallback.chosen_because))
        with self._state_lock:
            self.spec, self.progress = fallback, None
        return self._resolver(fallback, demo_dir=self._demo_dir, models_dir=self._models_dir,
                              progress=self._on_progress)

    def load_async(self, spec: ModelSpec | None = None) -> threading.Thread:
        thread = threading.Thread(target=self.load, args=(spec,), name="healthmon-model-loader", daemon=True)
        thread.start()
        return thread

    def unload(self) -> None:
        with self._model_lock, self._state_lock:
            self._loaded, self._facts = None, None
            self.status = ModelStatus.NOT_LOADED
            self._drop_idle_scheduler()

    def _drop_idle_scheduler(self) -> None:
        """Let go of the old model's batch (and so of its weights) at once when nothing runs in it; a busy one is
        failed and dropped by the worker at its next turn. Called under both locks."""
        if self._scheduler is not None and not self._scheduler.busy:
            self._scheduler = None

    def _on_progress(self, progress: DownloadProgress) -> None:
        with self._state_lock:
            self.progress = progress

    # ---- state ---------------------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return describe(self.spec)

    def info(self) -> TargetInfo:
        with self._state_lock:
            return TargetInfo(
                name=self.model_name, source=self.spec.kind, ref=self.spec.ref, file=self.spec.file,
                chosen_because=self.spec.chosen_because or None, status=self.status, error=self.error,
                progress=self.progress,
                is_demo=self._facts.is_demo if self._facts is not None else self.spec.kind == "demo",
                load_seconds=None if self.load_seconds is None else round(self.load_seconds, 3),
                loaded_at=None if self.loaded_at is None else datetime.fromtimestamp(self.loaded_at, UTC).isoformat(),
                in_flight=self.in_flight, queued=self.queued, queue_max=self.queue_max,
                scheduler=self._scheduler_info(), facts=self._facts)

    def _scheduler_info(self) -> SchedulerInfo:
        """The scheduler's figures, named as vLLM names them where it has a name (under _state_lock)."""
        scheduler, capacity = self._scheduler, self._kv_capacity()
        held = scheduler.held_positions() if scheduler is not None else 0
        return SchedulerInfo(
            max_batch=self._batch_rows(), batching=not self._cannot_batch(),
            kv_cache_capacity_tokens=capacity, kv_cache_used_tokens=held,
            kv_cache_usage_ratio=round(min(1.0, held / capacity), 6) if capacity else None,
            prefix_cache_capacity_tokens=self.prefix_cache_tokens if not self._cannot_batch() else 0,
            counters=dataclasses.replace(self._counters))  # a copy: the worker goes on counting

    def _cannot_batch(self) -> bool:
        return self._facts is not None and self._facts.batching_unsupported_reason is not None

    def _batch_rows(self) -> int:
        """Requests that run at once: max_batch, or one on a model that cannot batch."""
        return 1 if self._cannot_batch() else self.max_batch

    def _kv_capacity(self) -> int | None:
        if self._kv_cache_tokens is not None:
            return self._kv_cache_tokens
        context = context_window_tokens(self._loaded.model) if self._loaded is not None else None
        return None if context is None else self.max_batch * context

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
            elif self.in_flight + self.queued >= self._batch_rows() + self.queue_max:
                rejection = RuntimeBusy(f"queue is full ({self.queue_max} waiting)")
            elif self._closing:
                rejection = ModelNotReady("the model is shutting down")
            else:
                self.queued += 1
                tokenizer = self._loaded.tokenizer if self._loaded is not None else None
        if rejection is not None:
            raise rejection
        stream = GenerationStream(tokenizer, params, trace, source, synthetic, want_text)
        self._ensure_worker()
        self._jobs.put(stream)
        return stream

    def _ensure_worker(self) -> None:
        """One long-lived worker runs every generation: the model is driven by one thread anyway, and torch's
        OpenMP pool belongs to the thread that calls it, so a fresh thread per request would pay for a
        cold pool each time (measured: about 20 % of tokens/s on two cores)."""
        with self._state_lock:
            if not self._closing and (self._worker is None or not self._worker.is_alive()):
                self._worker = threading.Thread(target=self._work, name="healthmon-model-worker", daemon=True)
                self._worker.start()

    def _work(self) -> None:
        """Take new requests between steps and run the batch, until told to stop and everything admitted is done."""
        waiting: list[GenerationStream] = []
        stopping = False
        while True:
            scheduler = self._scheduler
            idle = not waiting and (scheduler is None or not scheduler.busy)
            if idle and stopping:
                return
            try:  # block only when there is nothing to run
                job = self._jobs.get(block=idle)
                while True:
                    if isinstance(job, GenerationStream):
                        waiting.append(job)
                    else:
                        stopping = True
                    job = self._jobs.get_nowait()
            except queue.Empty:
                pass
            try:
                waiting = self._serve(waiting)
            except Exception as exc:  # noqa: BLE001 - the worker outlives any turn: whoever was in it ends with it
                self._log.exception("the model worker's turn failed")
                scheduler = self._scheduler
                if scheduler is not None:
                    scheduler.fail_all(exc)
                    self._set_scheduler(None)
                for stream in waiting:
                    self._finish(stream, None, exc, was_waiting=True)
                waiting = []

    def _serve(self, arrived: list[GenerationStream]) -> list[GenerationStream]:
        """One turn of the worker: new arrivals into the scheduler, one step of the batch (or one request alone on
        a model that cannot batch). Returns arrivals not yet handed to anyone."""
        with self._model_lock:
            loaded = self._loaded
            scheduler = self._scheduler
            if scheduler is not None and (loaded is None or scheduler.model is not loaded.model):
                # The running requests cannot go on with other weights; those still waiting go to the new model.
                arrived = [*scheduler.waiting, *arrived]
                scheduler.waiting.clear()
                scheduler.fail_all(ModelNotReady("the model was unloaded or replaced while the request ran"))
                scheduler = None
                self._set_scheduler(None)
            if loaded is None:
                for stream in arrived:
                    self._finish(stream, None, ModelNotReady("model was unloaded while the request waited"),
                                 was_waiting=True)
                return []
            if self._cannot_batch():
                if arrived:
                    self._run_alone(arrived[0], loaded)
                return arrived[1:]
            if scheduler is None:
                scheduler = BatchScheduler(
                    loaded.model, loaded.tokenizer, max_batch=self.max_batch,
                    kv_cache_tokens=self._kv_capacity() or 1 << 62, max_new_tokens_cap=self.max_new_tokens_cap,
                    clock=self._clock, counters=self._counters, figures=self._state_lock, finish=self._finish,
                    on_admitted=self._on_admitted, on_left=self._on_left,
                    prefix_cache_tokens=self.prefix_cache_tokens)
                self._set_scheduler(scheduler)
            scheduler.waiting.extend(arrived)
            try:
                scheduler.run_once(arrived_meanwhile=lambda: not self._jobs.empty())
            except Exception as exc:  # noqa: BLE001 - a failed step fails its batch, not the worker
                self._log.warning("a batch step failed: %s", log_text(_friendly_error(exc)))
                scheduler.fail_all(exc)
                self._set_scheduler(None)
                _release_cuda_cache()
        return []

    def _set_scheduler(self, scheduler: BatchScheduler | None) -> None:
        with self._state_lock:
            self._scheduler = scheduler

    def _on_admitted(self, count: int) -> None:
        with self._state_lock:
            self.queued -= count
            self.in_flight += count

    def _on_left(self, count: int) -> None:
        with self._state_lock:
            self.in_flight -= count

    def _finish(self, stream: GenerationStream, outcome: GenerationOutcome | None, error: BaseException | None, *,
                was_waiting: bool = False) -> None:
        """A request's one record: ok with its outcome, rejected when invalid, error otherwise; then its end.
        Never raises, and a second call for the same stream does nothing: every admitted request ends once."""
        if stream.done.is_set():
            return
        if was_waiting:
            with self._state_lock:
                self.queued -= 1
        trace, params, source, synthetic = stream.trace, stream.params, stream.source, stream.synthetic
        try:
            if error is None:
                stream.record = self._emit(trace, params, source, synthetic, "ok", outcome=outcome)
            elif isinstance(error, InvalidRequest):
                stream.error = error
                stream.record = self._emit(trace, params, source, synthetic, "rejected", error=str(error))
            else:
                stream.error = error
                message = _friendly_error(error)
                self._log.warning("generation %s failed: %s", trace.trace_id, log_text(message))
                stream.record = self._emit(trace, params, source, synthetic, "error", error=message)
        except Exception as exc:  # noqa: BLE001 - building the record failed (its quality, say): the request
            self._log.exception("recording request %s failed", trace.trace_id)  # still ends, with its error
            stream.error = stream.error or exc
        finally:
            stream.finish()

    def close(self, timeout_seconds: float = 30.0) -> None:
        """Let the worker finish what it was given, stop it, and drop the model so its memory is freed."""
        with self._state_lock:
            worker, self._closing = self._worker, True
        try:
            if worker is not None and worker.is_alive():
                self._jobs.put(_STOP_WORKER)
                worker.join(timeout_seconds)
            self.unload()
        finally:
            with self._state_lock:
                self._worker, self._closing = None, False

    def generate(self, params: GenerationParams, **kwargs: Any) -> RequestRecord:
        """Blocking generation: the record of the request, or the request's exception."""
        return self.stream(params, want_text=False, **kwargs).result()

    def _run_alone(self, stream: GenerationStream, loaded: LoadedModel) -> None:
        """A model that cannot batch: this request alone, through transformers' generate() (under the model lock)."""
        self._on_admitted(1)
        trace, outcome, error = stream.trace, None, None
        try:
            trace.add("queue", stream.queued_at_seconds, trace.now())
            outcome = run_generation(loaded.model, loaded.tokenizer, stream.params, trace,
                                     max_new_tokens_cap=self.max_new_tokens_cap, token_sink=stream.sink,
                                     cancel=stream.cancelled, measure_logprobs=self.measure_quality)
        except Exception as exc:  # noqa: BLE001 - a failed generation is a failed request, not a dead worker
            error = exc
            _release_cuda_cache()
        finally:
            self._on_left(1)
        self._finish(stream, outcome, error)

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
