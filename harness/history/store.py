"""The history store: one SQLite file, every run a row and its measures, appended whole or not at all.

Why SQLite and these settings: CI jobs and people run drills side by side
against one `reports/history.sqlite`, and a runner can be killed at any
moment. WAL mode lets readers read while a writer writes; `BEGIN
IMMEDIATE` takes the write lock before anything is read, so two writers
queue (busy_timeout) instead of failing half-way; a run and all its
measures are one transaction, so a writer killed mid-run leaves the store
as it was before that run (SQLite rolls the unfinished transaction back on
the next open). `synchronous=NORMAL` under WAL never corrupts the file; a
power cut may lose the last run, a killed process loses nothing committed.

The schema is versioned in `schema_version`; tables are created when
missing, so the first run makes the store and an older store is read as is.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:  # the store takes rows; reading journals (and the report's naming) stays in extract.py
    from harness.history.extract import RunRecord

__all__ = ["SCHEMA_VERSION", "HistoryError", "append", "append_all", "drills", "measures_of", "open_read", "runs_of"]

SCHEMA_VERSION = 1
BUSY_MS = 30_000  # a gate's drills and a colleague's run queue for the lock; a commit takes milliseconds

RUN_COLUMNS = ("run_id", "drill", "kind", "title", "scenario_path", "started_at", "ended_at", "status", "exit_code",
               "reason", "score", "score_classes", "duration_s", "git_commit", "stack_changes", "host", "chaosdrill",
               "recorded_at", "n_expectations", "n_invariants", "n_phases", "n_cells")
MEASURE_COLUMNS = {
    "expectations": ("phase", "endpoint", "name", "threshold", "measured", "display", "unit", "passed", "partial",
                     "why"),
    "invariants": ("name", "passed", "counts", "message"),
    "phases": ("name", "start", "end", "faulted", "requests", "error_rate", "ungraceful", "p99_ms"),
    "cells": ("link", "fault", "outcome", "ran"),
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL, drill TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL, scenario_path TEXT,
    started_at TEXT, ended_at TEXT, status TEXT NOT NULL, exit_code INTEGER, reason TEXT,
    score INTEGER, score_classes TEXT, duration_s REAL, git_commit TEXT, stack_changes TEXT NOT NULL,
    host TEXT, chaosdrill TEXT, recorded_at TEXT NOT NULL,
    n_expectations INTEGER NOT NULL, n_invariants INTEGER NOT NULL, n_phases INTEGER NOT NULL,
    n_cells INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS runs_by_drill ON runs (drill, started_at, id);
CREATE TABLE IF NOT EXISTS expectations (
    run INTEGER NOT NULL REFERENCES runs (id), phase TEXT, endpoint TEXT, name TEXT NOT NULL, threshold TEXT,
    measured REAL, display TEXT, unit TEXT, passed INTEGER NOT NULL, partial INTEGER NOT NULL, why TEXT);
CREATE INDEX IF NOT EXISTS expectations_by_run ON expectations (run);
CREATE TABLE IF NOT EXISTS invariants (
    run INTEGER NOT NULL REFERENCES runs (id), name TEXT NOT NULL, passed INTEGER NOT NULL, counts TEXT NOT NULL,
    message TEXT);
CREATE INDEX IF NOT EXISTS invariants_by_run ON invariants (run);
CREATE TABLE IF NOT EXISTS phases (
    run INTEGER NOT NULL REFERENCES runs (id), name TEXT NOT NULL, start REAL, "end" REAL,
    faulted INTEGER NOT NULL, requests INTEGER NOT NULL, error_rate REAL, ungraceful INTEGER, p99_ms REAL);
CREATE INDEX IF NOT EXISTS phases_by_run ON phases (run);
CREATE TABLE IF NOT EXISTS cells (
    run INTEGER NOT NULL REFERENCES runs (id), link TEXT, fault TEXT, outcome TEXT, ran INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS cells_by_run ON cells (run);
"""


class HistoryError(Exception):
    """The store could not be read or written; the message is one line naming the file and what failed."""


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if "not a database" in text:
        return "not a SQLite file (file is not a database)"
    if "unable to open database file" in text:
        return "unable to open database file (a folder that cannot be written?)"
    if isinstance(exc, OSError):
        return exc.strerror or text
    return text


def _connect(target: str, uri: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(target, timeout=BUSY_MS / 1000, isolation_level=None, uri=uri)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    return conn


def _version(conn: sqlite3.Connection) -> int | None:
    """The store's schema version; None when it has no tables yet."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchone():
        return None
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return row[0] if row and row[0] is not None else None


def _check_version(version: int | None) -> None:
    if version is not None and version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(f"history schema version {version} is newer than this chaosdrill's "
                                    f"({SCHEMA_VERSION}); upgrade chaosdrill to read or write it")


def _ensure_schema(conn: sqlite3.Connection) -> None:
    """Create what is missing, under the write lock so two first runs do not both create it."""
    version = _version(conn)
    _check_version(version)
    if version == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in filter(str.strip, SCHEMA.split(";")):
            conn.execute(statement)
        if _version(conn) is None:
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def append(path: Path, record: RunRecord, pause: Callable[[], None] | None = None) -> int:
    """Append one run and its measures in one transaction; returns the run's row id.

    `pause` runs inside the transaction, between the run row and its measures: the test that
    kills a writer there proves a run is never half-written. Raises HistoryError.
    """
    return append_all(path, [record], pause)[0]


def append_all(path: Path, records: Iterable[RunRecord], pause: Callable[[], None] | None = None) -> list[int]:
    """`append` for several runs on one connection, each still its own transaction."""
    path = Path(path)
    if path.is_dir():
        raise HistoryError(f"{path}: is a folder; name the history file, e.g. {path / 'history.sqlite'}")
    blocking = next((p for p in path.parents if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise HistoryError(f"{path}: cannot create it: {blocking} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(str(path))
    except (OSError, sqlite3.Error) as exc:
        raise HistoryError(f"{path}: cannot open it: {_why(exc)}") from None
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        _ensure_schema(conn)
        return [_insert(conn, record, pause) for record in records]
    except (OSError, sqlite3.Error) as exc:
        raise HistoryError(f"{path}: cannot write the run to it: {_why(exc)}") from None
    finally:
        conn.close()


def _insert(conn: sqlite3.Connection, record: RunRecord, pause: Callable[[], None] | None) -> int:
    """One run and its measures, all or nothing: BEGIN IMMEDIATE takes the write lock first."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        marks = ", ".join(f":{c}" for c in RUN_COLUMNS)
        run_id = conn.execute(f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({marks})", record.run).lastrowid
        if pause is not None:
            pause()
        for table, columns in MEASURE_COLUMNS.items():
            rows = getattr(record, table)
            if rows:
                names = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join(f":{c}" for c in columns)
                conn.executemany(f"INSERT INTO {table} (run, {names}) VALUES (:run, {marks})",
                                 [{**row, "run": run_id} for row in rows])
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return int(run_id or 0)


def open_read(path: Path) -> sqlite3.Connection:
    """The store opened for queries only (reading never creates it or changes a row). Raises
    HistoryError: no such file, not SQLite, not a chaosdrill history, a newer schema."""
    path = Path(path)
    if not path.is_file():
        raise HistoryError(f"{path}: no history file there" if not path.exists() else f"{path}: not a file")
    uri = path.resolve().as_uri()
    try:
        # Read-write but query-only where it may: the last connection to close then folds the WAL back
        # into the file and removes it (a read-only one leaves -wal and -shm files behind); read-only
        # where it must, and a read-only folder lacking the WAL's -shm file is read as the file is.
        for mode in ("mode=rw", "mode=ro", "immutable=1"):
            conn = None
            try:
                conn = _connect(f"{uri}?{mode}", uri=True)
                conn.execute("PRAGMA query_only = 1")
                version = _version(conn)
                _check_version(version)
                break
            except sqlite3.Error as exc:
                if conn is not None:
                    conn.close()
                if not isinstance(exc, sqlite3.OperationalError) or mode == "immutable=1":
                    raise
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: cannot read it: {_why(exc)}") from None
    if version is None:
        conn.close()
        raise HistoryError(f"{path}: not a chaosdrill history (no schema_version table)")
    return conn


def drills(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every drill in the store with its number of runs, most recently run last."""
    rows = conn.execute("SELECT drill, count(*) AS runs, max(started_at) AS last FROM runs "
                        "GROUP BY drill ORDER BY drill").fetchall()
    return [dict(r) for r in rows]


def runs_of(conn: sqlite3.Connection, drill: str, last: int, until: str | None = None,
            until_started: str | None = None) -> list[dict[str, Any]]:
    """The last `last` runs of `drill`, oldest first; with `until` (a run id) only that run and the
    ones before it (a report re-rendered later shows the trend as it stood at its run), else with
    `until_started` (an ISO time) the runs started by then."""
    where, params = "drill = ?", [drill]
    anchor = None
    if until is not None:
        anchor = conn.execute("SELECT started_at, id FROM runs WHERE drill = ? AND run_id = ? ORDER BY id DESC "
                              "LIMIT 1", (drill, until)).fetchone()
    if anchor is not None:
        where += " AND (coalesce(started_at, '') < ? OR (coalesce(started_at, '') = ? AND id <= ?))"
        params += [anchor[0] or "", anchor[0] or "", anchor[1]]
    elif until_started is not None:
        where += " AND coalesce(started_at, '') <= ?"
        params.append(until_started)
    rows = conn.execute(f"SELECT * FROM runs WHERE {where} ORDER BY coalesce(started_at, '') DESC, id DESC "
                        "LIMIT ?", (*params, max(int(last), 0))).fetchall()
    return [dict(r) for r in reversed(rows)]


def measures_of(conn: sqlite3.Connection, run_ids: Iterable[int]) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """Each run's measure rows by table: {"expectations": [...], "invariants": [...], "phases": [...], "cells": [...]}."""
    ids = list(run_ids)
    out: dict[int, dict[str, list[dict[str, Any]]]] = {i: {t: [] for t in MEASURE_COLUMNS} for i in ids}
    if not ids:
        return out
    marks = ", ".join("?" * len(ids))
    for table in MEASURE_COLUMNS:
        for row in conn.execute(f"SELECT * FROM {table} WHERE run IN ({marks}) ORDER BY rowid", ids):
            out[row["run"]][table].append(dict(row))
    return out
