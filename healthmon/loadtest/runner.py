"""The levels of a load test on one event loop: each a closed loop of N requests from c workers.

A worker sends its next request as soon as its previous one finished, so c requests are in flight at all times
(until the last ones), as vLLM's `bench serve --max-concurrency` and genai-perf's concurrency mode do. Each worker
has a client, and so a keep-alive connection, of its own: a pool shared by many workers would close what it
cannot keep and count new connections as the server's latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from healthmon.loadtest.client import RequestTiming, chat_body, stream_chat
from healthmon.loadtest.prompts import Messages, to_wire
from healthmon.loadtest.report import LoadTestReport, machine_facts
from healthmon.loadtest.stats import LevelResult, Objectives, capacity, summarize_level
from healthmon.remote.aio_http import AioStreamingClient
from healthmon.textsafe import redact_url


@dataclass(frozen=True)
class LoadTestPlan:
    """What to run: `url` is the server's OpenAI base (…/v1); `api_key` goes out as a bearer token."""

    url: str
    concurrency_levels: tuple[int, ...]
    requests_per_level: int
    max_tokens: int
    prompts: tuple[Messages, ...]
    objectives: Objectives = Objectives()
    model: str | None = None  # None: the first model the server's /models lists, else none named
    api_key: str | None = None
    read_timeout_seconds: float = 30.0  # a server silent this long fails the request
    request_timeout_seconds: float = 300.0  # and no request may take longer than this, trickling or not
    connect_timeout_seconds: float = 5.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {self.url!r}")
        if not self.concurrency_levels or min(self.concurrency_levels) < 1:
            raise ValueError("concurrency levels must be positive integers")
        if self.requests_per_level < 1 or self.max_tokens < 1:
            raise ValueError("requests per level and max tokens must be at least 1")
        if not self.prompts:
            raise ValueError("no prompts")

    @property
    def total_requests(self) -> int:
        return len(self.concurrency_levels) * self.requests_per_level

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}


@dataclass(frozen=True)
class Progress:
    """Where a run stands, after each finished request."""

    level_index: int  # 0-based, into plan.concurrency_levels
    concurrency: int
    level_done: int
    level_errors: int
    done: int  # over all levels
    total: int


class StopSignal:
    """Stop a run from another thread: no new request is sent and the ones in flight are cancelled."""

    def __init__(self) -> None:
        self._flag = threading.Event()
        self._lock = threading.Lock()
        self._wakers: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def is_set(self) -> bool:
        return self._flag.is_set()

    def set(self) -> None:
        with self._lock:
            self._flag.set()
            for loop, event in self._wakers:
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nothing left to stop
                    loop.call_soon_threadsafe(event.set)

    def event(self) -> asyncio.Event:
        """An event on the running loop, set (on that loop) when the signal is."""
        event = asyncio.Event()
        with self._lock:
            self._wakers.append((asyncio.get_running_loop(), event))
            if self._flag.is_set():
                event.set()
        return event


async def discover_model(plan: LoadTestPlan) -> str | None:
    """The first model the server lists: servers such as vLLM refuse a request that names none."""
    if plan.model:
        return plan.model
    try:
        async with httpx.AsyncClient(timeout=plan.connect_timeout_seconds, trust_env=False) as client:
            answer = await client.get(plan.url.rstrip("/") + "/models", headers=plan.headers())
            data = answer.json().get("data") if answer.is_success else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None  # the requests will say what is wrong, counted per level
    first = data[0] if isinstance(data, list) and data else None
    return first.get("id") if isinstance(first, dict) and isinstance(first.get("id"), str) else None


async def run_level(plan: LoadTestPlan, concurrency: int, bodies: Sequence[bytes], stop: StopSignal,
                    on_result: Callable[[RequestTiming], None], clock: Callable[[], float]
                    ) -> tuple[list[RequestTiming], float]:
    """`plan.requests_per_level` requests from `concurrency` workers; the timings and the level's duration (first
    send to last finish, on `clock`). Stopped, it returns what finished before the stop."""
    url = plan.url.rstrip("/") + "/chat/completions"
    headers = plan.headers()
    timings: list[RequestTiming] = []
    sent = 0

    async def worker() -> None:
        nonlocal sent
        http = AioStreamingClient(connect_timeout_seconds=plan.connect_timeout_seconds,
                                  read_timeout_seconds=plan.read_timeout_seconds)
        try:
            while sent < plan.requests_per_level and not stop.is_set():
                index, sent = sent, sent + 1
                timing = await stream_chat(http, url, bodies[index % len(bodies)], clock, headers=headers,
                                           request_timeout_seconds=plan.request_timeout_seconds)
                timings.append(timing)
                on_result(timing)
        finally:
            await http.aclose()

    stopped = stop.event()
    started = clock()
    workers: asyncio.Future[Any] = asyncio.gather(
        *(worker() for _ in range(min(concurrency, plan.requests_per_level))))
    waiter = asyncio.ensure_future(stopped.wait())
    try:
        await asyncio.wait([workers, waiter], return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not workers.done():
            workers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await workers
    if not stop.is_set():  # after a stop, gather may hold the CancelledError of the workers it stopped
        workers.result()  # a bug in a worker surfaces here rather than as a level with too few requests
    finished = max((t.finished_s for t in timings), default=started)
    return timings, finished - started


async def run_load_test(plan: LoadTestPlan, *, stop: StopSignal | None = None,
                        on_progress: Callable[[Progress], None] = lambda _progress: None,
                        clock: Callable[[], float] = time.perf_counter,
                        wall_clock: Callable[[], float] = time.time) -> LoadTestReport:
    """Every level in order; stopped, the report holds the levels run so far (the last one partial)."""
    stop = stop or StopSignal()
    model = await discover_model(plan)
    bodies = [chat_body(model, to_wire(messages), plan.max_tokens) for messages in plan.prompts]
    started_at = wall_clock()
    levels: list[LevelResult] = []
    done = 0
    for index, concurrency in enumerate(plan.concurrency_levels):
        if stop.is_set():
            break
        level_done = level_errors = 0

        def on_result(timing: RequestTiming, index: int = index, concurrency: int = concurrency) -> None:
            nonlocal done, level_done, level_errors
            done, level_done = done + 1, level_done + 1
            level_errors += not timing.ok
            on_progress(Progress(index, concurrency, level_done, level_errors, done, plan.total_requests))

        on_progress(Progress(index, concurrency, 0, 0, done, plan.total_requests))
        level_started = wall_clock()
        timings, duration = await run_level(plan, concurrency, bodies, stop, on_result, clock)
        if timings:
            levels.append(summarize_level(concurrency, timings, duration, plan.objectives,
                                          started_at_s=level_started, finished_at_s=wall_clock()))
    return LoadTestReport(url=redact_url(plan.url), model=model, objectives=plan.objectives, levels=tuple(levels),
                          capacity_concurrency=capacity(levels, plan.objectives.objective),
                          requests_per_level=plan.requests_per_level, max_tokens=plan.max_tokens,
                          started_at_s=started_at, finished_at_s=wall_clock(), stopped=stop.is_set(),
                          machine=machine_facts())
