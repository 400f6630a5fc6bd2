"""AlertService: the alert engine's lifecycle around the store and the webhook.

The engine (analysis/alerts.py) is pure; this service persists what it decides (firing and resolved
transitions, acknowledgements, silences), restores it after a restart, and notifies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from healthmon.analysis.alerts import AlertEngine
from healthmon.notify import WebhookNotifier
from healthmon.store.sqlite import HistoryStore

log = logging.getLogger("healthmon")


class AlertService:
    """Evaluates the rules each cycle, and answers the pages' and the API's alert questions."""

    def __init__(self, engine: AlertEngine, store: HistoryStore, notifier: WebhookNotifier | None,
                 clock: Callable[[], float]) -> None:
        self.engine, self._store, self._notifier, self._clock = engine, store, notifier, clock

    def restore(self) -> None:
        """Alerts firing when the process stopped keep firing after a restart, without a second notification,
        and silences still in force keep holding (as Alertmanager's do)."""
        try:
            skipped = self.engine.restore(self._store.load_alerts(states=["firing"]))
            if skipped:
                log.info("not restoring %d alerts whose rules no longer exist", len(skipped))
            for silence in self._store.load_silences(active_at=self._clock()):
                try:
                    self.engine.silence(silence["matcher"], silence["ends_at"])
                except ValueError:  # its rule or metric is no longer in the rules
                    log.info("not restoring the silence of %r: no rule matches it", silence["matcher"])
        except Exception:  # noqa: BLE001 - an unreadable history must not stop the monitor
            log.exception("could not restore alerts from history")

    def evaluate(self, ts: float, inputs: dict[str, Any]) -> None:
        """Run the rules; firing and resolved transitions are persisted (pending ones are live state only)."""
        try:
            for transition in self.engine.evaluate(ts, inputs):
                if transition.state == "pending":
                    continue
                log.log(logging.WARNING if transition.state == "firing" else logging.INFO, "alert %s %s: %s",
                        transition.alert_id, transition.state, transition.message)
                alert = self.engine.get(transition.alert_id)
                if alert is not None:
                    self._store.upsert_alert(alert.to_dict() | {"transition": transition.state,
                                                                "transition_at": transition.ts})
                if self._notifier is not None and transition.notify:
                    self._notifier.notify({"id": transition.alert_id, "state": transition.state, "ts": transition.ts,
                                           "metric": transition.metric, "level": transition.level,
                                           "kind": transition.kind, "message": transition.message,
                                           "value": transition.value, "source": "healthmon"})
        except Exception:  # noqa: BLE001
            log.exception("alert evaluation failed")

    def baseline_sample(self) -> dict[str, float]:
        """Each learned baseline's normal band after this cycle, as `<metric>_baseline_low/high`: history, so a
        chart shades the band as it was at each point rather than today's band over the whole window."""
        try:
            bands = self.engine.baseline_bands()
        except Exception:  # noqa: BLE001 - a chart decoration must not cost a cycle
            log.exception("reading the learned baselines failed")
            return {}
        return {f"{metric}_baseline_{side}": round(value, 6) for metric, (low, high) in bands.items()
                for side, value in (("low", low), ("high", high))}

    def active(self) -> list[Any]:
        """Firing, not silenced, worst first."""
        return list(self.engine.active(self._clock()))

    def acknowledge(self, alert_id: str) -> bool:
        """Mark an open alert as seen by a person; persisted so it survives a restart."""
        if not self.engine.acknowledge(alert_id):
            return False
        alert = self.engine.get(alert_id)
        if alert is not None:  # None only if it was dropped since acknowledge() found it
            self._store.upsert_alert(alert.to_dict() | {"transition": "acknowledged", "transition_at": self._clock()})
        return True

    def silence(self, matcher: str, duration_seconds: float) -> float:
        """Silence a rule name or a metric for a while, persisted so a restart keeps it; returns when the silence
        ends (unix seconds)."""
        now = self._clock()
        until = now + duration_seconds
        self.engine.silence(matcher, until)
        self._store.upsert_silence({"matcher": matcher, "starts_at": now, "ends_at": until, "created_at": now})
        return until

    def view(self, since: float) -> list[dict[str, Any]]:
        """Open alerts (live state, pending included) and the closed ones in history since `since`."""
        live = {a.id: a.to_dict() for a in self.engine.all_alerts() if a.state in ("pending", "firing")}
        stored = [a for a in self._store.load_alerts(since=since) if a["id"] not in live]
        return sorted(list(live.values()) + stored, key=lambda a: a.get("started_at") or 0, reverse=True)
