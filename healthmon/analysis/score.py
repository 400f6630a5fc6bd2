"""Health score: a weighted mean of the component scores that have data, each 0-100.

The seed started at 100 and added weighted parts, so it sat at 100. Here a component with no data is
left out and the remaining weights renormalized; with no component at all the score is None (no_data).

Each input is scored by a piecewise-linear curve between a `good` value (100) and a `bad` value (0):
defaults follow the original design's alert thresholds so the score and the alerts agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from healthmon.curve import Curve


@dataclass(frozen=True)
class Component:
    name: str
    weight: float
    curves: Mapping[str, Curve]  # input metric -> curve; the component is the mean of its scored inputs


# Why these defaults: resources matter only near saturation (CPU at 85% is the seed's warning, memory at
# 90% and disk at 95% its criticals); latency and throughput carry the users' experience, so the model and
# service components weigh more than the machine. Quality joins when its layer reports.
DEFAULT_COMPONENTS: tuple[Component, ...] = (
    Component("system", 0.25, {
        "cpu_usage": Curve(good=70.0, bad=100.0),
        "memory_usage": Curve(good=75.0, bad=95.0),
        "disk_usage": Curve(good=85.0, bad=98.0),
        "gpu_memory_usage": Curve(good=85.0, bad=99.0),
    }),
    # No whole-request latency here: it grows with the answer's length (128 tokens take 6-7 s on a laptop CPU,
    # which scored "bad" on every normal answer). Time per output token and time to first token do not.
    Component("model", 0.30, {
        "model_loaded": Curve(good=1.0, bad=0.0),
        "inter_token_latency_seconds": Curve(good=0.05, bad=0.5),  # 20 tokens/s reads faster than people do; 2 not
        # the users' throughput over the stats window: steadier than the last interval's, and without probes
        "window_tokens_per_second": Curve(good=20.0, bad=2.0),  # the seed warns under 10
    }),
    Component("service", 0.30, {
        "failure_percent": Curve(good=0.0, bad=20.0),  # percent; the seed warns over 10 %
        "ttft_p95_seconds": Curve(good=0.5, bad=5.0),
    }),
    Component("quality", 0.15, {
        "quality_score": Curve(good=80.0, bad=30.0),
    }),
)


@dataclass(frozen=True)
class ScoreResult:
    score: float | None
    components: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "components": self.components}


def health_score(metrics: Mapping[str, float | None],
                 components: tuple[Component, ...] = DEFAULT_COMPONENTS) -> ScoreResult:
    """Score what is measured; report each component with its weight, normalized weight and inputs."""
    scored: list[dict[str, Any]] = []
    for component in components:
        inputs = {name: value for name in component.curves if (value := metrics.get(name)) is not None}
        if not inputs:
            continue
        parts = [component.curves[name](float(value)) for name, value in inputs.items()]
        scored.append({"component": component.name, "score": round(sum(parts) / len(parts), 2),
                       "weight": component.weight, "inputs": inputs})
    total_weight = sum(item["weight"] for item in scored)
    if total_weight <= 0:
        return ScoreResult(None, [])
    for item in scored:
        item["normalized_weight"] = round(item["weight"] / total_weight, 4)
    score = round(sum(item["score"] * item["weight"] for item in scored) / total_weight, 2)
    return ScoreResult(score, scored)


def is_starting(model_status: str, ever_loaded: bool) -> bool:
    """The first load is under way: a model that is still loading is not a failing service (the first
    conversion of the packaged model takes ~30 s), so the model component waits until it has loaded once."""
    return not ever_loaded and model_status in ("not_loaded", "loading")


def without_model(metrics: Mapping[str, float | None]) -> dict[str, float | None]:
    """The metrics with the model component's inputs left out, for the score while starting."""
    model_inputs = next(c.curves for c in DEFAULT_COMPONENTS if c.name == "model")
    return {name: value for name, value in metrics.items() if name not in model_inputs}


HEALTHY_FROM, WARNING_FROM = 80.0, 60.0  # score bands: healthy at 80 and above, warning from 60, critical below
SCORE_BANDS = ((0.0, WARNING_FROM, "critical"), (WARNING_FROM, HEALTHY_FROM, "warning"),
               (HEALTHY_FROM, 100.0, "healthy"))


def status_from(score: float | None, firing_levels: list[str], starting: bool = False) -> str:
    """A firing critical alert makes the status critical whatever the score; a warning caps it at warning;
    while starting, nothing worse than that is claimed."""
    if "critical" in firing_levels:
        return "critical"
    if starting:
        return "warning" if "warning" in firing_levels else "starting"
    if score is None:
        return "no_data"
    status = next(band for low, high, band in reversed(SCORE_BANDS) if score >= low)
    if status == "healthy" and "warning" in firing_levels:
        return "warning"
    return status
