"""The Settings page's texts and table: the loaded model's source as the field takes it, and the configuration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from healthmon.runtime.sources import ModelSpec


def spec_text(spec: ModelSpec) -> str:
    """A ModelSpec written back the way HEALTHMON_MODEL takes it, to prefill the model source field."""
    if spec.kind in ("demo", "packaged"):
        return spec.kind
    if spec.kind == "local":
        return spec.ref
    return f"{spec.kind}:{spec.ref}" + (f":{spec.file}" if spec.file else "")


def config_frame(public: Mapping[str, Any]) -> pd.DataFrame:
    """Settings.public_dict() as rows with the variable that sets each; secrets appear only as `*_set` flags."""
    rows = [{"setting": name, "value": ", ".join(map(str, value)) if isinstance(value, list) else str(value),
             "variable": "HEALTHMON_" + name.removesuffix("_set").upper()} for name, value in public.items()]
    return pd.DataFrame(rows, columns=["setting", "value", "variable"])
