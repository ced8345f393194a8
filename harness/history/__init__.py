"""The run history: every run, gate drill, matrix and game day appended to one SQLite file.

A run's journal stands alone; the history is what lets a team see a drill
get worse (or better) over weeks, and a pull request's run be read against
main's. It reads finished, judged journals and never re-measures
(docs/history.md):

- extract.py: a journal as rows (the run, its expectations, invariants, phases, matrix cells);
- store.py: the SQLite schema, the one-transaction append, the queries;
- trend.py: a drill's last runs as the points a report's trend chart draws.

Writing the history must never change a run's verdict or exit code: `record`
turns every failure into one warning line.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

from harness.history.store import HistoryError

__all__ = ["DEFAULT_FILE", "HistoryError", "history_path", "read_trends", "record"]

DEFAULT_FILE = "history.sqlite"


def history_path(report_dir: Path, history: Path | None, off: bool) -> Path | None:
    """Where a run appends: --history PATH, else REPORT_DIR/history.sqlite; None with --no-history."""
    if off:
        return None
    return Path(history) if history is not None else Path(report_dir) / DEFAULT_FILE


def warn(text: str) -> None:
    print(f"chaosdrill: warning: {text}", file=sys.stderr)


def _failed(what: str, path: Path, exc: Exception) -> str:
    """One line naming the file and what failed (a bug here too: the run's own results matter more)."""
    return f"{what}: {exc}" if isinstance(exc, HistoryError) else f"{what}: {path}: internal error: {exc!r}"


def record(journal: dict[str, Any], path: Path,
           say: Callable[[str], Any] = warn) -> list[dict[str, Any]] | None:
    """Append the run; return its drill's trend for the report (None when the history failed,
    said in one line naming the file: the run's verdict and exit code stay as they are)."""
    from harness.history.extract import git_commit, record_of
    from harness.history.store import append

    try:
        append(path, record_of(journal, git_commit()))
    except Exception as exc:
        say(_failed("history not written", path, exc))
        return None
    return (read_trends(path, [journal], say) or {}).get(str(journal.get("run_id") or ""))


def read_trends(path: Path | None, journals: list[dict[str, Any]],
                say: Callable[[str], Any] = warn) -> dict[str, list[dict[str, Any]]] | None:
    """Each run's trend ({run id: points}) for a report or a suite's index; None when there is no
    history (said in one line when there is a file that cannot be read)."""
    if path is None or not Path(path).exists():
        return None
    from harness.history.trend import trends_for

    try:
        return trends_for(path, journals)
    except Exception as exc:
        say(_failed("history not read", path, exc))
        return None
