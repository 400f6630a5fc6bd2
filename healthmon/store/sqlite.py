"""SQLite history: one wide table per layer, plus requests, alerts and silences, written in batches by one thread.

Callers only enqueue (the request path must never wait on disk); a daemon writer commits everything
pending every flush interval in one transaction. Reads see every accepted write (read your own writes: a
trace answers right after its generate): a read of a table with queued rows flushes first, and a read of a
table with none queued touches neither the queue nor the writer. While writes fail, reads see what was
committed.

A failed write closes the writer connection, so the next retry opens a fresh one: a connection opened while the
file was read-only stays read-only after the file is fixed, and would fail forever. Rows are dropped only past
max_pending (oldest first), for a batch that can never bind, or when close() cannot write them; every drop is
counted in health()["dropped_total"] and said in a WARNING, at most once a minute.
"""
from __future__ import annotations

import itertools
import logging
import os
import sqlite3
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

from healthmon.store.frames import TS_COLUMN, check_name, finite_number, numeric_values
from healthmon.store.queries import HistoryReads
from healthmon.store.schema import (
    ALERT_COLUMNS,
    ALERT_JSON_COLUMNS,
    INSERT_ALERT,
    INSERT_REQUEST,
    INSERT_SILENCE,
    INSERT_TRANSITION,
    PRUNE_EVERY_SECONDS,
    REQUEST_COLUMNS,
    REQUEST_JSON_COLUMNS,
    SAMPLES_PREFIX,
    SCHEMA,
    SILENCE_COLUMNS,
    TRANSITION_COLUMNS,
    WRITER_THREAD_NAME,
    StoreError,
    _CorruptDatabase,
    _encode,
    _insert_sql,
    _transaction,
    migrate,
)

DROP_LOG_EVERY_SECONDS = 60.0  # one WARNING a minute at most, however many rows a full queue drops meanwhile

class HistoryStore(HistoryReads):
    """Durable history of samples, requests, alerts and silences in one SQLite file (WAL), fed by a bounded queue."""

    def __init__(
        self,
        path: Path,
        clock: Callable[[], float] = time.time,
        flush_interval_seconds: float = 1.0,
        retention_seconds: float = 7 * 86_400,
        max_pending: int = 100_000,
        logger: logging.Logger | None = None,
    ) -> None:
        self._path = Path(path)
        self._clock = clock
        self._flush_interval_seconds = flush_interval_seconds
        self._retention_seconds = retention_seconds
        self._max_pending = max_pending
        self._log = logger or logging.getLogger(__name__)
        self._pending: deque[tuple] = deque()
        self._unwritten: Counter[str] = Counter()  # ops accepted, not yet committed, by kind (op[0]): see _catch_up
        self._pending_lock = threading.Lock()  # the queue, _unwritten, dropped_total and _closed
        self._write_lock = threading.Lock()  # the writer connection, the column cache and write stats
        self._read_lock = threading.Lock()  # the reader connection
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._sample_columns: dict[str, set[str]] = {}
        self._valid_names: frozenset[str] = frozenset()  # metric names already checked
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._finished = False
        self._failing = False
        self._logged_error: str | None = None
        self._last_prune_at = float("-inf")
        self._dropped_total = 0
        self._dropped_unreported = 0  # dropped since the last WARNING (under _pending_lock)
        self._drops_reported_at = float("-inf")
        self._opened_once = False  # quick_check runs on the first open only, not on every reopen after a failure
        self._checkpoint_failures_total = 0
        self._last_checkpoint_error: str | None = None
        self._written_rows_total = 0
        self._write_errors_total = 0
        self._last_error: str | None = None
        self._last_error_at: float | None = None
        self._last_flush_at: float | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def open(self) -> HistoryStore:
        """Open or create the database (a corrupt one is moved aside) and start the writer; I/O errors are retried."""
        if self._closed:
            raise StoreError(f"history store {self._path} is closed")
        if self._thread is not None:
            return self
        with self._write_lock:
            try:
                self._ensure_writer()
            except (sqlite3.Error, OSError) as exc:  # e.g. read-only disk: keep monitoring, retry every flush
                self._record_failure(exc, [], retry=True)
        self._thread = threading.Thread(target=self._run, name=WRITER_THREAD_NAME, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the writer, write what is pending, close both connections; safe to call twice."""
        with self._pending_lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30.0)
        self.flush()
        with self._write_lock:
            self._finished = True
            self._close_connections()
        with self._pending_lock:  # the last flush failed: these rows will never be written, so say so
            self._drop_pending_locked(len(self._pending))
        self._report_drops(force=True)

    def __enter__(self) -> HistoryStore:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_interval_seconds):
            self.flush()
            now = self._clock()
            if now - self._last_prune_at >= PRUNE_EVERY_SECONDS:
                self.prune(now)
                self.checkpoint()

    # --- enqueue (caller's thread: validate, never touch SQLite, never block on I/O) -------------
    def append_sample(self, layer: str, ts: float, values: Mapping[str, Any]) -> None:
        """Queue one sample; ValueError for a bad layer/metric name or ts, non-numeric values are skipped."""
        check_name(layer, "layer")
        unchecked = values.keys() - self._valid_names
        if unchecked:
            for name in unchecked:
                check_name(name, "metric")
            self._valid_names = self._valid_names | unchecked  # rebind, never mutate: other threads iterate it
        if finite_number(ts) is None:
            raise ValueError(f"sample ts must be a finite number, got {ts!r}")
        self._enqueue(("sample", layer, float(ts), numeric_values(values)))

    def append_request(self, record: Mapping[str, Any]) -> None:
        """Queue one request record (INSERT OR REPLACE by trace_id, so a later update wins)."""
        if not isinstance(record.get("trace_id"), str) or not record["trace_id"]:
            raise ValueError(f"request record needs a non-empty str trace_id, got {record.get('trace_id')!r}")
        self._enqueue(("request", _encode(record, REQUEST_COLUMNS, REQUEST_JSON_COLUMNS)))

    def upsert_alert(self, alert: Mapping[str, Any]) -> None:
        """Queue the alert's current state, plus a transition row (at alert["transition_at"], default clock())
        when alert["transition"] names the state it just entered."""
        if not isinstance(alert.get("id"), str) or not alert["id"]:
            raise ValueError(f"alert needs a non-empty str id, got {alert.get('id')!r}")
        transition = None
        if isinstance(alert.get("transition"), str):
            row = {"alert_id": alert["id"], "ts": alert.get("transition_at", self._clock()),
                   "state": alert["transition"], "value": alert.get("value"), "message": alert.get("message")}
            transition = _encode(row, TRANSITION_COLUMNS, frozenset())
        self._enqueue(("alert", _encode(alert, ALERT_COLUMNS, ALERT_JSON_COLUMNS), transition))

    def upsert_silence(self, silence: Mapping[str, Any]) -> None:
        """Queue a silence (matcher, starts_at, ends_at, created_at); it replaces the matcher's previous one."""
        if not isinstance(silence.get("matcher"), str) or not silence["matcher"]:
            raise ValueError(f"silence needs a non-empty str matcher, got {silence.get('matcher')!r}")
        self._enqueue(("silence", _encode(silence, SILENCE_COLUMNS, frozenset())))

    def _enqueue(self, op: tuple) -> None:
        with self._pending_lock:
            if self._closed:
                self._dropped_total += 1
                self._dropped_unreported += 1
                return
            self._pending.append(op)
            self._drop_pending_locked(len(self._pending) - self._max_pending)
            self._unwritten[op[0]] += 1

    def _catch_up(self, kind: str) -> None:
        """Before a read of `kind` (op[0]: sample, request, alert, silence): commit what is queued, if any of it is
        that kind. The count is decremented only after the commit, so a read that finds it zero misses nothing."""
        with self._pending_lock:
            unwritten = self._unwritten[kind] > 0 and not self._failing  # failing: retrying per read won't help
        if unwritten:
            self.flush()

    def _drop_pending_locked(self, count: int) -> None:
        """Drop the `count` oldest queued ops and count them (caller holds _pending_lock; the WARNING comes from
        _report_drops on the writer side, so an append never waits on logging)."""
        for _ in range(max(count, 0)):
            self._unwritten[self._pending.popleft()[0]] -= 1
            self._dropped_total += 1
            self._dropped_unreported += 1

    def _report_drops(self, force: bool = False) -> None:
        """One WARNING with the rows dropped since the last one, at most every DROP_LOG_EVERY_SECONDS."""
        now = self._clock()
        with self._pending_lock:
            count, total = self._dropped_unreported, self._dropped_total
            if not count or (not force and now - self._drops_reported_at < DROP_LOG_EVERY_SECONDS):
                return
            self._dropped_unreported, self._drops_reported_at = 0, now
        self._log.warning("history store %s: dropped %d rows that will never be written (%d since start; "
                          "last error: %s)", self._path, count, total, self._last_error)

    def _forget(self, batch: list[tuple]) -> None:
        """The batch is committed or dropped for good: it no longer makes reads flush."""
        with self._pending_lock:
            self._unwritten.subtract(op[0] for op in batch)

    # --- writer side -----------------------------------------------------------------------------
    def flush(self) -> bool:
        """Write everything pending in one transaction now; False when it failed (health() says why)."""
        written = self._flush()
        self._report_drops()
        return written

    def _flush(self) -> bool:
        with self._write_lock:
            if self._finished:
                return False
            with self._pending_lock:
                batch = list(self._pending)
                self._pending.clear()
            if not batch:
                return True
            try:
                rows = self._write_batch(self._ensure_writer(), batch)
            except (sqlite3.OperationalError, OSError) as exc:  # full, read-only, locked, I/O: retry later
                self._record_failure(exc, batch, retry=True)
                return False
            except Exception as exc:  # noqa: BLE001 - a batch that cannot bind would fail the same way again
                self._record_failure(exc, batch, retry=False)
                return False
            self._forget(batch)
            self._written_rows_total += rows
            self._last_flush_at = self._clock()
            if self._failing:
                self._log.info("history store %s: writes recovered", self._path)
            self._failing, self._logged_error = False, None
            return True

    def prune(self, now: float) -> int:
        """Delete rows older than now - retention from every table; the writer calls it once a minute."""
        cutoff = now - self._retention_seconds
        with self._write_lock:
            self._last_prune_at = now
            if self._finished:
                return 0
            try:
                conn = self._ensure_writer()
                tables = [row[0] for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'samples\\_%' ESCAPE '\\'")]
                with _transaction(conn):
                    deleted = sum(conn.execute(f'DELETE FROM "{t}" WHERE ts < ?', (cutoff,)).rowcount for t in tables)
                    deleted += conn.execute("DELETE FROM requests WHERE ts < ?", (cutoff,)).rowcount
                    deleted += conn.execute("DELETE FROM alerts WHERE resolved_at < ?", (cutoff,)).rowcount
                    deleted += conn.execute("DELETE FROM alert_transitions WHERE ts < ?", (cutoff,)).rowcount
                    deleted += conn.execute("DELETE FROM silences WHERE ends_at < ?", (cutoff,)).rowcount
            except (sqlite3.Error, OSError) as exc:
                self._record_failure(exc, [], retry=True)
                return 0
        return deleted

    def checkpoint(self) -> bool:
        """Copy the WAL into the database (PASSIVE: never waits for readers); the writer calls it after each prune.

        SQLite's own auto-checkpoints fail silently, and a WAL that is never checkpointed grows without bound; so a
        failure here is counted and logged, once per streak. False when it failed."""
        with self._write_lock:
            if self._finished or self._failing:  # writes already fail and say so; nothing new to checkpoint
                return False
            try:
                busy, log_frames, _ = self._ensure_writer().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if busy or log_frames < 0:  # -1: the file is not in WAL mode (journal_mode=WAL did not take)
                    raise sqlite3.OperationalError(f"wal_checkpoint returned busy={busy}, log={log_frames}")
            except (sqlite3.Error, OSError) as exc:
                self._checkpoint_failures_total += 1
                if self._last_checkpoint_error is None:
                    self._log.warning("history store %s: WAL checkpoint failed (%s: %s); the -wal file grows until "
                                      "one succeeds", self._path, type(exc).__name__, exc)
                self._last_checkpoint_error = f"{type(exc).__name__}: {exc}"
                self._close_connections()
                return False
            if self._last_checkpoint_error is not None:
                self._log.info("history store %s: WAL checkpoints recovered", self._path)
            self._last_checkpoint_error = None
            return True

    def _write_batch(self, conn: sqlite3.Connection, batch: list[tuple]) -> int:
        samples: dict[str, list[tuple[float, dict[str, float]]]] = {}
        requests, alerts, transitions, silences = [], [], [], []
        for op in batch:
            if op[0] == "sample":
                samples.setdefault(op[1], []).append((op[2], op[3]))
            elif op[0] == "request":
                requests.append(op[1])
            elif op[0] == "silence":
                silences.append(op[1])
            else:
                alerts.append(op[1])
                if op[2] is not None:
                    transitions.append(op[2])
        try:
            with _transaction(conn):
                for layer, rows in samples.items():
                    names = list(dict.fromkeys(itertools.chain.from_iterable(values for _, values in rows)))
                    self._ensure_sample_columns(conn, layer, names)
                    conn.executemany(_insert_sql("INSERT", SAMPLES_PREFIX + layer, [TS_COLUMN, *names]),
                                     [(ts, *map(values.get, names)) for ts, values in rows])
                conn.executemany(INSERT_REQUEST, requests)
                conn.executemany(INSERT_ALERT, alerts)
                conn.executemany(INSERT_TRANSITION, transitions)
                conn.executemany(INSERT_SILENCE, silences)
        except BaseException:
            self._sample_columns.clear()  # ALTER TABLEs were rolled back too: reload columns from the file
            raise
        return (sum(len(rows) for rows in samples.values()) + len(requests) + len(alerts) + len(transitions)
                + len(silences))

    def _ensure_sample_columns(self, conn: sqlite3.Connection, layer: str, names: list[str]) -> None:
        """Create the layer's table on first use and add a REAL column for each new metric."""
        table = SAMPLES_PREFIX + layer
        known = self._sample_columns.get(layer)
        if known is None:
            conn.execute(f'CREATE TABLE IF NOT EXISTS "{table}" (ts REAL NOT NULL)')
            conn.execute(f'CREATE INDEX IF NOT EXISTS "idx_{table}_ts" ON "{table}"(ts)')
            known = self._sample_columns[layer] = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
        for name in names:
            if name not in known:
                conn.execute(f'ALTER TABLE "{table}" ADD COLUMN "{name}" REAL')
                known.add(name)

    def _ensure_writer(self) -> sqlite3.Connection:
        """The writer connection, (re)opened when missing or when the file was deleted under us."""
        if self._writer is not None and self._path.exists():
            return self._writer
        if self._writer is not None:
            self._log.warning("history database %s disappeared; creating a new one", self._path)
            self._close_connections()
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._sync_sidecar_modes()
        try:
            self._writer = self._open_checked(check=not self._opened_once)
        except _CorruptDatabase as exc:
            self._move_aside(str(exc))
            self._writer = self._open_checked(check=True)
        self._opened_once = True
        return self._writer

    def _sync_sidecar_modes(self) -> None:
        """Give -wal and -shm the database file's permission bits again, as SQLite does when it creates them.

        SQLite copies the file's mode into the -wal and -shm it creates: while the file is read-only they come out
        0444, and stay so after the file is fixed, so every reopen would still fail with "readonly database".
        Only files we own can be changed; anything else is left as it is (the open then says why)."""
        with suppress(OSError):
            mode = self._path.stat().st_mode & 0o777
            for suffix in ("-wal", "-shm"):
                sidecar = Path(f"{self._path}{suffix}")
                with suppress(OSError):
                    if sidecar.stat().st_mode & 0o777 != mode:
                        sidecar.chmod(mode)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, timeout=5.0)

    def _open_checked(self, check: bool) -> sqlite3.Connection:
        """A writer connection with WAL set up, the schema migrated, and writes proven to work.

        quick_check reads the whole file, so it runs on the first open only (`check`), not on each reopen while
        writes fail. The probe matters because SQLite opens a file it may not write read-only, without an error,
        and in WAL mode even BEGIN IMMEDIATE succeeds on it: only a page write says so."""
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            result = conn.execute("PRAGMA quick_check").fetchone()[0] if check else "ok"
            if result != "ok":
                raise _CorruptDatabase(f"quick_check: {result}")
            conn.executescript(SCHEMA)
            changed = migrate(conn)
            if changed:
                self._log.info("history database %s migrated: %s", self._path, ", ".join(changed))
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            conn.execute("BEGIN IMMEDIATE")
            try:  # rewrites page 1 with its own value, rolled back: "attempt to write a readonly database" or nothing
                conn.execute(f"PRAGMA user_version = {version}")
            finally:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
        except sqlite3.OperationalError:  # locked, read-only, I/O: not corruption, never move the file for it
            conn.close()
            raise
        except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed", or quick_check above
            conn.close()
            raise _CorruptDatabase(str(exc)) from exc
        return conn

    def _move_aside(self, reason: str) -> None:
        aside = self._path.with_name(f"{self._path.name}.corrupt-{int(self._clock())}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self._path}{suffix}")
            if source.exists():
                os.replace(source, f"{aside}{suffix}")
        self._log.warning("history database %s is corrupt (%s): moved it to %s and started a fresh one",
                          self._path, reason, aside)

    def _close_connections(self) -> None:
        """Close both connections (caller holds _write_lock); the next write or read opens fresh ones.

        After a failed write too, and the reader with the writer: SQLite shares one -shm mapping among a process's
        connections to a file, and one first opened while the file was read-only stays read-only for all of them
        (a new writer included) until every connection is closed. So a reopen must close the reader as well."""
        self._sample_columns.clear()
        with self._read_lock:
            for conn in (self._writer, self._reader):
                if conn is not None:
                    with suppress(sqlite3.Error):
                        conn.close()
            self._writer = self._reader = None

    def _record_failure(self, exc: BaseException, batch: list[tuple], retry: bool) -> None:
        """Count and log (once per distinct error) a failed write; requeue the batch within max_pending."""
        error = f"{type(exc).__name__}: {exc}"
        self._write_errors_total += 1
        self._failing, self._last_error, self._last_error_at = True, error, self._clock()
        if retry:
            self._close_connections()
        with self._pending_lock:
            if retry:
                self._pending.extendleft(reversed(batch))
                self._drop_pending_locked(len(self._pending) - self._max_pending)
            else:
                self._unwritten.subtract(op[0] for op in batch)
                self._dropped_total += len(batch)
                self._dropped_unreported += len(batch)
        if error != self._logged_error:
            self._logged_error = error
            action = "will reopen and retry" if retry else f"dropping this batch of {len(batch)} rows"
            self._log.error("history store %s: write failed (%s), %s", self._path, error, action)

    # --- reads (any thread; queries.py's reads call _catch_up first, so they see every accepted write) ---
    def health(self) -> dict[str, Any]:
        """Store status for the health page and /api: counts, the last error and the file size."""
        with self._pending_lock:
            pending, dropped_total = len(self._pending), self._dropped_total
        sizes = [Path(f"{self._path}{suffix}") for suffix in ("", "-wal")]
        running = self._thread is not None and self._thread.is_alive()
        return {
            "ok": running and not self._failing, "path": str(self._path), "pending": pending,
            "written_rows_total": self._written_rows_total, "write_errors_total": self._write_errors_total,
            "dropped_total": dropped_total, "last_error": self._last_error, "last_error_at": self._last_error_at,
            "last_flush_at": self._last_flush_at, "checkpoint_failures_total": self._checkpoint_failures_total,
            "last_checkpoint_error": self._last_checkpoint_error,
            "db_size_bytes": sum(path.stat().st_size for path in sizes if path.exists()),
        }
