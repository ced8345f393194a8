"""What `chaosdrill history` prints: per drill, one line a run with the few figures that tell most.

A run line is when, the verdict, the score, the commit, then two figures chosen
because together they answer "did it get worse, and where":

- the fault phases: their error rate (all their requests together; degraded
  answers count, so a drill that falls back as planned shows a high one), how
  many answers were ungraceful, and the worst of their p99s, whole phases as
  the report's endpoint tables count them; the same figures for every drill,
  whatever its scenario expects;
- the worst failure: a violated invariant first, then the failed expectation
  of the heaviest severity class of the score (ungraceful > degraded > latency;
  harness/judge/score.py), with what was measured against its threshold. A
  matrix names how many cells were ungraceful or broke data instead, and a run
  the harness could not finish its reason.
"""

from __future__ import annotations

import json
from typing import Any

from harness.judge.score import WEIGHTS, severity_class
from harness.report import formatting as fmt

__all__ = ["fault_phases", "render_drill", "worst_failure"]

HEADER = ("when (UTC)", "verdict", "score", "commit", "fault phases", "worst failure")


def fault_phases(phases: list[dict[str, Any]]) -> str:
    hit = [p for p in phases if p.get("faulted") and p.get("requests")]
    if not hit:
        return "no fault" if not any(p.get("faulted") for p in phases) else "no requests"
    n = sum(int(p["requests"]) for p in hit)
    errors = sum(float(p.get("error_rate") or 0) * int(p["requests"]) for p in hit)
    ungraceful = sum(int(p.get("ungraceful") or 0) for p in hit)
    p99 = max(float(p.get("p99_ms") or 0) for p in hit)
    return f"errors {fmt.pct(errors / n)} ({ungraceful} ungraceful), p99 {fmt.ms(p99)}"


def worst_failure(run: dict[str, Any], measures: dict[str, list[dict[str, Any]]]) -> str:
    if run.get("status") == "error":
        return _cut(f"error: {run.get('reason') or 'no reason recorded'}")
    cells = measures.get("cells") or []
    if cells:
        bad = {o: sum(1 for c in cells if c.get("outcome") == o) for o in ("ungraceful", "integrity")}
        said = ", ".join(f"{n} {o}" for o, n in bad.items() if n)
        return f"cells: {said} of {len(cells)}" if said else f"cells: none ungraceful of {len(cells)}"
    violated = [i for i in measures.get("invariants") or [] if not i.get("passed")]
    if violated:
        more = f" (+{len(violated) - 1} more)" if len(violated) > 1 else ""
        return f"invariant {violated[0]['name']} violated{more}"
    failed = [e for e in measures.get("expectations") or [] if not e.get("passed")]
    if not failed:
        return _cut(f"aborted: {run.get('reason')}") if run.get("status") == "aborted" else "–"
    worst = max(failed, key=lambda e: WEIGHTS[severity_class(str(e.get("name")))])  # first among equals
    where = str(worst.get("phase") or "run") + (f" {worst['endpoint']}" if worst.get("endpoint") else "")
    shown = worst.get("display") if worst.get("display") not in (None, "") else worst.get("measured")
    more = f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""
    return _cut(f"{where}: {worst['name']} {shown}, expected {worst.get('threshold')}{more}")


def _cut(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def render_drill(drill: str, total: int, runs: list[dict[str, Any]],
                 measures: dict[int, dict[str, list[dict[str, Any]]]]) -> str:
    """A drill's heading and its runs, oldest first, as an aligned table."""
    title = runs[-1].get("title") if runs else ""
    lines = [f"{drill}: {title} — {total} run(s)" + (f", the last {len(runs)}" if len(runs) < total else "")]
    rows = [HEADER]
    for run in runs:
        score = run.get("score")
        changed = json.loads(run.get("stack_changes") or "[]")
        worst = worst_failure(run, measures.get(run["id"], {}))
        if changed:
            worst += f" [stack changed: {'; '.join(changed)}]"
        rows.append((str(run.get("started_at") or "?").replace("T", " ").rstrip("Z")[:16],
                     fmt.STATUS_WORD.get(str(run.get("status")), str(run.get("status")).upper()),
                     "–" if score is None else str(score), str(run.get("git_commit") or "–")[:8],
                     fault_phases(measures.get(run["id"], {}).get("phases") or []), worst))
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER) - 1)]
    for r in rows:
        cells = [c.rjust(w) if i == 2 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        lines.append("  " + "  ".join(cells + [r[-1]]).rstrip())
    scores = [r["score"] for r in runs if r.get("score") is not None]
    if len(scores) >= 2:
        change = scores[-1] - scores[0]
        lines.append(f"  score {scores[0]} -> {scores[-1]} ({change:+d}) over {len(runs)} run(s)")
    return "\n".join(lines)
