"""SloService: live SLO figures from the stored request records, and the good/bad counters /metrics exports.

Figures are counted where the records lie, in the history database, so they survive a restart; and cheaply enough
for every collection cycle, however long the compliance window: minutes older than `SETTLE_SECONDS` are counted
once, by minute (one GROUP BY when the service starts, then each minute as it settles), and kept in memory. Each
refresh reads again only the requests since then (half an hour or so) and, for each window reaching further back,
the part of its first minute that lies before the window's start, to take it off: every window is exact. A record
stored more than `SETTLE_SECONDS` after its own start (a request running longer than that) joins its minute's
count only at the next restart.

A compliance window longer than HEALTHMON_RETENTION_DAYS counts only what history keeps: `covered_seconds` says how
much it is.

The counters are a request sink's, since this process started, because a Prometheus counter must never go down:
counts read from the store at scrape would fall as retention prunes old rows, and Prometheus would read each fall
as a reset.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from healthmon.analysis.slo import (
    WINDOWS,
    SloObjectives,
    SloReport,
    WindowCounts,
    burn_rate_metric,
    counts_against_service,
    is_good,
    slo_report,
)
from healthmon.records import RequestRecord

SETTLE_SECONDS = 1800.0  # longer than a request may run (a remote one times out after 600 s by default)
MINUTE_SECONDS = 60.0
Limits = tuple[float | None, float | None, float | None]


class SloCounts(Protocol):
    """The two reads this service needs of the history store (store/queries.py)."""

    def slo_counts(self, starts: Sequence[float], until: float, limits: Limits) -> list[tuple[int, int]]: ...
    def slo_buckets(self, since: float, until: float, bucket_seconds: float,
                    limits: Limits) -> list[tuple[float, int, int]]: ...


class SloService:
    """Thread-safe: the collection loop, the API and the pages read it; the request pipeline feeds it."""

    def __init__(self, objectives: SloObjectives, store: SloCounts, clock: Callable[[], float]) -> None:
        self.objectives, self._store, self._clock = objectives, store, clock
        o = objectives
        self.limits: Limits = (o.ttft_seconds, o.time_per_output_token_seconds, o.e2e_seconds)
        self._lock = threading.Lock()
        self._settled_until: float | None = None  # every minute before it is counted in _starts/_cumulative
        self._minutes: dict[float, WindowCounts] = {}  # minute start -> counts, oldest first
        self._starts: list[float] = []
        self._cumulative: list[WindowCounts] = [WindowCounts()]  # _cumulative[i]: the minutes before _starts[i]
        self._oldest_counted: float | None = None
        self._counter_lock = threading.Lock()
        self._good_total = 0
        self._bad_total = 0

    # ---- the request sink: counters since start -------------------------------------------------------------
    def record(self, record: RequestRecord) -> None:
        """Count one finished user request as good or bad (the scored pass and canaries are not counted)."""
        if record.stage != "finished" or not counts_against_service(record):
            return
        good = is_good(record, self.objectives)
        with self._counter_lock:
            if good:
                self._good_total += 1
            else:
                self._bad_total += 1

    def counters(self) -> tuple[int, int]:
        """(good, bad) user requests since this process started."""
        with self._counter_lock:
            return self._good_total, self._bad_total

    # ---- the windows, from the store ------------------------------------------------------------------------
    def window_counts(self, now: float | None = None) -> dict[str, WindowCounts]:
        """Counts for every window of the objectives at `now` (default: the clock)."""
        now = self._clock() if now is None else now
        windows = self.objectives.windows()
        with self._lock:
            boundary = self._settle(now)
            recent = [(name, seconds) for name, seconds in windows if now - seconds >= boundary]
            live = self._store.slo_counts([boundary] + [now - seconds for _, seconds in recent], now, self.limits)
            since_boundary = WindowCounts(*live[0])
            out = {name: WindowCounts(*counts) for (name, _), counts in zip(recent, live[1:], strict=True)}
            for name, seconds in windows:
                if name in out:
                    continue
                start = now - seconds
                first_minute = _minute(start)
                before_start = sum((WindowCounts(requests, good) for _, requests, good in self._store.slo_buckets(
                    first_minute, start, MINUTE_SECONDS, self.limits)), WindowCounts())
                settled = self._settled_since(first_minute)
                out[name] = WindowCounts(settled.requests - before_start.requests,
                                         settled.good - before_start.good) + since_boundary
        return out

    def report(self, now: float | None = None) -> SloReport:
        return slo_report(self.objectives, self.window_counts(now))

    def covered_seconds(self, now: float) -> float:
        """How much of the compliance window history holds: less than the window while retention is shorter,
        or the monitor younger."""
        with self._lock:
            oldest = self._oldest_counted
        start = now - self.objectives.window_seconds
        return now - max(start, oldest) if oldest is not None else 0.0

    def sample(self, now: float) -> dict[str, Any]:
        """The slo layer (catalog.py): the burn rates the alert rules read, attainment, budget and goodput.
        A window without requests burns nothing: its burn rate is 0, so a burn-rate alert resolves once traffic
        stops, as Prometheus's does (its ratio goes empty)."""
        report = self.report(now)
        compliance = report.window(self.objectives.compliance_window)
        rates = {burn_rate_metric(name): round(report.window(name).burn_rate or 0.0, 6) for name, _ in WINDOWS}
        return rates | {
            "slo_attainment_ratio": None if compliance.attainment is None else round(compliance.attainment, 6),
            "slo_error_budget_remaining_ratio": None if report.error_budget_remaining_ratio is None
            else round(report.error_budget_remaining_ratio, 6),
            "slo_goodput_requests_per_second": round(report.goodput_requests_per_second, 6),
        }

    def buckets(self, since: float, until: float, bucket_seconds: float) -> list[tuple[float, int, int]]:
        """(start, requests, good) per bucket over a span, for charts."""
        return self._store.slo_buckets(since, until, bucket_seconds, self.limits)

    # ---- settled minutes ------------------------------------------------------------------------------------
    def _settle(self, now: float) -> float:
        """Count the minutes that settled since the last call (all of the window's on the first); the boundary."""
        boundary = _minute(now - SETTLE_SECONDS)
        oldest = _minute(now - self.objectives.window_seconds)
        since = oldest if self._settled_until is None else max(self._settled_until, oldest)
        if boundary > since:
            for start, requests, good in self._store.slo_buckets(since, boundary, MINUTE_SECONDS, self.limits):
                minute = _minute(start)
                self._minutes[minute] = self._minutes.get(minute, WindowCounts()) + WindowCounts(requests, good)
                if self._oldest_counted is None or minute < self._oldest_counted:
                    self._oldest_counted = minute
        if self._settled_until is None or boundary > self._settled_until:
            self._settled_until = boundary
            self._minutes = {minute: c for minute, c in self._minutes.items() if minute >= oldest}
            self._starts = sorted(self._minutes)
            cumulative = [WindowCounts()]
            for minute in self._starts:
                cumulative.append(cumulative[-1] + self._minutes[minute])
            self._cumulative = cumulative
        return self._settled_until

    def _settled_since(self, start: float) -> WindowCounts:
        """The settled minutes from `start` on."""
        index = bisect.bisect_left(self._starts, start)
        total, before = self._cumulative[-1], self._cumulative[index]
        return WindowCounts(total.requests - before.requests, total.good - before.good)


def _minute(ts: float) -> float:
    return math.floor(ts / MINUTE_SECONDS) * MINUTE_SECONDS
