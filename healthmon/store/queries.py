"""Reads from the history database, as pandas frames and dicts; mixed into HistoryStore."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from healthmon.records import SERVICE_REFUSAL_PREFIXES
from healthmon.store.frames import TS_COLUMN, bucket_seconds, check_name
from healthmon.store.schema import (
    ALERT_JSON_COLUMNS,
    REQUEST_COLUMNS,
    REQUEST_JSON_COLUMNS,
    REQUEST_LIST_COLUMNS,
    SAMPLES_PREFIX,
    StoreError,
    _decode,
)


class HistoryReads:
    """Queries over the tables HistoryStore writes; each sees every write accepted before it (read your own)."""

    # Set by HistoryStore, which these reads are mixed into.
    _path: Path
    _read_lock: threading.Lock
    _finished: bool
    _reader: sqlite3.Connection | None

    def _catch_up(self, kind: str) -> None:
        """Commit `kind`'s queued writes before a read of its tables: HistoryStore's."""
        raise NotImplementedError

    def _query(self, kind: str, sql: str, params: Iterable[Any] = ()) -> tuple[list[str], list[tuple]]:
        """Run one read of `kind`'s tables on the shared read-only connection, after committing that kind's
        queued writes; any SQLite failure becomes a StoreError.

        Each SELECT runs in its own read transaction (the sqlite3 module opens none for a SELECT), and a WAL
        reader sees every commit made before its transaction began: so it sees what _catch_up committed.
        """
        self._catch_up(kind)
        with self._read_lock:
            if self._finished:
                raise StoreError(f"history store {self._path} is closed")
            try:
                if self._reader is None:
                    uri = f"{self._path.resolve().as_uri()}?mode=ro"
                    self._reader = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=5.0)
                cursor = self._reader.execute(sql, tuple(params))
                return [column[0] for column in cursor.description], cursor.fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"reading history from {self._path} failed: {type(exc).__name__}: {exc}") from exc

    def layers(self) -> list[str]:
        """Layers that have a samples table, sorted."""
        _, rows = self._query("sample", "SELECT name FROM sqlite_master WHERE type = 'table' "
                              "AND name LIKE 'samples\\_%' ESCAPE '\\' ORDER BY name")
        return [name[len(SAMPLES_PREFIX):] for (name,) in rows]

    def columns(self, layer: str) -> list[str]:
        """The layer's metric columns in the order they first appeared; [] for an unknown layer."""
        return [name for name in self._table_columns(layer) if name != TS_COLUMN]

    def _table_columns(self, layer: str) -> list[str]:
        """All columns of the layer's table, ts included; [] when the table does not exist."""
        _, rows = self._query("sample", f'PRAGMA table_info("{SAMPLES_PREFIX}{check_name(layer, "layer")}")')
        return [row[1] for row in rows]

    def frame(self, layer: str, since: float, until: float | None = None, max_points: int = 2000,
              columns: Iterable[str] | None = None) -> pd.DataFrame:
        """`ts` (unix s) + metric columns for since <= ts <= until, sorted; averaged into time buckets in SQL
        when the window holds more than max_points rows (see frames.downsample_frame for the buckets).

        Buckets span the samples actually present rather than [since, until], so a 7-day window holding an
        hour of data still gets full resolution. Requested columns the layer lacks come back all-NaN.
        """
        if max_points < 1:
            raise ValueError(f"max_points must be at least 1, got {max_points}")
        table_columns = self._table_columns(layer)
        known = [name for name in table_columns if name != TS_COLUMN]
        wanted = known if columns is None else [check_name(name, "metric") for name in columns]
        selected = [name for name in wanted if name in known]
        table = f'"{SAMPLES_PREFIX}{layer}"'
        where, params = "ts >= ?", [since]
        if until is not None:
            where, params = where + " AND ts <= ?", [since, until]
        count = 0
        if table_columns:
            _, ((count, first_ts, last_ts),) = self._query(
                "sample", f"SELECT COUNT(*), MIN(ts), MAX(ts) FROM {table} WHERE {where}", params)
        if count == 0:
            return pd.DataFrame({name: pd.Series(dtype="float64") for name in [TS_COLUMN, *wanted]})
        quoted = [f'"{name}"' for name in selected]
        if count <= max_points:
            sql = f"SELECT {', '.join(['ts', *quoted])} FROM {table} WHERE {where} ORDER BY ts"
        else:
            averages = ", ".join(f"AVG({name})" for name in ["ts", *quoted])
            sql = (f"SELECT {averages} FROM {table} WHERE {where} "
                   f"GROUP BY MIN(CAST((ts - ?) / ? AS INTEGER), ?) ORDER BY 1")
            params = [*params, first_ts, bucket_seconds(first_ts, last_ts, max_points), max_points - 1]
        _, rows = self._query("sample", sql, params)
        values = np.array(rows, dtype="float64").reshape(len(rows), 1 + len(selected))  # NULL -> NaN
        return pd.DataFrame(values, columns=[TS_COLUMN, *selected]).reindex(columns=[TS_COLUMN, *wanted])

    def requests_frame(self, since: float, until: float | None = None, include_synthetic: bool = False,
                       columns: Iterable[str] | None = None, newest: int | None = None,
                       flags: Iterable[str] = ()) -> pd.DataFrame:
        """Requests started in [since, until], oldest first; numbers as float64 (NaN for NULL), JSON as text.
        `columns` defaults to REQUEST_LIST_COLUMNS (no prompt, response or JSON: ask for them by name);
        `newest` keeps only that many of the latest (a week at one request a second is 600k rows); `flags`
        keeps the requests whose quality carries any of these flags."""
        names = _request_columns(columns)
        where, params = _request_window(since, until, include_synthetic)
        wanted = list(flags)
        if wanted:  # CASE, not AND: json_each on text that is not JSON raises, and AND may evaluate it anyway
            where += (" AND CASE WHEN json_valid(quality) THEN EXISTS (SELECT 1 FROM json_each(quality, '$.flags') "
                      f"WHERE json_each.value IN ({', '.join('?' * len(wanted))})) ELSE 0 END")
            params = [*params, *wanted]
        if newest is None:
            _, rows = self._query("request", f"SELECT {', '.join(names)} FROM requests WHERE {where} ORDER BY ts",
                                  params)
        else:
            if newest < 1:
                raise ValueError(f"newest must be at least 1, got {newest}")
            _, rows = self._query("request", f"SELECT {', '.join(names)} FROM requests WHERE {where} "
                                  "ORDER BY ts DESC LIMIT ?", [*params, newest])
            rows.reverse()
        df = pd.DataFrame(rows, columns=names)
        numeric = [name for name in names if not REQUEST_COLUMNS[name].startswith("TEXT")]
        return df.astype({name: "float64" for name in numeric})

    def answer_qualities(self, since: float, until: float | None = None, newest: int = 1000,
                         excerpt_chars: int = 200) -> pd.DataFrame:
        """Per-answer quality of the newest user answers in [since, until], newest first: the signals as float64,
        flags as JSON text, and only the first `excerpt_chars` of prompt and response (a table shows excerpts;
        reading whole texts for thousands of rows is what made per-request lists costly)."""
        where, params = _request_window(since, until, include_synthetic=False)
        fields = ", ".join(f"json_extract(quality, '$.{name}')" for name in ANSWER_SIGNALS)
        names = ["trace_id", "ts", "prompt", "response", *ANSWER_SIGNALS, "flags"]
        _, rows = self._query(
            "request", f"SELECT trace_id, ts, substr(prompt, 1, ?), substr(response, 1, ?), {fields}, "
            f"json_extract(quality, '$.flags') FROM requests WHERE {where} AND status = 'ok' AND json_valid(quality) "
            "ORDER BY ts DESC LIMIT ?", [excerpt_chars, excerpt_chars, *params, newest])
        return pd.DataFrame(rows, columns=names).astype({name: "float64" for name in ("ts", *ANSWER_SIGNALS)})

    def request_totals(self, since: float, until: float | None = None,
                       include_synthetic: bool = False) -> dict[str, Any]:
        """Counts by status and finish reason, and means over the successful requests, in [since, until]: one
        aggregate query, however many requests the window holds."""
        where, params = _request_window(since, until, include_synthetic)
        _, ((total, ok, failed, rejected, latency, tps),) = self._query(
            "request", "SELECT COUNT(*), SUM(status = 'ok'), SUM(status = 'error'), SUM(status = 'rejected'), "
            "AVG(CASE WHEN status = 'ok' THEN latency_seconds END), "
            f"AVG(CASE WHEN status = 'ok' THEN tokens_per_second END) FROM requests WHERE {where}", params)
        _, reasons = self._query("request", f"SELECT COALESCE(finish_reason, 'none'), COUNT(*) FROM requests "
                                 f"WHERE {where} GROUP BY 1 ORDER BY 2 DESC, 1", params)
        return {"requests": total, "succeeded": ok or 0, "failed": failed or 0, "rejected": rejected or 0,
                "mean_latency_seconds": latency, "mean_tokens_per_second": tps,
                "finish_reasons": dict(reasons)}

    def slo_counts(self, starts: Sequence[float], until: float, limits: SloLimits) -> list[tuple[int, int]]:
        """(counted requests, good ones) started in [start, until] for each of `starts`, in one scan of the
        requests since the earliest: the judgement of analysis/slo.py in SQL (module docstring there)."""
        if not starts:
            return []
        sums = ", ".join(f"SUM(ts >= ?), SUM(ts >= ? AND {_SLO_GOOD})" for _ in starts)
        params: list[Any] = []
        for start in starts:
            params += [start, start, *_slo_good_params(limits)]
        _, ((*row,),) = self._query(
            "request", f"SELECT {sums} FROM requests WHERE ts >= ? AND ts <= ? AND {_SLO_COUNTED}",
            [*params, min(starts), until, *_SLO_COUNTED_PARAMS])
        return [(int(row[2 * i] or 0), int(row[2 * i + 1] or 0)) for i in range(len(starts))]

    def slo_buckets(self, since: float, until: float, bucket_seconds: float,
                    limits: SloLimits) -> list[tuple[float, int, int]]:
        """(bucket start, counted requests, good ones) for each `bucket_seconds` from `since` that has requests
        started in [since, until), oldest first: one GROUP BY, however many requests the span holds."""
        if bucket_seconds <= 0:
            raise ValueError(f"bucket_seconds must be positive, got {bucket_seconds}")
        _, rows = self._query(
            "request", f"SELECT CAST((ts - ?) / ? AS INTEGER) AS bucket, COUNT(*), SUM({_SLO_GOOD}) FROM requests "
            f"WHERE ts >= ? AND ts < ? AND {_SLO_COUNTED} GROUP BY bucket ORDER BY bucket",
            [since, bucket_seconds, *_slo_good_params(limits), since, until, *_SLO_COUNTED_PARAMS])
        return [(since + bucket * bucket_seconds, int(count), int(good or 0)) for bucket, count, good in rows]

    def recent_requests(self, limit: int = 50, include_synthetic: bool = True,
                        columns: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The newest `limit` requests, newest first: `columns` (default REQUEST_LIST_COLUMNS, no texts or JSON;
        get_request reads one whole record), JSON ones decoded."""
        names = _request_columns(columns)
        where = "" if include_synthetic else "WHERE COALESCE(synthetic, 0) = 0 "
        _, rows = self._query("request", f"SELECT {', '.join(names)} FROM requests {where}ORDER BY ts DESC LIMIT ?",
                              [limit])
        return [_decode(names, row, REQUEST_JSON_COLUMNS) for row in rows]

    def get_request(self, trace_id: str) -> dict[str, Any] | None:
        """One request by trace id with its JSON fields decoded, or None."""
        names, rows = self._query("request", "SELECT * FROM requests WHERE trace_id = ?", [trace_id])
        return _decode(names, rows[0], REQUEST_JSON_COLUMNS) if rows else None

    def load_alerts(self, since: float | None = None, states: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Alerts newest first; `since` keeps those still open or started/resolved at or after it."""
        clauses: list[str] = []
        params: list[Any] = []
        if since is not None:
            clauses.append("(started_at >= ? OR resolved_at IS NULL OR resolved_at >= ?)")
            params += [since, since]
        if states is not None:
            states = list(states)
            clauses.append(f"state IN ({', '.join('?' * len(states))})")
            params += states
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        names, rows = self._query("alert", f"SELECT * FROM alerts {where}ORDER BY started_at DESC, id", params)
        return [_decode(names, row, ALERT_JSON_COLUMNS) for row in rows]

    def alert_transitions(self, alert_id: str) -> list[dict[str, Any]]:
        """One alert's state changes, oldest first."""
        names, rows = self._query("alert", "SELECT * FROM alert_transitions WHERE alert_id = ? ORDER BY ts, id",
                                  [alert_id])
        return [dict(zip(names, row, strict=True)) for row in rows]

    def load_silences(self, active_at: float) -> list[dict[str, Any]]:
        """Silences still in force at `active_at` (ended ones stay until retention prunes them), by matcher."""
        names, rows = self._query("silence", "SELECT * FROM silences WHERE ends_at > ? ORDER BY matcher", [active_at])
        return [dict(zip(names, row, strict=True)) for row in rows]


# The latency objectives the SLO judges by (analysis/slo.py's SloObjectives, None where not set), as SQL needs them:
# ttft, time per output token, end to end.
SloLimits = tuple[float | None, float | None, float | None]
# analysis/slo.py's counts_against_service and is_good, in SQL; tests/test_slo.py checks they agree.
_SLO_COUNTED = ("COALESCE(synthetic, 0) = 0 AND (COALESCE(status, '') <> 'rejected' OR "
                + " OR ".join(["substr(error, 1, length(?)) = ?"] * len(SERVICE_REFUSAL_PREFIXES)) + ")")
_SLO_COUNTED_PARAMS = tuple(value for prefix in SERVICE_REFUSAL_PREFIXES for value in (prefix, prefix))
_SLO_GOOD = ("(status = 'ok' AND (? IS NULL OR ttft_seconds IS NULL OR ttft_seconds <= ?) "
             "AND (? IS NULL OR inter_token_latency_seconds IS NULL OR inter_token_latency_seconds <= ?) "
             "AND (? IS NULL OR latency_seconds IS NULL OR latency_seconds <= ?))")


def _slo_good_params(limits: SloLimits) -> list[float | None]:
    return [value for limit in limits for value in (limit, limit)]


ANSWER_SIGNALS = ("quality_score", "relevance", "degeneration_score", "mean_token_entropy", "perplexity")


def _request_columns(columns: Iterable[str] | None) -> list[str]:
    """The columns a per-request list selects, named one by one (never `*`, which drags the texts along)."""
    names = list(REQUEST_LIST_COLUMNS if columns is None else columns)
    unknown = [name for name in names if name not in REQUEST_COLUMNS]
    if unknown:
        raise ValueError(f"unknown request columns {unknown}; known: {list(REQUEST_COLUMNS)}")
    return names


def _request_window(since: float, until: float | None, include_synthetic: bool) -> tuple[str, list[Any]]:
    """The WHERE clause (and its parameters) for requests started in [since, until]."""
    where, params = "ts >= ?", [since]
    if until is not None:
        where, params = where + " AND ts <= ?", [since, until]
    if not include_synthetic:
        where += " AND COALESCE(synthetic, 0) = 0"
    return where, params
