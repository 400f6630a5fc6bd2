"""Service-level objectives: which user requests are good, attainment, burn rate and error budget. Pure.

A user request counts against the service unless it was refused for the client's own fault (status `rejected`:
an invalid body, the rate limit); a refusal for the service's own state (model not ready, queue full: HTTP 503),
a failed generation and a timeout count, as bad. A counted request is good when it succeeded and met every latency
objective set. Canary probes (`synthetic`) are no users' requests and are never counted.

Burn rate is the share of bad requests over the share the objective allows, (1 - attainment) / (1 - objective):
1 spends the error budget exactly over the compliance window, 14.4 spends 2 % of a 30-day budget in an hour
(the Google SRE workbook's multiwindow, multi-burn-rate alerts, `BURN_RATE_ALERTS`).

The same judgement is written in SQL in store/queries.py (`slo_counts`), so history is counted where it lies;
tests/test_slo.py checks that the two agree record for record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from healthmon.records import SERVICE_REFUSAL_PREFIXES

# The windows the SRE workbook's alerts read, shortest first; the compliance window is added from the objectives.
WINDOWS: tuple[tuple[str, float], ...] = (("5m", 300.0), ("30m", 1800.0), ("1h", 3600.0), ("6h", 21_600.0),
                                          ("24h", 86_400.0), ("3d", 259_200.0))
GOODPUT_WINDOW = "5m"


class RecordLike(Protocol):
    """What the judgement reads of a request: a RequestRecord, or a row read back as one."""

    @property
    def status(self) -> str: ...
    @property
    def synthetic(self) -> bool: ...
    @property
    def error(self) -> str | None: ...
    @property
    def ttft_seconds(self) -> float | None: ...
    @property
    def inter_token_latency_seconds(self) -> float | None: ...
    @property
    def latency_seconds(self) -> float: ...


@dataclass(frozen=True)
class SloObjectives:
    """The configured objectives; a latency objective of None is not set (any time meets it)."""

    ttft_seconds: float | None = 2.0
    time_per_output_token_seconds: float | None = 0.2
    e2e_seconds: float | None = None
    objective: float = 0.99
    window_days: float = 28.0

    def __post_init__(self) -> None:
        if not 0 < self.objective < 1:
            raise ValueError(f"objective must be between 0 and 1 (exclusive), got {self.objective!r}")
        if not self.window_days > 0:
            raise ValueError(f"window_days must be positive, got {self.window_days!r}")
        for name, value in self.latency_objectives().items():
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive or None, got {value!r}")

    @classmethod
    def from_seconds(cls, ttft: float, time_per_output_token: float, e2e: float, objective: float,
                     window_days: float) -> SloObjectives:
        """From settings, where 0 sets no objective for that latency."""
        return cls(ttft or None, time_per_output_token or None, e2e or None, objective, window_days)

    def latency_objectives(self) -> dict[str, float | None]:
        return {"ttft_seconds": self.ttft_seconds, "time_per_output_token_seconds": self.time_per_output_token_seconds,
                "e2e_seconds": self.e2e_seconds}

    @property
    def window_seconds(self) -> float:
        return self.window_days * 86_400.0

    @property
    def compliance_window(self) -> str:
        """The compliance window's name among the others: "28d"."""
        return f"{self.window_days:g}d"

    def windows(self) -> tuple[tuple[str, float], ...]:
        """Every window reported, shortest first, the compliance window last (once, should it equal another)."""
        named = dict(WINDOWS) | {self.compliance_window: self.window_seconds}
        return tuple(sorted(named.items(), key=lambda item: item[1]))

    def to_dict(self) -> dict[str, Any]:
        return self.latency_objectives() | {"objective": self.objective, "window_days": self.window_days}


def counts_against_service(record: RecordLike) -> bool:
    """A user request the service answers for: not a canary, not refused for the client's own fault."""
    if record.synthetic:
        return False
    if record.status == "rejected":
        return (record.error or "").startswith(SERVICE_REFUSAL_PREFIXES)
    return True


def is_good(record: RecordLike, objectives: SloObjectives) -> bool:
    """Counted, succeeded, and within every latency objective set. A figure the request has none of (no time per
    token for a one-token answer) cannot break its objective."""
    if not counts_against_service(record) or record.status != "ok":
        return False
    return within_objectives(objectives.latency_objectives(), {
        "ttft_seconds": record.ttft_seconds, "time_per_output_token_seconds": record.inter_token_latency_seconds,
        "e2e_seconds": record.latency_seconds})


def within_objectives(limits: Mapping[str, float | None], measured: Mapping[str, float | None]) -> bool:
    """Every latency objective set (not None) is met by its measured figure; a figure not measured breaks none.
    The one test of "good" for live requests and load-test requests alike."""
    return all(limit is None or measured.get(name) is None or measured[name] <= limit  # type: ignore[operator]
               for name, limit in limits.items())


@dataclass(frozen=True)
class WindowCounts:
    """Counted requests and the good ones among them, over some span."""

    requests: int = 0
    good: int = 0

    @property
    def bad(self) -> int:
        return self.requests - self.good

    def __add__(self, other: WindowCounts) -> WindowCounts:
        return WindowCounts(self.requests + other.requests, self.good + other.good)


def attainment(counts: WindowCounts) -> float | None:
    """good / requests; None without requests (no request is neither good nor bad)."""
    return counts.good / counts.requests if counts.requests else None


def burn_rate(counts: WindowCounts, objective: float) -> float | None:
    """(1 - attainment) / (1 - objective); None without requests."""
    share = attainment(counts)
    return None if share is None else (1.0 - share) / (1.0 - objective)


def error_budget_remaining(counts: WindowCounts, objective: float) -> float | None:
    """The share of the compliance window's error budget left: 1 untouched, 0 spent, negative overspent."""
    rate = burn_rate(counts, objective)
    return None if rate is None else 1.0 - rate


@dataclass(frozen=True)
class WindowFigures:
    window: str
    seconds: float
    requests: int
    good: int
    attainment: float | None
    burn_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "requests": self.requests, "good": self.good,
                "attainment": self.attainment, "burn_rate": self.burn_rate}


@dataclass(frozen=True)
class SloReport:
    """The objectives and how each window meets them, at one time."""

    objectives: SloObjectives
    windows: tuple[WindowFigures, ...]
    error_budget_remaining_ratio: float | None
    goodput_requests_per_second: float

    def window(self, name: str) -> WindowFigures:
        return next(figures for figures in self.windows if figures.window == name)

    def to_dict(self) -> dict[str, Any]:
        return {"objectives": self.objectives.to_dict(), "compliance_window": self.objectives.compliance_window,
                "windows": {figures.window: figures.to_dict() for figures in self.windows},
                "error_budget_remaining_ratio": self.error_budget_remaining_ratio,
                "goodput_requests_per_second": self.goodput_requests_per_second}


def slo_report(objectives: SloObjectives, counts: Mapping[str, WindowCounts]) -> SloReport:
    """Figures for every window of `objectives.windows()` from its counts (a window missing from `counts` had no
    requests)."""
    figures = tuple(WindowFigures(name, seconds, c.requests, c.good, attainment(c), burn_rate(c, objectives.objective))
                    for name, seconds in objectives.windows() for c in [counts.get(name, WindowCounts())])
    compliance = counts.get(objectives.compliance_window, WindowCounts())
    goodput = counts.get(GOODPUT_WINDOW, WindowCounts()).good / dict(WINDOWS)[GOODPUT_WINDOW]
    return SloReport(objectives, figures, error_budget_remaining(compliance, objectives.objective), goodput)


@dataclass(frozen=True)
class BurnRateAlert:
    """One multiwindow burn-rate alert: both windows burning faster than `factor` (SRE workbook, chapter 5)."""

    name: str
    long_window: str
    short_window: str
    factor: float
    level: str  # critical pages, warning makes a ticket


# 14.4 over an hour spends 2 % of a 30-day budget, 6 over six hours 5 %, 1 over three days 10 %; the short window,
# a twelfth of the long one, makes an alert resolve soon after the burning stops.
BURN_RATE_ALERTS = (
    BurnRateAlert("slo_burn_rate_page_fast", "1h", "5m", 14.4, "critical"),
    BurnRateAlert("slo_burn_rate_page_slow", "6h", "30m", 6.0, "critical"),
    BurnRateAlert("slo_burn_rate_ticket", "3d", "6h", 1.0, "warning"),
)
ALERT_WINDOWS = ("5m", "30m", "1h", "6h", "3d")  # the windows the alerts read, each a burn-rate metric


def burn_rate_metric(window: str) -> str:
    """The sampled metric (catalog.py, slo layer) holding one window's burn rate."""
    return f"slo_burn_rate_{window}"
