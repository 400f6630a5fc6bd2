"""The alert engine: Prometheus/Alertmanager lifecycle over rule conditions, with the clock injected.

Each `evaluate(ts, metrics)` call is one collection cycle. A rule's condition is a Schmitt trigger: on
with a breaching sample, off with a clear one (past the resolve level for threshold rules), unchanged by
samples in the band between, so a value hovering at its limit neither flaps nor escapes `for`.
Per rule there is at most one open alert:
- inactive -> pending on a breaching sample; id `f"{rule}-{int(started_at)}"`, unique per episode so a
  store keyed by id keeps each one (`-2`, `-3` if a second repeats); a re-fire is a new instance;
- pending -> firing on a breaching sample once the condition has held >= for_samples samples AND
  >= for_seconds (for_samples=1, for_seconds=0 fires at once with no pending, like Prometheus `for: 0`);
- pending whose condition clears is dropped silently, as Prometheus drops an unfired alert: its
  "pending" transition is its only trace, so treat pending as transient and read `pending()`;
- firing -> resolved once clear samples have lasted keep_firing_seconds (0: the first clear sample).

No data (None, NaN, metric absent) and ratio rules at or below min_traffic (a missing request_count is
no traffic) give no verdict: they neither advance nor resolve, so a dead collector cannot resolve an
incident. Inputs are gauges; gaps and counter resets are the detectors' business (baseline.py,
forecast.py). A timestamp before the previous call (clock stepped back) drops pending alerts.

Notification layer (Alertmanager semantics): every transition is returned, but notify is false for
pending ones, and `active()` omits the alert, while it is inhibited (a firing critical on the same metric
mutes its warnings) or silenced (`silence(matcher, until_ts)` on a rule name or metric). A forecast is
moot once a threshold alert for the same crossing is pending or firing: it is resolved ("superseded
by ...") rather than muted, because the predicted event is here.
"""

from __future__ import annotations

import math
import numbers
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from healthmon.analysis.baseline import RobustBaseline
from healthmon.analysis.forecast import TrendWindow, judge
from healthmon.analysis.messages import Message
from healthmon.analysis.rules import (
    TRAFFIC_METRIC,
    BaselineRule,
    BurnRateRule,
    Condition,
    ForecastRule,
    Rule,
    ThresholdRule,
)

LEVEL_RANK = {"critical": 0, "warning": 1}
_KIND_ORDER = {"threshold": 0, "burn_rate": 0, "baseline": 1, "forecast": 2}  # thresholds first: forecasts check them
# `<metric>:traces` beside a metric in evaluate()'s input: the trace ids of the requests behind its value,
# named in the alert's message so a person can open them.
EVIDENCE_SUFFIX = ":traces"
STORE_KEYS = ("id", "rule", "metric", "level", "kind", "state", "message", "value", "started_at", "fired_at",
              "resolved_at", "acknowledged", "silenced_until", "labels", "message_key", "message_args")


@dataclass
class Alert:
    """One episode of one rule, from pending to resolved."""

    id: str
    rule: str
    metric: str
    level: str
    kind: str
    state: str  # pending | firing | resolved
    message: str
    value: float | None
    started_at: float
    fired_at: float | None = None
    resolved_at: float | None = None
    acknowledged: bool = False
    silenced_until: float | None = None
    inhibited: bool = False  # recomputed every cycle, so not persisted
    labels: dict[str, str] = field(default_factory=dict)
    # `message` as a key and its values (analysis/messages.py), for pages to word in their reader's language;
    # `message` itself stays English, for the webhook and the log. "" for alerts stored before keys existed.
    message_key: str = ""
    message_args: dict[str, Any] = field(default_factory=dict)

    def say(self, message: Message | None) -> None:
        """Set the message: its English text, and its key and values."""
        self.message = "" if message is None else message.english()
        self.message_key = "" if message is None else message.key
        self.message_args = {} if message is None else message.to_args()

    def worded(self) -> Message:
        """The message as a key and values; the English text as it is for an alert stored without a key."""
        return Message.from_stored(self.message_key, self.message_args) if self.message_key else \
            Message("{text}", {"text": self.message})

    def to_dict(self) -> dict[str, Any]:
        """The store's row shape (derived flags such as `inhibited` are left out)."""
        return {key: getattr(self, key) for key in STORE_KEYS} | {"labels": dict(self.labels),
                                                                  "message_args": dict(self.message_args)}


@dataclass(frozen=True)
class Transition:
    """A state change to record and, when notify is true, to tell someone about."""

    ts: float
    alert_id: str
    metric: str
    state: str  # pending | firing | resolved
    level: str
    kind: str
    message: str
    value: float | None
    notify: bool = True  # false for pending, and while the alert is silenced or inhibited

@dataclass
class _Slot:
    """A rule, its detector state, and its open alert (at most one)."""

    rule: Rule
    detector: RobustBaseline | TrendWindow | None
    alert: Alert | None = None
    streak: int = 0  # samples the pending alert's condition has held (breach or band)
    clear_since: float | None = None  # when a firing alert's resolve condition started holding
    last_id_base: str = ""
    id_repeats: int = 0


def _finite(value: Any) -> float | None:
    """A usable sample or None: missing, None, NaN, inf and non-numbers all mean 'no data this cycle'."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return None
    return float(value) if math.isfinite(value) else None


def _detector(rule: Rule) -> RobustBaseline | TrendWindow | None:
    """The per-metric state a rule kind needs: a learned baseline, a trend window, or none."""
    if isinstance(rule, BaselineRule):
        return RobustBaseline(rule)
    return TrendWindow(rule.fit_window_seconds) if isinstance(rule, ForecastRule) else None


class AlertEngine:
    """Turns per-cycle metric values into alert transitions; keeps open alerts and recent history."""

    def __init__(self, rules: Iterable[Rule], history_size: int = 500) -> None:
        ordered = sorted(rules, key=lambda rule: _KIND_ORDER[rule.kind])
        names = [rule.name for rule in ordered]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate rule names: {sorted({n for n in names if names.count(n) > 1})}")
        self._slots = [_Slot(rule, _detector(rule)) for rule in ordered]
        self._by_name = {slot.rule.name: slot for slot in self._slots}
        self._owners = {slot.rule.name: self._threshold_owners(slot.rule) for slot in self._slots
                        if isinstance(slot.rule, ForecastRule)}
        self._resolved: deque[Alert] = deque(maxlen=history_size)
        self._silences: dict[str, float] = {}  # matcher (rule name or metric) -> until_ts
        self._last_ts: float | None = None

    @property
    def rules(self) -> list[Rule]:
        """The rules this engine evaluates, thresholds first."""
        return [slot.rule for slot in self._slots]

    def baseline_bands(self) -> dict[str, tuple[float, float]]:
        """{metric: (low, high)} of each learned baseline that has finished warming up (the first rule per
        metric), for charts to shade."""
        bands: dict[str, tuple[float, float]] = {}
        for slot in self._slots:
            if isinstance(slot.detector, RobustBaseline) and slot.rule.metric not in bands:
                band = slot.detector.band()
                if band is not None:
                    bands[slot.rule.metric] = band
        return bands

    def _threshold_owners(self, rule: ForecastRule) -> list[_Slot]:
        """Threshold rules that report the crossing this forecast predicts (same metric, at or past it)."""
        sign = 1.0 if rule.op == ">" else -1.0
        return [s for s in self._slots if isinstance(s.rule, ThresholdRule) and s.rule.metric == rule.metric
                and s.rule.op == rule.op and sign * (s.rule.fire - rule.threshold) >= 0]

    def evaluate(self, ts: float, metrics: Mapping[str, float | None]) -> list[Transition]:
        """Run every rule on this cycle's values; return the transitions in rule order."""
        if self._last_ts is not None and ts < self._last_ts:
            for slot in self._slots:
                if slot.alert is not None and slot.alert.state == "pending":
                    slot.alert = None
                slot.clear_since = None
        self._last_ts = ts
        changes: list[tuple[Alert, str]] = []
        for slot in self._slots:
            value = _finite(metrics.get(slot.rule.metric))
            condition, message = self._condition(slot, ts, value, metrics)
            traces = metrics.get(slot.rule.metric + EVIDENCE_SUFFIX)
            if message is not None and isinstance(traces, (list, tuple)) and traces:
                message = Message("{message}; traces {traces}", {"message": message,
                                                                  "traces": ", ".join(map(str, traces))})
            owner = next((s.alert for s in self._owners.get(slot.rule.name, ()) if s.alert is not None), None)
            if owner is not None:
                self._close(slot, ts, Message("superseded by {id}: {message}",
                                              {"id": owner.id, "message": owner.worded()}), changes)
            else:
                self._step(slot, ts, condition, value, message, changes)
        self._apply_flags(ts, [alert for alert, _ in changes])
        return [Transition(ts, a.id, a.metric, state, a.level, a.kind, a.message, a.value,
                           state != "pending" and not self._muted(a, ts)) for a, state in changes]

    def _condition(self, slot: _Slot, ts: float, value: float | None,
                   metrics: Mapping[str, float | None]) -> tuple[Condition, Message | None]:
        """Feed the rule's detector and classify the sample, with a message that says why."""
        rule = slot.rule
        if value is None:
            return Condition.UNKNOWN, None
        if isinstance(rule, ThresholdRule):
            if rule.min_traffic is not None:
                traffic = _finite(metrics.get(TRAFFIC_METRIC))
                if traffic is None or traffic <= rule.min_traffic:
                    return Condition.UNKNOWN, None
            condition = rule.condition(value)
            wanted = slot.alert is not None or condition is Condition.BREACH  # skip formatting when unused
            return condition, rule.describe(value) if wanted else None
        if isinstance(rule, BurnRateRule):
            short = _finite(metrics.get(rule.short_metric))
            if short is None:
                return Condition.UNKNOWN, None
            condition = rule.condition(value, short)
            wanted = slot.alert is not None or condition is Condition.BREACH
            return condition, rule.describe(value, short) if wanted else None
        if isinstance(slot.detector, RobustBaseline):
            verdict = slot.detector.observe(ts, value)
            wanted = slot.alert is not None or verdict.condition is Condition.BREACH
            return verdict.condition, verdict.describe(rule.metric, value) if wanted else None
        assert isinstance(slot.detector, TrendWindow) and isinstance(rule, ForecastRule)
        slot.detector.add(ts, value)
        return judge(rule, slot.detector, value)

    def _step(self, slot: _Slot, ts: float, condition: Condition, value: float | None, message: Message | None,
              changes: list[tuple[Alert, str]]) -> None:
        """Advance one rule's lifecycle by one sample."""
        if condition is Condition.UNKNOWN:
            return
        alert, rule = slot.alert, slot.rule
        if alert is None:
            if condition is not Condition.BREACH:
                return
            alert = slot.alert = self._open(slot, ts)
            slot.streak = 0
        alert.value = value
        alert.say(message)
        if alert.state == "pending":
            if condition is Condition.CLEAR:
                slot.alert = None  # an unfired alert vanishes silently (module docstring)
                return
            slot.streak += 1
            held = slot.streak >= rule.for_samples and ts - alert.started_at >= rule.for_seconds
            if held and condition is Condition.BREACH:
                alert.state, alert.fired_at = "firing", ts
                changes.append((alert, "firing"))
            elif slot.streak == 1:
                changes.append((alert, "pending"))
        elif condition is Condition.CLEAR:
            slot.clear_since = ts if slot.clear_since is None else slot.clear_since
            if ts - slot.clear_since >= rule.keep_firing_seconds:
                self._close(slot, ts, Message("resolved: {message}", {"message": message or Message("")}), changes)
        else:
            slot.clear_since = None

    def _open(self, slot: _Slot, ts: float) -> Alert:
        """A new pending instance, its id unique per episode (module docstring)."""
        rule, base = slot.rule, f"{slot.rule.name}-{int(ts)}"
        slot.id_repeats, slot.last_id_base = (slot.id_repeats + 1 if base == slot.last_id_base else 1), base
        alert_id = base if slot.id_repeats == 1 else f"{base}-{slot.id_repeats}"
        return Alert(alert_id, rule.name, rule.metric, rule.level, rule.kind, "pending", "", None, ts,
                     labels={"metric": rule.metric})

    def _close(self, slot: _Slot, ts: float, message: Message, changes: list[tuple[Alert, str]]) -> None:
        """End the open alert: resolve it if it fired, drop it if it was only pending."""
        alert = slot.alert
        slot.alert, slot.streak, slot.clear_since = None, 0, None
        if alert is None or alert.state != "firing":
            return
        alert.state, alert.resolved_at = "resolved", ts
        alert.say(message)
        self._resolved.append(alert)
        changes.append((alert, "resolved"))

    def _open_alerts(self) -> list[Alert]:
        return [slot.alert for slot in self._slots if slot.alert is not None]

    def _silenced_until(self, alert: Alert, ts: float) -> float | None:
        ends = [until for matcher, until in self._silences.items()
                if until > ts and matcher in (alert.rule, alert.metric)]
        return max(ends) if ends else None

    def _muted(self, alert: Alert, ts: float) -> bool:
        return alert.inhibited or self._silenced_until(alert, ts) is not None

    def _apply_flags(self, ts: float, also: Iterable[Alert] = ()) -> None:
        """Recompute inhibition and silence flags; forget expired silences."""
        self._silences = {m: until for m, until in self._silences.items() if until > ts}
        critical = {a.metric for a in self._open_alerts() if a.state == "firing" and a.level == "critical"}
        for alert in [*self._open_alerts(), *also]:
            alert.inhibited = alert.level == "warning" and alert.metric in critical
            alert.silenced_until = self._silenced_until(alert, ts)

    def get(self, alert_id: str) -> Alert | None:
        """An open or recently resolved alert by id (None for unknown ids and dropped pending alerts)."""
        return next((alert for alert in reversed(self.all_alerts()) if alert.id == alert_id), None)

    def acknowledge(self, alert_id: str) -> bool:
        """Mark an alert as seen by a person; it stays active. False if the id is unknown."""
        alert = self.get(alert_id)
        if alert is not None:
            alert.acknowledged = True
        return alert is not None

    def silence(self, matcher: str, until_ts: float) -> None:
        """Mute alerts of a rule name or metric until `until_ts` (a past time lifts the silence)."""
        known = {slot.rule.name for slot in self._slots} | {slot.rule.metric for slot in self._slots}
        if matcher not in known:
            raise ValueError(f"silence matcher {matcher!r} is neither a rule name nor a metric with rules")
        self._silences[matcher] = until_ts
        self._apply_flags(self._last_ts if self._last_ts is not None else -math.inf)

    def active(self, ts: float) -> list[Alert]:
        """Firing alerts someone should hear about at `ts`: not inhibited, not silenced; worst first."""
        shown = [a for a in self._open_alerts() if a.state == "firing" and not self._muted(a, ts)]
        return sorted(shown, key=lambda a: (LEVEL_RANK[a.level], a.fired_at or a.started_at, a.id))

    def pending(self) -> list[Alert]:
        """Alerts whose condition holds but has not held long enough yet."""
        return [a for a in self._open_alerts() if a.state == "pending"]

    def all_alerts(self) -> list[Alert]:
        """Recent resolved alerts (oldest first, bounded by history_size), then the open ones."""
        return [*self._resolved, *self._open_alerts()]

    def restore(self, alerts: Iterable[Mapping[str, Any]]) -> list[str]:
        """Reload persisted firing alerts after a restart without re-notifying; returns the skipped ids.

        Skipped: rows not firing (pending is transient), of rules no longer configured, unparsable, or a
        second open row for a rule. A restored baseline alert stays firing until its baseline re-warms.
        """
        skipped: list[str] = []
        for row in alerts:
            slot = self._by_name.get(str(row.get("rule")))
            try:
                if row.get("state") != "firing" or slot is None or slot.alert is not None:
                    raise ValueError("not restorable")
                rule, value, until = slot.rule, row.get("value"), row.get("silenced_until")
                alert = Alert(str(row["id"]), rule.name, rule.metric, rule.level, rule.kind, "firing",
                              str(row.get("message", "")), None if value is None else float(value),
                              float(row["started_at"]), float(row.get("fired_at") or row["started_at"]),
                              acknowledged=bool(row.get("acknowledged", False)),
                              labels=dict(row.get("labels") or {"metric": rule.metric}),
                              message_key=str(row.get("message_key") or ""),
                              message_args=dict(row.get("message_args") or {}))
                if until is not None:
                    self._silences[rule.name] = max(float(until), self._silences.get(rule.name, -math.inf))
                slot.alert = alert
            except (KeyError, TypeError, ValueError):
                skipped.append(str(row.get("id")))
        self._apply_flags(self._last_ts if self._last_ts is not None else -math.inf)
        return skipped
