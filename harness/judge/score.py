"""A resilience score, 0-100, from a drill's judged results: the published formula (docs/score.md).

Each expectation and invariant falls into one of four severity classes, by
what failing it means to a user:

    integrity   (weight 4)  invariants: money moved twice, an acknowledged loan lost
    ungraceful  (weight 3)  answers without an explicit code, hangs, answers past the deadline,
                            degraded answers without a Retry-After, a lost load worker
    degraded    (weight 2)  error rates, shares of codes and classes, counts of errors,
                            throughput and goodput, recovery time
    latency     (weight 1)  percentiles and the slowest answer

A class's score is the share of its results that passed; a class with no
result is left out of both the sum and the weights, so a drill is scored
on what it checks. The drill's score is

    score = 100 x sum(weight_c x passed_c / judged_c) / sum(weight_c)   over the classes c judged

rounded to a whole number. A drill the harness could not run (status
`error`) has no score; an aborted drill is scored on what was judged
before the abort (the cut-short phase's results included). A suite's score
is the mean of its drills' scores; a matrix's, the mean over its cells of
unaffected 100, degraded gracefully 75, ungraceful 25, data integrity 0
(implied cells count with the outcome that implied them).

Pure functions of the journal, like the verdict: a score recomputed from a
saved journal is the same.
"""

from __future__ import annotations

from typing import Any, Iterable

__all__ = ["CLASS_OF", "WEIGHTS", "drill_score", "matrix_score", "severity_class", "suite_score"]

WEIGHTS = {"integrity": 4, "ungraceful": 3, "degraded": 2, "latency": 1}
CELL_POINTS = {"unaffected": 100, "graceful": 75, "ungraceful": 25, "integrity": 0}

_UNGRACEFUL = ("ungraceful", "classes.ungraceful", "slow", "retry_after", "answer", "load_workers")
_LATENCY = ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_latency")
CLASS_OF = {"integrity": "invariants", "ungraceful": _UNGRACEFUL, "latency": _LATENCY}


def severity_class(name: str) -> str:
    """The severity class of an expectation by its name ("error_rate", "codes.OVERLOADED", ...)."""
    if name.startswith(_UNGRACEFUL):
        return "ungraceful"
    if name.startswith(_LATENCY):
        return "latency"
    return "degraded"


def drill_score(journal: dict[str, Any]) -> dict[str, Any] | None:
    """{"value": 0-100, "classes": {class: {"passed", "judged", "weight"}}}; None when nothing can be scored."""
    if journal.get("status") == "error":
        return None
    tally = {c: [0, 0] for c in WEIGHTS}
    for exp in journal.get("expectations") or []:
        cls = severity_class(str(exp.get("name", "")))
        tally[cls][1] += 1
        tally[cls][0] += bool(exp.get("passed"))
    for inv in journal.get("invariants") or []:
        tally["integrity"][1] += 1
        tally["integrity"][0] += bool(inv.get("passed"))
    judged = {c: (p, n) for c, (p, n) in tally.items() if n}
    if not judged:
        return None
    total = sum(WEIGHTS[c] for c in judged)
    value = 100.0 * sum(WEIGHTS[c] * p / n for c, (p, n) in judged.items()) / total
    return {"value": round(value), "classes": {c: {"passed": p, "judged": n, "weight": WEIGHTS[c]}
                                               for c, (p, n) in judged.items()}}


def matrix_score(matrix: dict[str, Any]) -> int | None:
    cells = [c for c in matrix.get("cells") or [] if c.get("outcome") in CELL_POINTS]
    if not cells:
        return None
    return round(sum(CELL_POINTS[c["outcome"]] for c in cells) / len(cells))


def suite_score(journals: Iterable[dict[str, Any]]) -> int | None:
    values = [s for s in (score_of(j) for j in journals) if s is not None]
    return round(sum(values) / len(values)) if values else None


def score_of(journal: dict[str, Any]) -> int | None:
    """A journal's score as written by the verdict (None: not scored)."""
    score = journal.get("score")
    return score.get("value") if isinstance(score, dict) else None
