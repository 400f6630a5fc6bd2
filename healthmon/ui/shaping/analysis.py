"""The Analysis page's chart data that panels do not already shape: finish reasons' bar colors."""

from __future__ import annotations

from collections.abc import Iterable

from healthmon.charts import LEVEL_COLORS, SERIES_COLORS

ERROR_REASON = "error"  # the finish reason records.build_record gives every failed or refused request


def finish_reason_colors(reasons: Iterable[str]) -> list[str]:
    """One color per bar: errors in the critical color, so a spike of them stands out beside the rest."""
    return [LEVEL_COLORS["critical"] if reason == ERROR_REASON else SERIES_COLORS[0] for reason in reasons]
