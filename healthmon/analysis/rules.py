"""Alert rules: what to watch, when to fire, when to resolve; the defaults and the rules-file loader.

A rules file (TOML or JSON, by suffix) holds the complete rule set; it does not merge with
`default_rules()`. It has up to three arrays of tables, one table per rule, keyed by the dataclass
fields below (omitted keys take the field default; unknown keys are an error)::

    baseline = [{name = "latency_learned", metric = "latency_seconds", bad_direction = "up"}]
    forecast = [{name = "memory_forecast", metric = "memory_usage", threshold = 90}]

    [[threshold]]
    name = "cpu_warning"
    metric = "cpu_usage"
    op = ">"            # fire above `fire`; "<" fires below it
    fire = 85
    resolve = 80        # hysteresis: a firing '>' alert resolves only below 80
    level = "warning"   # or "critical"
    for_seconds = 60

JSON has the same shape: {"threshold": [{...}], "baseline": [...], "forecast": [...]}. Every problem
raises ValueError naming the file, the rule (`threshold[0] (cpu_warning)`) and the field. A metric under
an old name (`RENAMED_METRICS`) is read as its new one: `tokens_per_second` in a rules file is the users'
throughput over the stats window, `window_tokens_per_second`, as it was before the rename; `inference_time` is
the model layer's mean whole-request time, `latency_seconds` (catalog.FORMER_KEYS).
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import MISSING, dataclass, fields
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

from healthmon.analysis.messages import Message
from healthmon.analysis.slo import BURN_RATE_ALERTS, burn_rate_metric
from healthmon.catalog import FORMER_KEYS, alertable, unit_suffix

METRICS = alertable()  # the catalog's metrics a rule may watch
# Old names a rules file or a replay recording may still use, read as the metric they meant: the service
# layer's throughput was `tokens_per_second` until it got a name of its own (the model layer keeps that one); the
# other former names are the catalog's (FORMER_KEYS).
RENAMED_METRICS = {"tokens_per_second": "window_tokens_per_second"} | {
    old: new for renames in FORMER_KEYS.values() for old, new in renames.items()}
TRAFFIC_METRIC = "request_count"  # requests in the failure-rate window, for the minimum-traffic guard
METRIC_UNITS = {metric: unit_suffix(metric) for metric in METRICS}
LEVELS = ("warning", "critical")
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]+$")


class Condition(Enum):
    """What one sample says about one rule; the engine turns a run of these into a lifecycle."""

    BREACH = "breach"  # the firing condition holds: starts or advances a pending alert
    BAND = "band"  # inside the hysteresis band: keeps a firing alert, breaks a pending streak
    CLEAR = "clear"  # the resolve condition holds: resolves a firing alert
    UNKNOWN = "unknown"  # no data, no traffic or still learning: neither advances nor resolves


def canonical_metric(name: str) -> str:
    """The metric an old name stands for (RENAMED_METRICS), else the name itself."""
    return RENAMED_METRICS.get(name, name)


def format_value(metric: str, value: float) -> str:
    """Render a value with its unit so messages read like 'memory_usage 92.5%' or 'ttft_seconds 0.21 s'."""
    number = f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}".removesuffix(".0")
    return number + METRIC_UNITS.get(metric, "")


def _require(ok: bool, field_name: str, problem: str, value: Any) -> None:
    if not ok:
        raise ValueError(f"{field_name}: {problem}, got {value!r}")


def _check_number(field_name: str, value: Any, minimum: float | None = None, integer: bool = False) -> None:
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    expected = "expected an integer" if integer else "expected a number"
    _require(is_number and (not integer or isinstance(value, int)), field_name, expected, value)
    _require(math.isfinite(value), field_name, "expected a finite number", value)
    if minimum is not None:
        _require(value >= minimum, field_name, f"must be at least {minimum:g}", value)


def _check_common(rule: Any) -> None:
    """Checks every rule kind shares, so a typo fails at load time instead of never firing."""
    valid_name = isinstance(rule.name, str) and bool(_NAME_PATTERN.match(rule.name))
    _require(valid_name, "name", "letters, digits, _ . : - only", rule.name)
    _require(rule.metric in METRICS, "metric", f"one of {', '.join(METRICS)}", rule.metric)
    _require(rule.level in LEVELS, "level", "'warning' or 'critical'", rule.level)
    _check_number("for_samples", rule.for_samples, minimum=1, integer=True)
    _check_number("for_seconds", rule.for_seconds, minimum=0)
    _check_number("keep_firing_seconds", rule.keep_firing_seconds, minimum=0)


@dataclass(frozen=True, kw_only=True)
class ThresholdRule:
    """A fixed limit with hysteresis: fires past `fire`, resolves only once back past `resolve`."""

    kind: ClassVar[str] = "threshold"
    name: str
    metric: str
    op: str  # '>' fires above `fire`, '<' fires below it
    fire: float
    resolve: float
    level: str = "warning"
    for_samples: int = 3
    for_seconds: float = 30.0
    min_traffic: int | None = None  # ratio rules: no verdict until request_count exceeds this
    keep_firing_seconds: float = 0.0
    reason: str = ""

    def __post_init__(self) -> None:
        _check_common(self)
        _require(self.op in (">", "<"), "op", "'>' or '<'", self.op)
        _check_number("fire", self.fire)
        _check_number("resolve", self.resolve)
        sane = self.resolve <= self.fire if self.op == ">" else self.resolve >= self.fire
        _require(sane, "resolve", f"must be on the healthy side of fire={self.fire:g} (op '{self.op}')", self.resolve)
        if self.min_traffic is not None:
            _check_number("min_traffic", self.min_traffic, minimum=0, integer=True)

    def describe(self, value: float) -> Message:
        """'memory_usage 92.5% (limit > 90%)': the value and the limit it is judged against."""
        return Message("{metric} {value} (limit {op} {limit})", {
            "metric": self.metric, "value": format_value(self.metric, value), "op": self.op,
            "limit": format_value(self.metric, self.fire)})

    def condition(self, value: float) -> Condition:
        """Classify one sample against the fire level and the hysteresis resolve level."""
        sign = 1.0 if self.op == ">" else -1.0
        if sign * (value - self.fire) > 0:
            return Condition.BREACH
        if sign * (value - self.resolve) < 0:
            return Condition.CLEAR
        return Condition.BAND


@dataclass(frozen=True, kw_only=True)
class BaselineRule:
    """A shift away from the metric's own learned normal (median/MAD), in the direction that hurts."""

    kind: ClassVar[str] = "baseline"
    name: str
    metric: str
    bad_direction: str  # 'up' (latency) or 'down' (throughput)
    level: str = "warning"
    window_seconds: float = 3600.0  # an hour: a half-hour incident cannot drag the median
    max_samples: int = 720  # an hour of 5 s samples; bounds memory and the per-sample median cost
    warmup_samples: int = 60  # five minutes of 5 s samples before any verdict
    threshold: float = 4.0  # robust z: deviation / (1.4826 * MAD)
    min_relative_change: float = 0.3  # and at least this fraction away from the median
    relearn_seconds: float = 6 * 3600.0  # a shift that persists this long becomes the new normal
    for_samples: int = 6  # a shift must last a minute: "within minutes", never on one slow request
    for_seconds: float = 60.0
    keep_firing_seconds: float = 60.0  # per-request latency is noisy; one normal sample is not recovery
    reason: str = ""

    def __post_init__(self) -> None:
        _check_common(self)
        _require(self.bad_direction in ("up", "down"), "bad_direction", "'up' or 'down'", self.bad_direction)
        _check_number("window_seconds", self.window_seconds, minimum=1)
        _check_number("max_samples", self.max_samples, minimum=3, integer=True)
        _check_number("warmup_samples", self.warmup_samples, minimum=3, integer=True)
        _require(self.warmup_samples <= self.max_samples, "warmup_samples",
                 f"must not exceed max_samples={self.max_samples}", self.warmup_samples)
        _check_number("threshold", self.threshold, minimum=0)
        _check_number("min_relative_change", self.min_relative_change, minimum=0)
        _check_number("relearn_seconds", self.relearn_seconds, minimum=0)


@dataclass(frozen=True, kw_only=True)
class ForecastRule:
    """A clear linear trend that will cross `threshold` within the horizon (Prometheus predict_linear)."""

    kind: ClassVar[str] = "forecast"
    name: str
    metric: str
    threshold: float
    op: str = ">"  # '>' warns while rising toward the threshold, '<' while falling toward it
    level: str = "warning"
    horizon_seconds: float = 1800.0  # half an hour: enough to act, short enough to believe a line
    fit_window_seconds: float = 1800.0
    min_samples: int = 30
    min_span_seconds: float = 600.0  # ten minutes of trend before extrapolating thirty
    min_r2: float = 0.8  # the line must explain most of the movement: no forecasts from noise
    for_samples: int = 3
    for_seconds: float = 60.0
    keep_firing_seconds: float = 0.0
    reason: str = ""

    def __post_init__(self) -> None:
        _check_common(self)
        _require(self.op in (">", "<"), "op", "'>' or '<'", self.op)
        _check_number("threshold", self.threshold)
        _check_number("horizon_seconds", self.horizon_seconds, minimum=1)
        _check_number("fit_window_seconds", self.fit_window_seconds, minimum=1)
        _check_number("min_samples", self.min_samples, minimum=3, integer=True)
        _check_number("min_span_seconds", self.min_span_seconds, minimum=0)
        _require(self.min_span_seconds <= self.fit_window_seconds, "min_span_seconds",
                 "must not exceed fit_window_seconds", self.min_span_seconds)
        _check_number("min_r2", self.min_r2, minimum=0)
        _require(self.min_r2 <= 1, "min_r2", "must be at most 1", self.min_r2)


@dataclass(frozen=True, kw_only=True)
class BurnRateRule:
    """The SLO's error budget burning faster than `factor` over a long window (`metric`) and a short one
    (`short_metric`) at once: the Google SRE workbook's multiwindow, multi-burn-rate alert. The long window makes
    it significant, the short one makes it current: once the burning stops the short window falls below `factor`
    within minutes and the alert resolves, where the long one would keep it firing for hours."""

    kind: ClassVar[str] = "burn_rate"
    name: str
    metric: str  # the long window's burn rate (slo layer)
    short_metric: str  # the short window's
    factor: float
    level: str = "critical"
    for_samples: int = 1  # the windows are the smoothing: a `for` would only delay the page
    for_seconds: float = 0.0
    keep_firing_seconds: float = 0.0
    reason: str = ""

    def __post_init__(self) -> None:
        _check_common(self)
        _require(self.short_metric in METRICS, "short_metric", f"one of {', '.join(METRICS)}", self.short_metric)
        _check_number("factor", self.factor, minimum=0)

    def condition(self, long_rate: float, short_rate: float) -> Condition:
        """Breach while both windows burn faster than the factor; clear as soon as either does not."""
        return Condition.BREACH if long_rate > self.factor and short_rate > self.factor else Condition.CLEAR

    def describe(self, long_rate: float, short_rate: float) -> Message:
        """'error budget burning: slo_burn_rate_1h 20 × and slo_burn_rate_5m 31 × (limit > 14.4 ×)'."""
        key = "error budget burning: {metric} {value} and {short_metric} {short_value} (limit > {limit})"
        return Message(key, {
            "metric": self.metric, "value": format_value(self.metric, long_rate), "short_metric": self.short_metric,
            "short_value": format_value(self.short_metric, short_rate),
            "limit": format_value(self.metric, self.factor)})


Rule = ThresholdRule | BaselineRule | ForecastRule | BurnRateRule
RULE_TYPES: dict[str, type] = {"threshold": ThresholdRule, "baseline": BaselineRule, "forecast": ForecastRule,
                               "burn_rate": BurnRateRule}
BURN_RATE_REASONS = {  # the SRE workbook's reading of each alert, for the Alerts page's rules table
    "slo_burn_rate_page_fast": "At this rate 2% of a 30-day error budget goes in an hour: page someone now.",
    "slo_burn_rate_page_slow": "At this rate 5% of a 30-day error budget goes in six hours: page someone.",
    "slo_burn_rate_ticket": "The error budget is going faster than it lasts the compliance window: file a ticket.",
}


def burn_rate_rules() -> list[Rule]:
    """The SLO's burn-rate alerts (analysis/slo.py's BURN_RATE_ALERTS) as rules on the slo layer's burn rates."""
    return [BurnRateRule(name=alert.name, metric=burn_rate_metric(alert.long_window),
                         short_metric=burn_rate_metric(alert.short_window), factor=alert.factor, level=alert.level,
                         reason=BURN_RATE_REASONS[alert.name]) for alert in BURN_RATE_ALERTS]


def default_rules() -> list[Rule]:
    """The original design's limits, made stateful, plus learned baselines and forecasts."""
    return [
        ThresholdRule(name="model_unavailable", metric="model_available", op="<", fire=0.5, resolve=0.5,
                      level="critical", for_samples=2, for_seconds=10,
                      reason="the model failed to load, or the remote server it is served by went away"),
        ThresholdRule(name="cpu_warning", metric="cpu_usage", op=">", fire=85, resolve=80, for_seconds=60,
                      keep_firing_seconds=60,
                      reason="Seed limit; CPU is spiky both ways, so it must hold (and clear) for a minute."),
        ThresholdRule(name="memory_warning", metric="memory_usage", op=">", fire=80, resolve=75,
                      reason="Early warning below the critical limit; silenced by memory_critical (inhibition)."),
        ThresholdRule(name="memory_critical", metric="memory_usage", op=">", fire=90, resolve=85, level="critical",
                      reason="Seed limit: above 90% the model process is one allocation away from OOM."),
        ThresholdRule(name="disk_critical", metric="disk_usage", op=">", fire=95, resolve=92, level="critical",
                      reason="Seed limit: a full disk stops history writes and model downloads."),
        ThresholdRule(name="gpu_memory_critical", metric="gpu_memory_usage", op=">", fire=95, resolve=90,
                      level="critical",
                      reason="The level gpu_memory_forecast predicts, so the forecast hands over to a real alert."),
        ThresholdRule(name="failure_rate_warning", metric="failure_percent", op=">", fire=10, resolve=5, min_traffic=10,
                      reason="Seed limit, only past 10 requests: 1 failure in 3 requests is not a 33% outage."),
        ThresholdRule(name="queue_filling", metric="queue_usage", op=">", fire=75, resolve=25, for_seconds=60,
                      reason="Requests keep waiting for the model: more load than it can take; past 100 % the "
                             "queue refuses new requests as busy."),
        # No fixed latency limit: a whole request's time grows with its answer (128 tokens take 6-7 s on a laptop
        # CPU), and what is slow depends on the hardware. Time to first token and time per output token do not
        # depend on the answer's length, and each is judged against its own history.
        BaselineRule(name="ttft_baseline", metric="ttft_seconds", bad_direction="up",
                     reason="Time to first token has no universal limit; only its own history says what is slow."),
        BaselineRule(name="time_per_output_token_baseline", metric="inter_token_latency_seconds", bad_direction="up",
                     reason="Decoding slower per token than this model's own normal (slower device, swapping, "
                            "contention), whatever the answers' lengths."),
        BaselineRule(name="throughput_baseline", metric="window_tokens_per_second", bad_direction="down",
                     reason="Throughput halving far above 10 tok/s is still a regression."),
        BaselineRule(name="quality_score_baseline", metric="quality_score", bad_direction="down", warmup_samples=30,
                     for_samples=3,
                     reason="Answers scoring well below this model's own normal; only cycles with finished "
                            "requests count."),
        BaselineRule(name="relevance_baseline", metric="relevance", bad_direction="down", warmup_samples=30,
                     for_samples=3,
                     reason="Answers drifting away from their prompts, against this model's own normal."),
        BaselineRule(name="perplexity_baseline", metric="perplexity", bad_direction="up", warmup_samples=30,
                     for_samples=3,
                     reason="The model finds its own output less likely than usual: sampling or weights changed."),
        ThresholdRule(name="degeneration_streak", metric="degenerate_recent", op=">", fire=2.5, resolve=1.5,
                      for_samples=1, for_seconds=0,
                      reason="3 of the last 5 answers loop or repeat themselves: the model is degenerating."),
        ThresholdRule(name="language_mismatch_streak", metric="language_mismatch_recent", op=">", fire=2.5, resolve=1.5,
                      for_samples=1, for_seconds=0,
                      reason="3 of the last 5 answers are not in the language their prompts asked for."),
        ThresholdRule(name="canary_drift_warning", metric="canary_drift_similarity", op="<", fire=0.8, resolve=0.9,
                      for_samples=2, for_seconds=0,
                      reason="Two canary answers in a row unlike the first one recorded: swapped model or broken "
                             "tokenizer."),
        ForecastRule(name="memory_forecast", metric="memory_usage", threshold=90,
                     reason="A leak is visible long before memory_critical; warn while there is time to act."),
        ForecastRule(name="disk_forecast", metric="disk_usage", threshold=95, fit_window_seconds=3600,
                     reason="Disks fill slowly and steadily; a longer fit sees the trend through log rotation."),
        ForecastRule(name="gpu_memory_forecast", metric="gpu_memory_usage", threshold=95,
                     reason="KV-cache growth runs out of GPU memory before any request fails."),
        *burn_rate_rules(),
    ]


def _build(section: str, index: int, table: Any) -> Rule:
    """One rules-file table to a rule, with errors that say which table and which field."""
    where = f"{section}[{index}]"
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table of fields, got {table!r}")
    where = f"{where} ({table['name']})" if isinstance(table.get("name"), str) else where
    cls = RULE_TYPES[section]
    table = table | {"metric": canonical_metric(table["metric"])} if isinstance(table.get("metric"), str) else table
    known = {f.name: f for f in fields(cls)}
    for key in table:
        if key not in known:
            raise ValueError(f"{where}: unknown field {key!r}; known: {', '.join(known)}")
    for name, f in known.items():
        if name not in table and f.default is MISSING:
            raise ValueError(f"{where}: missing required field {name!r}")
    try:
        return cls(**table)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def load_rules(path: str | Path) -> list[Rule]:
    """Read a complete rule set from a TOML or JSON file (format in the module docstring)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            raise ValueError(f"{path}: rules file must end in .toml or .json")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read rules: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: top level must be a table with threshold/baseline/forecast arrays")
    rules: list[Rule] = []
    for section, tables in data.items():
        if section not in RULE_TYPES:
            raise ValueError(f"{path}: unknown section {section!r}; known: {', '.join(RULE_TYPES)}")
        if not isinstance(tables, list):
            raise ValueError(f"{path}: {section} must be an array of tables")
        try:
            rules.extend(_build(section, index, table) for index, table in enumerate(tables))
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
    if not rules:
        raise ValueError(f"{path}: no rules defined")
    names = [rule.name for rule in rules]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{path}: duplicate rule name(s) {duplicates}")
    return rules
