"""Canary probe: one short fixed-prompt generation every N seconds, only when the model is idle.

The seed ran three test generations every 5 s on the model users were calling, with no lock, which kept
a real model busy most of the time. A probe here yields to users (it is only admitted when nothing is
running or queued), is greedy so its outputs are comparable run to run, and is recorded as synthetic.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from healthmon.params import GenerationParams
from healthmon.records import RequestRecord
from healthmon.target import ModelNotReady, RuntimeBusy
from healthmon.textsafe import log_text

if TYPE_CHECKING:
    from healthmon.generate_service import GenerateService

CANARY_PROMPT = "Describe what a health monitor for a language model does, in one sentence."
CANARY_MAX_NEW_TOKENS = 16


class CanaryProbe:
    """A daemon thread that probes the runtime every `interval_seconds` (0 disables it)."""

    def __init__(self, service: GenerateService, interval_seconds: float, *,
                 wait: Callable[[threading.Event, float], bool] | None = None,
                 logger: logging.Logger | None = None) -> None:
        self._service = service
        self.interval_seconds = interval_seconds
        self._wait = wait or (lambda event, seconds: event.wait(seconds))
        self._log = logger or logging.getLogger("healthmon.probe")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_result: RequestRecord | None = None
        self.skipped_busy = 0

    def probe_once(self) -> RequestRecord | None:
        """Run one probe now if the model is loaded and idle; the record, or None when skipped."""
        params = GenerationParams(CANARY_PROMPT, max_new_tokens=CANARY_MAX_NEW_TOKENS, temperature=0.0)
        try:
            record = self._service.probe(params)
        except RuntimeBusy:
            self.skipped_busy += 1
            return None
        except ModelNotReady:
            return None
        except Exception as exc:  # noqa: BLE001 - a failing probe is a finding, recorded by the target
            self._log.warning("canary probe failed: %s", log_text(exc))
            return None
        self.last_result = record
        return record

    def _loop(self) -> None:
        while not self._wait(self._stop, self.interval_seconds):
            self.probe_once()

    def start(self) -> None:
        if self.interval_seconds <= 0 or (self._thread and self._thread.is_alive()):
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="healthmon-canary", daemon=True)
        self._thread.start()

    def stop(self, timeout_seconds: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_seconds)
            self._thread = None

    @property
    def running(self) -> bool:
        return bool(self._thread and self._thread.is_alive())
