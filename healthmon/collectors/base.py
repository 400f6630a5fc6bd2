"""The collector contract, and the guard the monitor loop calls each collector through."""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any, Protocol, runtime_checkable

MAX_REMEMBERED_ERRORS = 64

_lock = threading.Lock()
_errors_by_collector: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
_errors_by_layer: dict[str, set[str]] = {}


@runtime_checkable
class Collector(Protocol):
    """One metric source: the loop only needs its layer name and a flat sample dict."""

    layer: str

    def collect(self) -> dict[str, Any]:
        """Return one sample; may raise, the loop calls it through safe_collect."""
        ...


def _logged_errors(collector: Collector) -> set[str]:
    """Remember errors per collector instance, so a new monitor logs its failures afresh."""
    try:
        return _errors_by_collector.setdefault(collector, set())
    except TypeError:  # unhashable or not weak-referenceable: fall back to the layer name
        return _errors_by_layer.setdefault(getattr(collector, "layer", "?"), set())


def safe_collect(collector: Collector, logger: logging.Logger) -> tuple[dict[str, Any], str | None]:
    """Run collect() so one raising collector never stops the others, logging each distinct error once."""
    try:
        return collector.collect(), None
    except Exception as exc:  # noqa: BLE001 - the loop must survive any collector bug
        message = str(exc)
        error_text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
        with _lock:
            seen = _logged_errors(collector)
            first_time = error_text not in seen and len(seen) < MAX_REMEMBERED_ERRORS
            if first_time:
                seen.add(error_text)
        if first_time:
            layer = getattr(collector, "layer", type(collector).__name__)
            logger.warning("collector %r failed: %s (logged once)", layer, error_text, exc_info=exc)
        return {}, error_text
