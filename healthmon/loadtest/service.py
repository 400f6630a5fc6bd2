"""The one load test a monitor runs at a time, in the background: a thread with an event loop of its own, so
leaving the page (or the API client going away) does not stop it; only `stop()` does, or the monitor closing."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from healthmon.loadtest.report import LoadTestReport
from healthmon.loadtest.runner import LoadTestPlan, Progress, StopSignal, run_load_test
from healthmon.textsafe import log_text, redact_url

log = logging.getLogger("healthmon.loadtest")
IDLE, RUNNING, STOPPING, FINISHED, STOPPED, FAILED = "idle", "running", "stopping", "finished", "stopped", "failed"


class LoadTestBusy(RuntimeError):
    """A load test is already running: one at a time, so two do not measure each other."""


@dataclass(frozen=True)
class LoadTestStatus:
    state: str  # idle | running | stopping | finished | stopped | failed
    target: str | None = None  # the target's label, without credentials
    plan: LoadTestPlan | None = None
    progress: Progress | None = None
    report: LoadTestReport | None = None
    error: str | None = None
    started_at_s: float | None = None

    @property
    def active(self) -> bool:
        return self.state in (RUNNING, STOPPING)

    def to_dict(self) -> dict[str, Any]:
        plan, progress = self.plan, self.progress
        return {"state": self.state, "target": self.target, "started_at_s": self.started_at_s, "error": self.error,
                "plan": None if plan is None else {
                    "url": redact_url(plan.url), "concurrency": list(plan.concurrency_levels),
                    "requests": plan.requests_per_level, "max_tokens": plan.max_tokens,
                    "objectives": plan.objectives.to_dict()},
                "progress": None if progress is None else {
                    "concurrency": progress.concurrency, "level": progress.level_index + 1,
                    "level_done": progress.level_done, "level_errors": progress.level_errors,
                    "done": progress.done, "total": progress.total},
                "report": None if self.report is None else self.report.to_dict()}


class LoadTestService:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._status = LoadTestStatus(IDLE)
        self._stop: StopSignal | None = None
        self._thread: threading.Thread | None = None

    def status(self) -> LoadTestStatus:
        with self._lock:
            return self._status

    def start(self, plan: LoadTestPlan, target_label: str) -> LoadTestStatus:
        """Start `plan` in the background; LoadTestBusy while another runs."""
        with self._lock:
            if self._status.active:
                raise LoadTestBusy("a load test is already running; stop it first or wait for it to finish")
            self._stop = stop = StopSignal()
            self._status = LoadTestStatus(RUNNING, target_label, plan,
                                          Progress(0, plan.concurrency_levels[0], 0, 0, 0, plan.total_requests),
                                          started_at_s=self._clock())
            self._thread = threading.Thread(target=self._run, args=(plan, stop), name="healthmon-load-test",
                                            daemon=True)
            self._thread.start()
            log.info("load test started against %s: concurrency %s, %d requests each", log_text(target_label),
                     ",".join(map(str, plan.concurrency_levels)), plan.requests_per_level)
            return self._status

    def stop(self) -> bool:
        """Stop the running test (no new request; those in flight cancelled); False when none runs."""
        with self._lock:
            if self._status.state != RUNNING or self._stop is None:
                return False
            self._status = replace(self._status, state=STOPPING)
            stop = self._stop
        stop.set()
        return True

    def wait(self, timeout_seconds: float | None = None) -> LoadTestStatus:
        """The status once the current run (if any) has ended, or after the timeout."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout_seconds)
        return self.status()

    def close(self, timeout_seconds: float = 10.0) -> None:
        self.stop()
        thread = self._thread
        if thread is not None:
            thread.join(timeout_seconds)

    def _progress(self, progress: Progress) -> None:
        with self._lock:
            self._status = replace(self._status, progress=progress)

    def _run(self, plan: LoadTestPlan, stop: StopSignal) -> None:
        try:
            report = asyncio.run(run_load_test(plan, stop=stop, on_progress=self._progress))
        except Exception as exc:  # noqa: BLE001 - a bug of ours: the page and API say so, the monitor goes on
            log.exception("load test failed")
            with self._lock:
                self._status = replace(self._status, state=FAILED, error=f"{type(exc).__name__}: {exc}")
            return
        with self._lock:
            self._status = replace(self._status, state=STOPPED if report.stopped else FINISHED, report=report)
        log.info("load test %s: capacity %s", "stopped" if report.stopped else "finished",
                 report.capacity_concurrency)
