"""Properties over arbitrary value sequences: clean state sequences, never two open alerts for one rule."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from healthmon.analysis.alerts import AlertEngine
from healthmon.analysis.rules import BaselineRule, ForecastRule, ThresholdRule, default_rules

SMALL_RULES = [
    ThresholdRule(name="mem_warn", metric="memory_usage", op=">", fire=80, resolve=75, for_samples=2, for_seconds=5),
    ThresholdRule(name="mem_crit", metric="memory_usage", op=">", fire=90, resolve=85, level="critical",
                  for_samples=1, for_seconds=0, keep_firing_seconds=10),
    BaselineRule(name="mem_base", metric="memory_usage", bad_direction="up", window_seconds=300, max_samples=40,
                 warmup_samples=5, for_samples=2, for_seconds=0, relearn_seconds=200),
    ForecastRule(name="mem_fore", metric="memory_usage", threshold=90, min_samples=3, min_span_seconds=10,
                 fit_window_seconds=120, for_samples=1, for_seconds=0, min_r2=0.5),
]
NEXT_STATES = {None: {"pending", "firing"}, "pending": {"firing"}, "firing": {"resolved"}}

values = st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False),
                   st.sampled_from([70.0, 79.0, 81.0, 86.0, 89.0, 91.0, 95.0]))
steps = st.lists(st.tuples(values, st.floats(min_value=0.5, max_value=400)), max_size=250)


def check(engine: AlertEngine, sequence: list[tuple[float | None, float]]) -> None:
    ts = 0.0
    last_state: dict[str, str | None] = {}
    for value, gap in sequence:
        ts += gap
        for transition in engine.evaluate(ts, {"memory_usage": value, "cpu_usage": value}):
            previous = last_state.get(transition.alert_id)
            assert transition.state != previous
            assert transition.state in NEXT_STATES[previous], (previous, transition.state)
            last_state[transition.alert_id] = transition.state
        open_rules = [a.rule for a in engine.all_alerts() if a.state != "resolved"]
        assert len(open_rules) == len(set(open_rules))
    ids = [a.id for a in engine.all_alerts()]
    assert len(ids) == len(set(ids))


@settings(max_examples=150, deadline=None)
@given(steps)
def test_small_rules_keep_a_clean_lifecycle(sequence: list[tuple[float | None, float]]) -> None:
    check(AlertEngine(SMALL_RULES), sequence)


@settings(max_examples=75, deadline=None)
@given(steps)
def test_default_rules_keep_a_clean_lifecycle(sequence: list[tuple[float | None, float]]) -> None:
    check(AlertEngine(default_rules()), sequence)
