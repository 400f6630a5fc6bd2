"""The Overview page's score breakdown: one row per scored component of the latest cycle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from healthmon.ui.format import NO_DATA
from healthmon.ui.shaping import Translate


def inputs_text(inputs: Mapping[str, Any] | None) -> str:
    """A component's inputs on one line, three significant digits each: what its score was computed from."""
    return ", ".join(f"{name} = {NO_DATA if value is None else f'{value:.3g}'}"
                     for name, value in (inputs or {}).items())


def breakdown_table(components: Sequence[Mapping[str, Any]], words: Translate) -> pd.DataFrame:
    """health_score's components (payloads.status_payload's `score_components`) with their weights and inputs."""
    columns = [words("component"), words("score"), words("weight"), words("inputs")]
    rows = [(words(c["component"]), c.get("score"), c.get("normalized_weight"), inputs_text(c.get("inputs")))
            for c in components]
    return pd.DataFrame(rows, columns=columns)


def sparkline_range(values: pd.Series) -> tuple[float, float] | None:
    """A tile's sparkline y range: the values' span with a margin, so a flat stretch at the top or bottom is not
    clipped at the edge, and at least a tenth of the values' size, so a 1 % wobble is not drawn as a cliff.
    None without numbers (Plotly's own range then)."""
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    if numbers.empty:
        return None
    low, high = float(numbers.min()), float(numbers.max())
    span = max(high - low, 0.1 * max(abs(low), abs(high)), 1e-9 if high else 1.0)
    middle, half = (low + high) / 2, span / 2 * 1.2
    return middle - half, middle + half
