"""The Alerts page's data: each alert's layer, the filters' choices, the alerts and rules tables, the level
column's colors, and what a silence may name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import tzinfo
from typing import Any

import pandas as pd

from healthmon.analysis.messages import Message, render
from healthmon.analysis.rules import (
    METRICS,
    BaselineRule,
    BurnRateRule,
    ForecastRule,
    Rule,
    ThresholdRule,
    format_value,
)
from healthmon.catalog import spec
from healthmon.charts import LEVEL_COLORS
from healthmon.ui.format import local_time
from healthmon.ui.shaping import Translate

LAYERS = ("system", "model", "service", "quality", "slo")
METRIC_LAYERS = {  # every metric a rule may watch, by its catalog layer; the Alerts page files GPUs under system
    metric: "system" if spec(metric).layer == "gpu" else spec(metric).layer for metric in METRICS}
OPEN_STATES = ("pending", "firing")


def alert_layer(metric: str) -> str:
    """The layer the Alerts page files a metric's alerts under; "other" for a metric no rule may watch now."""
    return METRIC_LAYERS.get(metric, "other")


def layer_options(alerts: Iterable[Mapping[str, Any]]) -> list[str]:
    """The layers, plus any other an old stored alert names, so no alert can be filtered out for good."""
    extra = sorted({alert_layer(a["metric"]) for a in alerts} - set(LAYERS))
    return [*LAYERS, *extra]


def filter_alerts(alerts: Iterable[Mapping[str, Any]], levels: Iterable[str], layers: Iterable[str]
                  ) -> list[Mapping[str, Any]]:
    """The alerts of the chosen levels and layers, in their order."""
    levels, layers = set(levels), set(layers)
    return [a for a in alerts if a["level"] in levels and alert_layer(a["metric"]) in layers]


def alert_message(alert: Mapping[str, Any], words: Translate) -> str:
    """An alert's message in the page's language, from its key and values; an alert stored before messages had
    keys shows its stored (English) text."""
    key = alert.get("message_key")
    if not key:
        return str(alert.get("message") or "")
    args = alert.get("message_args")
    return render(Message.from_stored(str(key), args if isinstance(args, Mapping) else None), words)


def alerts_frame(alerts: Sequence[Mapping[str, Any]], zone: tzinfo, words: Translate | None = None) -> pd.DataFrame:
    """One row per alert in the given order, messages worded by `words` (English without); stored alerts lack the
    live-only keys, hence the .get()s."""
    words = words or (lambda text: text)
    rows = [{
        "level": a["level"], "layer": alert_layer(a["metric"]), "kind": a["kind"], "state": a["state"],
        "rule": a["rule"], "message": alert_message(a, words), "started": local_time(a.get("started_at"), zone),
        "ended": local_time(a.get("resolved_at"), zone), "acknowledged": bool(a.get("acknowledged")),
        "silenced_until": local_time(a.get("silenced_until"), zone), "id": a["id"],
    } for a in alerts]
    return pd.DataFrame(rows, columns=["level", "layer", "kind", "state", "rule", "message", "started", "ended",
                                       "acknowledged", "silenced_until", "id"])


def level_css(levels: Iterable[str]) -> list[str]:
    """Per-cell CSS for a level column, for a pandas Styler."""
    return [f"color: {LEVEL_COLORS.get(level, LEVEL_COLORS['no_data'])}; font-weight: 600" for level in levels]


def shown_value(metric: str, value: float, words: Translate) -> str:
    """A rule's limit with its unit, a worded unit ("of 5") in the page's language; symbols stay as they are."""
    text, unit = format_value(metric, value), spec(metric).unit
    if any(char.isalpha() for char in unit) and text.endswith(unit):
        return text.removesuffix(unit) + words(unit)  # the catalog's units; their entries are in alerts.json
    return text


def rule_condition(rule: Rule, words: Translate) -> str:
    """A rule's firing condition in one line, with units: what a person needs to judge an alert."""
    held = f"{words('for')} ≥ {rule.for_samples} {words('samples')}, {rule.for_seconds:g} s"
    if isinstance(rule, ThresholdRule):
        back = "<" if rule.op == ">" else ">"
        return (f"{rule.op} {shown_value(rule.metric, rule.fire, words)} · {words('resolve')} {back} "
                f"{shown_value(rule.metric, rule.resolve, words)} · {held}")
    if isinstance(rule, BurnRateRule):
        limit = shown_value(rule.metric, rule.factor, words)
        return f"{rule.metric} > {limit} {words('and')} {rule.short_metric} > {limit} · {held}"
    if isinstance(rule, BaselineRule):
        direction = words("worse when higher") if rule.bad_direction == "up" else words("worse when lower")
        return f"{words('learned baseline')}, {direction}, z > {rule.threshold:g} · {held}"
    assert isinstance(rule, ForecastRule)
    return (f"{words('predicted')} {rule.op} {shown_value(rule.metric, rule.threshold, words)} {words('within')} "
            f"{rule.horizon_seconds / 60:g} min · {held}")


def rules_frame(rules: Iterable[Rule], words: Translate) -> pd.DataFrame:
    """The rules watched, one row each, conditions and the default rules' reasons in the viewer's language (kinds
    and levels left as codes; a reason from the user's rules file as written)."""
    rows = [{"rule": r.name, "kind": r.kind, "metric": r.metric, "layer": alert_layer(r.metric), "level": r.level,
             "condition": rule_condition(r, words), "reason": words(r.reason)} for r in rules]
    return pd.DataFrame(rows, columns=["rule", "kind", "metric", "layer", "level", "condition", "reason"])


def silence_matchers(rules: Iterable[Rule]) -> list[str]:
    """What a silence may name: every rule, then every metric with rules (the engine accepts nothing else)."""
    rules = list(rules)
    return [*(r.name for r in rules), *dict.fromkeys(r.metric for r in rules)]
