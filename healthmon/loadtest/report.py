"""The load test's report: the JSON the CLI writes and the page offers, and the table the CLI prints."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from typing import Any

from healthmon.loadtest.stats import LevelResult, Objectives


@dataclass(frozen=True)
class LoadTestReport:
    url: str  # without credentials or query
    model: str | None
    objectives: Objectives
    levels: tuple[LevelResult, ...]
    capacity_concurrency: int | None
    requests_per_level: int
    max_tokens: int
    started_at_s: float  # Unix seconds
    finished_at_s: float
    stopped: bool  # stopped before every level ran: the last level may be partial
    machine: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"levels": [level.to_dict() for level in self.levels],
                "capacity": {"concurrency": self.capacity_concurrency},
                "objectives": self.objectives.to_dict(), "url": self.url, "model": self.model,
                "requests_per_level": self.requests_per_level, "max_tokens": self.max_tokens,
                "started_at_s": self.started_at_s, "finished_at_s": self.finished_at_s, "stopped": self.stopped,
                "machine": dict(self.machine)}


def machine_facts() -> dict[str, Any]:
    """Where the load came from: a client on a busy two-core box measures differently from one on a server."""
    return {"hostname": platform.node(), "platform": platform.platform(), "python": platform.python_version(),
            "cpu_count": os.cpu_count()}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f}"


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


TABLE_HEADER = ("conc", "reqs", "errs", "TTFT p50/p99 ms", "TPOT p50/p99 ms", "ITL p50 ms", "e2e p50 s",
                "tok/s", "req/s", "goodput/s", "attain")


def level_row(level: LevelResult) -> tuple[str, ...]:
    return (str(level.concurrency), str(level.requests), str(level.errors),
            f"{_ms(level.ttft_seconds.p50)}/{_ms(level.ttft_seconds.p99)}",
            f"{_ms(level.time_per_output_token_seconds.p50)}/{_ms(level.time_per_output_token_seconds.p99)}",
            _ms(level.inter_token_latency_seconds.p50), _number(level.e2e_seconds.p50),
            _number(level.output_tokens_per_second, 1), _number(level.requests_per_second),
            _number(level.goodput_requests_per_second), _number(level.slo_attainment, 3))


def format_table(report: LoadTestReport) -> str:
    """A plain-text table, one row a level, then the capacity against the objectives."""
    rows = [TABLE_HEADER, *(level_row(level) for level in report.levels)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_HEADER))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    o = report.objectives
    limits = ", ".join(f"{name} ≤ {value:g} s" for name, value in (
        ("TTFT", o.ttft_seconds), ("TPOT", o.time_per_output_token_seconds), ("e2e", o.e2e_seconds))
        if value is not None)
    verdict = (f"capacity: concurrency {report.capacity_concurrency}" if report.capacity_concurrency is not None
               else "capacity: none of the levels")
    lines.append(f"{verdict} keeps {o.objective:.1%} of requests within {limits or 'no latency objective'}")
    for level in report.levels:
        for example in level.error_examples:
            lines.append(f"  concurrency {level.concurrency}: {example}")
    if report.stopped:
        lines.append("stopped before every level ran")
    return "\n".join(lines)
