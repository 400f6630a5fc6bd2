"""Curve: a value scored 0-100 between a good and a bad point, shared by the health score and answer quality."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Curve:
    """100 at `good`, 0 at `bad`, linear between; works in either direction (bad above or below good)."""

    good: float
    bad: float

    def __call__(self, value: float) -> float:
        span = self.bad - self.good
        fraction = (value - self.good) / span
        return round(100.0 * min(1.0, max(0.0, 1.0 - fraction)), 2)
