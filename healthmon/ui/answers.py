"""Per-answer quality on the Analysis page: distributions of the signals over the window, the flags counted, and
the worst recent answers, each linking to its trace.

The shaping (flag counts, the worst answers' table) is plain pandas; `show_answers` draws it. Prompts and
responses appear as excerpts in a dataframe, which shows text as text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from healthmon import charts
from healthmon.quality.metrics import FLAGS
from healthmon.ui import panels
from healthmon.ui.format import local_time
from healthmon.ui.state import empty_state
from healthmon.ui.widgets import viewer_timezone

WORST_SHOWN = 10
TRACE_LINK = "/traces?trace={trace_id}"
SIGNALS = (  # column, title, x-axis title
    ("quality_score", "Quality score", "score (0-100)"),
    ("relevance", "Relevance", "cosine similarity"),
    ("degeneration_score", "Degeneration", "score (0-100, under 50 is degenerate)"),
    ("mean_token_entropy", "Token entropy", "nats (high: the model was unsure)"),
)


def flag_lists(flags: pd.Series) -> pd.Series:
    """The stored flags (JSON text) of each answer as lists; an unreadable value as no flag."""
    def parse(text: Any) -> list[str]:
        try:
            value = json.loads(text) if isinstance(text, str) else text
        except ValueError:
            return []
        return [str(flag) for flag in value] if isinstance(value, list) else []
    return flags.map(parse)


def flag_counts(answers: pd.DataFrame) -> pd.DataFrame:
    """How many answers of the window carry each flag, in FLAGS order (zeros included)."""
    lists = flag_lists(answers["flags"]) if not answers.empty else pd.Series([], dtype=object)
    return pd.DataFrame({"flag": list(FLAGS), "answers": [int(sum(flag in each for each in lists)) for flag in FLAGS]})


def worst_answers(answers: pd.DataFrame, t: Callable[[str], str], limit: int = WORST_SHOWN) -> pd.DataFrame:
    """The lowest-scoring answers (ties: the newest first) as the table shows them, with a link to each trace."""
    scored = answers.dropna(subset=["quality_score"]).sort_values(["quality_score", "ts"], ascending=[True, False])
    worst = scored.head(limit)
    zone = viewer_timezone()
    return pd.DataFrame({
        "time": [local_time(ts, zone) for ts in worst["ts"]],
        "quality_score": worst["quality_score"].to_numpy(),
        "flags": [", ".join(t(flag) for flag in each) for each in flag_lists(worst["flags"])],
        "prompt": worst["prompt"].fillna("").to_numpy(), "response": worst["response"].fillna("").to_numpy(),
        "trace": [TRACE_LINK.format(trace_id=trace_id) for trace_id in worst["trace_id"]],
    })


def show_answers(answers: pd.DataFrame, t: Callable[[str], str]) -> None:
    """The per-answer section: four distributions, the flag counts and the worst answers."""
    if answers.empty:
        empty_state(t("No scored answers in this window yet."))
        return
    st.caption(f"{len(answers)} {t('answers, the newest of the window')}")
    for start in range(0, len(SIGNALS), 2):
        cols = st.columns(2)
        for col, (column, title, x_title) in zip(cols, SIGNALS[start:start + 2], strict=False):
            with col:
                panels.distribution(answers[column], f"answers-{column.replace('_', '-')}", title=t(title),
                                    x_title=t(x_title), missing=t("No answer in this window has this figure yet."))
    counts = flag_counts(answers)
    panels.plot(charts.bars([t(flag) for flag in counts["flag"]], counts["answers"].tolist(), title=t("Flags"),
                            y_title=t("answers"), counts=True), "chart-answers-flags")
    st.markdown(f"**{t('Worst recent answers')}**")
    st.dataframe(worst_answers(answers, t), hide_index=True, key="answers-worst", column_config={
        "time": t("time"),
        "quality_score": st.column_config.ProgressColumn(t("quality"), format="%.0f", min_value=0, max_value=100,
                                                         color=charts.SERIES_COLORS[0]),
        "flags": t("flags"), "prompt": t("prompt"), "response": t("response"),
        "trace": st.column_config.LinkColumn(t("trace"), display_text=t("open trace"))})
