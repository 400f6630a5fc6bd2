"""The Model page's data: a remote server's figures, throughput beside the service layer's, and the canary
probes' figures and table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import pandas as pd

from healthmon.catalog import spec
from healthmon.quality.drift import REFERENCE_RECORDED
from healthmon.quality.metrics import RELEVANCE_PENDING
from healthmon.ui.format import NO_DATA, count_to_text, fmt_seconds
from healthmon.ui.shaping import Translate

if TYPE_CHECKING:
    from healthmon.remote.server_metrics import ServerFigures
    from healthmon.target_info import TargetInfo

SLOT_FIGURES = ("server_slots_busy", "server_context_usage_ratio")  # from llama.cpp's /slots, where it has them
USERS_TPS = "window_tokens_per_second"  # the service layer's: user requests over the stats window
Drift = tuple[float | None, str]  # (similarity, how the table shows it)


def with_users_throughput(model: pd.DataFrame, service: pd.DataFrame) -> pd.DataFrame:
    """The model frame with the service layer's USERS_TPS; both layers are sampled in the same cycles, so each
    model row takes the service row nearest in time."""
    if model.empty or USERS_TPS not in service or "ts" not in service:
        return model.assign(**{USERS_TPS: float("nan")})
    users = service[["ts", USERS_TPS]].dropna()
    if users.empty:
        return model.assign(**{USERS_TPS: float("nan")})
    step = model["ts"].diff().median()
    return pd.merge_asof(model.sort_values("ts"), users.sort_values("ts"), on="ts", direction="nearest",
                         tolerance=step if pd.notna(step) and step > 0 else None)


def health_latency_text(info: TargetInfo) -> str:
    """The health check's latency tile: the last check's time only while the server answers. Beside `error` the
    target still holds the last good check's latency, which would read as if the failed check had taken it."""
    if not info.loaded or info.remote is None:
        return NO_DATA
    return fmt_seconds(info.remote.target_health_latency_seconds)


def server_figures(server: ServerFigures) -> dict[str, str]:
    """A remote server's own figures (target.info().remote.server) as its tiles show them, by catalog key: every
    field of ServerFigures, which the catalog names (tests/test_server_metrics.py), formatted by its catalog unit;
    the slots only where the server has /slots, busy and total on one tile."""
    has_slots = server.server_slots_total is not None
    shown: dict[str, str] = {}
    for field in fields(server):
        if field.name == "server_slots_total" or (field.name in SLOT_FIGURES and not has_slots):
            continue
        shown[field.name] = figure_text(field.name, getattr(server, field.name))
    if "server_slots_busy" in shown:
        shown["server_slots_busy"] += f" / {count_to_text(server.server_slots_total)}"
    return shown


def figure_text(key: str, value: float | None) -> str:
    """One figure as a tile shows it, by its catalog unit: 0-1 ratios as percents, seconds as durations."""
    unit = spec(key).unit
    if value is None:
        return NO_DATA
    if key.endswith("_ratio"):
        return f"{value:.0%}"
    if unit == "s":
        return fmt_seconds(value)
    return f"{value:,.1f}" if unit == "tok/s" else count_to_text(value)


def newest_probes(probes: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The last `limit` probes of the window, newest first, as the table lists them."""
    return probes.tail(limit).iloc[::-1]


def probe_drift(record: Mapping[str, Any], words: Translate) -> Drift:
    """(drift similarity, its cell text) from a probe's stored record."""
    quality = record.get("quality")
    if not isinstance(quality, Mapping):
        return None, NO_DATA
    drift = quality.get("drift_similarity")
    if drift is not None:
        return float(drift), f"{drift:.3f}"
    if quality.get("drift_reason") == REFERENCE_RECORDED:
        return None, words("reference")
    if "drift_reason" not in quality and quality.get("relevance_reason") == RELEVANCE_PENDING:
        return None, words("pending")  # the background scorer has not reached it yet
    return None, NO_DATA


@dataclass(frozen=True)
class ProbeAnswers:
    """What the stored records of the listed probes say, by trace id, in the order given (newest first)."""

    outputs: dict[str, str | None]
    drifts: dict[str, Drift]

    @classmethod
    def of(cls, records: Mapping[str, Mapping[str, Any]], words: Translate) -> ProbeAnswers:
        return cls({trace_id: record.get("response") for trace_id, record in records.items()},
                   {trace_id: probe_drift(record, words) for trace_id, record in records.items()})

    def distinct_outputs(self) -> int:
        """Greedy decoding of one prompt repeats itself: more than one output means something changed."""
        return len({text for text in self.outputs.values() if text is not None})

    def newest_drift(self) -> float | None:
        return next((value for value, _ in self.drifts.values() if value is not None), None)

    def drift_text(self, trace_id: str) -> str:
        return self.drifts.get(trace_id, (None, NO_DATA))[1]

    def drift_value(self, trace_id: str) -> float | None:
        return self.drifts.get(trace_id, (None, NO_DATA))[0]


@dataclass(frozen=True)
class ProbeCounts:
    probes: int
    failed: int
    median_latency_seconds: float | None  # of the successful ones


def probe_counts(probes: pd.DataFrame) -> ProbeCounts:
    """The window's probes counted; a probe without a status counts as failed, as it never reported ok."""
    if probes.empty or "status" not in probes:
        return ProbeCounts(len(probes), 0, None)
    ok = probes[probes["status"] == "ok"]
    median = ok["latency_seconds"].median() if "latency_seconds" in ok else None
    return ProbeCounts(len(probes), int((probes["status"] != "ok").sum()),
                       float(median) if median is not None and pd.notna(median) else None)


def _milliseconds(seconds: pd.Series) -> pd.Series:
    return (pd.to_numeric(seconds, errors="coerce") * 1000).round(1)


def probe_table(recent: pd.DataFrame, answers: ProbeAnswers, words: Translate) -> pd.DataFrame:
    """The Recent probes table: one row per probe, headers in the page's language, output as plain text."""
    ids = recent["trace_id"]
    times = pd.to_datetime(pd.to_numeric(recent["ts"], errors="coerce"), unit="s", utc=True)
    return pd.DataFrame({
        words("time (UTC)"): times.dt.strftime("%Y-%m-%d %H:%M:%S"),
        words("status"): recent["status"], words("latency ms"): _milliseconds(recent["latency_seconds"]),
        words("TTFT ms"): _milliseconds(recent["ttft_seconds"]),
        words("tokens/s"): pd.to_numeric(recent["tokens_per_second"], errors="coerce").round(1),
        words("output tokens"): recent["output_tokens"],
        words("drift"): ids.map(answers.drift_text),
        words("output"): ids.map(lambda trace_id: answers.outputs.get(trace_id)),
    })


def probe_csv(recent: pd.DataFrame, answers: ProbeAnswers) -> pd.DataFrame:
    """The probes as stored, with each one's drift similarity and response: the table's download."""
    ids = recent["trace_id"]
    return recent.assign(drift_similarity=ids.map(answers.drift_value).astype("float64"),
                         response=ids.map(lambda trace_id: answers.outputs.get(trace_id)))
