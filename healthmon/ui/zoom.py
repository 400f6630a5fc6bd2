"""Drag-to-zoom that outlives live refresh: a box dragged across a time chart becomes the page's time range.

Streamlit remounts a plotly_chart whenever its figure changes, so a zoom kept only in the browser is lost at
the next refresh. A box selection, though, reaches the server; held there as the session's zoom, every chart
on every page reads the zoomed range from the store at full resolution (2,000 points over ten minutes rather
than over a day) and keeps it until the user resets it or picks another window. A box that reaches the right
edge of the chart keeps following now ("the last 20 minutes"); any other box is a fixed stretch of the past.

Pure functions, no Streamlit: the page state (healthmon.ui.state) applies them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MIN_ZOOM_SECONDS = 10.0  # a click-sized drag still shows a few collection intervals
LIVE_EDGE_FRACTION = 0.02  # a box ending this close to the right edge (share of the range shown) follows now


@dataclass(frozen=True)
class Zoom:
    """The zoomed time range: fixed [since, until], or the last `seconds` when until is None (live)."""

    since: float
    until: float | None
    seconds: float

    @property
    def live(self) -> bool:
        return self.until is None

    def bounds(self, now: float) -> tuple[float, float]:
        if self.until is None:
            return now - self.seconds, now
        return self.since, self.until


def axis_seconds(value: Any) -> float:
    """A time-axis value from a Plotly selection as unix seconds: epoch milliseconds (a number) or Plotly's
    date text ("2026-11-28 10:18:07.2374", UTC, as our axes carry epoch ms). Raises ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"not a time: {value!r}")
        return float(value) / 1000.0
    if isinstance(value, str):
        text = value.strip().replace(" ", "T", 1)
        if "." in text:  # Python wants at most 6 fractional digits; Plotly may send more or fewer
            head, fraction = text.split(".", 1)
            digits = "".join(c for c in fraction if c.isdigit())
            text = f"{head}.{(digits + '000000')[:6]}" + fraction[len(digits):]
        stamp = datetime.fromisoformat(text)
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        return stamp.timestamp()
    raise ValueError(f"not a time: {value!r}")


def selected_range(event: Any) -> tuple[Any, Any] | None:
    """The x range of the first box in a st.plotly_chart selection event, or None when there is no box."""
    try:
        boxes = event["selection"]["box"]
    except (KeyError, TypeError, AttributeError):
        return None
    for box in boxes or ():
        x = box.get("x") if isinstance(box, dict) else None
        if isinstance(x, (list, tuple)) and len(x) == 2:
            return x[0], x[1]
    return None


def zoom_from_box(x_range: tuple[Any, Any], since: float, until: float,
                  min_seconds: float = MIN_ZOOM_SECONDS) -> Zoom | None:
    """The zoom a box over [since, until] asks for, clamped into that range and at least min_seconds wide
    (where the range allows); live when it reaches the right edge. None when the values are not times."""
    try:
        low, high = sorted(axis_seconds(value) for value in x_range)
    except (ValueError, TypeError, OverflowError):
        return None
    low, high = max(low, since), min(high, until)
    if high < low:  # the box lies wholly outside what the chart showed
        return None
    shown = until - since
    if high - low < min_seconds:
        middle, half = (low + high) / 2, min(min_seconds, shown) / 2
        low, high = middle - half, middle + half
        if low < since:
            low, high = since, since + 2 * half
        if high > until:
            low, high = until - 2 * half, until
    live = high >= until - shown * LIVE_EDGE_FRACTION
    return Zoom(since=low, until=None if live else high, seconds=high - low)
