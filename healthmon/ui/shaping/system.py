"""The System page's data: whether a GPU sample has devices, the GPU table and series names, per-core use, and
the peak of byte rates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from healthmon.ui.shaping import Translate


def has_gpu(sample: Mapping[str, Any]) -> bool:
    """Whether the latest gpu sample found a GPU and lists at least one device."""
    return bool(sample.get("gpu_available")) and bool(sample.get("devices"))


def gpu_series(devices: Sequence[Mapping[str, Any]], metric: str) -> dict[str, str]:
    """{column: legend} for one per-device metric (`gpu0_utilization`...), named by index and model."""
    return {f"gpu{d['index']}_{metric}": f"GPU {d['index']}" + (f" · {d['name']}" if d.get("name") else "")
            for d in devices}


def gpu_columns(devices: Sequence[Mapping[str, Any]], metrics: Iterable[str]) -> list[str]:
    """The gpu layer's history columns for these per-device metrics of every device, metric by metric."""
    return [column for metric in metrics for column in gpu_series(devices, metric)]


def gpu_table(devices: Sequence[Mapping[str, Any]], words: Translate) -> pd.DataFrame:
    """One row per device of the latest gpu sample; a figure a device does not report stays empty."""
    fields = {"index": words("device"), "name": words("name"), "utilization_percent": words("utilization %"),
              "memory_used_mb": words("memory used MiB"), "memory_total_mb": words("memory total MiB"),
              "temperature_c": words("temperature °C"), "power_w": words("power W")}
    return pd.DataFrame([{header: device.get(field) for field, header in fields.items()} for device in devices],
                        columns=list(fields.values()))


def per_core_frame(cores: Sequence[float]) -> pd.DataFrame:
    """The live sample's per-core use as the chart's download."""
    return pd.DataFrame({"core": range(len(cores)), "cpu_usage_percent": list(cores)})


def peak(frame: pd.DataFrame, columns: Iterable[str]) -> float | None:
    """The largest finite value in these columns (those the frame has); None where there is none."""
    present = [column for column in columns if column in frame]
    if not present:
        return None
    values = frame[present].apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64").ravel()
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else None
