"""A finished journal as the history's rows: what the run was and what it measured.

Reads only the judged journal, never re-measures: the expectations, the
invariants and the matrix's cells are copied as the verdict left them, so a
row in the history says what that run's own report says. The one figure
computed here, each phase's error rate and p99, comes from the journal's
per-second metrics exactly as the report's endpoint tables compute it
(`Series.window` over the whole phase), so a drill whose scenario does not
expect them still shows how its fault phases went over time.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from harness.judge.score import score_of
from harness.metrics.series import Series
from harness.report.model import scenario_name, stack_changes

__all__ = ["RunRecord", "drill_name", "git_commit", "record_of", "unit_of"]


@dataclass
class RunRecord:
    """One run and its measures, as the store's tables take them (column name -> value)."""

    run: dict[str, Any]
    expectations: list[dict[str, Any]] = field(default_factory=list)
    invariants: list[dict[str, Any]] = field(default_factory=list)
    phases: list[dict[str, Any]] = field(default_factory=list)
    cells: list[dict[str, Any]] = field(default_factory=list)


def drill_name(journal: dict[str, Any]) -> str:
    """What the history files a run under: the scenario file's stem (a matrix's is `matrix-<stack>`),
    or `gameday` for a game day, whose --scenario only lends it phases to cue."""
    if (journal.get("scenario") or {}).get("kind") == "gameday":
        return "gameday"
    return scenario_name(journal)


def kind_of(journal: dict[str, Any]) -> str:
    if (journal.get("scenario") or {}).get("kind") == "gameday":
        return "gameday"
    return "matrix" if isinstance(journal.get("matrix"), dict) else "drill"


def headline_score(journal: dict[str, Any]) -> int | None:
    """A matrix is scored by its cells (what its heat map shows); any other run by its verdict."""
    matrix = journal.get("matrix")
    if isinstance(matrix, dict) and matrix.get("score") is not None:
        return int(matrix["score"])
    return score_of(journal)


def unit_of(name: str, threshold: str) -> str | None:
    """The unit of an expectation's `measured` value (the judge's canonical units), or None when the
    name does not say: share (0-1), ms, s, count, rps, x (of the baseline)."""
    if name.endswith("_ms") or name == "max_latency":
        return "ms"
    if name == "recovers_within":
        return "s"
    if name in ("throughput", "goodput"):
        return "x" if threshold.rstrip().endswith("x") else "rps"
    if name == "error_rate" or "%" in threshold:
        return "share"
    if name in ("ungraceful", "slow", "retry_after", "load_workers") or name.startswith(("codes.", "classes.")):
        return "count"
    return None


def git_commit(cwd: str | None = None) -> str | None:
    """HEAD of the git checkout the run was started in, when there is one (None otherwise):
    what tells a regression's run from the one before it."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=2)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and len(commit) >= 7 else None


def record_of(journal: dict[str, Any], commit: str | None = None) -> RunRecord:
    scenario = journal.get("scenario") or {}
    env = journal.get("environment") or {}
    score = journal.get("score")
    rec = RunRecord(run={
        "run_id": str(journal.get("run_id") or ""),
        "drill": drill_name(journal),
        "kind": kind_of(journal),
        "title": str(scenario.get("title") or journal.get("run_id") or "chaosdrill run"),
        "scenario_path": scenario.get("path"),
        "started_at": journal.get("started_at"),
        "ended_at": journal.get("ended_at"),
        "status": str(journal.get("status") or "error"),
        "exit_code": journal.get("exit_code"),
        "reason": str(journal.get("reason") or ""),
        "score": headline_score(journal),
        "score_classes": json.dumps(score.get("classes")) if isinstance(score, dict) else None,
        "duration_s": journal.get("duration_s"),
        "git_commit": commit,
        "stack_changes": json.dumps(stack_changes(journal)),
        "host": env.get("host"),
        "chaosdrill": env.get("chaosdrill"),
        "recorded_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    })
    for e in journal.get("expectations") or []:
        threshold = str(e.get("threshold") or "")
        measured = e.get("measured")
        rec.expectations.append({
            "phase": e.get("phase"), "endpoint": e.get("endpoint"), "name": str(e.get("name") or "?"),
            "threshold": threshold, "measured": float(measured) if isinstance(measured, (int, float)) else None,
            "display": e.get("display"), "unit": unit_of(str(e.get("name") or ""), threshold),
            "passed": bool(e.get("passed")), "partial": bool(e.get("partial")), "why": e.get("why") or "",
        })
    for i in journal.get("invariants") or []:
        rec.invariants.append({"name": str(i.get("name") or "?"), "passed": bool(i.get("passed")),
                               "counts": json.dumps(i.get("counts") or {}), "message": i.get("message") or ""})
    rec.phases = phase_rows(journal)
    matrix = journal.get("matrix")
    for c in (matrix.get("cells") or []) if isinstance(matrix, dict) else []:
        rec.cells.append({"link": c.get("link"), "fault": c.get("fault"), "outcome": c.get("outcome"),
                          "ran": bool(c.get("ran"))})
    rec.run.update(n_expectations=len(rec.expectations), n_invariants=len(rec.invariants),
                   n_phases=len(rec.phases), n_cells=len(rec.cells))
    return rec


def phase_rows(journal: dict[str, Any]) -> list[dict[str, Any]]:
    """Each phase over its whole window (the report's endpoint tables' total row); `faulted` when a
    fault was applied in it."""
    phases = [p for p in journal.get("phases") or [] if "start" in p and "end" in p]
    metrics = journal.get("metrics") or []
    if not phases:
        return []
    series = Series.from_json(metrics) if metrics else None
    faulted = {f.get("phase") for f in journal.get("faults") or [] if f.get("applied_at") is not None}
    rows = []
    for p in phases:
        stats = series.window(p["start"], p["end"]) if series is not None else None
        n = stats.n if stats is not None else 0
        rows.append({"name": str(p["name"]), "start": float(p["start"]), "end": float(p["end"]),
                     "faulted": p["name"] in faulted, "requests": n,
                     "error_rate": stats.error_rate if n else None,
                     "ungraceful": stats.ungraceful if n else None,
                     "p99_ms": stats.percentile_ms(99) if n else None})
    return rows
