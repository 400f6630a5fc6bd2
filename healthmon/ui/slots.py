"""A cache that keeps, for each key, only the value of the newest slot: the history frames of the chart pages.

A chart of a window in N points cannot gain a point faster than once per window/N seconds (a "slot"), so every
refresh and every session within one slot can share one store read. Once the slot has passed, its frame is never
asked for again; keeping only the newest slot per key holds memory to the frames in use, where an LRU of
(key, slot) entries would fill with stale slots until its size limit. Keys themselves are bounded (LRU), since
each zoom into the past is a key of its own.

No Streamlit here: the pages hold one cache per Monitor (healthmon.ui.panels).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LatestSlotCache(Generic[V]):
    """{key: (slot, value)} holding the newest slot's value per key, at most max_keys keys (least recent out)."""

    def __init__(self, max_keys: int = 64) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, got {max_keys}")
        self.max_keys = max_keys
        self._entries: OrderedDict[Hashable, tuple[int, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, slot: int, build: Callable[[], V]) -> V:
        """The value for (key, slot), built at most once per slot while it is the newest (concurrent first
        readers of a slot may each build it; the store read is idempotent, so none waits on another's)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == slot:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[1]
            self.misses += 1
        value = build()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= slot:  # a late reader of an older slot must not replace a newer one
                self._entries[key] = (slot, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_keys:
                    self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
