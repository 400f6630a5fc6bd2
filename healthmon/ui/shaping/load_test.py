"""The Load test page's texts, table and chart data: a run's status and report in, frames and words out."""

from __future__ import annotations

import pandas as pd

from healthmon.loadtest.report import LoadTestReport
from healthmon.loadtest.service import FAILED, FINISHED, IDLE, RUNNING, STOPPED, STOPPING, LoadTestStatus
from healthmon.loadtest.targets import REMOTE, SELF, LoadTarget
from healthmon.textsafe import redact_url
from healthmon.ui.shaping import Translate

# What the monitor recorded during a run, by layer (catalog keys; the page labels them with metric_label). Remote
# targets report their server's own queue as well; a column absent from the history is skipped.
MONITOR_SERIES = {
    "model": ("in_flight", "queued", "server_requests_running", "server_requests_waiting"),
    "system": ("cpu_usage",),
}


def target_label(target: LoadTarget, words: Translate) -> str:
    url = redact_url(target.url)
    if target.key == SELF:
        return words("This monitor's /v1 ({url})").format(url=url)
    if target.key == REMOTE:
        return words("The monitored server ({url})").format(url=url)
    return url


def state_text(state: str, words: Translate) -> str:
    return {IDLE: words("No load test has run yet."), RUNNING: words("Running"), STOPPING: words("Stopping"),
            FINISHED: words("Finished"), STOPPED: words("Stopped before the end"),
            FAILED: words("Failed")}.get(state, state)


def progress_fraction(status: LoadTestStatus) -> float:
    progress = status.progress
    return 0.0 if progress is None or not progress.total else min(1.0, progress.done / progress.total)


def progress_text(status: LoadTestStatus, words: Translate) -> str:
    progress, plan = status.progress, status.plan
    if progress is None or plan is None:
        return state_text(status.state, words)
    return words("{state}: concurrency {concurrency} (level {level} of {levels}), {done} of {total} requests, "
                 "{errors} errors in this level").format(
        state=state_text(status.state, words), concurrency=progress.concurrency, level=progress.level_index + 1,
        levels=len(plan.concurrency_levels), done=progress.done, total=progress.total, errors=progress.level_errors)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def levels_frame(report: LoadTestReport) -> pd.DataFrame:
    """One row a level, plain numbers (milliseconds for latencies), for the charts and the table."""
    rows = [{"concurrency": level.concurrency, "requests": level.requests, "errors": level.errors,
             "ttft_p50_ms": _ms(level.ttft_seconds.p50), "ttft_p95_ms": _ms(level.ttft_seconds.p95),
             "ttft_p99_ms": _ms(level.ttft_seconds.p99),
             "tpot_p50_ms": _ms(level.time_per_output_token_seconds.p50),
             "tpot_p95_ms": _ms(level.time_per_output_token_seconds.p95),
             "itl_p50_ms": _ms(level.inter_token_latency_seconds.p50),
             "e2e_p50_s": level.e2e_seconds.p50, "output_tokens_per_second": level.output_tokens_per_second,
             "requests_per_second": level.requests_per_second,
             "goodput_requests_per_second": level.goodput_requests_per_second,
             "slo_attainment_percent": None if level.slo_attainment is None else level.slo_attainment * 100}
            for level in report.levels]
    return pd.DataFrame(rows, columns=["concurrency", "requests", "errors", "ttft_p50_ms", "ttft_p95_ms",
                                       "ttft_p99_ms", "tpot_p50_ms", "tpot_p95_ms", "itl_p50_ms", "e2e_p50_s",
                                       "output_tokens_per_second", "requests_per_second",
                                       "goodput_requests_per_second", "slo_attainment_percent"])


def table_view(report: LoadTestReport, words: Translate) -> pd.DataFrame:
    """The levels with readable headers in the page's language."""
    headers = {"concurrency": words("Concurrency"), "requests": words("Requests"), "errors": words("Errors"),
               "ttft_p50_ms": words("TTFT p50 (ms)"), "ttft_p95_ms": words("TTFT p95 (ms)"),
               "ttft_p99_ms": words("TTFT p99 (ms)"), "tpot_p50_ms": words("Time per token p50 (ms)"),
               "tpot_p95_ms": words("Time per token p95 (ms)"), "itl_p50_ms": words("Inter-token p50 (ms)"),
               "e2e_p50_s": words("Whole request p50 (s)"), "output_tokens_per_second": words("Tokens / s"),
               "requests_per_second": words("Requests / s"),
               "goodput_requests_per_second": words("Goodput (requests / s)"),
               "slo_attainment_percent": words("SLO attainment %")}
    return levels_frame(report).rename(columns=headers)


def verdict(report: LoadTestReport, words: Translate) -> str:
    """The answer the page is for: how much concurrency the target takes within its objectives."""
    share = f"{report.objectives.objective:.1%}"
    if report.capacity_concurrency is None:
        return words("No level kept {share} of requests within the objectives.").format(share=share)
    return words("Capacity: concurrency {concurrency} keeps {share} of requests within the objectives.").format(
        concurrency=report.capacity_concurrency, share=share)


def objectives_text(report: LoadTestReport, words: Translate) -> str:
    o = report.objectives
    parts = [words(name).format(seconds=value) for name, value in (
        ("TTFT ≤ {seconds:g} s", o.ttft_seconds), ("time per token ≤ {seconds:g} s", o.time_per_output_token_seconds),
        ("whole request ≤ {seconds:g} s", o.e2e_seconds)) if value is not None]
    return ", ".join(parts) or words("no latency objective")


def error_lines(report: LoadTestReport, words: Translate) -> list[str]:
    """What went wrong, a line per level with errors; the messages are the servers' own, shown as text."""
    return [words("Concurrency {concurrency}: {errors} of {requests} failed: {examples}").format(
        concurrency=level.concurrency, errors=level.errors, requests=level.requests,
        examples="; ".join(level.error_examples)) for level in report.levels if level.errors]


def run_span(report: LoadTestReport) -> tuple[float, float]:
    """The wall-clock span the monitor's history is read for, a few seconds either side so a sample taken just
    before the first request or after the last one shows the load coming and going."""
    return report.started_at_s - 5.0, report.finished_at_s + 5.0
