"""Offline replay: run the live alert engine over recorded samples and print its transitions as JSON lines.

Input is a CSV with the header `timestamp,metric,value` (timestamp in unix seconds, metric one of
`rules.METRICS` or an old name in `rules.RENAMED_METRICS`). Rows sharing a timestamp form one evaluation,
evaluations run in time order, and the samples' own timestamps are the engine's clock, so a replay behaves
exactly like the live loop did.
The CSV carries no request_count, so ratio rules run without their minimum-traffic guard: a recorded
failure_percent is taken as already past it. Bad input stops the replay with the line number (exit code 2).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from healthmon.analysis.alerts import AlertEngine, Transition
from healthmon.analysis.rules import METRICS, Rule, ThresholdRule, canonical_metric, default_rules, load_rules

HEADER = ["timestamp", "metric", "value"]


class ReplayError(ValueError):
    """Input the replay cannot use; the message names the line."""


def _number(text: str, what: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ReplayError(f"{where}: {what} {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise ReplayError(f"{where}: {what} {text.strip()!r} is not a finite number")
    return value


def read_samples(lines: Iterable[str], source: str = "<csv>") -> list[tuple[float, dict[str, float]]]:
    """Parse the CSV into (timestamp, {metric: value}) evaluations, sorted by time."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or [cell.strip() for cell in header] != HEADER:
        raise ReplayError(f"{source}:1: expected the header 'timestamp,metric,value', got {','.join(header or [])!r}")
    cycles: dict[float, dict[str, float]] = {}
    for row in reader:
        where = f"{source}:{reader.line_num}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 3:
            raise ReplayError(f"{where}: expected 3 columns (timestamp,metric,value), got {len(row)}")
        ts = _number(row[0], "timestamp", where)
        metric = canonical_metric(row[1].strip())
        if metric not in METRICS:
            raise ReplayError(f"{where}: unknown metric {metric!r}; known: {', '.join(METRICS)}")
        cycle = cycles.setdefault(ts, {})
        if metric in cycle:
            raise ReplayError(f"{where}: second value for {metric} at timestamp {row[0].strip()}")
        cycle[metric] = _number(row[2], "value", where)
    return sorted(cycles.items())


def without_traffic_guard(rules: Iterable[Rule]) -> list[Rule]:
    """The rules with min_traffic removed: recordings have no request_count to check it against."""
    return [dataclasses.replace(rule, min_traffic=None) if isinstance(rule, ThresholdRule) else rule for rule in rules]


def replay(samples: Iterable[tuple[float, dict[str, float]]], rules: Iterable[Rule]) -> Iterator[Transition]:
    """Feed every evaluation to one fresh engine, yielding transitions as they happen."""
    engine = AlertEngine(without_traffic_guard(rules))
    for ts, metrics in samples:
        yield from engine.evaluate(ts, metrics)


def run(args: argparse.Namespace) -> int:
    """The `replay` command: JSON lines on stdout, errors on stderr with exit code 2."""
    try:
        rules = load_rules(args.rules) if args.rules else default_rules()
        with open(args.file, encoding="utf-8", newline="") as handle:
            samples = read_samples(handle, str(args.file))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"healthmon replay: {exc}", file=sys.stderr)
        return 2
    try:
        for transition in replay(samples, rules):
            sys.stdout.write(json.dumps(dataclasses.asdict(transition)) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader has all it wants
        sys.stderr.close()
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register `replay` on the CLI's subcommands."""
    parser = commands.add_parser("replay", help="replay a CSV of samples through the alert rules",
                                 description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="CSV with header timestamp,metric,value")
    parser.add_argument("--rules", type=Path, help="rules file (.toml or .json); default: the built-in rules")
    parser.set_defaults(run=run)
