"""The trend a report draws: a drill's last runs as plain points (when, verdict, score).

The report draws them (harness/report/trend_chart.py) but never opens the
store: the caller queries here and hands the points in, so rendering stays
free of SQLite and a report re-rendered from a journal alone still works.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Iterable

from harness.history.extract import drill_name
from harness.history.store import open_read, runs_of

__all__ = ["TREND_RUNS", "points", "trend_of", "trends_for"]

TREND_RUNS = 20  # enough to see a regression and the runs before it, few enough to read each dot


def points(rows: list[dict[str, Any]], current: str | None = None) -> list[dict[str, Any]]:
    """Run rows (oldest first) as chart points; `current` (a run id) is the run the report is about."""
    out = []
    for row in rows:
        when = str(row.get("started_at") or "").replace("T", " ").rstrip("Z")[:16]
        score = row.get("score")
        status = str(row.get("status") or "error")
        commit = str(row.get("git_commit") or "")[:10]
        label = f"{when or '?'} UTC · {status.upper()} · " + (f"score {score}" if score is not None else "no score")
        label += f" · {row.get('run_id')}" + (f" · commit {commit}" if commit else "")
        out.append({"run_id": row.get("run_id"), "when": when, "status": status, "score": score,
                    "current": current is not None and row.get("run_id") == current, "label": label})
    return out


def trend_of(conn: sqlite3.Connection, journal: dict[str, Any], last: int = TREND_RUNS) -> list[dict[str, Any]]:
    """The last runs of the journal's drill up to and including its run."""
    rows = runs_of(conn, drill_name(journal), last, until=str(journal.get("run_id") or ""),
                   until_started=journal.get("started_at"))
    return points(rows, str(journal.get("run_id") or ""))


def trends_for(path: Path, journals: Iterable[dict[str, Any]], last: int = TREND_RUNS) -> dict[str, list[dict[str, Any]]]:
    """{run id: points} for several runs (a suite's index), one read of the store. Raises HistoryError."""
    conn = open_read(path)
    try:
        return {str(j.get("run_id") or ""): trend_of(conn, j, last) for j in journals}
    finally:
        conn.close()
