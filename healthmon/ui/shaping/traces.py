"""The Traces page's table: the store's request rows with local times, milliseconds and quality scores, and
the selected request followed by its id when refreshes shift the rows (widgets.keep_selection)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

import pandas as pd

from healthmon.ui.format import local_time

REQUEST_TABLE_COLUMNS = ("time", "source", "status", "latency_ms", "ttft_ms", "prompt_tokens", "output_tokens",
                         "tokens_per_second", "finish_reason", "quality_score", "trace_id")


def requests_table(frame: pd.DataFrame, zone: tzinfo) -> pd.DataFrame:
    """The store's request rows (in the given order) as the Traces table shows them: local time, milliseconds."""
    return pd.DataFrame({
        "time": [local_time(ts, zone) for ts in frame["ts"]], "source": frame["source"], "status": frame["status"],
        "latency_ms": frame["latency_seconds"] * 1000, "ttft_ms": frame["ttft_seconds"] * 1000,
        "prompt_tokens": frame["prompt_tokens"], "output_tokens": frame["output_tokens"],
        "tokens_per_second": frame["tokens_per_second"], "finish_reason": frame["finish_reason"],
        "quality_score": quality_scores(frame["quality"]) if "quality" in frame else float("nan"),
        "trace_id": frame["trace_id"],
    }, columns=list(REQUEST_TABLE_COLUMNS))


def quality_score_of(quality: Any) -> float | None:
    """The quality score from a request's quality: a dict (get_request) or its JSON text (requests_frame)."""
    if isinstance(quality, str) and quality:
        try:
            quality = json.loads(quality)
        except ValueError:
            return None
    score = quality.get("quality_score") if isinstance(quality, dict) else None
    return float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None


def quality_scores(qualities: pd.Series) -> pd.Series:
    """quality_score_of for a column of request qualities, as floats (NaN where a request has none)."""
    return qualities.map(quality_score_of).astype("float64")


def selected_id(previous_ids: Sequence[str], rows: Sequence[int]) -> str | None:
    """The request a row selection meant: positions refer to the table the viewer saw when clicking."""
    return previous_ids[rows[0]] if rows and 0 <= rows[0] < len(previous_ids) else None


def reselect_rows(row_ids: Sequence[str], wanted_id: str | None) -> list[int]:
    """Where the selected request sits in the refreshed table (nowhere once it has left the window)."""
    return [list(row_ids).index(wanted_id)] if wanted_id is not None and wanted_id in row_ids else []
