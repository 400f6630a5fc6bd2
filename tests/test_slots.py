"""LatestSlotCache: one store read per key and slot, only the newest slot kept, keys bounded."""

from __future__ import annotations

import threading

import pytest

from healthmon.ui.slots import LatestSlotCache


def counting_builder():
    calls = []

    def build(value):
        def run():
            calls.append(value)
            return value
        return run
    return calls, build


def test_a_slot_is_built_once_and_replaced_by_the_next():
    cache, (calls, build) = LatestSlotCache(), counting_builder()
    assert cache.get("cpu", 7, build("a")) == "a"
    assert cache.get("cpu", 7, build("b")) == "a"  # same slot: the first value, no second read
    assert cache.get("cpu", 8, build("c")) == "c"
    assert calls == ["a", "c"] and len(cache) == 1  # slot 7 is gone, not kept beside slot 8
    assert (cache.hits, cache.misses) == (1, 2)


def test_a_late_reader_of_an_older_slot_does_not_replace_the_newer_one():
    cache, (calls, build) = LatestSlotCache(), counting_builder()
    cache.get("cpu", 8, build("new"))
    assert cache.get("cpu", 7, build("old")) == "old"  # it gets its own read...
    assert cache.get("cpu", 8, build("again")) == "new"  # ...and the newer slot stays cached
    assert calls == ["new", "old"]


def test_keys_are_bounded_least_recently_used_first():
    cache, (_, build) = LatestSlotCache(max_keys=2), counting_builder()
    cache.get("a", 1, build(1))
    cache.get("b", 1, build(2))
    cache.get("a", 1, build(3))  # a is now the most recent
    cache.get("c", 1, build(4))
    assert len(cache) == 2
    assert cache.get("a", 1, build(5)) == 1 and cache.get("b", 1, build(6)) == 6  # b was evicted
    cache.clear()
    assert len(cache) == 0
    with pytest.raises(ValueError):
        LatestSlotCache(max_keys=0)


def test_concurrent_readers_all_get_a_value():
    cache = LatestSlotCache()
    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(cache.get("k", 1, lambda: "v")))
               for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["v"] * 16 and len(cache) == 1
