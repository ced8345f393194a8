"""Drill reports rendered from a run journal (docs/journal.md, docs/reports.md).

Public API, called by the runner after every drill and by `chaosdrill report`:

- render_all(journal, out_dir, junit_path=None, trend=None) -> {"report", "summary", "junit"}:
  report.html (self-contained), summary.md (GitHub Markdown, also appended
  to $GITHUB_STEP_SUMMARY when set) and junit.xml (or junit_path).
- render_suite([(journal, run_dir_or_journal_path), ...], out_dir, junit_path, trends=None)
  -> {"index", "junit"}: index.html linking each run's report with its
  verdict, and one junit.xml with one testsuite per scenario.

`trend`/`trends` are a drill's last runs from the run history
(harness.history.trend), read by the caller and handed in as plain data.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.judge.score import score_of, suite_score
from harness.report import formatting as fmt
from harness.report import junit
from harness.report.html import render_index, render_report
from harness.report.markdown import render_summary
from harness.report.model import read, scenario_name, stack_changes

__all__ = ["render_all", "render_suite"]


def render_all(journal: dict[str, Any], out_dir: Path, junit_path: Path | None = None,
               trend: list[dict[str, Any]] | None = None) -> dict[str, Path]:
    """`trend`: the drill's last runs, from the run history (the caller reads it: no SQLite here)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    run = read(journal)
    paths = {
        "report": out_dir / "report.html",
        "summary": out_dir / "summary.md",
        "junit": Path(junit_path) if junit_path else out_dir / "junit.xml",
    }
    paths["report"].write_text(render_report(run, trend), encoding="utf-8")
    summary = render_summary(run)
    paths["summary"].write_text(summary, encoding="utf-8")
    junit.write([journal], paths["junit"])
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as fh:
                fh.write(summary.rstrip("\n") + "\n\n")
        except OSError as exc:  # the reports are written: say which file could not take the summary
            raise UsageError(f"GITHUB_STEP_SUMMARY={step_summary}: cannot append summary.md to it "
                             f"({exc.strerror or exc})") from None
    return paths


def render_suite(journals: list[tuple[dict[str, Any], Path]], out_dir: Path,
                 junit_path: Path | None = None, trends: dict[str, list[dict[str, Any]]] | None = None
                 ) -> dict[str, Path]:
    """The index of several runs; each Path is a run folder or its journal.json. `trends`: each run's
    drill's last runs by run id, from the run history, drawn as sparklines."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for journal, where in journals:
        run_dir = Path(where)
        if run_dir.suffix == ".json" or run_dir.is_file():
            run_dir = run_dir.parent
        target = next((run_dir / n for n in ("report.html", "journal.json") if (run_dir / n).exists()), None)
        counts = read_counts(journal)
        rows.append({
            "status": str(journal.get("status") or "error"),
            "title": str((journal.get("scenario") or {}).get("title") or scenario_name(journal)),
            "name": scenario_name(journal),
            "href": Path(os.path.relpath(target, out_dir)).as_posix() if target else None,
            "duration": fmt.duration(journal.get("duration_s")),
            "started": fmt.when(journal.get("started_at"), None),
            "reason": journal.get("reason", ""),
            "changes": stack_changes(journal),
            "trend": (trends or {}).get(str(journal.get("run_id") or "")),
            **counts,
        })
    paths = {"index": out_dir / "index.html", "junit": Path(junit_path) if junit_path else out_dir / "junit.xml"}
    paths["index"].write_text(render_index(rows, suite_context([j for j, _ in journals])), encoding="utf-8")
    junit.write([j for j, _ in journals], paths["junit"])
    return paths


def suite_context(journals: list[dict[str, Any]]) -> dict[str, str]:
    """When and where the suite ran, for the index's banner: what a reader asks before the rows."""
    starts = sorted(str(j["started_at"]) for j in journals if j.get("started_at"))
    ends = sorted(str(j["ended_at"]) for j in journals if j.get("ended_at"))
    total = sum(float(j.get("duration_s") or 0) for j in journals)
    envs = [env for j in journals if (env := j.get("environment") or {})]
    hosts = sorted({f"{env.get('host') or '?'}" + (f", {env['cpus']} CPUs" if env.get("cpus") else "") for env in envs})
    versions = sorted({str(env["chaosdrill"]) for env in envs if env.get("chaosdrill")})
    return {"when": fmt.when(starts[0], ends[-1] if ends else None) if starts else "",
            "drill_time": fmt.duration(total) if journals else "",
            "hosts": "; ".join(hosts), "versions": ", ".join(versions),
            "score": "" if (score := suite_score(journals)) is None else str(score)}


def read_counts(journal: dict[str, Any]) -> dict[str, int]:
    exps = journal.get("expectations") or []
    invs = journal.get("invariants") or []
    return {"exp_ok": sum(1 for e in exps if e.get("passed")), "exp_total": len(exps),
            "inv_ok": sum(1 for i in invs if i.get("passed")), "inv_total": len(invs),
            "score": score_of(journal)}
