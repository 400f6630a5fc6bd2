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
