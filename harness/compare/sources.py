"""What `chaosdrill compare` compares: the latest journal of each drill on one side.

A side is a journal file, a run folder (holding journal.json), or a folder
of run folders (a gate's or suite's report folder, possibly holding several
gates' runs: the newest run of each drill counts). A drill is named by its
scenario file's stem (the matrix: matrix-<stack>; a game day: gameday).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.run.journal import read_journal

__all__ = ["drill_name", "read_side"]


def drill_name(journal: dict[str, Any]) -> str:
    scenario = journal.get("scenario") or {}
    if scenario.get("kind") == "gameday":
        return "gameday"
    if scenario.get("path"):
        return Path(str(scenario["path"])).stem
    run_id = str(journal.get("run_id", ""))
    return run_id.split("-", 1)[1] if "-" in run_id else run_id or "drill"


def read_side(path: Path, flag: str) -> dict[str, dict[str, Any]]:
    """{drill: journal} of one side, the newest run of each drill."""
    if not path.exists():
        raise UsageError(f"{flag} {path}: no such file or folder")
    if path.is_file() or (path / "journal.json").is_file():
        journal = read_journal(path)
        return {drill_name(journal): journal}
    found = sorted(path.glob("*/journal.json"))
    if not found:
        raise UsageError(f"{flag} {path}: no journal.json in it nor in its run folders; give a journal, a run "
                         "folder or a gate's report folder")
    side: dict[str, dict[str, Any]] = {}
    for journal_path in found:
        journal = read_journal(journal_path)
        name = drill_name(journal)
        if name not in side or str(journal.get("started_at", "")) >= str(side[name].get("started_at", "")):
            side[name] = journal
    return side
