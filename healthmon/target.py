"""Target: what a monitored model offers the monitor — its state and facts, and generations streamed with timings.

The in-process transformers runtime (runtime/engine.py) is one target; a remote OpenAI-compatible server is
another. Everything above a target (the generate service, the collection loop, pages, the API) sees only this
protocol, so a new kind of model is one new class. A target records every request it admits into the request
pipeline it was given; refusals before admission are the generate service's to record.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING, Any, Protocol

from healthmon.target_info import ModelStatus as ModelStatus  # the leaf module declares it; kept importable here

if TYPE_CHECKING:
    from healthmon.params import GenerationParams
    from healthmon.records import RequestRecord
    from healthmon.target_info import TargetInfo
    from healthmon.tracing import Trace


class ModelNotReady(RuntimeError):
    """The model is not loaded (still loading, failed, unloaded, or a remote server is down): 503, try later."""


class RuntimeBusy(RuntimeError):
    """The bounded queue is full: answer 503 with Retry-After instead of piling requests up."""


class TokenStream(Protocol):
    """A running generation: iterate for text deltas as they are produced, or wait for its record."""

    @property
    def trace_id(self) -> str: ...

    trace: Trace
    finished: concurrent.futures.Future[None]  # done with the request, for asyncio callers
    record: RequestRecord | None

    def __iter__(self) -> Generator[str, None, None]: ...

    def aiter(self) -> AsyncGenerator[str, None]:
        """The text deltas, for a consumer on the running event loop."""

    def result(self, timeout: float | None = None) -> RequestRecord: ...

    def cancel(self) -> None: ...


END = object()  # the last item a stream's token queue holds


class StreamState:
    """What every target's running generation keeps: its request, a token queue, and how it ended. The target's
    thread calls finish() once the record (or error) is set; readers iterate or wait in result()."""

    def __init__(self, params: GenerationParams, trace: Trace, source: str, synthetic: bool) -> None:
        self.params, self.trace, self.source, self.synthetic = params, trace, source, synthetic
        self.tokens: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.cancelled = threading.Event()
        self.done = threading.Event()
        self.finished: concurrent.futures.Future[None] = concurrent.futures.Future()  # for asyncio callers
        self.record: RequestRecord | None = None
        self.error: BaseException | None = None

    @property
    def trace_id(self) -> str:
        return self.trace.trace_id

    def finish(self) -> None:
        self.done.set()
        self.finished.set_result(None)
        self.tokens.put(END)

    def result(self, timeout: float | None = None) -> RequestRecord:
        if not self.done.wait(timeout):
            raise TimeoutError(f"generation {self.trace_id} still running")
        if self.error is not None:
            raise self.error
        assert self.record is not None
        return self.record

    def cancel(self) -> None:
        self.cancelled.set()

    def __iter__(self) -> Generator[str, None, None]:
        raise NotImplementedError

    async def aiter(self) -> AsyncGenerator[str, None]:
        """The deltas of `__iter__`, each waited for on a worker thread (a target whose generation runs on a
        thread of its own); a target running on the event loop overrides this to hand them over directly."""
        loop, items = asyncio.get_running_loop(), iter(self)
        finished = False
        try:
            while (item := await loop.run_in_executor(None, next, items, None)) is not None:
                yield item
            finished = True
        finally:
            if not finished and not self.done.is_set():
                self.cancel()  # the consumer went away: stop spending the model on it


class Target(Protocol):
    """The model being monitored."""

    status: ModelStatus
    error: str | None
    loaded_at: float | None  # wall-clock time it first became ready; None until then

    @property
    def model_name(self) -> str: ...

    def info(self) -> TargetInfo:
        """State and facts for pages, /api/model/info and the model layer (status, in_flight, queued, …)."""

    def is_idle(self) -> bool: ...

    def stream(self, params: GenerationParams, *, trace: Trace | None = None, source: str = "api",
               synthetic: bool = False, only_if_idle: bool = False, want_text: bool = True,
               on_event_loop: bool = False) -> TokenStream:
        """Admit and start a generation; raises ModelNotReady or RuntimeBusy when it cannot take it now.
        `on_event_loop`: the caller is on the running asyncio loop and will read `aiter()`; a target that can
        run the request on that loop does (a thread-run target may ignore it)."""

    def load_async(self, spec: Any = None) -> Any:
        """(Re)load or reconnect in the background; a failure becomes status `error` with its reason."""

    def close(self) -> None: ...
