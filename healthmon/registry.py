"""The process-wide registry of the one Monitor.

Streamlit re-executes scripts and may re-import modules, and neither may ever start a second collector thread
or load a second model: the registry lives on `sys`, which no module reload replaces.
"""

from __future__ import annotations

import logging
import sys
import threading

from healthmon.config import Settings, load_settings
from healthmon.monitor import Monitor

log = logging.getLogger("healthmon")
_REGISTRY_ATTR = "_healthmon_monitor_registry"


def configure_logging(level: int = logging.INFO) -> None:
    """healthmon's own log lines on stderr, once, whatever the host (Streamlit, uvicorn) did to the root logger."""
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(level)
        log.propagate = False


def get_monitor(settings: Settings | None = None, *, start: bool = True) -> Monitor:
    """The process's one Monitor, created (and its model loaded in the background) on first use."""
    configure_logging()
    registry = sys.__dict__.setdefault(_REGISTRY_ATTR, {"lock": threading.Lock(), "monitor": None})
    with registry["lock"]:
        monitor = registry["monitor"]
        if monitor is None or monitor.closed:
            monitor = Monitor(settings or load_settings())
            registry["monitor"] = monitor
            monitor.target.load_async()
            if start:
                monitor.start()
        return monitor


def release_monitor() -> None:
    """Close and forget the process's Monitor (tests, and Streamlit's on_release)."""
    registry = sys.__dict__.get(_REGISTRY_ATTR)
    if not registry:
        return
    with registry["lock"]:
        monitor, registry["monitor"] = registry["monitor"], None
    if monitor is not None:
        monitor.close()
