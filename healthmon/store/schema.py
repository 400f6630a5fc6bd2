"""The history database's tables and how records map onto rows (JSON columns, SQL types)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

from healthmon.catalog import FORMER_KEYS
from healthmon.store.frames import finite_number

WRITER_THREAD_NAME = "healthmon-store-writer"
PRUNE_EVERY_SECONDS = 60.0
SAMPLES_PREFIX = "samples_"
REQUEST_COLUMNS = {
    "trace_id": "TEXT PRIMARY KEY", "ts": "REAL", "source": "TEXT", "synthetic": "INTEGER", "status": "TEXT",
    "finish_reason": "TEXT", "error": "TEXT", "model": "TEXT", "prompt_tokens": "INTEGER",
    "output_tokens": "INTEGER", "queue_seconds": "REAL", "tokenize_seconds": "REAL", "ttft_seconds": "REAL",
    "decode_seconds": "REAL", "latency_seconds": "REAL", "inter_token_latency_seconds": "REAL",
    "tokens_per_second": "REAL", "prompt_chars": "INTEGER", "response_chars": "INTEGER", "prompt": "TEXT",
    "response": "TEXT", "prompt_text": "TEXT", "params": "TEXT", "spans": "TEXT", "quality": "TEXT",
}
REQUEST_JSON_COLUMNS = frozenset({"params", "spans", "quality"})
# Whole texts, kilobytes a row: only a single request's detail reads them, never a per-request list (3,000 rows of
# 4 KB prompts read in full cost a /api/health/metrics call ~340 MiB of RSS, issue 15).
REQUEST_TEXT_COLUMNS = frozenset({"prompt", "response", "prompt_text"})
# What a per-request list reads by default: every column but the texts and the JSON blobs.
REQUEST_LIST_COLUMNS = tuple(name for name in REQUEST_COLUMNS
                             if name not in REQUEST_JSON_COLUMNS | REQUEST_TEXT_COLUMNS)
ALERT_COLUMNS = {
    "id": "TEXT PRIMARY KEY", "rule": "TEXT", "metric": "TEXT", "level": "TEXT", "kind": "TEXT", "state": "TEXT",
    "message": "TEXT", "value": "REAL", "started_at": "REAL", "fired_at": "REAL", "resolved_at": "REAL",
    "acknowledged": "INTEGER", "silenced_until": "REAL", "labels": "TEXT",
    "message_key": "TEXT", "message_args": "TEXT",  # the message for each reader's language (analysis/messages.py)
}
ALERT_JSON_COLUMNS = frozenset({"labels", "message_args"})
TRANSITION_COLUMNS = {"alert_id": "TEXT", "ts": "REAL", "state": "TEXT", "value": "REAL", "message": "TEXT"}
# One silence per matcher (a rule name or a metric), as the alert engine keeps them: a new one replaces it.
SILENCE_COLUMNS = {"matcher": "TEXT PRIMARY KEY", "starts_at": "REAL", "ends_at": "REAL", "created_at": "REAL"}


def _table_sql(name: str, columns: Mapping[str, str]) -> str:
    return f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(f'{c} {t}' for c, t in columns.items())});"


def _insert_sql(verb: str, table: str, columns: Iterable[str]) -> str:
    names = list(columns)
    quoted = ", ".join(f'"{name}"' for name in names)
    return f'{verb} INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(names))})'


SCHEMA = "\n".join([
    _table_sql("requests", REQUEST_COLUMNS),
    "CREATE INDEX IF NOT EXISTS idx_requests_ts ON requests(ts);",
    _table_sql("alerts", ALERT_COLUMNS),
    "CREATE INDEX IF NOT EXISTS idx_alerts_started_at ON alerts(started_at);",
    _table_sql("alert_transitions", {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", **TRANSITION_COLUMNS}),
    "CREATE INDEX IF NOT EXISTS idx_alert_transitions_alert ON alert_transitions(alert_id, ts);",
    _table_sql("silences", SILENCE_COLUMNS),
])
# Tables whose columns are declared here: a database an older version created is migrated to them on open.
FIXED_TABLES = {"requests": REQUEST_COLUMNS, "alerts": ALERT_COLUMNS, "silences": SILENCE_COLUMNS}


def add_missing_columns(conn: sqlite3.Connection, table: str, columns: Mapping[str, str]) -> list[str]:
    """ADD COLUMN each declared column the table lacks (its old rows read NULL there); the names added.

    Only new columns, never a changed type or a dropped column: SQLite's ADD COLUMN is cheap (no table rewrite)
    but cannot add a PRIMARY KEY, and keys do not change.
    """
    present = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
    added = [name for name in columns if name not in present]
    for name in added:
        conn.execute(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {columns[name]}')
    return added


def former_sample_columns() -> dict[str, dict[str, str]]:
    """samples_<layer> table -> {former column: its name now}: catalog.FORMER_KEYS, plus the learned bands
    `<metric>_baseline_low|high` of the baseline layer under each former name."""
    tables = {SAMPLES_PREFIX + layer: dict(renames) for layer, renames in FORMER_KEYS.items()}
    bands = tables.setdefault(SAMPLES_PREFIX + "baseline", {})
    for renames in FORMER_KEYS.values():
        for old, new in renames.items():
            bands |= {f"{old}_baseline_{side}": f"{new}_baseline_{side}" for side in ("low", "high")}
    return tables


def rename_former_columns(conn: sqlite3.Connection) -> list[str]:
    """Give the sample columns an earlier version wrote under a former name their name now, so their history
    reads back under it; the `table.old->new` changes. A one-time rename (a no-op on the next open): a column
    only under the former name is renamed in place; where both exist (an older version wrote to this file
    again after an upgrade) the former one's values fill the new one's gaps and the former column is dropped.
    Alert rows and silences that name a former metric are renamed with it."""
    changes = []
    for table, renames in former_sample_columns().items():
        present = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
        for old, new in renames.items():
            if old not in present:
                continue
            if new not in present:
                conn.execute(f'ALTER TABLE "{table}" RENAME COLUMN "{old}" TO "{new}"')
            else:
                conn.execute(f'UPDATE "{table}" SET "{new}" = "{old}" WHERE "{new}" IS NULL')
                conn.execute(f'ALTER TABLE "{table}" DROP COLUMN "{old}"')
            changes.append(f"{table}.{old}->{new}")
    for renames in FORMER_KEYS.values():
        for old, new in renames.items():
            if conn.execute("UPDATE alerts SET metric = ? WHERE metric = ?", (new, old)).rowcount:
                changes.append(f"alerts.metric {old}->{new}")
            if conn.execute("UPDATE OR REPLACE silences SET matcher = ? WHERE matcher = ?", (new, old)).rowcount:
                changes.append(f"silences.matcher {old}->{new}")
    return changes


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Bring an existing database up to this version, in one transaction: the fixed tables' new columns, and the
    sample columns under a former name renamed (rename_former_columns); the `table.column`s added and the
    renames. Without it every INSERT naming a new column would fail, batch after batch."""
    with _transaction(conn):
        return [f"{table}.{name}" for table, columns in FIXED_TABLES.items()
                for name in add_missing_columns(conn, table, columns)] + rename_former_columns(conn)


INSERT_REQUEST = _insert_sql("INSERT OR REPLACE", "requests", REQUEST_COLUMNS)
INSERT_ALERT = _insert_sql("INSERT OR REPLACE", "alerts", ALERT_COLUMNS)
INSERT_TRANSITION = _insert_sql("INSERT", "alert_transitions", TRANSITION_COLUMNS)
INSERT_SILENCE = _insert_sql("INSERT OR REPLACE", "silences", SILENCE_COLUMNS)


class StoreError(RuntimeError):
    """A history read failed; the message names the database and the cause."""


class _CorruptDatabase(sqlite3.DatabaseError):
    """The file is not a usable SQLite database (as opposed to locked, read-only or missing)."""


def _sql_value(value: Any, sql_type: str, is_json: bool) -> Any:
    """Coerce one record value on the caller's thread, so nothing the writer binds can fail to bind."""
    if value is None:
        return None
    if is_json:
        return value if isinstance(value, str) else json.dumps(value, default=str)
    if sql_type.startswith("TEXT"):
        return str(value)
    number = finite_number(value)
    return int(number) if number is not None and sql_type.startswith("INTEGER") else number


def _encode(record: Mapping[str, Any], columns: Mapping[str, str], json_columns: frozenset[str]) -> tuple:
    return tuple(_sql_value(record.get(name), sql_type, name in json_columns) for name, sql_type in columns.items())


def _decode(names: list[str], row: tuple, json_columns: frozenset[str]) -> dict[str, Any]:
    record = dict(zip(names, row, strict=True))
    for name in json_columns & record.keys():
        if isinstance(record[name], str):
            with suppress(ValueError):  # keep text that is not JSON as it is
                record[name] = json.loads(record[name])
    return record


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One explicit transaction (the connection is in autocommit mode), rolled back on any failure."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
