"""`python -m healthmon load`: put load on any OpenAI-compatible server and write the report.

    python -m healthmon load --url http://127.0.0.1:8501/v1 --concurrency 1,2,4,8 --requests 32 --max-tokens 64 \
        --json report.json

The operator runs it, so it may aim anywhere (the page and the API may not). The objectives default to the
monitor's SLO defaults (HEALTHMON_SLO_TTFT_SECONDS=2, HEALTHMON_SLO_TIME_PER_OUTPUT_TOKEN_SECONDS=0.2, objective
0.99), so the capacity it reports is judged as the live SLOs judge requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TextIO

from healthmon.loadtest.prompts import PromptFileError, built_in, load_prompts
from healthmon.loadtest.report import format_table
from healthmon.loadtest.runner import LoadTestPlan, Progress, run_load_test
from healthmon.loadtest.stats import Objectives

API_KEY_ENV = "HEALTHMON_LOAD_TEST_API_KEY"  # so a key need not stand in the shell's history


def concurrency_levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from exc
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("concurrency levels must be positive integers")
    return levels


def _positive(kind: type) -> object:
    def parse(text: str) -> object:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


def _optional_seconds(text: str) -> float | None:
    """A latency objective in seconds; 0 or "off" leaves that latency unjudged."""
    if text.strip().lower() in ("off", "none", "0"):
        return None
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive seconds or off, got {text}")
    return value


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register `load` on the CLI's subcommands."""
    parser = commands.add_parser("load", help="load-test an OpenAI-compatible server: TTFT, goodput, capacity",
                                 description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the server's OpenAI base URL, ending in /v1")
    parser.add_argument("--model", help="the model to ask for; default the first the server lists")
    parser.add_argument("--concurrency", type=concurrency_levels, default=(1, 2, 4, 8),
                        help="comma-separated levels, each a closed loop; default 1,2,4,8")
    parser.add_argument("--requests", type=_positive(int), default=32, help="requests per level; default 32")
    parser.add_argument("--max-tokens", type=_positive(int), default=64, help="max_tokens per request; default 64")
    parser.add_argument("--prompts", type=Path, metavar="FILE.jsonl",
                        help='one {"prompt": ...} or {"messages": [...]} a line; default built-in English and '
                             "Chinese prompts")
    parser.add_argument("--slo-ttft", type=_optional_seconds, default=2.0, metavar="S",
                        help="TTFT objective in seconds (off: none); default 2")
    parser.add_argument("--slo-tpot", type=_optional_seconds, default=0.2, metavar="S",
                        help="time-per-output-token objective in seconds (off: none); default 0.2")
    parser.add_argument("--slo-e2e", type=_optional_seconds, default=None, metavar="S",
                        help="whole-request objective in seconds; default none")
    parser.add_argument("--slo-objective", type=float, default=0.99,
                        help="share of requests that must meet every objective; default 0.99")
    parser.add_argument("--api-key", default=os.environ.get(API_KEY_ENV),
                        help=f"sent as a bearer token; default ${API_KEY_ENV}")
    parser.add_argument("--timeout", type=_positive(float), default=30.0, metavar="S",
                        help="fail a request whose server is silent for S seconds (and any taking 10 × S); "
                             "default 30")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the report here")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


class ProgressBar:
    """tqdm over every request of the run, on stderr so the table on stdout stays clean."""

    def __init__(self, total: int, stream: TextIO, enabled: bool) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, file=stream, disable=not enabled, unit="req", dynamic_ncols=True)
        self._level = -1

    def __call__(self, progress: Progress) -> None:
        if progress.level_index != self._level:
            self._level = progress.level_index
            self._bar.set_description(f"concurrency {progress.concurrency}")
        if progress.level_done:
            self._bar.update(1)
        if progress.level_errors:
            self._bar.set_postfix(errors=progress.level_errors, refresh=False)

    def close(self) -> None:
        self._bar.close()


def run(args: argparse.Namespace) -> int:
    if not 0 < args.slo_objective <= 1:
        print("--slo-objective must be in (0, 1]", file=sys.stderr)
        return 2
    try:
        prompts = load_prompts(args.prompts) if args.prompts else built_in()
        plan = LoadTestPlan(url=args.url, concurrency_levels=args.concurrency, requests_per_level=args.requests,
                            max_tokens=args.max_tokens, prompts=prompts, model=args.model, api_key=args.api_key,
                            objectives=Objectives(args.slo_ttft, args.slo_tpot, args.slo_e2e, args.slo_objective),
                            read_timeout_seconds=args.timeout, request_timeout_seconds=10 * args.timeout)
    except (PromptFileError, ValueError) as exc:
        print(f"load: {exc}", file=sys.stderr)
        return 2
    bar = ProgressBar(plan.total_requests, sys.stderr, enabled=not args.no_progress and sys.stderr.isatty())
    try:
        report = asyncio.run(run_load_test(plan, on_progress=bar))
    except KeyboardInterrupt:
        print("load: interrupted", file=sys.stderr)
        return 130
    finally:
        bar.close()
    print(format_table(report))
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"report written to {args.json}")
    errors = sum(level.errors for level in report.levels)
    return 1 if errors and errors == sum(level.requests for level in report.levels) else 0
