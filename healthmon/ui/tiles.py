"""Overview tiles: a figure, its change over the shared window, and a sparkline of that window."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from healthmon.catalog import spec


@dataclass(frozen=True)
class Tile:
    label: str
    layer: str
    column: str
    unit: str
    digits: int = 1
    higher_is_worse: bool = True
    scale: float = 1.0  # display = stored value * scale (seconds shown as ms)

    @classmethod
    def of(cls, key: str, digits: int = 1, *, unit: str | None = None, scale: float = 1.0) -> Tile:
        """A catalog metric's tile: label, layer, unit and which way is worse as the catalog declares them."""
        metric = spec(key)
        shown_unit = unit if unit is not None else f" {metric.unit}" if metric.unit else ""
        return cls(metric.label, metric.layer, key, shown_unit, digits, metric.good != "high", scale)


def tile_figures(frame: pd.DataFrame, tile: Tile) -> tuple[float | None, float | None]:
    """(latest value, change since the window's first value), both scaled; None where there is no data."""
    if frame.empty or tile.column not in frame:
        return None, None
    series = frame[tile.column].dropna()
    if series.empty:
        return None, None
    latest, first = float(series.iloc[-1]) * tile.scale, float(series.iloc[0]) * tile.scale
    change = latest - first if len(series) > 1 else None
    return latest, (None if change is not None and abs(change) < 1e-9 else change)  # no arrow for "no change"
